// Raw KVM for the floor benchmarks: a VM driven by bare ioctls, no mote code on the measured path.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <memory>
#include <string>

#include "memory/guest_memory.hpp"

namespace mote::bench {

// A one-page ring-3 guest whose code is `out %al, $0x10; jmp <back to out>`, set up like a mote
// sandbox (same page tables, GDT, TSS bitmap, selectors), but run with plain ioctls.
class RawVm {
 public:
  // Creates the VM, its memory and vCPU, and runs it to its first exit. Aborts the process with a
  // message if KVM refuses (a benchmark has no error path to report through).
  RawVm();
  ~RawVm();
  RawVm(const RawVm&) = delete;
  RawVm& operator=(const RawVm&) = delete;

  // One KVM_RUN: sets RAX through sync_regs, enters, and returns at the next OUT.
  void exit_roundtrip(std::uint64_t rax);

 private:
  int vm_ = -1, vcpu_ = -1;
  kvm_run* run_ = nullptr;
  std::size_t run_size_ = 0;
  std::unique_ptr<GuestMemory> memory_owner_;
  std::uint8_t* memory_ = nullptr;
  std::size_t memory_size_ = 0;
};

}  // namespace mote::bench
