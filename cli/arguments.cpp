// Pure command-line parsing for the mote CLI: arguments by declared type, sizes and log levels.
#include "arguments.hpp"

#include <charconv>
#include <fstream>
#include <iterator>
#include <limits>
#include <system_error>
#include <type_traits>

#include <fmt/format.h>

namespace mote::cli {

namespace {

using Parsed = std::expected<Value, std::string>;

std::unexpected<std::string> error(std::string message) {
  return std::unexpected<std::string>(std::move(message));
}

// "'text'" for messages, abbreviated when the text is long.
std::string quoted(std::string_view text) {
  constexpr std::size_t kMax = 40;
  if (text.size() <= kMax) return fmt::format("'{}'", text);
  return fmt::format("'{}...'", text.substr(0, kMax));
}

bool has_hex_prefix(std::string_view s) {
  return s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

template <class T>
Parsed parse_integer(std::string_view text, ValueType type) {
  constexpr bool is_signed = std::is_signed_v<T>;
  const auto range = [&] {
    return fmt::format("{} is in [{}, {}]", to_string(type), std::numeric_limits<T>::min(),
                       std::numeric_limits<T>::max());
  };
  std::string_view digits = text;
  bool negative = false;
  if (!digits.empty() && digits.front() == '-') {
    if (!is_signed) {
      return error(fmt::format("{} is negative, but {} is unsigned", quoted(text), to_string(type)));
    }
    negative = true;
    digits.remove_prefix(1);
  }
  int base = 10;
  if (has_hex_prefix(digits)) {
    base = 16;
    digits.remove_prefix(2);
  }
  std::uint64_t magnitude = 0;
  const char* end = digits.data() + digits.size();
  // Unsigned from_chars takes no sign, no blanks and no prefix: only digits are left to accept.
  const auto [ptr, ec] = std::from_chars(digits.data(), end, magnitude, base);
  if (digits.empty() || ptr != end || (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    return error(fmt::format("{} is not a valid {} (expected a decimal or 0x-hex integer)",
                             quoted(text), to_string(type)));
  }
  const std::uint64_t max_magnitude =
      negative ? static_cast<std::uint64_t>(std::numeric_limits<T>::max()) + 1
               : static_cast<std::uint64_t>(std::numeric_limits<T>::max());
  if (ec == std::errc::result_out_of_range || magnitude > max_magnitude) {
    return error(fmt::format("{} is out of range: {}", quoted(text), range()));
  }
  if constexpr (is_signed) {
    // Two's complement negation in unsigned arithmetic, so the minimum needs no special case.
    const std::uint64_t bits = negative ? ~magnitude + 1 : magnitude;
    return Value{static_cast<T>(static_cast<std::int64_t>(bits))};
  } else {
    return Value{static_cast<T>(magnitude)};
  }
}

template <class T>
Parsed parse_float(std::string_view text, ValueType type) {
  T value{};
  const char* end = text.data() + text.size();
  // from_chars reads "nan", "inf", "infinity" (any case) and a leading '-', but no '+' or blanks.
  const auto [ptr, ec] = std::from_chars(text.data(), end, value, std::chars_format::general);
  if (text.empty() || ptr != end || (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    return error(fmt::format("{} is not a valid {} (expected a number such as 1.5, -2e10, nan, "
                             "inf, -inf)",
                             quoted(text), to_string(type)));
  }
  if (ec == std::errc::result_out_of_range) {
    return error(fmt::format("{} is out of range for {}", quoted(text), to_string(type)));
  }
  return Value{value};
}

Parsed parse_bool(std::string_view text) {
  if (text == "true" || text == "1") return Value{true};
  if (text == "false" || text == "0") return Value{false};
  return error(fmt::format("{} is not a valid bool (expected true, false, 1 or 0)", quoted(text)));
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Parsed parse_bytes(std::string_view text, const FileReader& reader) {
  if (!text.empty() && text.front() == '@') {
    const std::string path(text.substr(1));
    if (path.empty()) return error("'@' must be followed by a file name");
    auto contents = reader(path);
    if (!contents) return error(fmt::format("cannot read {}: {}", path, contents.error()));
    return Value{std::move(contents).value()};
  }
  if (!has_hex_prefix(text)) {
    return error(fmt::format("{} is not valid bytes (expected 0x followed by hex digit pairs, "
                             "e.g. 0x0a0b, or @file)",
                             quoted(text)));
  }
  const std::string_view hex = text.substr(2);
  if (hex.size() % 2 != 0) {
    return error(fmt::format("{} has an odd number of hex digits", quoted(text)));
  }
  Bytes out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = hex_digit(hex[i]);
    const int lo = hex_digit(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      return error(fmt::format("{} contains a character that is not a hex digit", quoted(text)));
    }
    out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
  }
  return Value{std::move(out)};
}

}  // namespace

std::expected<Bytes, std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected<std::string>("cannot open the file");
  Bytes bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return std::unexpected<std::string>("reading failed");
  return bytes;
}

std::expected<Value, std::string> parse_argument(std::string_view text, ValueType type,
                                                 const FileReader& reader) {
  switch (type) {
    case ValueType::I32: return parse_integer<std::int32_t>(text, type);
    case ValueType::U32: return parse_integer<std::uint32_t>(text, type);
    case ValueType::I64: return parse_integer<std::int64_t>(text, type);
    case ValueType::U64: return parse_integer<std::uint64_t>(text, type);
    case ValueType::F32: return parse_float<float>(text, type);
    case ValueType::F64: return parse_float<double>(text, type);
    case ValueType::Bool: return parse_bool(text);
    case ValueType::String: return Value{std::string(text)};
    case ValueType::Bytes: return parse_bytes(text, reader);
    case ValueType::Void: break;
  }
  return error(fmt::format("a parameter of type {} cannot be given", to_string(type)));
}

std::expected<std::uint64_t, std::string> parse_size(std::string_view text) {
  std::uint64_t number = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, number, 10);
  const auto invalid = [&] {
    return std::unexpected<std::string>(fmt::format(
        "{} is not a valid size (expected bytes, or a number with a K, M or G suffix: 64K, 4M)",
        quoted(text)));
  };
  if (ptr == text.data() || (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    return invalid();
  }
  if (ec == std::errc::result_out_of_range) {
    return std::unexpected<std::string>(fmt::format("{} is too large", quoted(text)));
  }
  std::string suffix(ptr, end);
  for (char& c : suffix) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  unsigned shift = 0;
  if (!suffix.empty()) {
    switch (suffix.front()) {
      case 'K': shift = 10; break;
      case 'M': shift = 20; break;
      case 'G': shift = 30; break;
      default: return invalid();
    }
    const std::string_view rest = std::string_view(suffix).substr(1);
    if (!rest.empty() && rest != "B" && rest != "IB") return invalid();
  }
  if (number > (std::numeric_limits<std::uint64_t>::max() >> shift)) {
    return std::unexpected<std::string>(fmt::format("{} is too large", quoted(text)));
  }
  return number << shift;
}

std::string format_size(std::uint64_t bytes) {
  constexpr struct {
    unsigned shift;
    char suffix;
  } kUnits[] = {{30, 'G'}, {20, 'M'}, {10, 'K'}};
  for (const auto& unit : kUnits) {
    const std::uint64_t size = std::uint64_t{1} << unit.shift;
    if (bytes != 0 && bytes % size == 0) return fmt::format("{}{}", bytes / size, unit.suffix);
  }
  return fmt::format("{}", bytes);
}

std::expected<LogLevel, std::string> parse_log_level(std::string_view text) {
  for (auto i = static_cast<unsigned>(LogLevel::Trace); i <= static_cast<unsigned>(LogLevel::Off);
       ++i) {
    const auto level = static_cast<LogLevel>(i);
    if (to_string(level) == text) return level;
  }
  return std::unexpected<std::string>(fmt::format(
      "{} is not a log level (expected trace, debug, info, warn, error or off)", quoted(text)));
}

std::string format_result(const Value& value) {
  if (std::holds_alternative<std::monostate>(value)) return {};
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  return format_value(value);
}

}  // namespace mote::cli
