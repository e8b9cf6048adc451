// CallControl: generations, the in-guest handshake, and kicking a vCPU out of KVM_RUN.
#include "sandbox/call_control.hpp"

#include <signal.h>
#include <time.h>

#include "mote/interrupt.hpp"

namespace mote::detail {

thread_local const CallControl* current_host_call = nullptr;

namespace {
void ignore_signal(int) {}
}  // namespace

int kick_signal() noexcept {
  static const int signal_number = [] {
    const int sig = SIGRTMIN;
    struct sigaction action{};
    action.sa_handler = ignore_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;  // other syscalls of the thread resume; KVM_RUN returns EINTR
    sigaction(sig, &action, nullptr);
    return sig;
  }();
  return signal_number;
}

std::uint64_t CallControl::begin_call() noexcept {
  kick_signal();  // install the handler before any kill() can send it
  thread_.store(pthread_self());
  const std::uint64_t generation = generation_.fetch_add(1) + 1;
  running_.store(true);
  return generation;
}

void CallControl::end_call() noexcept { running_.store(false); }

bool CallControl::enter_guest() noexcept {
  in_guest_.store(true);
  if (cancelled()) {
    in_guest_.store(false);
    return false;
  }
  return true;
}

void CallControl::leave_guest() noexcept { in_guest_.store(false); }

bool CallControl::kill() noexcept {
  std::lock_guard lock(mutex_);
  return kill_locked(0, true);
}

bool CallControl::kill_generation(std::uint64_t generation) noexcept {
  std::lock_guard lock(mutex_);
  if (vm_ == nullptr || !running_.load() || generation_.load() != generation) return false;
  timed_out_generation_.store(generation);
  return kill_locked(generation, false);
}

bool CallControl::kill_locked(std::uint64_t generation, bool any) noexcept {
  if (vm_ == nullptr || !running_.load()) return false;
  const std::uint64_t target = generation_.load();
  if (!any && target != generation) return false;
  cancelled_generation_.store(target);
  // Kick until the call thread is out of KVM_RUN (it may be entering it right now), or the call
  // ended. immediate_exit makes a KVM_RUN that has not yet entered the guest return at once; the
  // signal interrupts one that has.
  while (in_guest_.load() && running_.load() && generation_.load() == target) {
    vm_->set_immediate_exit(true);
    pthread_kill(thread_.load(), kick_signal());
    const timespec pause{0, 20'000};  // 20 µs
    nanosleep(&pause, nullptr);
  }
  return true;
}

void CallControl::detach() noexcept {
  std::lock_guard lock(mutex_);
  vm_ = nullptr;
}

}  // namespace mote::detail

namespace mote {

bool InterruptHandle::kill() { return control_ && control_->kill(); }

bool call_cancelled() noexcept {
  return detail::current_host_call != nullptr && detail::current_host_call->cancelled();
}

}  // namespace mote
