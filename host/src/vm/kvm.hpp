// KVM backend of VirtualMachine: /dev/kvm, one VM, one memory slot, one vCPU entered in ring 3.
#pragma once

#include <memory>

#include "arch/x86_64/system_tables.hpp"
#include "memory/guest_memory.hpp"
#include "mote/error.hpp"
#include "vm/virtual_machine.hpp"

namespace mote::vm {

// Creates a VM whose RAM is `memory` (which must outlive the VM), with the vCPU's control state
// set to `cpu` (ring 3, paging on). Fails with HypervisorUnavailable when /dev/kvm cannot be used.
Result<std::unique_ptr<VirtualMachine>> create_kvm_vm(GuestMemory& memory,
                                                     const x86_64::CpuState& cpu);

// Opens /dev/kvm once per process and checks the API version; the error says why it is unusable.
Result<int> kvm_device();

}  // namespace mote::vm
