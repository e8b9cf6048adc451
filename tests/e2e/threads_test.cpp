// End to end: several sandboxes in one process, on several threads at once.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "test_sandbox.hpp"

namespace mote::test {
namespace {

TEST(Threads, SeveralSandboxesInOneThreadKeepSeparateState) {
  Sandbox a = make_sandbox();
  Sandbox b = make_sandbox();
  ASSERT_TRUE(a.call<std::int64_t>("counter_increment"));
  ASSERT_TRUE(a.call<std::int64_t>("counter_increment"));
  auto b1 = b.call<std::int64_t>("counter_increment");
  auto a3 = a.call<std::int64_t>("counter_increment");
  ASSERT_TRUE(b1 && a3);
  EXPECT_EQ(*b1, 1);
  EXPECT_EQ(*a3, 3);
}

TEST(Threads, FourThreadsEachWithTheirOwnSandboxes) {
  constexpr int kThreads = 4, kCalls = 500;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto s = Sandbox::create_from_file(guest_path("test_guest"), test_host_functions());
      if (!s) {
        ++failures;
        return;
      }
      for (int i = 0; i < kCalls; ++i) {
        auto r = s->call<std::int32_t>("call_host_add", t, i);
        if (!r || *r != t + i) ++failures;
      }
      auto count = s->call<std::int64_t>("counter_increment");
      if (!count || *count != 1) ++failures;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(Threads, ASandboxCanMoveToAnotherThread) {
  Sandbox s = make_sandbox();
  ASSERT_TRUE(s.call<std::int64_t>("counter_increment"));
  std::thread([&] {
    auto r = s.call<std::int64_t>("counter_increment");
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(*r, 2);
  }).join();
}

}  // namespace
}  // namespace mote::test
