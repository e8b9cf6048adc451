// Watchdog: one process-wide thread that kills calls which outlive their time limit.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "sandbox/call_control.hpp"

namespace mote::detail {

class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;

  static Watchdog& instance();

  // Kills call `generation` of `control` at `deadline` unless disarmed first; returns a ticket.
  std::uint64_t arm(Clock::time_point deadline, std::weak_ptr<CallControl> control,
                    std::uint64_t generation);
  void disarm(std::uint64_t ticket);

  ~Watchdog();

 private:
  Watchdog();
  void run();

  struct Entry {
    Clock::time_point deadline;
    std::weak_ptr<CallControl> control;
    std::uint64_t generation;
  };
  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::uint64_t, Entry> entries_;  // by ticket
  std::uint64_t next_ticket_ = 1;
  // When the thread will look next; arm() wakes it only for an earlier deadline, so a stream of
  // calls with the same limit costs no wake-ups.
  Clock::time_point next_wake_ = Clock::time_point::max();
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace mote::detail
