// Values: type names, parsing, formatting and signatures.
#include "mote/value.hpp"

#include <array>

#include <fmt/format.h>

namespace mote {

namespace {
constexpr std::array<std::string_view, 10> kTypeNames = {"void", "i32", "u32", "i64", "u64",
                                                         "f32", "f64", "bool", "string", "bytes"};
}

std::string_view to_string(ValueType type) noexcept {
  const auto i = static_cast<std::size_t>(type);
  return i < kTypeNames.size() ? kTypeNames[i] : "invalid";
}

std::optional<ValueType> parse_value_type(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == name) return static_cast<ValueType>(i);
  }
  return std::nullopt;
}

ValueType type_of(const Value& value) noexcept {
  return static_cast<ValueType>(value.index());  // variant order mirrors ValueType
}
static_assert(std::variant_size_v<Value> == 10);
static_assert(std::is_same_v<std::variant_alternative_t<8, Value>, std::string>);

std::string format_value(const Value& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return "(void)";
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return fmt::format("{:?}", v);  // quoted, with escapes
        } else if constexpr (std::is_same_v<T, Bytes>) {
          std::string out = "0x";
          for (std::uint8_t b : v) out += fmt::format("{:02x}", b);
          return out;
        } else {
          return fmt::format("{}", v);
        }
      },
      value);
}

std::string FunctionSignature::to_string() const {
  std::string out = name + "(";
  for (std::size_t i = 0; i < params.size(); ++i) {
    out += fmt::format("{}{}", i ? ", " : "", mote::to_string(params[i]));
  }
  return out + ") -> " + std::string(mote::to_string(result));
}

}  // namespace mote
