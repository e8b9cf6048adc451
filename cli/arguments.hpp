// Pure command-line parsing for the mote CLI: text -> Value by ValueType, sizes, log levels.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <string>
#include <string_view>

#include "mote/config.hpp"
#include "mote/value.hpp"

namespace mote::cli {

// Reads a whole file for a `@file` bytes argument; the error is a human-readable reason.
using FileReader = std::function<std::expected<Bytes, std::string>(const std::string& path)>;

// Reads `path` from the file system (the default FileReader).
std::expected<Bytes, std::string> read_file(const std::string& path);

// Parses one command-line argument as a value of `type`. The error message says what was wrong
// and what is accepted; it does not repeat the input's position (the caller knows it).
//   i32 u32 i64 u64  decimal, or hex with a 0x/0X prefix; a leading '-' only for i32/i64
//                    (hex is a magnitude: "-0x80000000" is the i32 minimum, "0xffffffff" is out of
//                    range for i32); the value must fit the type
//   f32 f64          decimal or scientific notation, "nan", "inf", "-inf", "-0"; out of range
//                    (e.g. 1e39 for f32) is an error
//   bool             true, false, 1, 0
//   string           the text verbatim
//   bytes            "0x" followed by an even number of hex digits ("0x" alone is empty), or
//                    "@path" for the contents of a file (read with `reader`)
//   void             never valid as a parameter
std::expected<Value, std::string> parse_argument(std::string_view text, ValueType type,
                                                 const FileReader& reader = read_file);

// Parses a memory size: a decimal number of bytes with an optional K, M or G suffix (powers of
// 1024, case-insensitive, an optional trailing "B" or "iB": 64K, 64KiB, 4M). Overflow is an error.
std::expected<std::uint64_t, std::string> parse_size(std::string_view text);

// Renders a size the way parse_size reads it: the largest exact K/M/G unit (4M, 256K, 1000).
std::string format_size(std::uint64_t bytes);

// Parses a log level name: trace, debug, info, warn, error, off.
std::expected<LogLevel, std::string> parse_log_level(std::string_view text);

// How `mote run` prints a result: strings raw (not quoted), bytes as 0x-hex, numbers in decimal
// (floats as the shortest text that reads back exactly: nan, inf, -0), bools as true/false, and
// nothing at all for void. No trailing newline.
std::string format_result(const Value& value);

}  // namespace mote::cli
