// The values that cross the host/guest boundary: their types, a dynamic Value, signatures.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mote {

// Mirrors MOTE_TYPE_* of the ABI (the numeric values are equal).
enum class ValueType : std::uint8_t {
  Void = 0,
  I32 = 1,
  U32 = 2,
  I64 = 3,
  U64 = 4,
  F32 = 5,
  F64 = 6,
  Bool = 7,
  String = 8,
  Bytes = 9,
};

// Guest bytes values (declared after ValueType so its enumerator Bytes shadows nothing).
using Bytes = std::vector<std::uint8_t>;

std::string_view to_string(ValueType type) noexcept;
// Parses the names to_string produces ("i32", "string", ...).
std::optional<ValueType> parse_value_type(std::string_view name) noexcept;

// One dynamic value. std::monostate stands for void (a function that returns nothing).
using Value = std::variant<std::monostate, std::int32_t, std::uint32_t, std::int64_t, std::uint64_t,
                           float, double, bool, std::string, Bytes>;

ValueType type_of(const Value& value) noexcept;
// Human-readable rendering: numbers as decimal, strings quoted, bytes as hex.
std::string format_value(const Value& value);

// A function's name and types, as exported by a guest or registered by the host.
struct FunctionSignature {
  std::string name;
  std::vector<ValueType> params;
  ValueType result = ValueType::Void;

  // "name(i32, string) -> i64"
  std::string to_string() const;
  bool operator==(const FunctionSignature&) const = default;
};

// Compile-time mapping from C++ types to ValueType, used by the typed call APIs.
template <class T>
struct ValueTypeOf;
template <> struct ValueTypeOf<void> { static constexpr ValueType value = ValueType::Void; };
template <> struct ValueTypeOf<std::int32_t> { static constexpr ValueType value = ValueType::I32; };
template <> struct ValueTypeOf<std::uint32_t> { static constexpr ValueType value = ValueType::U32; };
template <> struct ValueTypeOf<std::int64_t> { static constexpr ValueType value = ValueType::I64; };
template <> struct ValueTypeOf<std::uint64_t> { static constexpr ValueType value = ValueType::U64; };
template <> struct ValueTypeOf<float> { static constexpr ValueType value = ValueType::F32; };
template <> struct ValueTypeOf<double> { static constexpr ValueType value = ValueType::F64; };
template <> struct ValueTypeOf<bool> { static constexpr ValueType value = ValueType::Bool; };
template <> struct ValueTypeOf<std::string> { static constexpr ValueType value = ValueType::String; };
template <> struct ValueTypeOf<std::string_view> { static constexpr ValueType value = ValueType::String; };
template <> struct ValueTypeOf<Bytes> { static constexpr ValueType value = ValueType::Bytes; };

}  // namespace mote
