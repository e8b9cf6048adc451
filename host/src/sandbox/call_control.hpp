// CallControl: the state one sandbox's calls share with interrupt handles and the watchdog, and
// the protocol that lets another thread stop the vCPU without racing the call's start or end.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <mutex>

#include "vm/virtual_machine.hpp"

namespace mote::detail {

// Lock-free on the call path; kill() takes a mutex only against the sandbox's destruction.
//
// Protocol (seq_cst): the call thread sets in_guest, then checks `cancelled`, then enters KVM_RUN;
// kill() sets `cancelled`, then checks in_guest. One of the two always sees the other's write, so
// either the call never enters the guest, or kill() knows it is there and kicks it out with
// immediate_exit plus a signal, repeated until the call thread has left KVM_RUN.
class CallControl {
 public:
  explicit CallControl(vm::VirtualMachine* vm) : vm_(vm) {}

  // ---- call thread ----
  // Starts a call (a new generation); returns it.
  std::uint64_t begin_call() noexcept;
  void end_call() noexcept;
  // Before KVM_RUN: false when the call was cancelled (then do not enter).
  bool enter_guest() noexcept;
  void leave_guest() noexcept;
  // Whether the running call was stopped by kill_generation (its time limit), not kill().
  bool timed_out() const noexcept { return timed_out_generation_.load() == generation_.load(); }
  // Whether the running call (generation `current`) was cancelled.
  bool cancelled() const noexcept {
    return running_.load() && cancelled_generation_.load() == generation_.load();
  }
  // After KVM_RUN returned EINTR: clears immediate_exit (a kick for an earlier call, or this
  // call's own cancellation, which must not reach the next call).
  void clear_kick() noexcept { vm_->set_immediate_exit(false); }

  // ---- any thread ----
  bool kill() noexcept;
  // kill(), but only if call `generation` is still the running one (used by the watchdog).
  bool kill_generation(std::uint64_t generation) noexcept;

  // ---- sandbox destruction ----
  void detach() noexcept;

 private:
  bool kill_locked(std::uint64_t generation, bool any) noexcept;

  std::mutex mutex_;             // guards vm_ against destruction during kill()
  vm::VirtualMachine* vm_;       // null once the sandbox is gone
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> running_{false};
  std::atomic<bool> in_guest_{false};
  std::atomic<std::uint64_t> cancelled_generation_{0};  // the generation kill() stopped
  std::atomic<std::uint64_t> timed_out_generation_{0};  // the generation the watchdog stopped
  std::atomic<pthread_t> thread_{};
};

// The signal that kicks a vCPU thread out of KVM_RUN (a no-op handler, installed once).
int kick_signal() noexcept;

// The call (if any) whose host function is running on this thread, for call_cancelled().
extern thread_local const CallControl* current_host_call;

}  // namespace mote::detail
