// End to end: killing calls from other threads, time limits, and every race around them.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "test_sandbox.hpp"

namespace mote::test {
namespace {

using namespace std::chrono_literals;

// Host functions plus host_slow: sleeps up to 300 ms in 5 ms steps, stopping early once the
// call is cancelled; returns how many steps it slept.
HostFunctions with_slow_host(std::atomic<bool>* saw_cancel) {
  HostFunctions h = test_host_functions();
  h.add("host_slow", [saw_cancel]() -> std::int32_t {
    for (int step = 0; step < 60; ++step) {
      if (call_cancelled()) {
        saw_cancel->store(true);
        return step;
      }
      std::this_thread::sleep_for(5ms);
    }
    return 60;
  });
  return h;
}

TEST(Cancel, KillStopsATightLoopAndRestoreRecovers) {
  Sandbox s = make_sandbox();
  auto snap = s.snapshot();
  ASSERT_TRUE(snap);
  InterruptHandle handle = s.interrupt_handle();
  std::thread killer([&] {
    std::this_thread::sleep_for(50ms);
    EXPECT_TRUE(handle.kill());
  });
  auto r = s.call<void>("spin");
  killer.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::Cancelled);
  EXPECT_NE(r.error().message().find("killed"), std::string::npos);
  EXPECT_TRUE(s.poisoned());
  ASSERT_TRUE(s.restore(*snap));
  auto after = s.call<std::int32_t>("add", 1, 2);
  ASSERT_TRUE(after) << after.error().to_string();
  EXPECT_EQ(*after, 3);
}

TEST(Cancel, KillWithNothingRunningDoesNothing) {
  Sandbox s = make_sandbox();
  InterruptHandle handle = s.interrupt_handle();
  EXPECT_FALSE(handle.kill());  // before any call
  ASSERT_TRUE(s.call<std::int32_t>("add", 1, 2));
  EXPECT_FALSE(handle.kill());  // after a call ended
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(s.call<std::int32_t>("add", i, 1));
  EXPECT_FALSE(s.poisoned());
}

TEST(Cancel, KillDuringAHostFunctionTakesEffectWhenItReturns) {
  std::atomic<bool> saw_cancel{false};
  Sandbox s = make_sandbox("test_guest", {}, with_slow_host(&saw_cancel));
  InterruptHandle handle = s.interrupt_handle();
  std::thread killer([&] {
    std::this_thread::sleep_for(40ms);
    EXPECT_TRUE(handle.kill());
  });
  auto r = s.call<std::int32_t>("call_host_slow");
  killer.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::Cancelled);
  EXPECT_TRUE(saw_cancel.load());  // the host function saw call_cancelled() and returned early
}

TEST(Cancel, CallCancelledIsFalseOutsideAKilledCall) {
  std::atomic<bool> saw_cancel{false};
  Sandbox s = make_sandbox("test_guest", {}, with_slow_host(&saw_cancel));
  EXPECT_FALSE(call_cancelled());
  auto r = s.call<std::int32_t>("call_host_slow");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, 60);
  EXPECT_FALSE(saw_cancel.load());
}

TEST(Cancel, TimeLimitStopsAnInfiniteLoopAndSparesQuickCalls) {
  SandboxConfig config;
  config.call_timeout = 200ms;
  Sandbox s = make_sandbox("test_guest", config);
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(s.call<std::int32_t>("add", i, 1)) << i;
  const auto start = std::chrono::steady_clock::now();
  auto r = s.call<void>("spin");
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::Cancelled);
  EXPECT_NE(r.error().message().find("time limit of 200 ms"), std::string::npos) << r.error().message();
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 10s);  // stopped, not run to completion (it never completes)
}

TEST(Cancel, KillNeverReachesAnotherSandbox) {
  SandboxConfig limited;
  limited.call_timeout = 300ms;
  Sandbox a = make_sandbox();
  Sandbox b = make_sandbox("test_guest", limited);
  InterruptHandle a_handle = a.interrupt_handle();
  std::thread spinner([&] {
    auto r = b.call<void>("spin");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("time limit"), std::string::npos);  // not a's kill
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(a_handle.kill());
  spinner.join();
  EXPECT_FALSE(a.poisoned());
}

TEST(Cancel, HandleOutlivesItsSandbox) {
  std::optional<InterruptHandle> handle;
  {
    Sandbox s = make_sandbox();
    handle.emplace(s.interrupt_handle());
  }
  EXPECT_FALSE(handle->kill());
}

TEST(Cancel, RacingKillsNeverHangOrHitTheWrongCall) {
  Sandbox s = make_sandbox();
  auto snap = s.snapshot();
  ASSERT_TRUE(snap);
  InterruptHandle handle = s.interrupt_handle();
  std::atomic<bool> done{false};
  std::thread killer([&] {
    std::mt19937 rng(7);
    while (!done.load()) {
      handle.kill();
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 300));
    }
  });
  int ok = 0, cancelled = 0;
  for (std::int32_t i = 0; i < 3000; ++i) {
    auto r = s.call<std::int32_t>("add", i, 1);
    if (r) {
      ASSERT_EQ(*r, i + 1);
      ++ok;
    } else {
      ASSERT_EQ(r.error().kind(), ErrorKind::Cancelled) << r.error().to_string();
      ++cancelled;
      ASSERT_TRUE(s.restore(*snap));
    }
  }
  done.store(true);
  killer.join();
  EXPECT_EQ(ok + cancelled, 3000);
  EXPECT_GT(ok, 0);
  // After the storm, calls are unaffected.
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(s.call<std::int32_t>("add", i, 1));
}

TEST(Cancel, KillWhileTheSandboxIsBeingDestroyed) {
  for (int round = 0; round < 20; ++round) {
    std::optional<Sandbox> s(make_sandbox());
    InterruptHandle handle = s->interrupt_handle();
    std::atomic<bool> stop{false};
    std::thread killer([&] {
      while (!stop.load()) handle.kill();
    });
    ASSERT_TRUE(s->call<std::int32_t>("add", 1, 1) || true);
    s.reset();  // destroyed while kill() runs in a loop
    stop.store(true);
    killer.join();
    EXPECT_FALSE(handle.kill());
  }
}

}  // namespace
}  // namespace mote::test
