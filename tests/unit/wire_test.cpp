// Unit tests of the wire format: encoders byte by byte, decoders on valid and malformed messages.
// The decoders are checked against hand-built guest messages, then by a mutation fuzz loop.
#include "wire/messages.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "mote/abi.h"

namespace mote::wire {
namespace {

using detail::to_wire_arg;
using detail::WireArg;

constexpr std::size_t kHeader = sizeof(mote_message_header);
constexpr std::size_t kResultValue = kHeader + offsetof(mote_result, value);

std::size_t arg_record(std::size_t i) {
  return MOTE_CALL_ARGS_OFFSET + i * sizeof(mote_value);
}

template <class T>
T get(std::span<const std::uint8_t> bytes, std::size_t offset) {
  T value{};
  if (offset + sizeof(T) <= bytes.size()) {
    std::memcpy(&value, bytes.data() + offset, sizeof(T));
  } else {
    ADD_FAILURE() << "read of " << sizeof(T) << " bytes at " << offset << " past the end";
  }
  return value;
}

template <class T>
void put(Bytes& bytes, std::size_t offset, const T& value) {
  if (bytes.size() < offset + sizeof(T)) bytes.resize(offset + sizeof(T));
  std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

// A copy of `bytes` with `value` stored at `offset`.
template <class T>
Bytes with(Bytes bytes, std::size_t offset, const T& value) {
  put(bytes, offset, value);
  return bytes;
}

// A message under construction: fixed part first, then payload appended 8-byte aligned.
struct Message {
  Bytes bytes;
  explicit Message(std::size_t fixed) : bytes(fixed, 0) {}
  template <class T>
  Message& set(std::size_t offset, const T& value) {
    put(bytes, offset, value);
    return *this;
  }
  std::uint32_t append(std::string_view data) {
    bytes.resize((bytes.size() + 7) & ~std::size_t{7});
    const auto offset = static_cast<std::uint32_t>(bytes.size());
    bytes.insert(bytes.end(), data.begin(), data.end());
    return offset;
  }
  // The bytes with a header of `kind` whose size is the whole message.
  Bytes sealed(std::uint16_t kind) const {
    mote_message_header h{};
    h.magic = MOTE_MESSAGE_MAGIC;
    h.kind = kind;
    h.size = static_cast<std::uint32_t>(bytes.size());
    return with(bytes, 0, h);
  }
};

mote_value scalar(std::uint32_t type, std::uint64_t bits) {
  mote_value v{};
  v.type = static_cast<std::uint8_t>(type);
  v.bits = bits;
  return v;
}
mote_value ranged(std::uint32_t type, std::uint64_t offset, std::uint32_t size) {
  mote_value v = scalar(type, offset);
  v.size = size;
  return v;
}

// A RESULT, LOG or ABORT message: code, value, and `payload` right after the fixed part.
Bytes coded(std::uint16_t kind, std::uint32_t code, const mote_value& value,
            std::string_view payload = {}) {
  Message m(MOTE_RESULT_PAYLOAD_OFFSET);
  mote_result r{};
  r.code = code;
  r.value = value;
  m.set(kHeader, r);
  m.bytes.insert(m.bytes.end(), payload.begin(), payload.end());
  return m.sealed(kind);
}
// A message whose value is a string/bytes covering `text` at the payload offset.
Bytes coded_text(std::uint16_t kind, std::uint32_t code, std::string_view text,
                 std::uint32_t type = MOTE_TYPE_STRING) {
  return coded(kind, code,
               ranged(type, MOTE_RESULT_PAYLOAD_OFFSET, static_cast<std::uint32_t>(text.size())),
               text);
}
Bytes result_message(const mote_value& value, std::string_view payload = {}) {
  return coded(MOTE_MSG_RESULT, MOTE_STATUS_OK, value, payload);
}

mote_call call_record(std::uint32_t arg_count, std::uint32_t name_offset, std::uint32_t name_size) {
  mote_call c{};
  c.function_index = MOTE_INDEX_NONE;
  c.arg_count = arg_count;
  c.name_offset = name_offset;
  c.name_size = name_size;
  return c;
}

// host_double(i32 -7, string "hello", bytes {0, 0xff}, bool true).
Bytes valid_host_call() {
  Message m(arg_record(4));
  const auto name = m.append("host_double");
  const auto text = m.append("hello");
  const auto data = m.append(std::string_view("\x00\xff", 2));
  m.set(kHeader, call_record(4, name, 11));
  m.set(arg_record(0), scalar(MOTE_TYPE_I32, static_cast<std::uint64_t>(std::int64_t{-7})));
  m.set(arg_record(1), ranged(MOTE_TYPE_STRING, text, 5));
  m.set(arg_record(2), ranged(MOTE_TYPE_BYTES, data, 2));
  m.set(arg_record(3), scalar(MOTE_TYPE_BOOL, 1));
  return m.sealed(MOTE_MSG_HOST_CALL);
}

// A host call named `name` (placed in the payload) with no arguments.
Bytes named_host_call(std::string_view name) {
  Message m(MOTE_CALL_ARGS_OFFSET);
  const auto offset = m.append(name);
  m.set(kHeader, call_record(0, offset, static_cast<std::uint32_t>(name.size())));
  return m.sealed(MOTE_MSG_HOST_CALL);
}

struct TableEntry {
  std::string name;
  std::uint32_t result;
  std::vector<std::uint32_t> params;
};

constexpr std::size_t kTableEntries = kHeader + sizeof(mote_function_table);
std::size_t table_entry(std::size_t i) {
  return kTableEntries + i * sizeof(mote_function_entry);
}

// A function table; param_count is params.size() even beyond MOTE_MAX_PARAMS (types then stop).
Bytes table_message(const std::vector<TableEntry>& entries) {
  Message m(table_entry(entries.size()));
  mote_function_table t{};
  t.count = static_cast<std::uint32_t>(entries.size());
  m.set(kHeader, t);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    mote_function_entry e{};
    e.name_offset = m.append(entries[i].name);
    e.name_size = static_cast<std::uint32_t>(entries[i].name.size());
    e.return_type = static_cast<std::uint8_t>(entries[i].result);
    e.param_count = static_cast<std::uint8_t>(entries[i].params.size());
    for (std::size_t p = 0; p < entries[i].params.size() && p < MOTE_MAX_PARAMS; ++p) {
      e.param_types[p] = static_cast<std::uint8_t>(entries[i].params[p]);
    }
    m.set(table_entry(i), e);
  }
  return m.sealed(MOTE_MSG_FUNCTION_TABLE);
}

Bytes valid_table() {
  return table_message({{"add", MOTE_TYPE_I32, {MOTE_TYPE_I32, MOTE_TYPE_I32}},
                        {"greet", MOTE_TYPE_STRING, {MOTE_TYPE_STRING}},
                        {"tick", MOTE_TYPE_VOID, {}}});
}

// Values are equal with floats compared bit for bit (so NaN == NaN and -0.0 != 0.0).
bool same_value(const Value& a, const Value& b) {
  if (a.index() != b.index()) return false;
  if (const auto* f = std::get_if<float>(&a)) {
    return std::bit_cast<std::uint32_t>(*f) == std::bit_cast<std::uint32_t>(std::get<float>(b));
  }
  if (const auto* d = std::get_if<double>(&a)) {
    return std::bit_cast<std::uint64_t>(*d) == std::bit_cast<std::uint64_t>(std::get<double>(b));
  }
  return a == b;
}

template <class T>
void expect_protocol(const Result<T>& result, std::string_view what) {
  ASSERT_FALSE(result.has_value()) << "accepted: " << what;
  EXPECT_EQ(result.error().kind(), ErrorKind::GuestProtocol)
      << what << ": " << result.error().to_string();
  EXPECT_FALSE(result.error().message().empty()) << what;
}

// --- encode_call ---------------------------------------------------------------------------------

TEST(WireEncodeCall, LaysOutHeaderRecordsAndPayloadByteByByte) {
  const std::string hi = "hi";
  const Bytes data = {1, 2, 3};
  const std::string empty;
  const WireArg args[] = {to_wire_arg(std::int32_t{-5}),
                          to_wire_arg(std::uint64_t{0x1122334455667788}),
                          to_wire_arg(hi),
                          to_wire_arg(data),
                          to_wire_arg(1.5f),
                          to_wire_arg(true),
                          to_wire_arg(empty),
                          to_wire_arg(-2.25)};
  Bytes buffer(4096, 0xAA);  // garbage, so every byte the encoder owns must be written
  const auto n = encode_call(buffer, 7, args);
  ASSERT_TRUE(n.has_value()) << n.error().to_string();

  // Payload: "hi\0" at 160, bytes at 168, "\0" at 176; each start 8-aligned.
  constexpr std::size_t kPayload = MOTE_CALL_ARGS_OFFSET + 8 * sizeof(mote_value);
  static_assert(kPayload == 160);
  EXPECT_EQ(*n, 184u);

  // Header: "MOTE", kind CALL, reserved 0, size, reserved2 0.
  EXPECT_EQ(0, std::memcmp(buffer.data(), "MOTE", 4));
  EXPECT_EQ(get<std::uint16_t>(buffer, 4), MOTE_MSG_CALL);
  EXPECT_EQ(get<std::uint16_t>(buffer, 6), 0u);
  EXPECT_EQ(get<std::uint32_t>(buffer, 8), 184u);
  EXPECT_EQ(get<std::uint32_t>(buffer, 12), 0u);
  // mote_call: index, arg count, no name.
  EXPECT_EQ(get<std::uint32_t>(buffer, 16), 7u);
  EXPECT_EQ(get<std::uint32_t>(buffer, 20), 8u);
  EXPECT_EQ(get<std::uint32_t>(buffer, 24), 0u);
  EXPECT_EQ(get<std::uint32_t>(buffer, 28), 0u);

  struct Expected {
    std::uint8_t type;
    std::uint32_t size;
    std::uint64_t bits;
  };
  const Expected records[] = {
      {MOTE_TYPE_I32, 0, 0xFFFF'FFFF'FFFF'FFFBull},  // sign-extended
      {MOTE_TYPE_U64, 0, 0x1122334455667788ull},
      {MOTE_TYPE_STRING, 2, kPayload},
      {MOTE_TYPE_BYTES, 3, kPayload + 8},
      {MOTE_TYPE_F32, 0, 0x3FC0'0000ull},  // 1.5f in the low 32 bits only
      {MOTE_TYPE_BOOL, 0, 1},
      {MOTE_TYPE_STRING, 0, kPayload + 16},
      {MOTE_TYPE_F64, 0, std::bit_cast<std::uint64_t>(-2.25)},
  };
  for (std::size_t i = 0; i < std::size(records); ++i) {
    const std::size_t r = arg_record(i);
    EXPECT_EQ(buffer[r], records[i].type) << "arg " << i;
    EXPECT_EQ(buffer[r + 1], 0) << "arg " << i << " reserved";
    EXPECT_EQ(buffer[r + 2], 0) << "arg " << i << " reserved";
    EXPECT_EQ(buffer[r + 3], 0) << "arg " << i << " reserved";
    EXPECT_EQ(get<std::uint32_t>(buffer, r + 4), records[i].size) << "arg " << i;
    EXPECT_EQ(get<std::uint64_t>(buffer, r + 8), records[i].bits) << "arg " << i;
    if (records[i].size != 0 || records[i].type == MOTE_TYPE_STRING) {
      EXPECT_EQ(records[i].bits % 8, 0u) << "payload of arg " << i << " is not 8-byte aligned";
    }
  }
  // Payload bytes, with a NUL after each string (and none needed after bytes).
  EXPECT_EQ(buffer[kPayload], 'h');
  EXPECT_EQ(buffer[kPayload + 1], 'i');
  EXPECT_EQ(buffer[kPayload + 2], 0);
  EXPECT_EQ(buffer[kPayload + 8], 1);
  EXPECT_EQ(buffer[kPayload + 9], 2);
  EXPECT_EQ(buffer[kPayload + 10], 3);
  EXPECT_EQ(buffer[kPayload + 16], 0);  // the empty string's terminator
  // Nothing beyond the announced size is touched.
  for (std::size_t i = *n; i < buffer.size(); ++i) ASSERT_EQ(buffer[i], 0xAA) << "byte " << i;
}

TEST(WireEncodeCall, NoArguments) {
  Bytes buffer(64, 0xAA);
  const auto n = encode_call(buffer, 0, {});
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, MOTE_CALL_ARGS_OFFSET);
  EXPECT_EQ(get<std::uint32_t>(buffer, 8), MOTE_CALL_ARGS_OFFSET);
  EXPECT_EQ(get<std::uint32_t>(buffer, 16), 0u);
  EXPECT_EQ(get<std::uint32_t>(buffer, 20), 0u);
}

TEST(WireEncodeCall, StringFitsExactlyThenFailsOneByteLater) {
  // One string in a 4096-byte buffer: 48 bytes of header+record, then the string and its NUL.
  constexpr std::size_t kRoom = 4096 - MOTE_CALL_ARGS_OFFSET - sizeof(mote_value) - 1;
  Bytes buffer(4096);
  const std::string fits(kRoom, 'x');
  const WireArg ok[] = {to_wire_arg(fits)};
  const auto n = encode_call(buffer, 0, ok);
  ASSERT_TRUE(n.has_value()) << n.error().to_string();
  EXPECT_EQ(*n, 4096u);
  EXPECT_EQ(buffer[4095], 0);  // the NUL is the buffer's last byte

  const std::string too_long(kRoom + 1, 'x');
  const WireArg bad[] = {to_wire_arg(too_long)};
  const auto e = encode_call(buffer, 0, bad);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().kind(), ErrorKind::InputTooLarge);
}

TEST(WireEncodeCall, BytesFitExactlyThenFailOneByteLater) {
  constexpr std::size_t kRoom = 4096 - MOTE_CALL_ARGS_OFFSET - sizeof(mote_value);  // no NUL
  Bytes buffer(4096);
  const Bytes fits(kRoom, 0x5A);
  const WireArg ok[] = {to_wire_arg(fits)};
  const auto n = encode_call(buffer, 0, ok);
  ASSERT_TRUE(n.has_value()) << n.error().to_string();
  EXPECT_EQ(*n, 4096u);

  const Bytes too_long(kRoom + 1, 0x5A);
  const WireArg bad[] = {to_wire_arg(too_long)};
  const auto e = encode_call(buffer, 0, bad);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().kind(), ErrorKind::InputTooLarge);
}

TEST(WireEncodeCall, RecordsFitExactlyThenFailOneByteShort) {
  std::vector<WireArg> args(MOTE_MAX_PARAMS, to_wire_arg(std::uint32_t{9}));
  const std::size_t needed = arg_record(MOTE_MAX_PARAMS);
  Bytes buffer(needed);
  const auto n = encode_call(buffer, 0, args);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, needed);

  const auto e = encode_call(std::span(buffer).first(needed - 1), 0, args);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().kind(), ErrorKind::InputTooLarge);
}

TEST(WireEncodeCall, MoreThanMaxParamsIsRefused) {
  std::vector<WireArg> args(MOTE_MAX_PARAMS + 1, to_wire_arg(std::uint32_t{9}));
  Bytes buffer(4096);
  const auto e = encode_call(buffer, 0, args);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().kind(), ErrorKind::InputTooLarge);
}

TEST(WireEncodeCall, StringAsLargeAsTheBufferIsRefusedWithoutWritingPastIt) {
  // The string alone is as long as the buffer: it cannot fit after the records. The buffer is the
  // front of a larger allocation so an overrun is observable (and harmless) instead of a crash.
  constexpr std::size_t kBuffer = 4096;
  Bytes storage(kBuffer + 4096, 0xAA);
  const std::string huge(kBuffer, 'x');
  const WireArg args[] = {to_wire_arg(huge)};
  const auto e = encode_call(std::span(storage).first(kBuffer), 0, args);
  EXPECT_FALSE(e.has_value()) << "a " << kBuffer << "-byte string was encoded into a " << kBuffer
                              << "-byte buffer as a " << e.value_or(0) << "-byte message";
  if (!e) {
    EXPECT_EQ(e.error().kind(), ErrorKind::InputTooLarge);
  }
  for (std::size_t i = kBuffer; i < storage.size(); ++i) {
    ASSERT_EQ(storage[i], 0xAA) << "encode_call wrote past its buffer at byte " << i;
  }
}

// --- encode_result / encode_error ----------------------------------------------------------------

TEST(WireEncodeResult, EveryTypeRoundTripsThroughDecodeResult) {
  const Value values[] = {Value{},
                          Value{std::int32_t{-123456}},
                          Value{std::uint32_t{0xFFFF'FFFF}},
                          Value{std::int64_t{std::numeric_limits<std::int64_t>::min()}},
                          Value{std::uint64_t{0xFEDC'BA98'7654'3210}},
                          Value{-0.0f},
                          Value{std::numeric_limits<double>::quiet_NaN()},
                          Value{true},
                          Value{false},
                          Value{std::string("result \xe2\x9c\x93")},
                          Value{std::string()},
                          Value{Bytes{0, 1, 0xfe, 0xff}},
                          Value{Bytes{}}};
  for (const Value& v : values) {
    Bytes buffer(256, 0xAA);
    const auto n = encode_result(buffer, v);
    ASSERT_TRUE(n.has_value()) << format_value(v);
    EXPECT_EQ(*n % 8, 0u) << format_value(v);
    EXPECT_EQ(get<std::uint16_t>(buffer, 4), MOTE_MSG_RESULT);
    EXPECT_EQ(get<std::uint32_t>(buffer, 8), *n);
    EXPECT_EQ(get<std::uint32_t>(buffer, kHeader), MOTE_STATUS_OK);
    EXPECT_EQ(get<std::uint32_t>(buffer, kHeader + 4), 0u);
    EXPECT_EQ(buffer[kResultValue], static_cast<std::uint8_t>(type_of(v)));
    const auto decoded = decode_result(std::span(buffer).first(*n), type_of(v));
    ASSERT_TRUE(decoded.has_value()) << format_value(v) << ": " << decoded.error().to_string();
    EXPECT_EQ(decoded->status, MOTE_STATUS_OK);
    EXPECT_TRUE(same_value(decoded->value, v))
        << format_value(decoded->value) << " != " << format_value(v);
  }
}

TEST(WireEncodeResult, StringPayloadIsAfterTheRecordAndTerminated) {
  Bytes buffer(128, 0xAA);
  const auto n = encode_result(buffer, Value{std::string("abc")});
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, MOTE_RESULT_PAYLOAD_OFFSET + 8);
  EXPECT_EQ(get<std::uint32_t>(buffer, kResultValue + 4), 3u);
  EXPECT_EQ(get<std::uint64_t>(buffer, kResultValue + 8), MOTE_RESULT_PAYLOAD_OFFSET);
  EXPECT_EQ(0, std::memcmp(buffer.data() + MOTE_RESULT_PAYLOAD_OFFSET, "abc", 4));
}

TEST(WireEncodeResult, TooLargeForTheBuffer) {
  Bytes small(MOTE_RESULT_PAYLOAD_OFFSET - 1);
  const auto a = encode_result(small, Value{std::int32_t{1}});
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error().kind(), ErrorKind::InputTooLarge);

  Bytes buffer(64);
  const auto b = encode_result(buffer, Value{std::string(64 - MOTE_RESULT_PAYLOAD_OFFSET, 'x')});
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().kind(), ErrorKind::InputTooLarge);
  const auto c =
      encode_result(buffer, Value{std::string(64 - MOTE_RESULT_PAYLOAD_OFFSET - 1, 'x')});
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(*c, 64u);
}

TEST(WireEncodeError, CarriesStatusAndMessage) {
  Bytes buffer(256);
  const std::size_t n = encode_error(buffer, MOTE_STATUS_UNKNOWN_HOST_FUNCTION, "no such host fn");
  ASSERT_GT(n, 0u);
  const auto decoded = decode_result(std::span(buffer).first(n), ValueType::I32);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().to_string();
  EXPECT_EQ(decoded->status, MOTE_STATUS_UNKNOWN_HOST_FUNCTION);
  EXPECT_EQ(std::get<std::string>(decoded->value), "no such host fn");
}

TEST(WireEncodeError, TruncatesLongMessagesToFit) {
  const std::string message(1000, 'm');
  Bytes storage(256, 0xAA);
  const auto buffer = std::span(storage).first(128);
  const std::size_t n = encode_error(buffer, MOTE_STATUS_HOST_FUNCTION_FAILED, message);
  ASSERT_GT(n, 0u);
  EXPECT_LE(n, buffer.size());
  const auto decoded = decode_result(buffer.first(n), kAnyType);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().to_string();
  const auto& text = std::get<std::string>(decoded->value);
  EXPECT_FALSE(text.empty());
  EXPECT_LT(text.size(), message.size());
  EXPECT_EQ(message.compare(0, text.size(), text), 0) << "not a prefix: " << text;
  EXPECT_LE(MOTE_RESULT_PAYLOAD_OFFSET + text.size() + 1, buffer.size());
  for (std::size_t i = buffer.size(); i < storage.size(); ++i) ASSERT_EQ(storage[i], 0xAA) << i;
}

// --- Header checks: announced_size and message_kind ----------------------------------------------

TEST(WireHeader, AnnouncedSizeChecksMagicAndBounds) {
  const Bytes m = coded_text(MOTE_MSG_LOG, MOTE_LOG_INFO, "x");
  const auto size = static_cast<std::uint32_t>(m.size());
  const auto ok = announced_size(m, size);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, size);
  // Only the header is needed, and the capacity is the buffer's, not the copy's.
  EXPECT_EQ(announced_size(std::span(m).first(kHeader), 4096).value_or(0), size);

  expect_protocol(announced_size(m, size - 1), "size larger than capacity");
  expect_protocol(announced_size(std::span(m).first(kHeader - 1), 4096), "short header");
  expect_protocol(announced_size(with(m, 0, std::uint32_t{0x45544f4e}), 4096), "bad magic");
  expect_protocol(announced_size(with(m, 8, std::uint32_t{kHeader - 1}), 4096), "size < header");
  expect_protocol(announced_size(with(m, 8, std::uint32_t{0}), 4096), "size 0");
  EXPECT_TRUE(announced_size(with(m, 8, std::uint32_t{kHeader}), 4096).has_value());
  expect_protocol(announced_size(with(m, 8, std::uint32_t{0xFFFF'FFFF}), 4096), "size 4 GiB");
}

TEST(WireHeader, MessageKindRequiresTheCopyLength) {
  const Bytes m = coded_text(MOTE_MSG_ABORT, 1, "bye");
  const auto kind = message_kind(m);
  ASSERT_TRUE(kind.has_value());
  EXPECT_EQ(*kind, MOTE_MSG_ABORT);

  const auto size = static_cast<std::uint32_t>(m.size());
  expect_protocol(message_kind(with(m, 8, size - 8)), "size smaller than the copy");
  expect_protocol(message_kind(with(m, 8, size + 8)), "size larger than the copy");
  expect_protocol(message_kind(std::span(m).first(kHeader - 1)), "copy shorter than a header");
  expect_protocol(message_kind(with(m, 0, std::uint32_t{0})), "zero magic");
}

// --- decode_result -------------------------------------------------------------------------------

TEST(WireDecodeResult, ScalarOfEveryType) {
  struct Case {
    mote_value record;
    Value expected;
  };
  const Case cases[] = {
      {scalar(MOTE_TYPE_VOID, 0), Value{}},
      {scalar(MOTE_TYPE_I32, 0xFFFF'FFFF'8000'0000ull),
       Value{std::numeric_limits<std::int32_t>::min()}},
      {scalar(MOTE_TYPE_I32, 0x7FFF'FFFF), Value{std::int32_t{0x7FFF'FFFF}}},
      {scalar(MOTE_TYPE_U32, 0xFFFF'FFFF), Value{std::uint32_t{0xFFFF'FFFF}}},
      {scalar(MOTE_TYPE_I64, 0xFFFF'FFFF'FFFF'FFFEull), Value{std::int64_t{-2}}},
      {scalar(MOTE_TYPE_U64, ~0ull), Value{std::uint64_t{~0ull}}},
      {scalar(MOTE_TYPE_F32, std::bit_cast<std::uint32_t>(3.25f)), Value{3.25f}},
      {scalar(MOTE_TYPE_F64, std::bit_cast<std::uint64_t>(-1e300)), Value{-1e300}},
      {scalar(MOTE_TYPE_BOOL, 0), Value{false}},
      {scalar(MOTE_TYPE_BOOL, 1), Value{true}},
  };
  for (const Case& c : cases) {
    const auto type = static_cast<ValueType>(c.record.type);
    const auto decoded = decode_result(result_message(c.record), type);
    ASSERT_TRUE(decoded.has_value()) << to_string(type) << ": " << decoded.error().to_string();
    EXPECT_EQ(decoded->status, MOTE_STATUS_OK);
    EXPECT_TRUE(same_value(decoded->value, c.expected))
        << format_value(decoded->value) << " != " << format_value(c.expected);
  }
}

TEST(WireDecodeResult, StringAndBytes) {
  const auto s =
      decode_result(coded_text(MOTE_MSG_RESULT, MOTE_STATUS_OK, "hello"), ValueType::String);
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_EQ(std::get<std::string>(s->value), "hello");

  const std::string_view raw_bytes("\x00\x01\x80\xff", 4);
  const auto b = decode_result(
      coded_text(MOTE_MSG_RESULT, MOTE_STATUS_OK, raw_bytes, MOTE_TYPE_BYTES), ValueType::Bytes);
  ASSERT_TRUE(b.has_value()) << b.error().to_string();
  EXPECT_EQ(std::get<Bytes>(b->value), (Bytes{0x00, 0x01, 0x80, 0xff}));

  // Empty, and a range that ends exactly at the message's end.
  const auto empty = decode_result(
      result_message(ranged(MOTE_TYPE_STRING, MOTE_RESULT_PAYLOAD_OFFSET, 0)), ValueType::String);
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(std::get<std::string>(empty->value), "");
  const Bytes m = coded_text(MOTE_MSG_RESULT, MOTE_STATUS_OK, "0123456789");
  const auto tail = decode_result(with(m, kResultValue, ranged(MOTE_TYPE_STRING, m.size() - 3, 3)),
                                  ValueType::String);
  ASSERT_TRUE(tail.has_value());
  EXPECT_EQ(std::get<std::string>(tail->value), "789");
}

TEST(WireDecodeResult, ErrorStatusCarriesAStringMessage) {
  const auto e = decode_result(coded_text(MOTE_MSG_RESULT, MOTE_STATUS_USER_BASE + 4, "it broke"),
                               ValueType::I64);  // the expected type does not apply to errors
  ASSERT_TRUE(e.has_value()) << e.error().to_string();
  EXPECT_EQ(e->status, MOTE_STATUS_USER_BASE + 4);
  EXPECT_EQ(std::get<std::string>(e->value), "it broke");

  expect_protocol(
      decode_result(coded(MOTE_MSG_RESULT, MOTE_STATUS_OUT_OF_MEMORY, scalar(MOTE_TYPE_I64, 0)),
                    ValueType::I64),
      "error status with an i64");
  expect_protocol(decode_result(coded_text(MOTE_MSG_RESULT, 300, "xy", MOTE_TYPE_BYTES), kAnyType),
                  "error status with bytes");
}

TEST(WireDecodeResult, TypeMustMatchTheSignatureUnlessAny) {
  const Bytes i32 = result_message(scalar(MOTE_TYPE_I32, 5));
  expect_protocol(decode_result(i32, ValueType::I64), "i32 for i64");
  expect_protocol(decode_result(i32, ValueType::U32), "i32 for u32");
  expect_protocol(decode_result(i32, ValueType::Void), "i32 for void");
  expect_protocol(decode_result(result_message(scalar(MOTE_TYPE_VOID, 0)), ValueType::I32),
                  "void for i32");

  const auto any = decode_result(i32, kAnyType);
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ(std::get<std::int32_t>(any->value), 5);
  const auto any_string = decode_result(coded_text(MOTE_MSG_RESULT, 0, "s"), kAnyType);
  ASSERT_TRUE(any_string.has_value());
  EXPECT_EQ(std::get<std::string>(any_string->value), "s");
}

TEST(WireDecodeResult, MalformedMessagesAreProtocolErrors) {
  const Bytes good = coded_text(MOTE_MSG_RESULT, MOTE_STATUS_OK, "payload!");  // 48 bytes
  ASSERT_TRUE(decode_result(good, ValueType::String).has_value());
  const auto size = static_cast<std::uint32_t>(good.size());

  expect_protocol(decode_result(with(good, 0, std::uint32_t{0x4d4f5445}), kAnyType), "bad magic");
  expect_protocol(decode_result(with(good, 8, std::uint32_t{8}), kAnyType), "size < header");
  expect_protocol(decode_result(with(good, 8, size + 1), kAnyType), "size > copy");
  expect_protocol(decode_result(with(good, 8, size - 1), kAnyType), "size < copy");
  expect_protocol(decode_result(with(good, 4, std::uint16_t{MOTE_MSG_LOG}), kAnyType), "kind LOG");
  expect_protocol(decode_result(with(good, 4, std::uint16_t{0}), kAnyType), "kind 0");

  // Shorter than header + mote_result.
  Message short_result(MOTE_RESULT_PAYLOAD_OFFSET - 8);
  expect_protocol(decode_result(short_result.sealed(MOTE_MSG_RESULT), kAnyType),
                  "truncated record");
  expect_protocol(decode_result(Message(kHeader).sealed(MOTE_MSG_RESULT), kAnyType), "header only");
}

TEST(WireDecodeResult, RangesOutsideTheMessage) {
  const Bytes good = coded_text(MOTE_MSG_RESULT, MOTE_STATUS_OK, "payload!");  // 48 bytes
  const auto size = static_cast<std::uint32_t>(good.size());
  const struct {
    std::uint64_t offset;
    std::uint32_t length;
  } cases[] = {
      {size - 7, 8},                              // one byte past the end
      {size, 1},                                  // starts at the end
      {size + 1, 0},                              // empty but starts past the end
      {0x1'0000'0000ull, 0},                      // offset beyond 32 bits
      {0xFFFF'FFFF'FFFF'FFF0ull, 0x20},           // offset + size wraps to a small number
      {0xFFFF'FFFF'FFFF'FFFFull, 1},              // offset + size wraps to 0
      {MOTE_RESULT_PAYLOAD_OFFSET, 0xFFFF'FFFF},  // size far too large
  };
  for (std::uint32_t type : {MOTE_TYPE_STRING, MOTE_TYPE_BYTES}) {
    for (const auto& c : cases) {
      const Bytes m = with(good, kResultValue, ranged(type, c.offset, c.length));
      expect_protocol(decode_result(m, kAnyType),
                      fmt::format("type {} offset 0x{:x} size {}", type, c.offset, c.length));
    }
  }
  // The error message also goes through the range check.
  const Bytes error = coded_text(MOTE_MSG_RESULT, MOTE_STATUS_INIT_FAILED, "payload!");
  expect_protocol(decode_result(with(error, kResultValue,
                                     ranged(MOTE_TYPE_STRING, 0xFFFF'FFFF'FFFF'FFF0ull, 0x20)),
                                kAnyType),
                  "error message out of range");
}

TEST(WireDecodeResult, NonCanonicalScalarsAreRefused) {
  const struct {
    mote_value record;
    const char* what;
  } cases[] = {
      {scalar(MOTE_TYPE_BOOL, 2), "bool 2"},
      {scalar(MOTE_TYPE_BOOL, 0x1'0000'0001ull), "bool with high bits"},
      {scalar(MOTE_TYPE_I32, 0x8000'0000ull), "negative i32 zero-extended"},
      {scalar(MOTE_TYPE_I32, 0xFFFF'FFFFull), "-1 zero-extended"},
      {scalar(MOTE_TYPE_I32, 0x1'0000'0000ull), "i32 with bit 32 set"},
      {scalar(MOTE_TYPE_I32, 0xFFFF'FFFF'0000'0001ull), "positive i32 sign-extended as negative"},
      {scalar(MOTE_TYPE_U32, 0x1'0000'0000ull), "u32 with bit 32 set"},
      {scalar(MOTE_TYPE_U32, 0xFFFF'FFFF'FFFF'FFFFull), "u32 sign-extended"},
      {scalar(MOTE_TYPE_F32, 0x1'3FC0'0000ull), "f32 with high bits"},
      {scalar(MOTE_TYPE_COUNT, 0), "type tag 10"},
      {scalar(0x80, 0), "type tag 0x80"},
      {scalar(0xFF, 0), "type tag 0xff"},
      {scalar(MOTE_TYPE_VOID, 1), "void with bits"},
      {ranged(MOTE_TYPE_VOID, 0, 1), "void with a size"},
  };
  for (const auto& c : cases) {
    expect_protocol(decode_result(result_message(c.record), kAnyType), c.what);
  }
}

// --- decode_host_call ----------------------------------------------------------------------------

TEST(WireDecodeHostCall, DecodesNameAndArguments) {
  const auto call = decode_host_call(valid_host_call());
  ASSERT_TRUE(call.has_value()) << call.error().to_string();
  EXPECT_EQ(call->name, "host_double");
  ASSERT_EQ(call->args.size(), 4u);
  EXPECT_EQ(std::get<std::int32_t>(call->args[0]), -7);
  EXPECT_EQ(std::get<std::string>(call->args[1]), "hello");
  EXPECT_EQ(std::get<Bytes>(call->args[2]), (Bytes{0x00, 0xff}));
  EXPECT_EQ(std::get<bool>(call->args[3]), true);
}

TEST(WireDecodeHostCall, NameLimits) {
  const std::string longest(MOTE_MAX_NAME, 'n');
  const auto ok = decode_host_call(named_host_call(longest));
  ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
  EXPECT_EQ(ok->name, longest);
  EXPECT_TRUE(ok->args.empty());

  expect_protocol(decode_host_call(named_host_call(std::string(MOTE_MAX_NAME + 1, 'n'))),
                  "name too long");
  const Bytes m = named_host_call("ping");
  const auto size = static_cast<std::uint32_t>(m.size());
  expect_protocol(decode_host_call(with(m, kHeader, call_record(0, MOTE_CALL_ARGS_OFFSET, 0))),
                  "empty name");
  expect_protocol(decode_host_call(with(m, kHeader, call_record(0, size - 3, 4))),
                  "name crosses the end");
  expect_protocol(decode_host_call(with(m, kHeader, call_record(0, size + 1, 1))),
                  "name starts past the end");
  expect_protocol(decode_host_call(with(m, kHeader, call_record(0, 0xFFFF'FFF0u, 0x20))),
                  "name offset + size wraps in 32 bits");
  expect_protocol(decode_host_call(with(m, kHeader, call_record(0, 0xFFFF'FFFFu, 0xFF))),
                  "name offset at 4 GiB");
}

TEST(WireDecodeHostCall, ArgumentCountLimits) {
  // MOTE_MAX_PARAMS arguments are fine.
  Message max(arg_record(MOTE_MAX_PARAMS));
  const auto name = max.append("f");
  max.set(kHeader, call_record(MOTE_MAX_PARAMS, name, 1));
  for (std::size_t i = 0; i < MOTE_MAX_PARAMS; ++i) {
    max.set(arg_record(i), scalar(MOTE_TYPE_U64, i));
  }
  const auto ok = decode_host_call(max.sealed(MOTE_MSG_HOST_CALL));
  ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
  EXPECT_EQ(ok->args.size(), MOTE_MAX_PARAMS);
  EXPECT_EQ(std::get<std::uint64_t>(ok->args[15]), 15u);

  // One more argument, even with room for its record, is refused.
  Message over(arg_record(MOTE_MAX_PARAMS + 1));
  const auto over_name = over.append("f");
  over.set(kHeader, call_record(MOTE_MAX_PARAMS + 1, over_name, 1));
  for (std::size_t i = 0; i <= MOTE_MAX_PARAMS; ++i) {
    over.set(arg_record(i), scalar(MOTE_TYPE_U64, i));
  }
  expect_protocol(decode_host_call(over.sealed(MOTE_MSG_HOST_CALL)), "17 arguments");

  // Counts whose records do not fit the message.
  const Bytes m = named_host_call("ping");  // 40 bytes: no room for any record
  expect_protocol(decode_host_call(with(m, kHeader + 4, std::uint32_t{1})), "record past the end");
  expect_protocol(decode_host_call(with(m, kHeader + 4, std::uint32_t{0xFFFF'FFFF})),
                  "count 2^32-1");
}

TEST(WireDecodeHostCall, BadArgumentsAndFraming) {
  const Bytes good = valid_host_call();
  expect_protocol(decode_host_call(with(good, arg_record(0), scalar(MOTE_TYPE_VOID, 0))),
                  "void argument");
  expect_protocol(decode_host_call(with(good, arg_record(3), scalar(MOTE_TYPE_BOOL, 2))), "bool 2");
  expect_protocol(
      decode_host_call(with(good, arg_record(1), ranged(MOTE_TYPE_STRING, good.size(), 1))),
      "string outside");
  expect_protocol(decode_host_call(with(good, arg_record(2),
                                        ranged(MOTE_TYPE_BYTES, 0xFFFF'FFFF'FFFF'FFF0ull, 0x20))),
                  "bytes offset wraps");
  expect_protocol(decode_host_call(with(good, arg_record(0), scalar(0x42, 0))), "unknown tag");
  expect_protocol(decode_host_call(with(good, 4, std::uint16_t{MOTE_MSG_CALL})), "kind CALL");
  expect_protocol(decode_host_call(Message(MOTE_CALL_ARGS_OFFSET - 1).sealed(MOTE_MSG_HOST_CALL)),
                  "truncated mote_call");
}

// --- decode_coded_text (LOG / ABORT) -------------------------------------------------------------

TEST(WireDecodeCodedText, LogAndAbort) {
  const auto log = decode_coded_text(coded_text(MOTE_MSG_LOG, MOTE_LOG_WARN, "careful"),
                                     MOTE_MSG_LOG, MOTE_MAX_LOG_MESSAGE);
  ASSERT_TRUE(log.has_value()) << log.error().to_string();
  EXPECT_EQ(log->code, MOTE_LOG_WARN);
  EXPECT_EQ(log->text, "careful");

  const auto abort = decode_coded_text(coded_text(MOTE_MSG_ABORT, 77, "fatal"), MOTE_MSG_ABORT,
                                       MOTE_MAX_ABORT_MESSAGE);
  ASSERT_TRUE(abort.has_value()) << abort.error().to_string();
  EXPECT_EQ(abort->code, 77u);
  EXPECT_EQ(abort->text, "fatal");
}

TEST(WireDecodeCodedText, TruncatesToMaxText) {
  const std::string text = "0123456789abcdef";
  const Bytes m = coded_text(MOTE_MSG_LOG, MOTE_LOG_INFO, text);
  for (std::size_t max : {std::size_t{0}, std::size_t{1}, std::size_t{10}, text.size()}) {
    const auto r = decode_coded_text(m, MOTE_MSG_LOG, max);
    ASSERT_TRUE(r.has_value()) << max;
    EXPECT_EQ(r->text, text.substr(0, max));
  }
  const auto whole = decode_coded_text(m, MOTE_MSG_LOG, text.size() + 1);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(whole->text, text);
}

TEST(WireDecodeCodedText, MalformedRecords) {
  const Bytes log = coded_text(MOTE_MSG_LOG, MOTE_LOG_INFO, "hello");
  expect_protocol(decode_coded_text(log, MOTE_MSG_ABORT, 100), "LOG where ABORT expected");
  expect_protocol(
      decode_coded_text(coded_text(MOTE_MSG_LOG, 0, "xy", MOTE_TYPE_BYTES), MOTE_MSG_LOG, 100),
      "bytes instead of a string");
  expect_protocol(
      decode_coded_text(coded(MOTE_MSG_LOG, 0, scalar(MOTE_TYPE_I32, 1)), MOTE_MSG_LOG, 100),
      "i32 instead of a string");
  expect_protocol(decode_coded_text(with(log, kResultValue,
                                         ranged(MOTE_TYPE_STRING, 0xFFFF'FFFF'FFFF'FFF0ull, 0x20)),
                                    MOTE_MSG_LOG, 100),
                  "string offset wraps");
  expect_protocol(decode_coded_text(with(log, 8, std::uint32_t{1000}), MOTE_MSG_LOG, 100),
                  "size != copy");
}

TEST(WireDecodeCodedText, RangeIsCheckedBeforeTruncation) {
  // The string claims far more bytes than the message holds; truncating it to max_text must not
  // make the malformed record acceptable.
  const Bytes log = coded_text(MOTE_MSG_LOG, MOTE_LOG_INFO, "hello");
  const Bytes lying =
      with(log, kResultValue, ranged(MOTE_TYPE_STRING, MOTE_RESULT_PAYLOAD_OFFSET, 100000));
  expect_protocol(decode_coded_text(lying, MOTE_MSG_LOG, 4), "string size beyond the message");
}

// --- decode_function_table -----------------------------------------------------------------------

TEST(WireDecodeFunctionTable, DecodesSignaturesInOrder) {
  const auto table = decode_function_table(valid_table());
  ASSERT_TRUE(table.has_value()) << table.error().to_string();
  ASSERT_EQ(table->size(), 3u);
  EXPECT_EQ((*table)[0],
            (FunctionSignature{"add", {ValueType::I32, ValueType::I32}, ValueType::I32}));
  EXPECT_EQ((*table)[1], (FunctionSignature{"greet", {ValueType::String}, ValueType::String}));
  EXPECT_EQ((*table)[2], (FunctionSignature{"tick", {}, ValueType::Void}));

  const auto empty = decode_function_table(table_message({}));
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

TEST(WireDecodeFunctionTable, EveryValueTypeIsAValidParameterExceptVoid) {
  std::vector<std::uint32_t> params;
  for (std::uint32_t t = MOTE_TYPE_I32; t < MOTE_TYPE_COUNT; ++t) params.push_back(t);
  const auto table = decode_function_table(table_message({{"all", MOTE_TYPE_BYTES, params}}));
  ASSERT_TRUE(table.has_value()) << table.error().to_string();
  ASSERT_EQ((*table)[0].params.size(), params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(static_cast<std::uint32_t>((*table)[0].params[i]), params[i]);
  }
  expect_protocol(decode_function_table(table_message({{"v", MOTE_TYPE_VOID, {MOTE_TYPE_VOID}}})),
                  "void parameter");
  expect_protocol(decode_function_table(table_message({{"v", MOTE_TYPE_VOID, {MOTE_TYPE_COUNT}}})),
                  "parameter tag 10");
  expect_protocol(
      decode_function_table(table_message({{"v", MOTE_TYPE_VOID, {MOTE_TYPE_I32, 0xFF}}})),
      "second parameter tag 0xff");
  expect_protocol(decode_function_table(table_message({{"v", MOTE_TYPE_COUNT, {}}})),
                  "return tag 10");
}

TEST(WireDecodeFunctionTable, MaxParams) {
  const std::vector<std::uint32_t> max(MOTE_MAX_PARAMS, MOTE_TYPE_F64);
  const auto ok = decode_function_table(table_message({{"wide", MOTE_TYPE_F64, max}}));
  ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
  EXPECT_EQ((*ok)[0].params.size(), MOTE_MAX_PARAMS);

  std::vector<std::uint32_t> over = max;
  over.push_back(MOTE_TYPE_F64);
  expect_protocol(decode_function_table(table_message({{"wider", MOTE_TYPE_F64, over}})),
                  "MOTE_MAX_PARAMS + 1 parameters");
  const Bytes m =
      with(table_message({{"x", MOTE_TYPE_VOID, {}}}),
           table_entry(0) + offsetof(mote_function_entry, param_count), std::uint8_t{0xFF});
  expect_protocol(decode_function_table(m), "255 parameters");
}

TEST(WireDecodeFunctionTable, CountLimits) {
  const Bytes good = valid_table();
  expect_protocol(decode_function_table(with(good, kHeader, std::uint32_t{4})),
                  "count past the end");
  expect_protocol(decode_function_table(with(good, kHeader, std::uint32_t{MOTE_MAX_FUNCTIONS + 1})),
                  "count > MOTE_MAX_FUNCTIONS");
  expect_protocol(decode_function_table(with(good, kHeader, std::uint32_t{0xFFFF'FFFF})),
                  "count 2^32-1");
  expect_protocol(decode_function_table(Message(kTableEntries - 1).sealed(MOTE_MSG_FUNCTION_TABLE)),
                  "truncated mote_function_table");
  expect_protocol(decode_function_table(with(good, 4, std::uint16_t{MOTE_MSG_RESULT})),
                  "wrong kind");

  // Exactly MOTE_MAX_FUNCTIONS entries is allowed; one more is refused even when it fits.
  std::vector<TableEntry> many;
  for (std::uint32_t i = 0; i < MOTE_MAX_FUNCTIONS; ++i) {
    many.push_back({fmt::format("f{}", i), MOTE_TYPE_VOID, {}});
  }
  const auto all = decode_function_table(table_message(many));
  ASSERT_TRUE(all.has_value()) << all.error().to_string();
  EXPECT_EQ(all->size(), MOTE_MAX_FUNCTIONS);
  EXPECT_EQ(all->back().name, "f4095");
  many.push_back({"one_too_many", MOTE_TYPE_VOID, {}});
  expect_protocol(decode_function_table(table_message(many)), "MOTE_MAX_FUNCTIONS + 1 entries");
}

TEST(WireDecodeFunctionTable, BadNameRanges) {
  const Bytes good = valid_table();
  const auto size = static_cast<std::uint32_t>(good.size());
  const std::size_t e1 = table_entry(1);  // "greet"
  const struct {
    std::uint32_t offset, length;
    const char* what;
  } cases[] = {
      {static_cast<std::uint32_t>(kTableEntries), 0, "empty name"},
      {static_cast<std::uint32_t>(kTableEntries), MOTE_MAX_NAME + 1, "name too long"},
      {size - 2, 3, "name crosses the end"},
      {size + 8, 1, "name past the end"},
      {0xFFFF'FFF0u, 0x20, "offset + size wraps in 32 bits"},
      {0xFFFF'FFFFu, 1, "offset 2^32-1"},
  };
  for (const auto& c : cases) {
    Bytes m = with(good, e1 + offsetof(mote_function_entry, name_offset), c.offset);
    m = with(m, e1 + offsetof(mote_function_entry, name_size), c.length);
    expect_protocol(decode_function_table(m), c.what);
  }
  const std::string longest(MOTE_MAX_NAME, 'q');
  const auto ok = decode_function_table(table_message({{longest, MOTE_TYPE_VOID, {}}}));
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ((*ok)[0].name, longest);
}

TEST(WireDecodeFunctionTable, DuplicateNames) {
  expect_protocol(decode_function_table(table_message({{"same", MOTE_TYPE_VOID, {}},
                                                       {"other", MOTE_TYPE_VOID, {}},
                                                       {"same", MOTE_TYPE_I32, {MOTE_TYPE_I32}}})),
                  "duplicate name");
  // Two entries pointing at the same name bytes are duplicates too.
  Bytes m = valid_table();
  const auto first_offset = get<std::uint32_t>(m, table_entry(0));
  m = with(m, table_entry(1) + offsetof(mote_function_entry, name_offset), first_offset);
  m = with(m, table_entry(1) + offsetof(mote_function_entry, name_size), std::uint32_t{3});
  expect_protocol(decode_function_table(m), "shared name bytes");
  // Names differing only in case or by a prefix are distinct.
  const auto ok = decode_function_table(table_message(
      {{"f", MOTE_TYPE_VOID, {}}, {"F", MOTE_TYPE_VOID, {}}, {"ff", MOTE_TYPE_VOID, {}}}));
  EXPECT_TRUE(ok.has_value());
}

// --- Mutation fuzz -------------------------------------------------------------------------------

// Checks what a successful decode promises; every failure must be a protocol error.
template <class T, class Check>
void check_decoded(const Result<T>& r, Check check) {
  if (r) {
    check(*r);
  } else {
    ASSERT_EQ(r.error().kind(), ErrorKind::GuestProtocol) << r.error().to_string();
  }
}

void decode_everything(std::span<const std::uint8_t> m, ValueType expected, std::size_t max_text) {
  const auto copy_size = m.size();
  (void)announced_size(m, copy_size + 64);
  check_decoded(message_kind(m),
                [&](std::uint16_t) { EXPECT_EQ(get<std::uint32_t>(m, 8), copy_size); });
  check_decoded(decode_result(m, expected), [&](const ResultMessage& r) {
    if (r.status != MOTE_STATUS_OK) {
      EXPECT_TRUE(std::holds_alternative<std::string>(r.value));
    } else if (expected != kAnyType) {
      EXPECT_EQ(type_of(r.value), expected);
    }
  });
  check_decoded(decode_host_call(m), [&](const HostCallMessage& c) {
    EXPECT_FALSE(c.name.empty());
    EXPECT_LE(c.name.size(), MOTE_MAX_NAME);
    EXPECT_LE(c.args.size(), MOTE_MAX_PARAMS);
    for (const Value& a : c.args) EXPECT_NE(type_of(a), ValueType::Void);
  });
  for (std::uint16_t kind : {std::uint16_t{MOTE_MSG_LOG}, std::uint16_t{MOTE_MSG_ABORT}}) {
    check_decoded(decode_coded_text(m, kind, max_text),
                  [&](const CodedText& t) { EXPECT_LE(t.text.size(), max_text); });
  }
  check_decoded(decode_function_table(m), [&](const std::vector<FunctionSignature>& table) {
    EXPECT_LE(table.size(), MOTE_MAX_FUNCTIONS);
    std::set<std::string> names;
    for (const auto& sig : table) {
      EXPECT_FALSE(sig.name.empty());
      EXPECT_LE(sig.params.size(), MOTE_MAX_PARAMS);
      EXPECT_LT(static_cast<unsigned>(sig.result), MOTE_TYPE_COUNT);
      for (ValueType p : sig.params) {
        EXPECT_NE(p, ValueType::Void);
        EXPECT_LT(static_cast<unsigned>(p), MOTE_TYPE_COUNT);
      }
      EXPECT_TRUE(names.insert(sig.name).second) << sig.name;
    }
  });
}

std::vector<Bytes> fuzz_seeds() {
  std::vector<Bytes> seeds;
  const Value values[] = {Value{},
                          Value{std::int32_t{-1}},
                          Value{std::uint32_t{7}},
                          Value{std::int64_t{-9}},
                          Value{std::uint64_t{9}},
                          Value{1.5f},
                          Value{2.5},
                          Value{true},
                          Value{std::string("str")},
                          Value{Bytes{1, 2, 3, 4, 5, 6, 7, 8, 9}}};
  for (const Value& v : values) {
    Bytes buffer(128);
    buffer.resize(encode_result(buffer, v).value());
    seeds.push_back(buffer);
  }
  Bytes error(128);
  error.resize(encode_error(error, MOTE_STATUS_USER_BASE, "failure text"));
  seeds.push_back(error);
  seeds.push_back(valid_host_call());
  seeds.push_back(named_host_call("ping"));
  seeds.push_back(coded_text(MOTE_MSG_LOG, MOTE_LOG_ERROR, "log line"));
  seeds.push_back(coded_text(MOTE_MSG_ABORT, 3, "abort reason"));
  seeds.push_back(valid_table());
  const std::string s = "call arg";
  const WireArg args[] = {to_wire_arg(s), to_wire_arg(std::int32_t{-3})};
  Bytes call(256);
  call.resize(encode_call(call, 0, args).value());
  seeds.push_back(call);
  return seeds;
}

TEST(WireFuzz, MutatedMessagesNeverCrashTheDecoders) {
  const std::vector<Bytes> seeds = fuzz_seeds();
  for (const Bytes& s : seeds) ASSERT_TRUE(message_kind(s).has_value());

  std::mt19937_64 rng(0x6d6f7465);  // fixed seed: "mote"
  auto below = [&](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
  constexpr int kIterations = 20000;
  int accepted = 0;
  for (int iteration = 0; iteration < kIterations; ++iteration) {
    Bytes m = seeds[below(seeds.size())];
    const std::uint64_t len = m.size();
    const std::uint64_t interesting[] = {0,
                                         1,
                                         2,
                                         7,
                                         8,
                                         16,
                                         17,
                                         0xff,
                                         0x100,
                                         0xffff,
                                         0x7fffffff,
                                         0x80000000,
                                         0xfffffff0,
                                         0xffffffff,
                                         0x1'0000'0000ull,
                                         0xffffffff'80000000ull,
                                         0xffffffff'fffffff0ull,
                                         ~0ull,
                                         len,
                                         len - 1,
                                         len + 1};
    const std::size_t mutations = 1 + below(4);
    for (std::size_t k = 0; k < mutations && !m.empty(); ++k) {
      switch (below(6)) {
        case 0:
          m[below(m.size())] = static_cast<std::uint8_t>(rng());
          break;
        case 1:
          m[below(m.size())] ^= static_cast<std::uint8_t>(1u << below(8));
          break;
        case 2:
          if (m.size() >= 4) {
            put(m, below(m.size() / 4) * 4,
                static_cast<std::uint32_t>(interesting[below(std::size(interesting))]));
          }
          break;
        case 3:
          if (m.size() >= 8) {
            put(m, below(m.size() / 8) * 8, interesting[below(std::size(interesting))]);
          }
          break;
        case 4:
          m.resize(below(m.size() + 1));
          break;
        case 5:
          for (std::size_t extra = 1 + below(24); extra > 0; --extra) {
            m.push_back(static_cast<std::uint8_t>(rng()));
          }
          break;
      }
    }
    // Usually keep the header's size consistent so the mutation reaches the deeper checks.
    if (m.size() >= kHeader && below(4) != 0) put(m, 8, static_cast<std::uint32_t>(m.size()));

    const ValueType expected =
        below(3) == 0 ? kAnyType : static_cast<ValueType>(below(MOTE_TYPE_COUNT + 1));
    // An exact-size heap copy, so any read past the message is a read past an allocation.
    const Bytes exact(m.begin(), m.end());
    decode_everything(exact, expected, below(64));
    if (message_kind(exact).has_value()) ++accepted;
    if (::testing::Test::HasFailure()) {
      FAIL() << "iteration " << iteration << " failed";
    }
  }
  // The loop must reach past the header checks most of the time to be meaningful.
  EXPECT_GT(accepted, kIterations / 2);
}

}  // namespace
}  // namespace mote::wire
