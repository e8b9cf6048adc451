/* KVM_SET_MSRS for one MSR, kept in C: struct kvm_msrs ends in a flexible array, so its C++ size
 * (and the ioctl number derived from it) differs (DESIGN.md section 3). */
#ifndef MOTE_KVM_MSRS_H
#define MOTE_KVM_MSRS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Sets MSR `index` of the vCPU to `value`. 0 or -errno. */
int mote_kvm_set_msr(int vcpu_fd, uint32_t index, uint64_t value);

#ifdef __cplusplus
}
#endif

#endif
