// Unit tests of abi.h: valid C++ and C11 with one layout in both, and the constants the host uses.
#include "mote/abi.h"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <variant>

#include "mote/config.hpp"
#include "mote/value.hpp"

// Defined by abi_c_check.c, which includes abi.h as C11.
extern "C" const std::uint64_t mote_abi_c_layout[];
extern "C" const std::size_t mote_abi_c_layout_count;

namespace mote {
namespace {

TEST(Abi, CAndCxxSeeTheSameLayout) {
  const std::array<std::uint64_t, 12> cxx = {
      sizeof(mote_boot_info),
      sizeof(mote_message_header),
      sizeof(mote_value),
      sizeof(mote_call),
      sizeof(mote_result),
      sizeof(mote_function_table),
      sizeof(mote_function_entry),
      MOTE_CALL_ARGS_OFFSET,
      MOTE_RESULT_PAYLOAD_OFFSET,
      offsetof(mote_result, value),
      offsetof(mote_function_entry, param_types),
      MOTE_ABI_VERSION,
  };
  ASSERT_EQ(mote_abi_c_layout_count, cxx.size());
  for (std::size_t i = 0; i < cxx.size(); ++i) {
    EXPECT_EQ(mote_abi_c_layout[i], cxx[i]) << "entry " << i;
  }
}

TEST(Abi, MessageOffsetsUsedByTheEncoder) {
  // The encoder writes argument records right after header + mote_call, 16 bytes each, and the
  // result payload right after header + mote_result.
  EXPECT_EQ(sizeof(mote_message_header), 16u);
  EXPECT_EQ(sizeof(mote_call), 16u);
  EXPECT_EQ(sizeof(mote_value), 16u);
  EXPECT_EQ(sizeof(mote_result), 24u);
  EXPECT_EQ(sizeof(mote_function_table), 8u);
  EXPECT_EQ(sizeof(mote_function_entry), 32u);
  EXPECT_EQ(MOTE_CALL_ARGS_OFFSET, 32u);
  EXPECT_EQ(MOTE_RESULT_PAYLOAD_OFFSET, 40u);
  EXPECT_EQ(offsetof(mote_result, value), 8u);
  // Every record boundary is 8-byte aligned, so 64-bit fields are naturally aligned in the buffer.
  EXPECT_EQ(MOTE_CALL_ARGS_OFFSET % 8, 0u);
  EXPECT_EQ(MOTE_RESULT_PAYLOAD_OFFSET % 8, 0u);
  EXPECT_EQ(sizeof(mote_function_entry) % 8, 0u);
  // param_types holds exactly MOTE_MAX_PARAMS entries.
  EXPECT_EQ(sizeof(mote_function_entry::param_types), MOTE_MAX_PARAMS);
}

TEST(Abi, ValueTypesEqualTheAbiTags) {
  EXPECT_EQ(static_cast<unsigned>(ValueType::Void), MOTE_TYPE_VOID);
  EXPECT_EQ(static_cast<unsigned>(ValueType::I32), MOTE_TYPE_I32);
  EXPECT_EQ(static_cast<unsigned>(ValueType::U32), MOTE_TYPE_U32);
  EXPECT_EQ(static_cast<unsigned>(ValueType::I64), MOTE_TYPE_I64);
  EXPECT_EQ(static_cast<unsigned>(ValueType::U64), MOTE_TYPE_U64);
  EXPECT_EQ(static_cast<unsigned>(ValueType::F32), MOTE_TYPE_F32);
  EXPECT_EQ(static_cast<unsigned>(ValueType::F64), MOTE_TYPE_F64);
  EXPECT_EQ(static_cast<unsigned>(ValueType::Bool), MOTE_TYPE_BOOL);
  EXPECT_EQ(static_cast<unsigned>(ValueType::String), MOTE_TYPE_STRING);
  EXPECT_EQ(static_cast<unsigned>(ValueType::Bytes), MOTE_TYPE_BYTES);
  // Value's alternatives are in tag order (type_of relies on it): one per type, void first.
  EXPECT_EQ(std::variant_size_v<Value>, std::size_t{MOTE_TYPE_COUNT});
}

TEST(Abi, LogLevelsEqualTheAbiLevels) {
  EXPECT_EQ(static_cast<unsigned>(LogLevel::Trace), MOTE_LOG_TRACE);
  EXPECT_EQ(static_cast<unsigned>(LogLevel::Debug), MOTE_LOG_DEBUG);
  EXPECT_EQ(static_cast<unsigned>(LogLevel::Info), MOTE_LOG_INFO);
  EXPECT_EQ(static_cast<unsigned>(LogLevel::Warn), MOTE_LOG_WARN);
  EXPECT_EQ(static_cast<unsigned>(LogLevel::Error), MOTE_LOG_ERROR);
  EXPECT_EQ(static_cast<unsigned>(LogLevel::Off), MOTE_LOG_OFF);
}

TEST(Abi, PortsAreDistinctAndBelowTheBitmapLimit) {
  const std::set<unsigned> ports = {MOTE_PORT_RETURN, MOTE_PORT_HOST_CALL, MOTE_PORT_LOG,
                                    MOTE_PORT_ABORT, MOTE_PORT_EXCEPTION};
  EXPECT_EQ(ports.size(), 5u);
  // The host's TSS I/O bitmap and its port table cover ports 0..0x3f; every ABI port is inside.
  for (unsigned p : ports) EXPECT_LT(p, 0x40u) << p;
}

TEST(Abi, MessageKindsAndStatusesAreDistinct) {
  const std::set<unsigned> kinds = {MOTE_MSG_CALL, MOTE_MSG_RESULT, MOTE_MSG_HOST_CALL,
                                    MOTE_MSG_LOG,  MOTE_MSG_ABORT,  MOTE_MSG_FUNCTION_TABLE};
  EXPECT_EQ(kinds.size(), 6u);
  EXPECT_EQ(kinds.count(0), 0u);  // a zeroed buffer is never a valid message kind

  const std::set<unsigned> statuses = {MOTE_STATUS_OK,
                                       MOTE_STATUS_UNKNOWN_FUNCTION,
                                       MOTE_STATUS_ARGUMENT_MISMATCH,
                                       MOTE_STATUS_MALFORMED_MESSAGE,
                                       MOTE_STATUS_UNKNOWN_HOST_FUNCTION,
                                       MOTE_STATUS_HOST_FUNCTION_FAILED,
                                       MOTE_STATUS_OUT_OF_MEMORY,
                                       MOTE_STATUS_BUFFER_TOO_SMALL,
                                       MOTE_STATUS_INIT_FAILED};
  EXPECT_EQ(statuses.size(), 9u);
  EXPECT_EQ(MOTE_STATUS_OK, 0u);
  for (unsigned s : statuses) EXPECT_LT(s, MOTE_STATUS_USER_BASE) << s;
}

TEST(Abi, LimitsFitTheirFields) {
  // param_count and name_size are stored in fields that must hold the maximum.
  EXPECT_LE(MOTE_MAX_PARAMS, 0xffu);  // mote_function_entry::param_count is a uint8_t
  EXPECT_LE(MOTE_MAX_NAME, 0xffu);
  EXPECT_LT(MOTE_TYPE_COUNT, 0x100u);              // mote_value::type is a uint8_t
  EXPECT_LT(MOTE_MAX_FUNCTIONS, MOTE_INDEX_NONE);  // no valid index collides with "none"
  EXPECT_NE(MOTE_OP_INIT, MOTE_OP_CALL);
  EXPECT_NE(MOTE_MESSAGE_MAGIC, MOTE_BOOT_INFO_MAGIC);
  // The magics spell their names in little-endian memory order.
  const std::uint32_t message_magic = MOTE_MESSAGE_MAGIC, boot_magic = MOTE_BOOT_INFO_MAGIC;
  EXPECT_EQ(0, std::memcmp(&message_magic, "MOTE", 4));
  EXPECT_EQ(0, std::memcmp(&boot_magic, "BOOT", 4));
}

}  // namespace
}  // namespace mote
