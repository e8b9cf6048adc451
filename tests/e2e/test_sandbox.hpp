// Test helper: a test_guest sandbox with every host function the guest's tests call.
#pragma once

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "guest_files.hpp"
#include "mote/mote.hpp"

namespace mote::test {

struct LoggedRecord {
  LogLevel level;
  std::string message;
};

inline HostFunctions test_host_functions() {
  HostFunctions h;
  h.add("host_echo_i32", [](std::int32_t v) { return v; });
  h.add("host_echo_u32", [](std::uint32_t v) { return v; });
  h.add("host_echo_i64", [](std::int64_t v) { return v; });
  h.add("host_echo_u64", [](std::uint64_t v) { return v; });
  h.add("host_echo_f32", [](float v) { return v; });
  h.add("host_echo_f64", [](double v) { return v; });
  h.add("host_echo_bool", [](bool v) { return v; });
  h.add("host_echo_string", [](std::string_view v) { return std::string(v); });
  h.add("host_echo_bytes", [](const Bytes& v) { return v; });
  h.add("host_void", [] {});
  h.add("host_add", [](std::int32_t a, std::int32_t b) { return a + b; });
  h.add("host_fail", []() -> Result<std::int32_t> {
    return fail(ErrorKind::GuestError, "the host function refused");
  });
  h.add("host_throw", []() -> std::int32_t { throw std::runtime_error("boom"); });
  return h;
}

// Creates a sandbox of `guest`; fails the test (loudly, also when /dev/kvm is missing) otherwise.
inline Sandbox make_sandbox(const std::string& guest = "test_guest", SandboxConfig config = {},
                            HostFunctions host = test_host_functions()) {
  auto s = Sandbox::create_from_file(guest_path(guest), std::move(host), std::move(config));
  if (!s) {
    ADD_FAILURE() << "cannot create a sandbox of " << guest << ": " << s.error().to_string();
    std::abort();
  }
  return std::move(s).value();
}

}  // namespace mote::test
