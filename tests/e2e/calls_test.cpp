// End to end: host -> guest calls with every type, extreme values, many arguments, state, volume.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "test_sandbox.hpp"

namespace mote::test {
namespace {

class Calls : public ::testing::Test {
 protected:
  Sandbox sandbox = make_sandbox();

  template <class T>
  void expect_echo(const char* function, T value) {
    auto r = sandbox.call<T>(function, value);
    ASSERT_TRUE(r) << r.error().to_string();
    if constexpr (std::is_floating_point_v<T>) {
      using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
      EXPECT_EQ(std::bit_cast<Bits>(*r), std::bit_cast<Bits>(value)) << function;
    } else {
      EXPECT_EQ(*r, value) << function;
    }
  }
};

TEST_F(Calls, IntegersRoundTripAtTheirExtremes) {
  for (std::int32_t v : {0, 1, -1, std::numeric_limits<std::int32_t>::min(),
                         std::numeric_limits<std::int32_t>::max()}) {
    expect_echo("echo_i32", v);
  }
  for (std::uint32_t v : {0u, 1u, 0x8000'0000u, std::numeric_limits<std::uint32_t>::max()}) {
    expect_echo("echo_u32", v);
  }
  for (std::int64_t v : {std::int64_t{0}, std::int64_t{-1}, std::numeric_limits<std::int64_t>::min(),
                         std::numeric_limits<std::int64_t>::max()}) {
    expect_echo("echo_i64", v);
  }
  for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{1} << 63,
                          std::numeric_limits<std::uint64_t>::max()}) {
    expect_echo("echo_u64", v);
  }
}

TEST_F(Calls, FloatsRoundTripBitExactIncludingNanInfAndNegativeZero) {
  for (float v : {0.0f, -0.0f, 1.5f, std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                  std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::max()}) {
    expect_echo("echo_f32", v);
  }
  for (double v : {0.0, -0.0, -2.25, std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN(),
                   std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::lowest()}) {
    expect_echo("echo_f64", v);
  }
}

TEST_F(Calls, BoolsRoundTrip) {
  expect_echo("echo_bool", true);
  expect_echo("echo_bool", false);
}

TEST_F(Calls, StringsRoundTripEmptyLargeAndBinary) {
  for (const std::string& s : {std::string(), std::string("hello"), std::string("nul\0inside", 10),
                               std::string(60000, 'x'), std::string("\xff\xfe non-utf8")}) {
    auto r = sandbox.call<std::string>("echo_string", s);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(*r, s);
  }
}

TEST_F(Calls, BytesRoundTripEmptyAndLarge) {
  Bytes large(60000);
  for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<std::uint8_t>(i * 7);
  for (const Bytes& b : {Bytes{}, Bytes{0, 255, 0}, large}) {
    auto r = sandbox.call<Bytes>("echo_bytes", b);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(*r, b);
  }
  auto sum = sandbox.call<std::uint64_t>("sum_bytes", large);
  ASSERT_TRUE(sum) << sum.error().to_string();
  std::uint64_t expected = 0;
  for (auto b : large) expected += b;
  EXPECT_EQ(*sum, expected);
}

TEST_F(Calls, GuestMadeBytesComeBack) {
  auto r = sandbox.call<Bytes>("make_bytes", std::uint32_t{5000});
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->size(), 5000u);
  for (std::size_t i = 0; i < r->size(); ++i) ASSERT_EQ((*r)[i], i & 0xff);
}

TEST_F(Calls, VoidFunctionAndAdd) {
  EXPECT_TRUE(sandbox.call<void>("noop"));
  auto r = sandbox.call<std::int32_t>("add", 40, 2);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, 42);
}

TEST_F(Calls, ElevenMixedParameters) {
  const std::string s1 = "first";
  const Bytes b = {1, 2, 3, 4};
  const std::string s2 = "last string";
  auto r = sandbox.call<Bytes>("mixed", std::int32_t{-5}, std::uint32_t{7}, std::int64_t{-9},
                               std::uint64_t{11}, 1.25f, -3.5, true, s1, b, std::int32_t{13}, s2);
  ASSERT_TRUE(r) << r.error().to_string();
  Bytes expected;
  auto put = [&](const auto& v) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
    expected.insert(expected.end(), p, p + sizeof(v));
  };
  put(std::int32_t{-5});
  put(std::uint32_t{7});
  put(std::int64_t{-9});
  put(std::uint64_t{11});
  put(1.25f);
  put(-3.5);
  expected.push_back(1);
  expected.insert(expected.end(), s1.begin(), s1.end());
  expected.insert(expected.end(), b.begin(), b.end());
  put(std::int32_t{13});
  expected.insert(expected.end(), s2.begin(), s2.end());
  EXPECT_EQ(*r, expected);
}

TEST_F(Calls, DynamicFormMatchesTypedForm) {
  std::vector<Value> args = {Value{std::int32_t{20}}, Value{std::int32_t{22}}};
  auto r = sandbox.call_dynamic("add", args, ValueType::I32);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(std::get<std::int32_t>(*r), 42);
  auto s = sandbox.call_dynamic("echo_string", std::vector<Value>{Value{std::string("dyn")}},
                                ValueType::String);
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(std::get<std::string>(*s), "dyn");
}

TEST_F(Calls, StatePersistsAcrossCalls) {
  for (std::int64_t i = 1; i <= 5; ++i) {
    auto r = sandbox.call<std::int64_t>("counter_increment");
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(*r, i);
  }
}

TEST_F(Calls, TenThousandSequentialCalls) {
  for (std::int32_t i = 0; i < 10000; ++i) {
    auto r = sandbox.call<std::int32_t>("add", i, 1);
    ASSERT_TRUE(r) << "call " << i << ": " << r.error().to_string();
    ASSERT_EQ(*r, i + 1);
  }
  auto count = sandbox.call<std::int64_t>("counter_increment");
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 1);
}

TEST_F(Calls, GuestAllocatorWorks) {
  auto r = sandbox.call<std::uint32_t>("alloc_stress", std::uint32_t{500});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, 500u);
}

TEST_F(Calls, ExportedSignaturesAreVisible) {
  const FunctionSignature* add = sandbox.find_function("add");
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->to_string(), "add(i32, i32) -> i32");
  EXPECT_EQ(sandbox.find_function("nope"), nullptr);
  EXPECT_GE(sandbox.functions().size(), 20u);
}

}  // namespace
}  // namespace mote::test
