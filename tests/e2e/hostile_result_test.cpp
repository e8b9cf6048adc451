// End to end: the hostile_result guest's malformed messages and the errors they give.
// Hand-made RESULT, HOST_CALL, LOG and ABORT messages; each must give its documented error and
// leave the host intact.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mote/abi.h"
#include "hostile_support.hpp"

namespace mote::test {
namespace {

const std::string kGuest = "hostile_result";

// ---- Every malformed message is a GuestProtocol error that poisons -----------------------------

struct ProtocolCase {
  std::string name;
  std::string function;
  std::vector<Value> args;
  std::string excerpt;  // in the error message
};

std::vector<ProtocolCase> protocol_cases() {
  const auto v = [](std::uint32_t variant) { return std::vector<Value>{variant}; };
  return {
      // String values outside the message or the buffer.
      {"string_offset_huge",
       "string_offset_huge",
       {},
       "value bytes at offset 18446744073709551600 size 4 exceed the 48-byte message"},
      {"string_offset_wraps",
       "string_offset_wraps",
       {},
       "value bytes at offset 18446744073709551608 size 16 exceed the 48-byte message"},
      {"string_size_huge",
       "string_size_huge",
       {},
       "value bytes at offset 40 size 4294967295 exceed the 48-byte message"},
      {"string_past_message",
       "string_past_message",
       {},
       "value bytes at offset 40 size 100 exceed the 48-byte message"},
      // Headers.
      {"header_size_over_buffer",
       "header_size_over_buffer",
       {},
       "message size 65537 outside [16, 65536] (the buffer's size)"},
      {"header_size_max", "header_size_max", {}, "message size 4294967295 outside [16, 65536]"},
      {"header_size_under_header",
       "header_size_under_header",
       {},
       "message size 8 outside [16, 65536]"},
      {"header_size_under_result",
       "header_size_under_result",
       {},
       "message of kind 2 is 24 bytes, needs at least 40"},
      {"bad_magic", "bad_magic", {}, "bad message magic 0x4d4f5445"},
      {"zeroed_output", "zeroed_output", {}, "bad message magic 0x00000000"},
      {"wrong_kind_log", "wrong_kind_log", {}, "expected message kind 2, got 4"},
      {"wrong_kind_unknown", "wrong_kind_unknown", {}, "expected message kind 2, got 65535"},
      // Values that disagree with the signature or with their type's encoding rules.
      {"string_for_i32",
       "string_for_i32",
       {},
       "the guest returned a value of type string, its signature says i32"},
      {"i64_for_i32",
       "i64_for_i32",
       {},
       "the guest returned a value of type i64, its signature says i32"},
      {"void_for_string",
       "void_for_string",
       {},
       "the guest returned a value of type void, its signature says string"},
      {"invalid_type",
       "invalid_type",
       {},
       "the guest returned a value of type invalid, its signature says i32"},
      {"bool_seven", "bool_seven", {}, "bool value 7 is not 0 or 1"},
      {"i32_not_sign_extended",
       "i32_not_sign_extended",
       {},
       "i32 value 0x80000000 is not sign-extended"},
      {"i32_high_garbage", "i32_high_garbage", {}, "i32 value 0x100000001 is not sign-extended"},
      {"u32_high_bits", "u32_high_bits", {}, "32-bit value 0x100000000 has high bits set"},
      {"f32_high_bits", "f32_high_bits", {}, "32-bit value 0xffffffff3f800000 has high bits set"},
      {"void_with_content", "void_with_content", {}, "void value with content"},
      // Error statuses whose value is not a (well-formed) string.
      {"error_not_string", "error_not_string", {}, "an error result must carry a string message"},
      {"error_unknown_type",
       "error_unknown_type",
       {},
       "an error result must carry a string message"},
      {"error_string_outside",
       "error_string_outside",
       {},
       "value bytes at offset 40 size 1000 exceed the 48-byte message"},
      // HOST_CALL requests by hand (MOTE_PORT_HOST_CALL): refused before any host function runs.
      {"host_call_17_args", "bad_host_call", v(0), "host call with 17 arguments does not fit"},
      {"host_call_empty_name", "bad_host_call", v(1),
       "host call name is empty, too long or outside"},
      {"host_call_long_name", "bad_host_call", v(2),
       "host call name is empty, too long or outside"},
      {"host_call_name_outside", "bad_host_call", v(3),
       "host call name is empty, too long or outside"},
      {"host_call_void_arg", "bad_host_call", v(4), "void host-call argument"},
      {"host_call_string_outside", "bad_host_call", v(5),
       "value bytes at offset 1048576 size 5 exceed the 57-byte message"},
      {"host_call_bool_two", "bad_host_call", v(6), "bool value 2 is not 0 or 1"},
      {"host_call_i32_unextended", "bad_host_call", v(7),
       "i32 value 0xffffffff is not sign-extended"},
      {"host_call_unknown_type", "bad_host_call", v(8), "unknown value type 77"},
      {"host_call_2e32_args", "bad_host_call", v(9),
       "host call with 4294967295 arguments does not fit"},
      // LOG records by hand (MOTE_PORT_LOG).
      {"log_not_string", "bad_log", v(0), "text record without a string"},
      {"log_text_outside", "bad_log", v(1), "text record outside the message"},
      {"log_port_result", "bad_log", v(2), "expected message kind 4, got 2"},
      // ABORT records by hand (MOTE_PORT_ABORT): the protocol error replaces the abort.
      {"abort_not_string", "bad_abort", v(0), "text record without a string"},
      {"abort_bad_magic", "bad_abort", v(1), "bad message magic 0x00000000"},
  };
}

// Names the case in test listings (instead of a byte dump).
void PrintTo(const ProtocolCase& c, std::ostream* os) { *os << c.name; }

class HostileResultProtocol : public ::testing::TestWithParam<ProtocolCase> {};

TEST_P(HostileResultProtocol, IsAPoisoningProtocolErrorAndTheHostRecovers) {
  const ProtocolCase& c = GetParam();
  Sandbox s = make_sandbox(kGuest);
  auto before = s.snapshot();
  ASSERT_TRUE(before) << before.error().to_string();
  auto r = call_any(s, c.function, c.args);
  ASSERT_FALSE(r) << c.function << " was accepted";
  EXPECT_EQ(r.error().kind(), ErrorKind::GuestProtocol) << r.error().to_string();
  EXPECT_NE(r.error().message().find(c.excerpt), std::string::npos) << r.error().message();
  EXPECT_FALSE(r.error().fault());
  expect_recovers(s, *before, true, kGuest);
}

INSTANTIATE_TEST_SUITE_P(Cases, HostileResultProtocol, ::testing::ValuesIn(protocol_cases()),
                         [](const auto& case_info) { return case_info.param.name; });

// ---- What the host accepts from a hand-made message ---------------------------------------------

class HostileResult : public ::testing::Test {
 protected:
  void SetUp() override {
    auto snap = s.snapshot();
    ASSERT_TRUE(snap) << snap.error().to_string();
    before = *snap;
  }
  Sandbox s = make_sandbox(kGuest);
  SnapshotPtr before;
};

TEST_F(HostileResult, AValidHandMadeResultIsAccepted) {
  auto r = s.call<std::int32_t>("valid_handmade");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, 42);
  expect_recovers(s, before, false, kGuest);
}

TEST_F(HostileResult, AStringFillingTheWholeOutputBufferIsAccepted) {
  auto r = s.call<std::string>("string_fills_buffer");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, std::string(64 * 1024 - MOTE_RESULT_PAYLOAD_OFFSET, 'x'));
  expect_recovers(s, before, false, kGuest);
}

TEST_F(HostileResult, AnEmptyStringAtTheMessageEndIsAccepted) {
  auto r = s.call<std::string>("string_empty_at_end");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, "");
  expect_recovers(s, before, false, kGuest);
}

// The host cannot tell a forged mote status from a real one: it is the guest's error, not a
// protocol violation, and does not poison.
TEST_F(HostileResult, AForgedMoteStatusIsReportedAsTheGuestsError) {
  auto r = s.call<std::int32_t>("forged_mote_status");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::GuestError);
  EXPECT_EQ(r.error().guest_code(), MOTE_STATUS_UNKNOWN_FUNCTION);
  EXPECT_EQ(r.error().message(), "hostile!");
  expect_recovers(s, before, false, kGuest);
}

TEST_F(HostileResult, TheLargestStatusCodeIsReportedAsTheGuestsError) {
  auto r = s.call<std::int32_t>("error_max_code");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::GuestError);
  EXPECT_EQ(r.error().guest_code(), 0xFFFFFFFFu);
  EXPECT_EQ(r.error().message(), "hostile!");
  expect_recovers(s, before, false, kGuest);
}

TEST_F(HostileResult, ALogRecordLongerThanTheLimitIsCutTo4KiB) {
  std::vector<LoggedRecord> records;
  SandboxConfig config;
  config.log_sink = [&](const LogRecord& r) {
    records.push_back({r.level, std::string(r.message)});
  };
  Sandbox logged = make_sandbox(kGuest, config);
  auto r = logged.call<void>("bad_log", std::uint32_t{3});
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].level, LogLevel::Warn);
  EXPECT_EQ(records[0].message, std::string(MOTE_MAX_LOG_MESSAGE, 'L'));
  EXPECT_FALSE(logged.poisoned());
}

TEST_F(HostileResult, ALogLevelAboveErrorIsClampedToError) {
  std::vector<LoggedRecord> records;
  SandboxConfig config;
  config.log_sink = [&](const LogRecord& r) {
    records.push_back({r.level, std::string(r.message)});
  };
  Sandbox logged = make_sandbox(kGuest, config);
  auto r = logged.call<void>("bad_log", std::uint32_t{4});
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].level, LogLevel::Error);
  EXPECT_EQ(records[0].message, "loud");
}

TEST_F(HostileResult, AnAbortMessageLongerThanTheLimitIsCutTo1KiB) {
  auto r = s.call<void>("bad_abort", std::uint32_t{2});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::GuestAborted);
  EXPECT_EQ(r.error().guest_code(), 9u);
  EXPECT_EQ(r.error().message(),
            "guest aborted with code 9: " + std::string(MOTE_MAX_ABORT_MESSAGE, 'A'));
  expect_recovers(s, before, true, kGuest);
}

// A smaller output buffer moves the bound the header size is checked against.
TEST_F(HostileResult, TheHeaderSizeIsCheckedAgainstTheConfiguredOutputBuffer) {
  SandboxConfig config;
  config.output_size = 8192;
  Sandbox small = make_sandbox(kGuest, config);
  auto r = small.call<std::int32_t>("header_size_over_buffer");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::GuestProtocol);
  EXPECT_NE(r.error().message().find("message size 8193 outside [16, 8192]"), std::string::npos)
      << r.error().message();
  EXPECT_TRUE(small.poisoned());
}

// One sandbox, restored after every hostile call: the snapshot survives them all.
TEST_F(HostileResult, OneSandboxSurvivesEveryCaseInTurn) {
  for (const ProtocolCase& c : protocol_cases()) {
    auto r = call_any(s, c.function, c.args);
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().kind(), ErrorKind::GuestProtocol) << c.name;
    ASSERT_TRUE(s.poisoned()) << c.name;
    ASSERT_TRUE(s.restore(before)) << c.name;
    auto ok = s.call<std::int32_t>("ping", 1);
    ASSERT_TRUE(ok) << c.name << ": " << ok.error().to_string();
  }
}

}  // namespace
}  // namespace mote::test
