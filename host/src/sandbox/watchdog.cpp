// Watchdog: sleeps until the earliest deadline, then kills the calls that are past theirs.
#include "sandbox/watchdog.hpp"

#include <vector>

namespace mote::detail {

Watchdog& Watchdog::instance() {
  static Watchdog watchdog;
  return watchdog;
}

Watchdog::Watchdog() : thread_([this] { run(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

std::uint64_t Watchdog::arm(Clock::time_point deadline, std::weak_ptr<CallControl> control,
                            std::uint64_t generation) {
  bool notify = false;
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(mutex_);
    ticket = next_ticket_++;
    entries_.emplace(ticket, Entry{deadline, std::move(control), generation});
    notify = deadline < next_wake_;
    if (notify) next_wake_ = deadline;
  }
  if (notify) wake_.notify_one();
  return ticket;
}

void Watchdog::disarm(std::uint64_t ticket) {
  std::lock_guard lock(mutex_);
  entries_.erase(ticket);
}

void Watchdog::run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    const auto now = Clock::now();
    std::vector<Entry> due;
    Clock::time_point earliest = Clock::time_point::max();
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second.deadline <= now) {
        due.push_back(std::move(it->second));
        it = entries_.erase(it);
      } else {
        earliest = std::min(earliest, it->second.deadline);
        ++it;
      }
    }
    next_wake_ = earliest;
    if (!due.empty()) {
      lock.unlock();  // kill() may wait for the vCPU to leave the guest
      for (Entry& e : due) {
        if (auto control = e.control.lock()) control->kill_generation(e.generation);
      }
      lock.lock();
      continue;
    }
    if (earliest == Clock::time_point::max()) {
      wake_.wait(lock);
    } else {
      wake_.wait_until(lock, earliest);
    }
  }
}

}  // namespace mote::detail
