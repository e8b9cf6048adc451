// The vCPU's special registers for mote's CPU state, in KVM's struct kvm_sregs form.
#pragma once

#include <linux/kvm.h>

#include "arch/x86_64/system_tables.hpp"

namespace mote::vm {

// Returns `current` (as read with KVM_GET_SREGS) with segments, descriptor tables and control
// registers replaced by `cpu`; everything else (APIC base, interrupt bitmap) is kept.
kvm_sregs with_cpu_state(kvm_sregs current, const x86_64::CpuState& cpu) noexcept;

}  // namespace mote::vm
