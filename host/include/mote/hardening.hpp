// Least privilege for the threads that run sandboxes: a seccomp allow-list of system calls.
#pragma once

#include "mote/error.hpp"

namespace mote {

// Restricts the calling thread, for the rest of its life, to the system calls a thread needs to
// run calls on existing sandboxes: calls, host calls, logging, restore, snapshot, interrupt. Any
// other system call fails with EPERM (the thread is not killed, so a host function that tries
// one gets an error it can report). Creating sandboxes or loading snapshot files needs more (opening
// files, /dev/kvm): do that before, or on another thread. Other threads are unaffected.
//
// Use it on worker threads dedicated to sandboxes. mote never calls it by itself: calls run on
// the caller's thread, and a library must not restrict its caller's thread behind its back.
Result<void> restrict_thread_to_sandbox_syscalls();

}  // namespace mote
