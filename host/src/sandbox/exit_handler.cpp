// Exit handling: the port table (one entry per ABI port) and fault descriptions.
#include "sandbox/exit_handler.hpp"

#include <array>
#include <optional>

#include <fmt/format.h>

#include "mote/abi.h"

namespace mote {

namespace {

// Hypercall table indexed by port; ports outside it or without an entry are protocol errors.
constexpr auto kPortActions = [] {
  std::array<std::optional<ExitAction>, 0x20> t{};
  t[MOTE_PORT_RETURN] = ExitAction::Return;
  t[MOTE_PORT_HOST_CALL] = ExitAction::HostCall;
  t[MOTE_PORT_LOG] = ExitAction::Log;
  t[MOTE_PORT_ABORT] = ExitAction::Abort;
  t[MOTE_PORT_EXCEPTION] = ExitAction::Exception;
  return t;
}();

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};

std::string_view region_name(std::uint64_t address, const Layout& l) {
  const std::pair<const Region*, std::string_view> regions[] = {
      {&l.stack_guard, "the stack guard page (stack overflow)"},
      {&l.stack, "the stack"},
      {&l.heap, "the heap"},
      {&l.image, "the guest image"},
      {&l.input, "the input buffer"},
      {&l.output, "the output buffer"},
      {&l.boot_info, "the boot info page"},
      {&l.page_tables, "the page tables"},
  };
  for (const auto& [region, name] : regions) {
    if (region->contains(address)) return name;
  }
  if (address < kPageSize) return "the null page";
  if (address >= raw(l.stack.end()) && address < raw(l.heap.base)) return "the guard page above the stack";
  if (address >= raw(l.heap.end()) && address < raw(l.input.base)) return "the guard page above the heap";
  if (address < raw(l.boot_info.base)) return "the system area";
  return "no mapped region";
}

}  // namespace

Result<ExitAction> classify_exit(const vm::VmExit& exit) {
  return std::visit(
      Overloaded{
          [](const vm::IoOut& io) -> Result<ExitAction> {
            if (io.port < kPortActions.size() && kPortActions[io.port]) return *kPortActions[io.port];
            return fail(ErrorKind::GuestProtocol, fmt::format("guest wrote to port 0x{:x}", io.port));
          },
          [](const vm::IoIn& io) -> Result<ExitAction> {
            return fail(ErrorKind::GuestProtocol, fmt::format("guest read from port 0x{:x}", io.port));
          },
          [](const vm::Halt&) -> Result<ExitAction> {
            return fail(ErrorKind::UnexpectedExit, "the guest halted");
          },
          [](const vm::Shutdown&) -> Result<ExitAction> {
            return fail(ErrorKind::UnexpectedExit, "triple fault: the vCPU shut down");
          },
          [](const vm::Mmio& m) -> Result<ExitAction> {
            return fail(ErrorKind::UnexpectedExit,
                        fmt::format("guest {} unbacked physical address 0x{:x}",
                                    m.write ? "wrote" : "read", m.address));
          },
          [](const vm::Interrupted&) -> Result<ExitAction> { return ExitAction::Interrupted; },
          [](const vm::Failed& f) -> Result<ExitAction> {
            return fail(ErrorKind::UnexpectedExit, f.detail);
          },
      },
      exit);
}

Error describe_fault(const x86_64::ExceptionFrame& frame, std::uint64_t fault_address,
                     const Layout& layout, std::uint64_t rcx) {
  const bool fetch_fault = frame.vector == 14 && (frame.error_code & 16) != 0;
  if (fetch_fault && fault_address == x86_64::kSyscallTrap && frame.rip == x86_64::kSyscallTrap) {
    // SYSCALL on a hypervisor that ignores EFER.SCE: report the #UD real hardware raises, at the
    // SYSCALL instruction (RCX holds the address after it).
    GuestFault ud{6, 0, rcx - 2, 0};
    return Error::from_fault(ud, fmt::format("guest raised #UD (6) at rip 0x{:x}: SYSCALL is not "
                                             "available to guests", rcx - 2));
  }
  GuestFault fault;
  fault.vector = static_cast<std::uint8_t>(frame.vector);
  fault.error_code = frame.error_code;
  fault.rip = frame.rip;
  std::string message = fmt::format("guest raised #{} ({}) at rip 0x{:x}",
                                    exception_name(fault.vector), frame.vector, frame.rip);
  if (fault.vector == 14) {
    fault.address = fault_address;
    const bool present = frame.error_code & 1, write = frame.error_code & 2,
               fetch = frame.error_code & 16;
    const bool reserved = frame.error_code & 8;
    message += fmt::format(": {} of address 0x{:x} ({}) in {}",
                           fetch ? "instruction fetch" : write ? "write" : "read", fault_address,
                           reserved  ? "reserved bit set"
                           : present ? "protection violation"
                                     : "not mapped",
                           region_name(fault_address, layout));
  } else if (frame.error_code != 0) {
    message += fmt::format(", error code 0x{:x}", frame.error_code);
  }
  return Error::from_fault(fault, std::move(message));
}

}  // namespace mote
