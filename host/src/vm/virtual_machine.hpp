// VirtualMachine: the small hypervisor interface (one VM, one vCPU) and its closed exit type.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>

#include "arch/x86_64/system_tables.hpp"
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

  // Completes an exit the host will not resume (an IN or MMIO read that KVM would otherwise finish
  // on the next run by writing the old RIP back), without running guest code. Call it before
  // set_registers() starts a new operation.
  virtual Result<void> discard_pending_exit() = 0;

  // Makes the next or current KVM_RUN return at once with Interrupted (KVM's immediate_exit).
  // Safe to call from any thread while the VM exists.
  virtual void set_immediate_exit(bool on) noexcept = 0;

  // The page-fault address register (cold path: costs an ioctl).
  virtual Result<std::uint64_t> fault_address() = 0;

  // Puts segments, descriptor tables and control registers back to `cpu` (after a guest fault
  // left the vCPU in ring 0). Costs an ioctl.
  virtual Result<void> set_cpu_state(const x86_64::CpuState& cpu) = 0;

  // Dirty-page tracking of guest memory, one bit per 4 KiB page (bit i of word i / 64).
  // dirty_pages fills `bitmap` with the pages the guest wrote since they were last re-armed;
  // rearm_dirty_pages write-protects the pages set in `bitmap` again so that their next write is
  // seen. Pages left un-armed stay writable at no cost and stay reported as dirty.
  virtual Result<void> dirty_pages(std::span<std::uint64_t> bitmap) = 0;
  virtual Result<void> rearm_dirty_pages(std::span<const std::uint64_t> bitmap) = 0;
};

}  // namespace mote::vm
