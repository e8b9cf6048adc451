// End to end: time limits and kill() stop every kind of endless call of the hostile_loop guest.
// The guest loops bare, with pause, with endless host calls or log records, or after a host call
// that outlasts the limit.
// (cancel_test.cpp covers the races of kill() itself on test_guest's `spin`.)
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "test_sandbox.hpp"

namespace mote::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kGuest = "hostile_loop";

// host_noop returns its argument; host_block sleeps 300 ms in 5 ms steps, unless the call is
// cancelled first (then it returns at once), and records whether it saw the cancellation.
HostFunctions loop_host(std::atomic<bool>* saw_cancel, bool honour_cancel = true) {
  HostFunctions h;
  h.add("host_noop", [](std::int32_t v) { return v; });
  h.add("host_block", [saw_cancel, honour_cancel] {
    for (int step = 0; step < 60; ++step) {
      if (call_cancelled()) {
        saw_cancel->store(true);
        if (honour_cancel) return;
      }
      std::this_thread::sleep_for(5ms);
    }
  });
  return h;
}

SandboxConfig limited(std::chrono::milliseconds limit) {
  SandboxConfig config;
  config.call_timeout = limit;
  config.log_sink = [](const LogRecord&) {};  // log_forever would flood stderr
  return config;
}

// After a cancelled call: poisoned; a restore to `before` makes the sandbox work again (and
// quick calls keep working under the same limit); a new sandbox in this process works.
void expect_recovers(Sandbox& s, const SnapshotPtr& before) {
  EXPECT_TRUE(s.poisoned());
  auto next = s.call<std::int32_t>("ping", 1);
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().kind(), ErrorKind::Poisoned);
  auto restored = s.restore(before);
  ASSERT_TRUE(restored) << restored.error().to_string();
  EXPECT_FALSE(s.poisoned());
  for (std::int32_t i = 0; i < 100; ++i) {
    auto after = s.call<std::int32_t>("ping", i);
    ASSERT_TRUE(after) << after.error().to_string();
    EXPECT_EQ(*after, i + 1);
  }
  Sandbox fresh = make_sandbox(kGuest, limited(200ms));
  auto ok = fresh.call<std::int32_t>("ping", 6);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(*ok, 7);
}

// ---- The time limit stops every kind of endless call --------------------------------------------

class HostileLoopTimeout : public ::testing::TestWithParam<std::string> {};

TEST_P(HostileLoopTimeout, StopsTheCallAtItsLimitAndTheHostRecovers) {
  std::atomic<bool> saw_cancel{false};
  Sandbox s = make_sandbox(kGuest, limited(200ms), loop_host(&saw_cancel));
  auto before = s.snapshot();
  ASSERT_TRUE(before) << before.error().to_string();
  const auto start = Clock::now();
  auto r = s.call<void>(GetParam());
  const auto took = Clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::Cancelled) << r.error().to_string();
  EXPECT_EQ(r.error().message(), "the call exceeded its time limit of 200 ms");
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 5s) << "stopped "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                      << " ms after it started";
  expect_recovers(s, *before);
}

INSTANTIATE_TEST_SUITE_P(Cases, HostileLoopTimeout,
                         ::testing::Values("spin", "spin_pause", "host_call_forever", "log_forever",
                                           "host_call_then_spin"),
                         [](const auto& case_info) { return case_info.param; });

// ---- kill() from another thread stops every kind of endless call --------------------------------

class HostileLoopKill : public ::testing::TestWithParam<std::string> {};

TEST_P(HostileLoopKill, StopsTheCallAndTheHostRecovers) {
  std::atomic<bool> saw_cancel{false};
  Sandbox s = make_sandbox(kGuest, limited(0ms), loop_host(&saw_cancel));
  auto before = s.snapshot();
  ASSERT_TRUE(before) << before.error().to_string();
  InterruptHandle handle = s.interrupt_handle();
  std::thread killer([&] {
    std::this_thread::sleep_for(100ms);
    EXPECT_TRUE(handle.kill());
  });
  auto r = s.call<void>(GetParam());
  killer.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::Cancelled) << r.error().to_string();
  EXPECT_EQ(r.error().message(), "the call was killed through its interrupt handle");
  expect_recovers(s, *before);
}

INSTANTIATE_TEST_SUITE_P(Cases, HostileLoopKill,
                         ::testing::Values("spin", "spin_pause", "host_call_forever", "log_forever",
                                           "host_call_then_spin"),
                         [](const auto& case_info) { return case_info.param; });

// ---- Details ------------------------------------------------------------------------------------

// A host function that ignores call_cancelled() delays the cancellation until it returns, and
// the guest's loop after it is still stopped.
TEST(HostileLoop, AHostFunctionIgnoringTheCancellationOnlyDelaysIt) {
  std::atomic<bool> saw_cancel{false};
  Sandbox s = make_sandbox(kGuest, limited(50ms), loop_host(&saw_cancel, false));
  const auto start = Clock::now();
  auto r = s.call<void>("host_call_then_spin");
  const auto took = Clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::Cancelled) << r.error().to_string();
  EXPECT_TRUE(saw_cancel.load());
  EXPECT_GE(took, 300ms);  // host_block slept its whole 300 ms
  EXPECT_LT(took, 5s);
}

// The limit is per call: many calls that each stay well under it all succeed, however long they
// take together.
TEST(HostileLoop, TheLimitIsPerCallNotCumulative) {
  Sandbox s = make_sandbox(kGuest, limited(1000ms));
  // Calibrate: how many iterations of spin_for take ~50 ms here.
  std::uint64_t n = 1'000'000;
  for (;;) {
    const auto start = Clock::now();
    ASSERT_TRUE(s.call<std::uint64_t>("spin_for", n));
    if (Clock::now() - start >= 50ms || n >= (1ull << 40)) break;
    n *= 2;
  }
  // Call until the calls together have run well past one call's limit; none may be stopped.
  const auto start = Clock::now();
  int calls = 0;
  while (Clock::now() - start < 1500ms && calls < 10'000) {
    auto r = s.call<std::uint64_t>("spin_for", n);
    ASSERT_TRUE(r) << "call " << calls << ": " << r.error().to_string();
    EXPECT_EQ(*r, n);
    ++calls;
  }
  EXPECT_GT(Clock::now() - start, 1000ms);  // together, longer than one call's limit
  EXPECT_GT(calls, 1);
  EXPECT_FALSE(s.poisoned());
}

// A sandbox stopped by its limit does not disturb sandboxes looping without one: each is stopped
// only by its own limit or kill.
TEST(HostileLoop, EachSandboxIsStoppedByItsOwnLimit) {
  std::atomic<bool> saw_cancel{false};
  Sandbox fast = make_sandbox(kGuest, limited(100ms), loop_host(&saw_cancel));
  Sandbox slow = make_sandbox(kGuest, limited(600ms), loop_host(&saw_cancel));
  Clock::duration fast_took{}, slow_took{};
  std::thread t([&] {
    const auto start = Clock::now();
    auto r = slow.call<void>("spin");
    slow_took = Clock::now() - start;
    EXPECT_FALSE(r);
  });
  const auto start = Clock::now();
  auto r = fast.call<void>("host_call_forever");
  fast_took = Clock::now() - start;
  t.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::Cancelled);
  EXPECT_GE(fast_took, 100ms);
  EXPECT_LT(fast_took, 600ms);
  EXPECT_GE(slow_took, 600ms);
}

}  // namespace
}  // namespace mote::test
