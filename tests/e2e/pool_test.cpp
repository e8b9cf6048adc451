// End to end: SandboxPool leases restored sandboxes to many threads, within bounds, and cleans up.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "mote/pool.hpp"
#include "test_sandbox.hpp"

namespace mote::test {
namespace {

using namespace std::chrono_literals;

// A snapshot of an initialised test_guest sandbox.
SnapshotPtr initialised_snapshot() {
  Sandbox s = make_sandbox();
  auto snap = s.snapshot();
  if (!snap) {
    ADD_FAILURE() << snap.error().to_string();
    std::abort();
  }
  return *snap;
}

SandboxPool make_pool(PoolOptions options, SnapshotPtr snapshot = initialised_snapshot()) {
  auto pool = SandboxPool::create(std::move(snapshot), test_host_functions(), {}, options);
  if (!pool) {
    ADD_FAILURE() << pool.error().to_string();
    std::abort();
  }
  return std::move(pool).value();
}

template <class T>
void raise_to(std::atomic<T>& most, T value) {
  for (T m = most.load(); value > m && !most.compare_exchange_weak(m, value);) {
  }
}

TEST(Pool, TenThousandLeasesOnFourThreadsStartRestoredAndStayWithinMax) {
  constexpr int kThreads = 4, kCycles = 2500;
  constexpr std::size_t kMax = 4;
  SandboxPool pool = make_pool({.initial_size = 1, .max_size = kMax});
  std::atomic<int> failures{0}, leased{0}, most_leased{0};
  std::atomic<std::size_t> most_live{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCycles; ++i) {
        auto lease = pool.acquire();
        if (!lease || !*lease) {
          ++failures;
          continue;
        }
        raise_to(most_leased, ++leased);
        raise_to(most_live, pool.stats().live);
        // 1 every time: each lease starts restored.
        auto count = (*lease)->call<std::int64_t>("counter_increment");
        auto sum = (*lease)->call<std::int32_t>("add", t, i);
        if (!count || *count != 1 || !sum || *sum != t + i) ++failures;
        --leased;
        if (!lease->release()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(most_leased.load(), static_cast<int>(kMax));
  EXPECT_LE(most_live.load(), kMax);
  const PoolStats stats = pool.stats();
  EXPECT_LE(stats.created, kMax);  // sandboxes are reused, not recreated
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(stats.live, stats.idle);  // every lease came back
  EXPECT_LE(stats.live, kMax);
}

TEST(Pool, APoisonedSandboxComesBackClean) {
  SandboxPool pool = make_pool({.max_size = 1});
  {
    auto lease = pool.acquire();
    ASSERT_TRUE(lease) << lease.error().to_string();
    ASSERT_TRUE((*lease)->call<std::int64_t>("counter_increment"));
    auto fault = (*lease)->call("trigger_ud");
    ASSERT_FALSE(fault);
    EXPECT_EQ(fault.error().kind(), ErrorKind::GuestFault);
    EXPECT_TRUE((*lease)->poisoned());
  }  // the lease ends here: restored, poisoning cleared, back in the pool
  auto lease = pool.acquire();
  ASSERT_TRUE(lease) << lease.error().to_string();
  EXPECT_FALSE((*lease)->poisoned());
  auto count = (*lease)->call<std::int64_t>("counter_increment");
  ASSERT_TRUE(count) << count.error().to_string();
  EXPECT_EQ(*count, 1);
  auto sum = (*lease)->call<std::int32_t>("add", 2, 3);
  ASSERT_TRUE(sum) << sum.error().to_string();
  EXPECT_EQ(*sum, 5);
  const PoolStats stats = pool.stats();
  EXPECT_EQ(stats.created, 1u);  // the same sandbox, restored rather than replaced
  EXPECT_EQ(stats.dropped, 0u);
}

TEST(Pool, AtMaxTryAcquireIsEmptyAcquireForTimesOutAndAcquireWaits) {
  SandboxPool pool = make_pool({.max_size = 2});
  auto a = pool.acquire();
  auto b = pool.acquire();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(pool.stats().live, 2u);

  auto none = pool.try_acquire();
  ASSERT_TRUE(none) << none.error().to_string();
  EXPECT_FALSE(none->has_value());
  const auto start = std::chrono::steady_clock::now();
  auto late = pool.acquire_for(20ms);
  ASSERT_TRUE(late) << late.error().to_string();
  EXPECT_FALSE(late->has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);

  std::atomic<bool> got{false};
  std::thread waiter([&] {
    auto c = pool.acquire();  // blocks until `a` is released
    got = c.has_value() && static_cast<bool>(*c);
    auto count = (*c)->call<std::int64_t>("counter_increment");
    EXPECT_TRUE(count && *count == 1);
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(got.load());
  ASSERT_TRUE((*a)->call<std::int64_t>("counter_increment"));
  ASSERT_TRUE(a->release());
  EXPECT_FALSE(static_cast<bool>(*a));
  waiter.join();
  EXPECT_TRUE(got.load());
  EXPECT_EQ(pool.stats().created, 2u);
  EXPECT_LE(pool.stats().live, 2u);
}

TEST(Pool, DiscardFreesTheSlotForAFreshSandbox) {
  SandboxPool pool = make_pool({.max_size = 1});
  auto a = pool.acquire();
  ASSERT_TRUE(a);
  a->discard();
  EXPECT_FALSE(static_cast<bool>(*a));
  EXPECT_EQ(pool.stats().live, 0u);
  auto b = pool.try_acquire();
  ASSERT_TRUE(b && b->has_value());
  auto count = (**b)->call<std::int64_t>("counter_increment");
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 1);
  EXPECT_EQ(pool.stats().created, 2u);
  EXPECT_EQ(pool.stats().dropped, 1u);
}

TEST(Pool, MovingALeaseMovesOwnership) {
  SandboxPool pool = make_pool({.max_size = 1});
  auto a = pool.acquire();
  ASSERT_TRUE(a);
  PooledSandbox moved = std::move(*a);
  EXPECT_FALSE(static_cast<bool>(*a));
  ASSERT_TRUE(static_cast<bool>(moved));
  ASSERT_TRUE(moved->call<std::int64_t>("counter_increment"));
  a->release().value();  // an empty lease: no effect
  EXPECT_EQ(pool.stats().idle, 0u);
  moved = PooledSandbox();  // ends the lease
  EXPECT_EQ(pool.stats().idle, 1u);
}

TEST(Pool, DestroyingThePoolWithIdleSandboxesIsClean) {
  SnapshotPtr snapshot = initialised_snapshot();
  {
    SandboxPool pool = make_pool({.initial_size = 3, .max_size = 3}, snapshot);
    EXPECT_EQ(pool.stats().idle, 3u);
  }
  EXPECT_EQ(snapshot.use_count(), 1);  // every sandbox (each holds the snapshot) is gone
}

TEST(Pool, ALeaseMayOutliveItsPool) {
  SnapshotPtr snapshot = initialised_snapshot();
  PooledSandbox survivor;
  {
    SandboxPool pool = make_pool({.initial_size = 2, .max_size = 2}, snapshot);
    auto lease = pool.acquire();
    ASSERT_TRUE(lease);
    survivor = std::move(*lease);
  }
  ASSERT_TRUE(static_cast<bool>(survivor));
  auto count = survivor->call<std::int64_t>("counter_increment");  // still a working sandbox
  ASSERT_TRUE(count) << count.error().to_string();
  EXPECT_EQ(*count, 1);
  EXPECT_TRUE(survivor.release());  // destroyed, not restored: no pool takes it
  EXPECT_EQ(snapshot.use_count(), 1);
}

TEST(Pool, APreInitialisationSnapshotIsInitialisedOnce) {
  auto binary = guest_bytes("test_guest");
  auto pre = Snapshot::from_binary(binary);
  ASSERT_TRUE(pre) << pre.error().to_string();
  SandboxPool pool = make_pool({.max_size = 2}, *pre);
  EXPECT_EQ(pool.snapshot()->next_action(), NextAction::Call);
  EXPECT_EQ(pool.stats().created, 1u);  // the one that was initialised
  for (int i = 0; i < 3; ++i) {
    auto lease = pool.acquire();
    ASSERT_TRUE(lease) << lease.error().to_string();
    auto count = (*lease)->call<std::int64_t>("counter_increment");
    ASSERT_TRUE(count) << count.error().to_string();
    EXPECT_EQ(*count, 1);
  }
  EXPECT_EQ(pool.stats().created, 1u);
}

TEST(Pool, RefusesBadOptionsAndReportsCreationErrors) {
  SnapshotPtr snapshot = initialised_snapshot();
  auto no_snapshot = SandboxPool::create(nullptr);
  ASSERT_FALSE(no_snapshot);
  EXPECT_EQ(no_snapshot.error().kind(), ErrorKind::InvalidSnapshot);
  auto zero = SandboxPool::create(snapshot, {}, {}, {.max_size = 0});
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().kind(), ErrorKind::InvalidConfig);
  auto too_many = SandboxPool::create(snapshot, {}, {}, {.initial_size = 3, .max_size = 2});
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().kind(), ErrorKind::InvalidConfig);

  auto failing = Snapshot::from_binary(guest_bytes("init_fail_guest"));
  ASSERT_TRUE(failing) << failing.error().to_string();
  auto pool = SandboxPool::create(*failing, {}, {.log_sink = [](const LogRecord&) {}});
  ASSERT_FALSE(pool);
  EXPECT_EQ(pool.error().kind(), ErrorKind::GuestError);
}

}  // namespace
}  // namespace mote::test
