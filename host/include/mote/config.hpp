// SandboxConfig: the memory sizes and limits of one sandbox, with defaults and validation.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>

#include "mote/error.hpp"

namespace mote {

enum class LogLevel : std::uint8_t { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4, Off = 5 };

std::string_view to_string(LogLevel level) noexcept;

// One log record emitted by a guest.
struct LogRecord {
  LogLevel level;
  std::string_view message;
};

// Receives guest log records. Called on the thread that runs the call.
using LogSink = std::function<void(const LogRecord&)>;

struct SandboxConfig {
  // Every size is in bytes and must be a multiple of 4096.
  std::uint64_t stack_size = 256 * 1024;   // guest stack; a guard page lies below it
  std::uint64_t heap_size = 4 * 1024 * 1024;
  std::uint64_t input_size = 64 * 1024;    // largest call message (function index + arguments)
  std::uint64_t output_size = 64 * 1024;   // largest result, host call or log message
  // Upper bound on the whole guest memory (image + regions + system area). 0 = no bound beyond
  // the hard maximum of 1 GiB.
  std::uint64_t max_memory_size = 0;
  // Wall-clock limit of one call (and of the guest's initialisation); 0 = none. A call past it is
  // stopped and returns ErrorKind::Cancelled.
  std::chrono::milliseconds call_timeout{0};
  // Guest records below this level are not sent by the guest at all.
  LogLevel log_level = LogLevel::Info;
  // Where guest log records go; empty = write "[guest <level>] message" lines to stderr.
  LogSink log_sink;

  static constexpr std::uint64_t kMinRegion = 4096;
  static constexpr std::uint64_t kMaxMemory = 1ull << 30;

  // Checks every field; the error names the field and the allowed range.
  Result<void> validate() const;
};

}  // namespace mote
