// End to end: heap exhaustion and panic-style failures become precise errors, and restores recover.
#include <gtest/gtest.h>

#include "test_sandbox.hpp"

namespace mote::test {
namespace {

TEST(Faults, MallocExhaustionIsReportedAndTheHeapIsReusable) {
  SandboxConfig config;
  config.heap_size = 1024 * 1024;
  Sandbox s = make_sandbox("test_guest", config);
  auto first = s.call<std::uint64_t>("alloc_until_null", std::uint32_t{4096});
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_GT(*first, 100u);   // most of the 1 MiB heap
  EXPECT_LT(*first, 257u);   // and no more than it holds
  auto again = s.call<std::uint64_t>("alloc_until_null", std::uint32_t{4096});
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *first);  // everything was freed: no leak inside the guest either
  EXPECT_FALSE(s.poisoned());
}

TEST(Faults, NewOnAnExhaustedHeapStopsTheGuestCleanly) {
  Sandbox s = make_sandbox("cxx_guest");
  auto clean = s.snapshot();
  ASSERT_TRUE(clean);
  auto r = s.call<void>("exhaust_heap_with_new");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::GuestAborted);
  EXPECT_EQ(r.error().guest_code(), 6u);  // MOTE_STATUS_OUT_OF_MEMORY
  EXPECT_TRUE(s.poisoned());
  ASSERT_TRUE(s.restore(*clean));
  auto after = s.call<std::int64_t>("multiply", std::int64_t{6}, std::int64_t{7});
  ASSERT_TRUE(after) << after.error().to_string();
  EXPECT_EQ(*after, 42);
}

TEST(Faults, PanicStyleFailureIsAnAbortWithItsMessage) {
  Sandbox s = make_sandbox("cxx_guest");
  auto r = s.call<std::int32_t>("panic");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::GuestAborted);
  EXPECT_EQ(r.error().guest_code(), 255u);  // MOTE_ABORT_RUNTIME_ERROR
  EXPECT_NE(r.error().message().find("division by zero"), std::string::npos) << r.error().message();
  EXPECT_TRUE(s.poisoned());
}

}  // namespace
}  // namespace mote::test
