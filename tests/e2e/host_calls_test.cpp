// End to end: guest -> host calls of every type, and how host-side failures reach the guest.
#include <gtest/gtest.h>

#include <bit>
#include <limits>

#include "test_sandbox.hpp"

namespace mote::test {
namespace {

class HostCalls : public ::testing::Test {
 protected:
  Sandbox sandbox = make_sandbox();
};

TEST_F(HostCalls, EveryTypeGoesThroughTheHostAndBack) {
  auto i32 = sandbox.call<std::int32_t>("call_host_i32", std::numeric_limits<std::int32_t>::min());
  ASSERT_TRUE(i32) << i32.error().to_string();
  EXPECT_EQ(*i32, std::numeric_limits<std::int32_t>::min());
  auto u32 = sandbox.call<std::uint32_t>("call_host_u32", 0xdead'beefu);
  ASSERT_TRUE(u32) << u32.error().to_string();
  EXPECT_EQ(*u32, 0xdead'beefu);
  auto i64 = sandbox.call<std::int64_t>("call_host_i64", std::int64_t{-1234567890123});
  ASSERT_TRUE(i64) << i64.error().to_string();
  EXPECT_EQ(*i64, -1234567890123);
  auto u64 = sandbox.call<std::uint64_t>("call_host_u64", std::numeric_limits<std::uint64_t>::max());
  ASSERT_TRUE(u64) << u64.error().to_string();
  EXPECT_EQ(*u64, std::numeric_limits<std::uint64_t>::max());
  auto f32 = sandbox.call<float>("call_host_f32", -0.0f);
  ASSERT_TRUE(f32) << f32.error().to_string();
  EXPECT_EQ(std::bit_cast<std::uint32_t>(*f32), std::bit_cast<std::uint32_t>(-0.0f));
  auto f64 = sandbox.call<double>("call_host_f64", std::numeric_limits<double>::infinity());
  ASSERT_TRUE(f64) << f64.error().to_string();
  EXPECT_EQ(*f64, std::numeric_limits<double>::infinity());
  auto b = sandbox.call<bool>("call_host_bool", true);
  ASSERT_TRUE(b) << b.error().to_string();
  EXPECT_TRUE(*b);
  const std::string text(20000, 'q');
  auto s = sandbox.call<std::string>("call_host_string", text);
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(*s, text);
  auto empty = sandbox.call<std::string>("call_host_string", std::string());
  ASSERT_TRUE(empty) << empty.error().to_string();
  EXPECT_EQ(*empty, "");
  const Bytes bytes = {9, 8, 7, 0, 6};
  auto by = sandbox.call<Bytes>("call_host_bytes", bytes);
  ASSERT_TRUE(by) << by.error().to_string();
  EXPECT_EQ(*by, bytes);
  EXPECT_TRUE(sandbox.call<void>("call_host_void"));
  auto add = sandbox.call<std::int32_t>("call_host_add", 19, 23);
  ASSERT_TRUE(add) << add.error().to_string();
  EXPECT_EQ(*add, 42);
}

TEST_F(HostCalls, ManyHostCallsInARow) {
  for (std::int32_t i = 0; i < 2000; ++i) {
    auto r = sandbox.call<std::int32_t>("call_host_add", i, i);
    ASSERT_TRUE(r) << r.error().to_string();
    ASSERT_EQ(*r, 2 * i);
  }
}

TEST_F(HostCalls, UnknownHostFunctionReachesTheGuestWhichPassesItOn) {
  auto r = sandbox.call<std::int32_t>("call_host_by_name", std::string("no_such_host_function"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::GuestError);
  EXPECT_EQ(r.error().guest_code(), 4u);  // MOTE_STATUS_UNKNOWN_HOST_FUNCTION
  EXPECT_NE(r.error().message().find("no_such_host_function"), std::string::npos);
  EXPECT_FALSE(sandbox.poisoned());
  EXPECT_TRUE(sandbox.call<std::int32_t>("add", 1, 1));
}

TEST_F(HostCalls, FailingHostFunctionMessageReachesTheCaller) {
  auto r = sandbox.call<std::int32_t>("call_host_by_name", std::string("host_fail"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::GuestError);
  EXPECT_EQ(r.error().guest_code(), 5u);  // MOTE_STATUS_HOST_FUNCTION_FAILED
  EXPECT_NE(r.error().message().find("the host function refused"), std::string::npos);
  EXPECT_FALSE(sandbox.poisoned());
}

TEST_F(HostCalls, ThrowingHostFunctionIsContained) {
  auto r = sandbox.call<std::int32_t>("call_host_by_name", std::string("host_throw"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().guest_code(), 5u);
  EXPECT_NE(r.error().message().find("boom"), std::string::npos);
}

TEST_F(HostCalls, HostFunctionWithAnotherSignatureIsRefusedToTheGuest) {
  // host_add takes two i32; call_host_by_name calls it with none.
  auto r = sandbox.call<std::int32_t>("call_host_by_name", std::string("host_add"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().guest_code(), 2u);  // MOTE_STATUS_ARGUMENT_MISMATCH
  EXPECT_NE(r.error().message().find("host_add"), std::string::npos);
}

TEST_F(HostCalls, GuestLogRecordsReachTheSink) {
  std::vector<LoggedRecord> records;
  SandboxConfig config;
  config.log_level = LogLevel::Debug;
  config.log_sink = [&](const LogRecord& r) { records.push_back({r.level, std::string(r.message)}); };
  Sandbox s = make_sandbox("test_guest", config);
  ASSERT_TRUE(s.call<void>("log_message", std::uint32_t{3}, std::string("careful")));
  ASSERT_TRUE(s.call<void>("log_message", std::uint32_t{0}, std::string("too detailed")));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].level, LogLevel::Warn);
  EXPECT_EQ(records[0].message, "careful");
}

}  // namespace
}  // namespace mote::test
