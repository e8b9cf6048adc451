// Raw KVM floor VM: set up with mote's system tables, then driven by bare ioctls.
#include "raw_kvm.hpp"

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "arch/x86_64/page_tables.hpp"
#include "arch/x86_64/system_tables.hpp"
#include "memory/guest_memory.hpp"
#include "memory/layout.hpp"
#include "vm/kvm.hpp"
#include "vm/kvm_cpuid.h"
#include "vm/kvm_sregs.hpp"

namespace mote::bench {

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "raw KVM floor: %s failed: %s\n", what, std::strerror(errno));
  std::abort();
}

}  // namespace

RawVm::RawVm() {
  auto kvm = vm::kvm_device();
  if (!kvm) {
    std::fprintf(stderr, "raw KVM floor: %s\n", kvm.error().to_string().c_str());
    std::abort();
  }
  SandboxConfig config;
  config.stack_size = 16 * 1024;
  config.heap_size = 4096;
  config.input_size = 4096;
  config.output_size = 4096;
  auto layout = compute_layout(config, kPageSize, kPageSize);
  auto memory = GuestMemory::allocate(layout->total_size);
  if (!layout || !memory) std::abort();
  const std::uint8_t code[] = {0xe6, 0x10, 0xeb, 0xfc};  // out %al,$0x10 ; jmp .-4
  (void)memory->write(layout->image.base, code);
  const x86_64::PageMapping maps[] = {
      {layout->gdt.base, 3 * kPageSize, false, false, false},
      {layout->stubs.base, kPageSize, false, false, true},
      {layout->exception_stack.base, layout->exception_stack.size, false, true, false},
      {layout->image.base, kPageSize, true, false, true},
      {layout->stack.base, layout->stack.size, true, true, false},
  };
  auto cr3 = x86_64::build_page_tables(*memory, layout->page_tables, maps);
  auto cpu = x86_64::write_system_tables(*memory, *layout, cr3.value());
  memory_size_ = memory->size();
  memory_ = memory->host_base();
  memory_owner_ = std::make_unique<GuestMemory>(std::move(*memory));

  vm_ = ::ioctl(*kvm, KVM_CREATE_VM, 0);
  if (vm_ < 0) die("KVM_CREATE_VM");
  kvm_userspace_memory_region region{0, 0, 0, memory_size_, reinterpret_cast<std::uint64_t>(memory_)};
  if (::ioctl(vm_, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION");
  vcpu_ = ::ioctl(vm_, KVM_CREATE_VCPU, 0);
  if (vcpu_ < 0) die("KVM_CREATE_VCPU");
  // KVM_GET_SUPPORTED_CPUID once per process, as mote does.
  static const std::vector<std::uint8_t> cpuid = [&] {
    std::vector<std::uint8_t> buffer(mote_kvm_cpuid_buffer_size());
    if (mote_kvm_get_supported_cpuid(*kvm, buffer.data()) < 0) die("KVM_GET_SUPPORTED_CPUID");
    return buffer;
  }();
  if (mote_kvm_set_cpuid(vcpu_, cpuid.data()) < 0) die("KVM_SET_CPUID2");
  kvm_sregs sregs{};
  if (::ioctl(vcpu_, KVM_GET_SREGS, &sregs) < 0) die("KVM_GET_SREGS");
  sregs = vm::with_cpu_state(sregs, *cpu);
  if (::ioctl(vcpu_, KVM_SET_SREGS, &sregs) < 0) die("KVM_SET_SREGS");
  run_size_ = static_cast<std::size_t>(::ioctl(*kvm, KVM_GET_VCPU_MMAP_SIZE, 0));
  run_ = static_cast<kvm_run*>(::mmap(nullptr, run_size_, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_, 0));
  if (run_ == MAP_FAILED) die("mmap kvm_run");
  run_->kvm_valid_regs = KVM_SYNC_X86_REGS;
  run_->s.regs.regs = kvm_regs{};
  run_->s.regs.regs.rip = raw(layout->image.base);
  run_->s.regs.regs.rsp = raw(layout->stack_top());
  run_->s.regs.regs.rflags = 2;
  run_->kvm_dirty_regs = KVM_SYNC_X86_REGS;
  exit_roundtrip(0);
}

RawVm::~RawVm() {
  ::munmap(run_, run_size_);
  ::close(vcpu_);
  ::close(vm_);
}

void RawVm::exit_roundtrip(std::uint64_t rax) {
  run_->s.regs.regs.rax = rax;
  run_->kvm_dirty_regs = KVM_SYNC_X86_REGS;
  if (::ioctl(vcpu_, KVM_RUN, 0) < 0) die("KVM_RUN");
  if (run_->exit_reason != KVM_EXIT_IO || run_->io.port != 0x10) {
    std::fprintf(stderr, "raw KVM floor: unexpected exit %u\n", run_->exit_reason);
    std::abort();
  }
}

}  // namespace mote::bench
