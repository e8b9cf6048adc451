// KVM backend: VM and vCPU creation, sync_regs register exchange, and KVM_RUN exit decoding.
#include "vm/kvm.hpp"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "vm/kvm_cpuid.h"
#include "vm/kvm_msrs.h"
#include "vm/kvm_sregs.hpp"

namespace mote::vm {

static_assert(sizeof(GeneralRegisters) == sizeof(kvm_regs));
static_assert(offsetof(GeneralRegisters, rip) == offsetof(kvm_regs, rip));
static_assert(offsetof(GeneralRegisters, rflags) == offsetof(kvm_regs, rflags));
static_assert(offsetof(GeneralRegisters, r15) == offsetof(kvm_regs, r15));

namespace {

Error kvm_error(const char* what, int err) {
  return Error(ErrorKind::Hypervisor, fmt::format("{} failed: {}", what, std::strerror(err)));
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// KVM_GET_SUPPORTED_CPUID once per process.
Result<const std::vector<std::uint8_t>*> supported_cpuid(int kvm) {
  static std::once_flag once;
  static std::vector<std::uint8_t> buffer;
  static int error = 0;
  std::call_once(once, [&] {
    buffer.resize(mote_kvm_cpuid_buffer_size());
    error = -mote_kvm_get_supported_cpuid(kvm, buffer.data());
  });
  if (error != 0) return std::unexpected(kvm_error("KVM_GET_SUPPORTED_CPUID", error));
  return &buffer;
}

class KvmVirtualMachine final : public VirtualMachine {
 public:
  KvmVirtualMachine(Fd vm, Fd vcpu, kvm_run* run, std::size_t run_size, std::uint64_t pages,
                    bool manual_protect)
      : vm_(std::move(vm)),
        vcpu_(std::move(vcpu)),
        run_(run),
        run_size_(run_size),
        pages_(pages),
        manual_protect_(manual_protect) {}
  ~KvmVirtualMachine() override { ::munmap(run_, run_size_); }

  GeneralRegisters registers() const noexcept override {
    GeneralRegisters regs;
    std::memcpy(&regs, &run_->s.regs.regs, sizeof(regs));
    return regs;
  }
  void set_registers(const GeneralRegisters& regs) noexcept override {
    std::memcpy(&run_->s.regs.regs, &regs, sizeof(regs));
    run_->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
  }

  Result<VmExit> run() override {
    for (;;) {
      if (::ioctl(vcpu_.get(), KVM_RUN, 0) == 0) {
        pending_exit_ = (run_->exit_reason == KVM_EXIT_IO && run_->io.direction == KVM_EXIT_IO_IN) ||
                        run_->exit_reason == KVM_EXIT_MMIO;
        return decode_exit();
      }
      if (errno == EINTR) return Interrupted{};
      if (errno != EAGAIN) return std::unexpected(kvm_error("KVM_RUN", errno));
    }
  }

  Result<void> discard_pending_exit() override {
    if (!pending_exit_) return {};
    pending_exit_ = false;
    // A KVM_RUN with immediate_exit completes the pending exit and returns EINTR before entering
    // the guest; registers set afterwards then stick.
    const auto saved_dirty = run_->kvm_dirty_regs;
    run_->kvm_dirty_regs = 0;
    const auto previous = __atomic_exchange_n(&run_->immediate_exit, std::uint8_t{1}, __ATOMIC_SEQ_CST);
    const int rc = ::ioctl(vcpu_.get(), KVM_RUN, 0);
    const int error = errno;
    __atomic_store_n(&run_->immediate_exit, previous, __ATOMIC_SEQ_CST);
    run_->kvm_dirty_regs = saved_dirty;
    if (rc == 0) return fail(ErrorKind::Hypervisor, "KVM_RUN with immediate_exit entered the guest");
    if (error != EINTR) return std::unexpected(kvm_error("KVM_RUN (completing an abandoned exit)", error));
    return {};
  }

  void set_immediate_exit(bool on) noexcept override {
    __atomic_store_n(&run_->immediate_exit, on ? 1 : 0, __ATOMIC_SEQ_CST);
  }

  Result<void> set_cpu_state(const x86_64::CpuState& cpu) override {
    kvm_sregs sregs{};
    if (::ioctl(vcpu_.get(), KVM_GET_SREGS, &sregs) < 0) {
      return std::unexpected(kvm_error("KVM_GET_SREGS", errno));
    }
    sregs = with_cpu_state(sregs, cpu);
    if (::ioctl(vcpu_.get(), KVM_SET_SREGS, &sregs) < 0) {
      return std::unexpected(kvm_error("KVM_SET_SREGS", errno));
    }
    return {};
  }

  Result<void> dirty_pages(std::span<std::uint64_t> bitmap) override {
    if (bitmap.size() * 64 < pages_) return fail(ErrorKind::Hypervisor, "dirty bitmap too small");
    kvm_dirty_log log{};
    log.slot = 0;
    log.dirty_bitmap = bitmap.data();
    if (::ioctl(vm_.get(), KVM_GET_DIRTY_LOG, &log) < 0) {
      return std::unexpected(kvm_error("KVM_GET_DIRTY_LOG", errno));
    }
    return {};
  }

  Result<void> rearm_dirty_pages(std::span<const std::uint64_t> bitmap) override {
    if (!manual_protect_) return {};  // KVM_GET_DIRTY_LOG already re-armed everything it reported
    if (bitmap.size() * 64 < pages_) return fail(ErrorKind::Hypervisor, "dirty bitmap too small");
    kvm_clear_dirty_log clear{};
    clear.slot = 0;
    clear.first_page = 0;
    clear.num_pages = static_cast<std::uint32_t>(pages_);
    clear.dirty_bitmap = const_cast<std::uint64_t*>(bitmap.data());
    if (::ioctl(vm_.get(), KVM_CLEAR_DIRTY_LOG, &clear) < 0) {
      return std::unexpected(kvm_error("KVM_CLEAR_DIRTY_LOG", errno));
    }
    return {};
  }

  Result<std::uint64_t> fault_address() override {
    kvm_sregs sregs{};
    if (::ioctl(vcpu_.get(), KVM_GET_SREGS, &sregs) < 0) {
      return std::unexpected(kvm_error("KVM_GET_SREGS", errno));
    }
    return sregs.cr2;
  }

 private:
  VmExit decode_exit() const {
    switch (run_->exit_reason) {
      case KVM_EXIT_IO: {
        const auto& io = run_->io;
        if (io.direction == KVM_EXIT_IO_IN) return IoIn{io.port};
        std::uint32_t value = 0;
        const std::size_t n = std::min<std::size_t>(io.size, sizeof(value));
        if (io.data_offset + n <= run_size_) {
          std::memcpy(&value, reinterpret_cast<const std::uint8_t*>(run_) + io.data_offset, n);
        }
        return IoOut{io.port, value};
      }
      case KVM_EXIT_HLT:
        return Halt{};
      case KVM_EXIT_SHUTDOWN:
        return Shutdown{};
      case KVM_EXIT_MMIO:
        return Mmio{run_->mmio.phys_addr, run_->mmio.is_write != 0};
      case KVM_EXIT_FAIL_ENTRY:
        return Failed{fmt::format("entry failed, hardware reason 0x{:x}",
                                  run_->fail_entry.hardware_entry_failure_reason)};
      case KVM_EXIT_INTERNAL_ERROR:
        return Failed{fmt::format("KVM internal error, suberror {}", run_->internal.suberror)};
      default:
        return Failed{fmt::format("unexpected KVM exit reason {}", run_->exit_reason)};
    }
  }

  Fd vm_;
  Fd vcpu_;
  kvm_run* run_;
  std::size_t run_size_;
  std::uint64_t pages_;  // guest memory size in pages
  bool manual_protect_;  // KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 is on: re-arming is ours to do
  bool pending_exit_ = false;  // the last exit was an IN or MMIO that KVM would complete on resume
};

}  // namespace

Result<int> kvm_device() {
  static std::once_flag once;
  static int fd = -1;
  static int error = 0;
  static bool bad_version = false;
  std::call_once(once, [] {
    fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      error = errno;
      return;
    }
    if (::ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) bad_version = true;
  });
  if (fd < 0) {
    return fail(ErrorKind::HypervisorUnavailable,
                fmt::format("cannot open /dev/kvm: {}", std::strerror(error)));
  }
  if (bad_version) return fail(ErrorKind::HypervisorUnavailable, "unsupported KVM API version");
  return fd;
}

Result<std::unique_ptr<VirtualMachine>> create_kvm_vm(GuestMemory& memory,
                                                     const x86_64::CpuState& cpu) {
  const int kvm = MOTE_TRY(kvm_device());
  Fd vm(::ioctl(kvm, KVM_CREATE_VM, 0));
  if (vm.get() < 0) return std::unexpected(kvm_error("KVM_CREATE_VM", errno));

  // Dirty-page tracking with manual re-arming, where KVM has it (restore copies back only what
  // the guest wrote, and may leave hot pages writable).
  kvm_enable_cap cap{};
  cap.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2;
  cap.args[0] = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
  const bool manual_protect = ::ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) > 0 &&
                              ::ioctl(vm.get(), KVM_ENABLE_CAP, &cap) == 0;

  kvm_userspace_memory_region region{};
  region.slot = 0;
  region.flags = KVM_MEM_LOG_DIRTY_PAGES;
  region.guest_phys_addr = 0;
  region.memory_size = memory.size();
  region.userspace_addr = reinterpret_cast<std::uint64_t>(memory.host_base());
  if (::ioctl(vm.get(), KVM_SET_USER_MEMORY_REGION, &region) < 0) {
    return std::unexpected(kvm_error("KVM_SET_USER_MEMORY_REGION", errno));
  }

  Fd vcpu(::ioctl(vm.get(), KVM_CREATE_VCPU, 0));
  if (vcpu.get() < 0) return std::unexpected(kvm_error("KVM_CREATE_VCPU", errno));

  const auto* cpuid = MOTE_TRY(supported_cpuid(kvm));
  if (int err = -mote_kvm_set_cpuid(vcpu.get(), cpuid->data()); err != 0) {
    return std::unexpected(kvm_error("KVM_SET_CPUID2", err));
  }

  kvm_sregs sregs{};
  if (::ioctl(vcpu.get(), KVM_GET_SREGS, &sregs) < 0) {
    return std::unexpected(kvm_error("KVM_GET_SREGS", errno));
  }
  sregs = with_cpu_state(sregs, cpu);
  if (::ioctl(vcpu.get(), KVM_SET_SREGS, &sregs) < 0) {
    return std::unexpected(kvm_error("KVM_SET_SREGS", errno));
  }
  if (int err = -mote_kvm_set_msr(vcpu.get(), x86_64::kMsrLstar, x86_64::kSyscallTrap); err != 0) {
    return std::unexpected(kvm_error("KVM_SET_MSRS (LSTAR)", err));
  }

  const int run_size = ::ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size < static_cast<int>(sizeof(kvm_run))) {
    return std::unexpected(kvm_error("KVM_GET_VCPU_MMAP_SIZE", errno));
  }
  void* run = ::mmap(nullptr, static_cast<std::size_t>(run_size), PROT_READ | PROT_WRITE,
                     MAP_SHARED, vcpu.get(), 0);
  if (run == MAP_FAILED) return std::unexpected(kvm_error("mmap of kvm_run", errno));
  auto* k = static_cast<kvm_run*>(run);
  // Registers travel through kvm_run on every exit (no KVM_GET_REGS/KVM_SET_REGS per call).
  k->kvm_valid_regs = KVM_SYNC_X86_REGS;
  return std::make_unique<KvmVirtualMachine>(std::move(vm), std::move(vcpu), k,
                                             static_cast<std::size_t>(run_size),
                                             memory.size() / 4096, manual_protect);
}

}  // namespace mote::vm
