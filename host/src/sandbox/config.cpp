// SandboxConfig validation and log-level names.
#include "mote/config.hpp"

#include <fmt/format.h>

namespace mote {

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::Trace: return "trace";
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warn: return "warn";
    case LogLevel::Error: return "error";
    case LogLevel::Off: return "off";
  }
  return "invalid";
}

Result<void> SandboxConfig::validate() const {
  struct Field {
    const char* name;
    std::uint64_t value;
    std::uint64_t min;
  };
  const Field fields[] = {{"stack_size", stack_size, 16 * 1024},
                          {"heap_size", heap_size, kMinRegion},
                          {"input_size", input_size, kMinRegion},
                          {"output_size", output_size, kMinRegion}};
  constexpr std::uint64_t kMaxRegion = 512ull << 20;
  for (const Field& f : fields) {
    if (f.value < f.min || f.value > kMaxRegion || f.value % 4096 != 0) {
      return fail(ErrorKind::InvalidConfig,
                  fmt::format("{} = {} must be a multiple of 4096 in [{}, {}]", f.name, f.value,
                              f.min, kMaxRegion));
    }
  }
  if (input_size > 0xffff'ffffull || output_size > 0xffff'ffffull) {
    return fail(ErrorKind::InvalidConfig, "buffers must be smaller than 4 GiB");
  }
  if (max_memory_size != 0 && (max_memory_size > kMaxMemory || max_memory_size % 4096 != 0)) {
    return fail(ErrorKind::InvalidConfig,
                fmt::format("max_memory_size = {} must be a multiple of 4096 up to {}",
                            max_memory_size, kMaxMemory));
  }
  if (call_timeout.count() < 0) return fail(ErrorKind::InvalidConfig, "call_timeout is negative");
  if (static_cast<unsigned>(log_level) > static_cast<unsigned>(LogLevel::Off)) {
    return fail(ErrorKind::InvalidConfig, "log_level is not a LogLevel");
  }
  return {};
}

}  // namespace mote
