// Exit handling: what a vCPU exit means for a running guest call (a pure function of the exit).
#pragma once

#include <cstdint>
#include <string>

#include "memory/layout.hpp"
#include "mote/error.hpp"
#include "vm/virtual_machine.hpp"
#include "arch/x86_64/system_tables.hpp"

namespace mote {

enum class ExitAction : std::uint8_t {
  Return,       // the guest finished the operation; its reply is in the output buffer
  HostCall,     // the guest calls a host function; resume it after answering
  Log,          // the guest logged a record; resume it
  Abort,        // the guest aborted; its record is in the output buffer
  Exception,    // a ring-0 stub reported a CPU exception; the frame is on the exception stack
  Interrupted,  // KVM_RUN was interrupted by a signal; run again
};

// Classifies an exit. Exits the ABI does not allow become errors (GuestProtocol for ports,
// UnexpectedExit for the rest), which poison the sandbox.
Result<ExitAction> classify_exit(const vm::VmExit& exit);

// Turns the frame a stub left (and CR2 for page faults) into a GuestFault error whose message
// names the exception, the instruction and, for page faults, the address, the access kind and
// the region it hit (stack overflow when it is the stack guard).
// `rcx` is the guest's RCX at the fault (used to place a SYSCALL's #UD on its instruction).
Error describe_fault(const x86_64::ExceptionFrame& frame, std::uint64_t fault_address,
                     const Layout& layout, std::uint64_t rcx = 0);

}  // namespace mote
