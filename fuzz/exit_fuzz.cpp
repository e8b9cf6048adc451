// libFuzzer target: classify_exit on every VmExit alternative and describe_fault on any frame.
//
// Input layout (little-endian; missing bytes read as zero):
//   u8 alternative (mod 7: IoOut IoIn Halt Shutdown Mmio Interrupted Failed)
//   u16 port, u32 value, u64 mmio address, u8 mmio write
//   ExceptionFrame: u64 vector, error_code, rip, cs, rflags, rsp, ss
//   u64 fault address (CR2), u64 guest RCX
//   u32 image pages, u8 image alignment shift (both folded into valid ranges)
//   the rest: Failed::detail
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>

#include "fuzz_support.hpp"
#include "memory/layout.hpp"
#include "mote/abi.h"
#include "mote/config.hpp"
#include "sandbox/exit_handler.hpp"

namespace mote::fuzz {
namespace {

vm::VmExit make_exit(ByteReader& in) {
  const auto which = in.get<std::uint8_t>() % std::variant_size_v<vm::VmExit>;
  const auto port = in.get<std::uint16_t>();
  const auto value = in.get<std::uint32_t>();
  const auto address = in.get<std::uint64_t>();
  const bool write = (in.get<std::uint8_t>() & 1) != 0;
  switch (which) {
    case 0: return vm::IoOut{port, value};
    case 1: return vm::IoIn{port};
    case 2: return vm::Halt{};
    case 3: return vm::Shutdown{};
    case 4: return vm::Mmio{address, write};
    case 5: return vm::Interrupted{};
    default: return vm::Failed{};  // detail filled in by the caller from the rest of the input
  }
}

void check_classify(const vm::VmExit& exit) {
  const auto action = classify_exit(exit);
  if (const auto* out = std::get_if<vm::IoOut>(&exit)) {
    switch (out->port) {
      case MOTE_PORT_RETURN: FUZZ_CHECK(action == ExitAction::Return); return;
      case MOTE_PORT_HOST_CALL: FUZZ_CHECK(action == ExitAction::HostCall); return;
      case MOTE_PORT_LOG: FUZZ_CHECK(action == ExitAction::Log); return;
      case MOTE_PORT_ABORT: FUZZ_CHECK(action == ExitAction::Abort); return;
      case MOTE_PORT_EXCEPTION: FUZZ_CHECK(action == ExitAction::Exception); return;
      default:
        FUZZ_CHECK(!action && action.error().kind() == ErrorKind::GuestProtocol);
        return;
    }
  }
  if (std::holds_alternative<vm::Interrupted>(exit)) {
    FUZZ_CHECK(action == ExitAction::Interrupted);
    return;
  }
  FUZZ_CHECK(!action);
  FUZZ_CHECK(poisons(action.error().kind()));
  const ErrorKind expected = std::holds_alternative<vm::IoIn>(exit) ? ErrorKind::GuestProtocol
                                                                     : ErrorKind::UnexpectedExit;
  FUZZ_CHECK(action.error().kind() == expected);
  (void)action.error().to_string();
}

Layout make_layout(ByteReader& in) {
  const std::uint64_t pages = in.get<std::uint32_t>() % 4096 + 1;  // up to 16 MiB of image
  const unsigned shift = 12 + in.get<std::uint8_t>() % 10;          // 4 KiB .. 2 MiB
  const SandboxConfig config{};
  auto layout = compute_layout(config, pages * kPageSize, std::uint64_t{1} << shift);
  if (!layout) layout = compute_layout(config, kPageSize, kPageSize);
  FUZZ_CHECK(layout.has_value());
  return *layout;
}

void check_fault(const x86_64::ExceptionFrame& frame, std::uint64_t fault_address,
                 const Layout& layout, std::uint64_t rcx) {
  const Error error = describe_fault(frame, fault_address, layout, rcx);
  FUZZ_CHECK(error.kind() == ErrorKind::GuestFault);
  FUZZ_CHECK(error.fault().has_value());
  const GuestFault& fault = *error.fault();
  FUZZ_CHECK(!error.message().empty());
  if (frame.vector == 14 && (frame.error_code & 16) != 0 && fault_address == x86_64::kSyscallTrap &&
      frame.rip == x86_64::kSyscallTrap) {
    // A SYSCALL caught by its trap page is reported as the #UD real hardware raises.
    FUZZ_CHECK(fault.vector == 6 && fault.rip == rcx - 2 && fault.address == 0);
    return;
  }
  FUZZ_CHECK(fault.vector == static_cast<std::uint8_t>(frame.vector));
  FUZZ_CHECK(fault.error_code == frame.error_code && fault.rip == frame.rip);
  FUZZ_CHECK(fault.address == (fault.vector == 14 ? fault_address : 0));
  if (fault.vector == 14 && layout.stack_guard.contains(fault_address)) {
    FUZZ_CHECK(error.message().find("stack overflow") != std::string::npos);
  }
  (void)error.to_string();
}

}  // namespace
}  // namespace mote::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mote::fuzz::ByteReader in(std::span(data, size));
  mote::vm::VmExit exit = mote::fuzz::make_exit(in);
  mote::x86_64::ExceptionFrame frame{};
  frame.vector = in.get<std::uint64_t>();
  frame.error_code = in.get<std::uint64_t>();
  frame.rip = in.get<std::uint64_t>();
  frame.cs = in.get<std::uint64_t>();
  frame.rflags = in.get<std::uint64_t>();
  frame.rsp = in.get<std::uint64_t>();
  frame.ss = in.get<std::uint64_t>();
  const auto fault_address = in.get<std::uint64_t>();
  const auto rcx = in.get<std::uint64_t>();
  const mote::Layout layout = mote::fuzz::make_layout(in);
  if (auto* failed = std::get_if<mote::vm::Failed>(&exit)) {
    const auto rest = in.rest();
    failed->detail.assign(rest.begin(), rest.end());
  }
  mote::fuzz::check_classify(exit);
  mote::fuzz::check_fault(frame, fault_address, layout, rcx);
  return 0;
}
