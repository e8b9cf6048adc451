// The seccomp allow-list for threads that run sandboxes (libseccomp, Debian's libseccomp-dev).
#include <errno.h>
#include <linux/kvm.h>
#include <seccomp.h>

#include <fmt/format.h>

#include "mote/hardening.hpp"

namespace mote {

namespace {

// One allowed system call and why a sandbox thread needs it.
struct Allowed {
  int syscall;
  const char* reason;
};

const Allowed kAllowed[] = {
    {SCMP_SYS(read), "reading snapshot memory is mapped, but libc may read (e.g. /proc in tests)"},
    {SCMP_SYS(write), "log records go to stderr when no sink is set"},
    {SCMP_SYS(writev), "stdio may write with writev"},
    {SCMP_SYS(pwrite64), "Sandbox::snapshot() writes pages into the snapshot memfd"},
    {SCMP_SYS(memfd_create), "Sandbox::snapshot() creates the snapshot memfd"},
    {SCMP_SYS(ftruncate), "Sandbox::snapshot() sizes the snapshot memfd"},
    {SCMP_SYS(fcntl), "Sandbox::snapshot() seals the snapshot memfd"},
    {SCMP_SYS(close), "dropping snapshots and sandboxes closes their descriptors"},
    {SCMP_SYS(mmap), "allocation; snapshot views; restore remaps guest memory"},
    {SCMP_SYS(munmap), "freeing memory, snapshots and sandboxes"},
    {SCMP_SYS(mprotect), "the allocator"},
    {SCMP_SYS(mremap), "the allocator"},
    {SCMP_SYS(madvise), "the allocator"},
    {SCMP_SYS(brk), "the allocator"},
    {SCMP_SYS(futex), "mutexes and condition variables (watchdog, interrupt handles, pools)"},
    {SCMP_SYS(clock_gettime), "time limits (usually answered by the vDSO without a syscall)"},
    {SCMP_SYS(clock_nanosleep), "host functions may sleep"},
    {SCMP_SYS(nanosleep), "host functions may sleep"},
    {SCMP_SYS(sched_yield), "spinning locks back off"},
    {SCMP_SYS(rt_sigreturn), "returning from the kick signal that interrupts KVM_RUN"},
    {SCMP_SYS(rt_sigprocmask), "libc masks signals around some operations"},
    {SCMP_SYS(getpid), "abort() and pthread_kill() need it"},
    {SCMP_SYS(gettid), "abort() and pthread_kill() need it"},
    {SCMP_SYS(tgkill), "abort() signals the thread"},
    {SCMP_SYS(restart_syscall), "the kernel restarts an interrupted sleep"},
    {SCMP_SYS(clone), "threads (watchdog, helpers); a new thread inherits this filter"},
    {SCMP_SYS(clone3), "threads (watchdog, helpers); a new thread inherits this filter"},
    {SCMP_SYS(set_robust_list), "a new thread registers its robust futex list"},
    {SCMP_SYS(rseq), "a new thread registers restartable sequences"},
    {SCMP_SYS(exit), "the thread may end"},
    {SCMP_SYS(exit_group), "the process may end"},
};

}  // namespace

Result<void> restrict_thread_to_sandbox_syscalls() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
  if (ctx == nullptr) return fail(ErrorKind::Hypervisor, "seccomp_init failed");
  struct Release {
    scmp_filter_ctx ctx;
    ~Release() { seccomp_release(ctx); }
  } release{ctx};
  int rc = 0;
  for (const Allowed& a : kAllowed) {
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, a.syscall, 0);
    if (rc != 0) return fail(ErrorKind::Hypervisor, fmt::format("seccomp_rule_add: {}", -rc));
  }
  // ioctl only with KVM's request numbers (type byte KVMIO): KVM_RUN, dirty logs, registers.
  rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                        SCMP_A1(SCMP_CMP_MASKED_EQ, 0xff00u, static_cast<scmp_datum_t>(KVMIO) << 8));
  if (rc != 0) return fail(ErrorKind::Hypervisor, fmt::format("seccomp_rule_add(ioctl): {}", -rc));
  // The filter applies to this thread only (no TSYNC); no_new_privs is set by libseccomp.
  rc = seccomp_load(ctx);
  if (rc != 0) return fail(ErrorKind::Hypervisor, fmt::format("seccomp_load: {}", -rc));
  return {};
}

}  // namespace mote
