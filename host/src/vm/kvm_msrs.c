/* KVM_SET_MSRS in C, where struct kvm_msrs has the layout the kernel's ioctl number uses. */
#include "vm/kvm_msrs.h"

#include <errno.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

_Static_assert(sizeof(struct kvm_msrs) == 8, "kvm_msrs must have its C layout");

int mote_kvm_set_msr(int vcpu_fd, uint32_t index, uint64_t value) {
  struct {
    struct kvm_msrs header;
    struct kvm_msr_entry entry;
  } msrs = {{1, 0}, {index, 0, value}};
  const int rc = ioctl(vcpu_fd, KVM_SET_MSRS, &msrs);
  if (rc < 0) return -errno;
  return rc == 1 ? 0 : -EINVAL; /* KVM returns how many MSRs it set */
}
