// VirtualMachine: the small hypervisor interface (one VM, one vCPU) and its closed exit type.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "mote/error.hpp"

namespace mote::vm {

// Why the vCPU stopped. Closed: exit handling switches over every alternative.
struct IoOut {
  std::uint16_t port;
  std::uint32_t value;  // up to 4 bytes of the OUT's data, little-endian
};
struct IoIn {
  std::uint16_t port;
};
struct Halt {};
struct Shutdown {};  // triple fault
struct Mmio {
  std::uint64_t address;
  bool write;
};
struct Interrupted {};  // KVM_RUN returned EINTR (a signal reached the vCPU thread)
struct Failed {          // entry failure, internal error, or an exit reason mote never expects
  std::string detail;
};
using VmExit = std::variant<IoOut, IoIn, Halt, Shutdown, Mmio, Interrupted, Failed>;

// General-purpose registers, laid out as KVM's struct kvm_regs (checked in kvm.cpp).
struct GeneralRegisters {
  std::uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
  std::uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  std::uint64_t rip, rflags;
};

class VirtualMachine {
 public:
  virtual ~VirtualMachine() = default;

  // The registers the vCPU stopped with after the last run() (no ioctl: KVM's sync_regs area).
  virtual GeneralRegisters registers() const noexcept = 0;
  // The registers the next run() starts from (no ioctl either).
  virtual void set_registers(const GeneralRegisters& regs) noexcept = 0;

  // Runs the vCPU until it stops. An OUT is completed by the next run(): the guest resumes after it.
  virtual Result<VmExit> run() = 0;

  // The page-fault address register (cold path: costs an ioctl).
  virtual Result<std::uint64_t> fault_address() = 0;
};

}  // namespace mote::vm
