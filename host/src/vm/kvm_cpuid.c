/* KVM CPUID ioctls in C, where struct kvm_cpuid2 has the layout the kernel's ioctl numbers use. */
#include "vm/kvm_cpuid.h"

#include <errno.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

enum { kMaxEntries = 256 };

struct cpuid_buffer {
  struct kvm_cpuid2 header;
  struct kvm_cpuid_entry2 entries[kMaxEntries];
};

_Static_assert(sizeof(struct kvm_cpuid2) == 8, "kvm_cpuid2 must have its C layout");

unsigned long mote_kvm_cpuid_buffer_size(void) { return sizeof(struct cpuid_buffer); }

int mote_kvm_get_supported_cpuid(int kvm_fd, void* buffer) {
  struct cpuid_buffer* b = buffer;
  b->header.nent = kMaxEntries;
  b->header.padding = 0;
  return ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, b) < 0 ? -errno : 0;
}

int mote_kvm_set_cpuid(int vcpu_fd, const void* buffer) {
  return ioctl(vcpu_fd, KVM_SET_CPUID2, buffer) < 0 ? -errno : 0;
}
