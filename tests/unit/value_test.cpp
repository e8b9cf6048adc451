// Unit tests of the value vocabulary: type names, type_of, format_value, signatures, SandboxConfig
// validation, and HostFunctions' typed registration (deduced signatures and argument conversion).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mote/config.hpp"
#include "mote/host_functions.hpp"
#include "mote/value.hpp"

namespace mote {
namespace {

constexpr ValueType kAllTypes[] = {
    ValueType::Void, ValueType::I32, ValueType::U32,  ValueType::I64,    ValueType::U64,
    ValueType::F32,  ValueType::F64, ValueType::Bool, ValueType::String, ValueType::Bytes};

// --- Type names ----------------------------------------------------------------------------------

TEST(ValueTypeNames, RoundTripForEveryType) {
  const char* const names[] = {"void", "i32", "u32",  "i64",    "u64",
                               "f32",  "f64", "bool", "string", "bytes"};
  for (std::size_t i = 0; i < std::size(kAllTypes); ++i) {
    EXPECT_EQ(to_string(kAllTypes[i]), names[i]);
    const auto parsed = parse_value_type(names[i]);
    ASSERT_TRUE(parsed.has_value()) << names[i];
    EXPECT_EQ(*parsed, kAllTypes[i]);
  }
}

TEST(ValueTypeNames, UnknownNames) {
  for (std::string_view name : {"", "I32", "int", "i16", "string ", " bytes", "invalid", "voi"}) {
    EXPECT_FALSE(parse_value_type(name).has_value()) << "'" << name << "'";
  }
  EXPECT_EQ(to_string(static_cast<ValueType>(10)), "invalid");
  EXPECT_EQ(to_string(static_cast<ValueType>(0xff)), "invalid");
}

TEST(ValueTypeNames, TypeOfEachAlternative) {
  EXPECT_EQ(type_of(Value{}), ValueType::Void);
  EXPECT_EQ(type_of(Value{std::int32_t{-1}}), ValueType::I32);
  EXPECT_EQ(type_of(Value{std::uint32_t{1}}), ValueType::U32);
  EXPECT_EQ(type_of(Value{std::int64_t{-1}}), ValueType::I64);
  EXPECT_EQ(type_of(Value{std::uint64_t{1}}), ValueType::U64);
  EXPECT_EQ(type_of(Value{1.0f}), ValueType::F32);
  EXPECT_EQ(type_of(Value{1.0}), ValueType::F64);
  EXPECT_EQ(type_of(Value{false}), ValueType::Bool);
  EXPECT_EQ(type_of(Value{std::string("s")}), ValueType::String);
  EXPECT_EQ(type_of(Value{Bytes{1}}), ValueType::Bytes);
}

// --- format_value --------------------------------------------------------------------------------

TEST(FormatValue, Scalars) {
  EXPECT_EQ(format_value(Value{}), "(void)");
  EXPECT_EQ(format_value(Value{std::int32_t{-42}}), "-42");
  EXPECT_EQ(format_value(Value{std::numeric_limits<std::uint32_t>::max()}), "4294967295");
  EXPECT_EQ(format_value(Value{std::numeric_limits<std::int64_t>::min()}), "-9223372036854775808");
  EXPECT_EQ(format_value(Value{std::numeric_limits<std::uint64_t>::max()}), "18446744073709551615");
  EXPECT_EQ(format_value(Value{true}), "true");
  EXPECT_EQ(format_value(Value{false}), "false");
}

TEST(FormatValue, Floats) {
  EXPECT_EQ(format_value(Value{1.5f}), "1.5");
  EXPECT_EQ(format_value(Value{0.1}), "0.1");  // shortest round-trip form
  EXPECT_EQ(format_value(Value{-0.0}), "-0");
  EXPECT_EQ(format_value(Value{-0.0f}), "-0");
  EXPECT_EQ(format_value(Value{std::numeric_limits<double>::quiet_NaN()}), "nan");
  EXPECT_EQ(format_value(Value{std::numeric_limits<float>::quiet_NaN()}), "nan");
  EXPECT_EQ(format_value(Value{-std::numeric_limits<double>::infinity()}), "-inf");
}

TEST(FormatValue, StringsAreQuotedAndBytesAreHex) {
  EXPECT_EQ(format_value(Value{std::string("hi there")}), "\"hi there\"");
  EXPECT_EQ(format_value(Value{std::string()}), "\"\"");
  EXPECT_EQ(format_value(Value{Bytes{0x00, 0x0a, 0xab, 0xff}}), "0x000aabff");
  EXPECT_EQ(format_value(Value{Bytes{}}), "0x");
}

// --- FunctionSignature ---------------------------------------------------------------------------

TEST(FunctionSignatureTest, ToString) {
  EXPECT_EQ(
      (FunctionSignature{"add", {ValueType::I32, ValueType::I32}, ValueType::I64}.to_string()),
      "add(i32, i32) -> i64");
  EXPECT_EQ((FunctionSignature{"tick", {}, ValueType::Void}.to_string()), "tick() -> void");
  EXPECT_EQ((FunctionSignature{"f", {ValueType::Bytes}, ValueType::String}.to_string()),
            "f(bytes) -> string");
}

TEST(FunctionSignatureTest, Equality) {
  const FunctionSignature a{"f", {ValueType::I32}, ValueType::Void};
  EXPECT_EQ(a, (FunctionSignature{"f", {ValueType::I32}, ValueType::Void}));
  EXPECT_NE(a, (FunctionSignature{"g", {ValueType::I32}, ValueType::Void}));
  EXPECT_NE(a, (FunctionSignature{"f", {ValueType::U32}, ValueType::Void}));
  EXPECT_NE(a, (FunctionSignature{"f", {ValueType::I32}, ValueType::I32}));
  EXPECT_NE(a, (FunctionSignature{"f", {}, ValueType::Void}));
}

// --- SandboxConfig::validate ---------------------------------------------------------------------

void expect_invalid(const SandboxConfig& config, const std::string& field) {
  const auto r = config.validate();
  ASSERT_FALSE(r.has_value()) << field << " accepted";
  EXPECT_EQ(r.error().kind(), ErrorKind::InvalidConfig);
  EXPECT_NE(r.error().message().find(field), std::string::npos)
      << "\"" << r.error().message() << "\" does not name " << field;
}

TEST(SandboxConfigValidate, DefaultsAreValid) {
  const SandboxConfig config;
  EXPECT_TRUE(config.validate().has_value());
  EXPECT_EQ(config.stack_size % 4096, 0u);
  EXPECT_EQ(config.max_memory_size, 0u);
  EXPECT_EQ(config.log_level, LogLevel::Info);
}

TEST(SandboxConfigValidate, EachRegionSize) {
  struct Field {
    const char* name;
    std::uint64_t SandboxConfig::*member;
    std::uint64_t min;
  };
  constexpr std::uint64_t kMax = 512ull << 20;
  const Field fields[] = {{"stack_size", &SandboxConfig::stack_size, 16 * 1024},
                          {"heap_size", &SandboxConfig::heap_size, 4096},
                          {"input_size", &SandboxConfig::input_size, 4096},
                          {"output_size", &SandboxConfig::output_size, 4096}};
  for (const Field& f : fields) {
    SandboxConfig config;
    for (std::uint64_t ok : {f.min, kMax}) {
      config.*f.member = ok;
      EXPECT_TRUE(config.validate().has_value()) << f.name << " = " << ok;
    }
    for (std::uint64_t bad : {std::uint64_t{0}, f.min - 4096, f.min + 1, f.min + 2048, kMax + 4096,
                              std::uint64_t{1} << 40, ~std::uint64_t{0}}) {
      config.*f.member = bad;
      expect_invalid(config, f.name);
    }
  }
}

TEST(SandboxConfigValidate, MaxMemorySize) {
  SandboxConfig config;
  for (std::uint64_t ok : {std::uint64_t{0}, std::uint64_t{4096}, SandboxConfig::kMaxMemory}) {
    config.max_memory_size = ok;
    EXPECT_TRUE(config.validate().has_value()) << ok;
  }
  for (std::uint64_t bad :
       {std::uint64_t{4097}, SandboxConfig::kMaxMemory + 4096, ~std::uint64_t{0}}) {
    config.max_memory_size = bad;
    expect_invalid(config, "max_memory_size");
  }
}

TEST(SandboxConfigValidate, LogLevel) {
  SandboxConfig config;
  config.log_level = LogLevel::Off;
  EXPECT_TRUE(config.validate().has_value());
  config.log_level = static_cast<LogLevel>(6);
  expect_invalid(config, "log_level");
}

TEST(LogLevelNames, AllLevels) {
  EXPECT_EQ(to_string(LogLevel::Trace), "trace");
  EXPECT_EQ(to_string(LogLevel::Debug), "debug");
  EXPECT_EQ(to_string(LogLevel::Info), "info");
  EXPECT_EQ(to_string(LogLevel::Warn), "warn");
  EXPECT_EQ(to_string(LogLevel::Error), "error");
  EXPECT_EQ(to_string(LogLevel::Off), "off");
  EXPECT_EQ(to_string(static_cast<LogLevel>(9)), "invalid");
}

// --- HostFunctions typed registration ------------------------------------------------------------

// Calls the entry registered under `name` with `args`.
Result<Value> call(const HostFunctions& functions, std::string_view name, std::vector<Value> args) {
  const HostFunctions::Entry* entry = functions.find(name);
  if (entry == nullptr) return fail(ErrorKind::UnknownFunction, std::string(name));
  return entry->handler(args);
}

// Expects the entry registered under `name` to return `expected` for `args`.
void expect_call(const HostFunctions& functions, std::string_view name, std::vector<Value> args,
                 const Value& expected) {
  const auto r = call(functions, name, std::move(args));
  ASSERT_TRUE(r.has_value()) << name << ": " << r.error().to_string();
  EXPECT_TRUE(*r == expected) << name << " returned " << format_value(*r) << ", expected "
                              << format_value(expected);
  EXPECT_EQ(type_of(*r), type_of(expected)) << name;
}

FunctionSignature signature_of(const HostFunctions& functions, std::string_view name) {
  const HostFunctions::Entry* entry = functions.find(name);
  EXPECT_NE(entry, nullptr) << name;
  return entry != nullptr ? entry->signature : FunctionSignature{};
}

std::int64_t widen_sum(std::int32_t a, std::int64_t b) {
  return a + b;
}
std::uint32_t noexcept_double(std::uint32_t x) noexcept {
  return 2 * x;
}

TEST(HostFunctionsTyped, ScalarsAndFunctionPointers) {
  HostFunctions fns;
  fns.add("add", [](std::int32_t a, std::int32_t b) { return static_cast<std::int64_t>(a) + b; });
  fns.add("widen_sum", &widen_sum);
  fns.add("noexcept_double", &noexcept_double);
  fns.add("mix", [](std::uint64_t u, float f, double d, bool b) noexcept {
    return b ? static_cast<double>(u) + f + d : 0.0;
  });
  EXPECT_EQ(fns.size(), 4u);

  EXPECT_EQ(signature_of(fns, "add"),
            (FunctionSignature{"add", {ValueType::I32, ValueType::I32}, ValueType::I64}));
  EXPECT_EQ(signature_of(fns, "widen_sum"),
            (FunctionSignature{"widen_sum", {ValueType::I32, ValueType::I64}, ValueType::I64}));
  EXPECT_EQ(signature_of(fns, "noexcept_double"),
            (FunctionSignature{"noexcept_double", {ValueType::U32}, ValueType::U32}));
  EXPECT_EQ(signature_of(fns, "mix"),
            (FunctionSignature{"mix",
                               {ValueType::U64, ValueType::F32, ValueType::F64, ValueType::Bool},
                               ValueType::F64}));

  expect_call(fns, "add",
              {std::int32_t{-2}, std::int32_t{std::numeric_limits<std::int32_t>::max()}},
              Value{std::int64_t{std::numeric_limits<std::int32_t>::max()} - 2});
  expect_call(fns, "widen_sum", {std::int32_t{-1}, std::int64_t{1} << 40},
              Value{(std::int64_t{1} << 40) - 1});
  expect_call(fns, "noexcept_double", {std::uint32_t{21}}, Value{std::uint32_t{42}});
  expect_call(fns, "mix", {std::uint64_t{1}, 0.5f, 0.25, true}, Value{1.75});
  expect_call(fns, "mix", {std::uint64_t{1}, 0.5f, 0.25, false}, Value{0.0});
}

TEST(HostFunctionsTyped, StringParameters) {
  HostFunctions fns;
  fns.add("by_ref", [](const std::string& s) { return s + "!"; });
  fns.add("by_value", [](std::string s) { return static_cast<std::uint64_t>(s.size()); });
  fns.add("view", [](std::string_view s) { return static_cast<std::uint32_t>(s.find('x')); });
  fns.add("const_view", [](const std::string_view& s) { return std::string(s.substr(1)); });

  for (const char* name : {"by_ref", "by_value", "view", "const_view"}) {
    ASSERT_EQ(signature_of(fns, name).params, std::vector<ValueType>{ValueType::String}) << name;
  }
  EXPECT_EQ(signature_of(fns, "by_ref").result, ValueType::String);
  EXPECT_EQ(signature_of(fns, "by_value").result, ValueType::U64);
  EXPECT_EQ(signature_of(fns, "view").result, ValueType::U32);

  expect_call(fns, "by_ref", {std::string("hey")}, Value{std::string("hey!")});
  expect_call(fns, "by_value", {std::string("four")}, Value{std::uint64_t{4}});
  expect_call(fns, "view", {std::string("abxd")}, Value{std::uint32_t{2}});
  expect_call(fns, "const_view", {std::string("abc")}, Value{std::string("bc")});
}

TEST(HostFunctionsTyped, BytesParameters) {
  HostFunctions fns;
  fns.add("reverse", [](Bytes b) {
    std::reverse(b.begin(), b.end());
    return b;
  });
  fns.add("size_ref", [](const Bytes& b) { return static_cast<std::int32_t>(b.size()); });
  fns.add("sum_span", [](std::span<const std::uint8_t> b) {
    return std::accumulate(b.begin(), b.end(), std::uint64_t{0});
  });
  for (const char* name : {"reverse", "size_ref", "sum_span"}) {
    ASSERT_EQ(signature_of(fns, name).params, std::vector<ValueType>{ValueType::Bytes}) << name;
  }
  EXPECT_EQ(signature_of(fns, "reverse").result, ValueType::Bytes);

  expect_call(fns, "reverse", {Bytes{1, 2, 3}}, Value{Bytes{3, 2, 1}});
  expect_call(fns, "size_ref", {Bytes(300)}, Value{std::int32_t{300}});
  expect_call(fns, "sum_span", {Bytes{200, 100, 7}}, Value{std::uint64_t{307}});
  expect_call(fns, "sum_span", {Bytes{}}, Value{std::uint64_t{0}});
}

TEST(HostFunctionsTyped, VoidAndResultReturns) {
  int calls = 0;
  std::string last;
  HostFunctions fns;
  fns.add("note", [&](std::string_view s) {
    ++calls;
    last = s;
  });
  fns.add("checked_div", [](std::int64_t a, std::int64_t b) -> Result<std::int64_t> {
    if (b == 0) return fail(ErrorKind::GuestError, "division by zero");
    return a / b;
  });
  fns.add("maybe", [](bool ok) -> Result<void> {
    if (!ok) return fail(ErrorKind::GuestError, "not ok");
    return {};
  });
  fns.add("nothing", [] {});

  EXPECT_EQ(signature_of(fns, "note"),
            (FunctionSignature{"note", {ValueType::String}, ValueType::Void}));
  EXPECT_EQ(signature_of(fns, "checked_div"),
            (FunctionSignature{"checked_div", {ValueType::I64, ValueType::I64}, ValueType::I64}));
  EXPECT_EQ(signature_of(fns, "maybe"),
            (FunctionSignature{"maybe", {ValueType::Bool}, ValueType::Void}));
  EXPECT_EQ(signature_of(fns, "nothing"), (FunctionSignature{"nothing", {}, ValueType::Void}));

  const auto noted = call(fns, "note", {std::string("logged")});
  ASSERT_TRUE(noted.has_value());
  EXPECT_EQ(type_of(*noted), ValueType::Void);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(last, "logged");

  expect_call(fns, "checked_div", {std::int64_t{-9}, std::int64_t{2}}, Value{std::int64_t{-4}});
  const auto div0 = call(fns, "checked_div", {std::int64_t{1}, std::int64_t{0}});
  ASSERT_FALSE(div0.has_value());
  EXPECT_EQ(div0.error().kind(), ErrorKind::GuestError);
  EXPECT_EQ(div0.error().message(), "division by zero");

  const auto ok = call(fns, "maybe", {true});
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(type_of(*ok), ValueType::Void);
  const auto not_ok = call(fns, "maybe", {false});
  ASSERT_FALSE(not_ok.has_value());
  EXPECT_EQ(not_ok.error().message(), "not ok");

  expect_call(fns, "nothing", {}, Value{});
}

TEST(HostFunctionsTyped, MutableStateLivesInTheRegisteredCopy) {
  HostFunctions fns;
  fns.add("counter", [n = std::uint32_t{0}]() mutable { return ++n; });
  EXPECT_EQ(signature_of(fns, "counter"), (FunctionSignature{"counter", {}, ValueType::U32}));
  expect_call(fns, "counter", {}, Value{std::uint32_t{1}});
  expect_call(fns, "counter", {}, Value{std::uint32_t{2}});
}

TEST(HostFunctionsRegistry, FindReplaceAndDynamic) {
  HostFunctions fns;
  EXPECT_EQ(fns.find("f"), nullptr);
  fns.add("f", [](std::int32_t x) { return x; });
  fns.add("f", [](std::string s) { return s; });  // replaces
  EXPECT_EQ(fns.size(), 1u);
  EXPECT_EQ(signature_of(fns, "f"),
            (FunctionSignature{"f", {ValueType::String}, ValueType::String}));
  expect_call(fns, "f", {std::string("x")}, Value{std::string("x")});

  fns.add_dynamic(
      FunctionSignature{"dyn", {ValueType::U64, ValueType::U64}, ValueType::U64},
      [](std::span<const Value> args) -> Result<Value> {
        return Value{std::get<std::uint64_t>(args[0]) * std::get<std::uint64_t>(args[1])};
      });
  EXPECT_EQ(fns.size(), 2u);
  expect_call(fns, "dyn", {std::uint64_t{6}, std::uint64_t{7}}, Value{std::uint64_t{42}});
  EXPECT_EQ(fns.find("F"), nullptr);
  EXPECT_EQ(fns.find("dy"), nullptr);
}

}  // namespace
}  // namespace mote
