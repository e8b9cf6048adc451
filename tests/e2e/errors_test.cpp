// End to end: every typed error a call can produce, and that faults never take the host down.
#include <gtest/gtest.h>

#include "test_sandbox.hpp"

namespace mote::test {
namespace {

class Errors : public ::testing::Test {
 protected:
  Sandbox sandbox = make_sandbox();
};

TEST_F(Errors, UnknownGuestFunction) {
  auto r = sandbox.call<std::int32_t>("does_not_exist", 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::UnknownFunction);
  EXPECT_NE(r.error().message().find("does_not_exist"), std::string::npos);
  EXPECT_FALSE(sandbox.poisoned());
}

TEST_F(Errors, WrongArity) {
  auto r = sandbox.call<std::int32_t>("add", 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::ArgumentCount);
  EXPECT_NE(r.error().message().find("add(i32, i32) -> i32"), std::string::npos);
}

TEST_F(Errors, WrongArgumentType) {
  auto r = sandbox.call<std::int32_t>("add", 1, std::string("two"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::ArgumentType);
  EXPECT_NE(r.error().message().find("argument 2"), std::string::npos);
  auto u = sandbox.call<std::int32_t>("add", 1, std::uint32_t{2});
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().kind(), ErrorKind::ArgumentType);
}

TEST_F(Errors, WrongExpectedReturnType) {
  auto r = sandbox.call<std::string>("add", 1, 2);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::ReturnType);
}

TEST_F(Errors, GuestReturnedErrorKeepsCodeAndMessageAndDoesNotPoison) {
  auto r = sandbox.call<std::int32_t>("fail_with", std::uint32_t{1234}, std::string("bad input"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::GuestError);
  EXPECT_EQ(r.error().guest_code(), 1234u);
  EXPECT_EQ(r.error().message(), "bad input");
  EXPECT_FALSE(sandbox.poisoned());
  EXPECT_TRUE(sandbox.call<std::int32_t>("add", 1, 2));
}

TEST_F(Errors, InputLargerThanTheBufferIsRefusedBeforeTheGuestRuns) {
  SandboxConfig config;
  config.input_size = 4096;
  Sandbox small = make_sandbox("test_guest", config);
  auto r = small.call<std::string>("echo_string", std::string(5000, 'a'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::InputTooLarge);
  EXPECT_FALSE(small.poisoned());
  auto ok = small.call<std::string>("echo_string", std::string(3000, 'a'));
  ASSERT_TRUE(ok) << ok.error().to_string();
}

TEST_F(Errors, ResultLargerThanTheOutputBufferIsAGuestError) {
  SandboxConfig config;
  config.output_size = 4096;
  Sandbox small = make_sandbox("test_guest", config);
  auto r = small.call<Bytes>("make_bytes", std::uint32_t{10000});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::GuestError);
  EXPECT_EQ(r.error().guest_code(), 7u);  // MOTE_STATUS_BUFFER_TOO_SMALL
}

TEST_F(Errors, InvalidInstructionIsReportedWithVectorAndRip) {
  auto r = sandbox.call<void>("trigger_ud");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::GuestFault);
  ASSERT_TRUE(r.error().fault());
  EXPECT_EQ(r.error().fault()->vector, 6);
  EXPECT_NE(r.error().fault()->rip, 0u);
  EXPECT_NE(r.error().message().find("#UD"), std::string::npos);
  EXPECT_TRUE(sandbox.poisoned());
  auto after = sandbox.call<std::int32_t>("add", 1, 2);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().kind(), ErrorKind::Poisoned);
}

TEST_F(Errors, PageFaultOnUnmappedAddressReportsTheAddress) {
  const std::uint64_t address = 0x7000'0000'0000;
  auto r = sandbox.call<std::uint64_t>("trigger_page_fault", address);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::GuestFault);
  ASSERT_TRUE(r.error().fault());
  EXPECT_EQ(r.error().fault()->vector, 14);
  EXPECT_EQ(r.error().fault()->address, address);
  EXPECT_NE(r.error().message().find("read of address 0x700000000000"), std::string::npos)
      << r.error().message();
}

TEST_F(Errors, NullPointerReadIsAPageFault) {
  auto r = sandbox.call<std::uint64_t>("trigger_page_fault", std::uint64_t{0});
  ASSERT_FALSE(r);
  ASSERT_TRUE(r.error().fault());
  EXPECT_EQ(r.error().fault()->vector, 14);
  EXPECT_EQ(r.error().fault()->address, 0u);
}

TEST_F(Errors, AbortCarriesCodeAndMessage) {
  auto r = sandbox.call<void>("abort_with", std::uint32_t{77}, std::string("cannot continue"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::GuestAborted);
  EXPECT_EQ(r.error().guest_code(), 77u);
  EXPECT_NE(r.error().message().find("cannot continue"), std::string::npos);
  EXPECT_TRUE(sandbox.poisoned());
}

TEST_F(Errors, InitFailureIsReported) {
  auto s = Sandbox::create_from_file(guest_path("init_fail_guest"));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind(), ErrorKind::GuestError);
  EXPECT_NE(s.error().message().find("initialisation failed"), std::string::npos);
}

TEST_F(Errors, InvalidConfigIsRefused) {
  SandboxConfig config;
  config.heap_size = 1000;
  auto s = Sandbox::create_from_file(guest_path("test_guest"), {}, config);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind(), ErrorKind::InvalidConfig);
  EXPECT_NE(s.error().message().find("heap_size"), std::string::npos);
}

}  // namespace
}  // namespace mote::test
