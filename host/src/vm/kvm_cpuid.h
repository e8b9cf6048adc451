/* KVM CPUID ioctls, kept in C: in C++ the flexible-array struct kvm_cpuid2 has another size, so the
 * ioctl numbers derived from it would be wrong (DESIGN.md section 3). */
#ifndef MOTE_KVM_CPUID_H
#define MOTE_KVM_CPUID_H

#ifdef __cplusplus
extern "C" {
#endif

/* Size of the buffer mote_kvm_get_supported_cpuid fills. */
unsigned long mote_kvm_cpuid_buffer_size(void);
/* Fills `buffer` (mote_kvm_cpuid_buffer_size() bytes) with KVM_GET_SUPPORTED_CPUID. 0 or -errno. */
int mote_kvm_get_supported_cpuid(int kvm_fd, void* buffer);
/* KVM_SET_CPUID2 on the vCPU with a buffer filled by mote_kvm_get_supported_cpuid. 0 or -errno. */
int mote_kvm_set_cpuid(int vcpu_fd, const void* buffer);

#ifdef __cplusplus
}
#endif

#endif
