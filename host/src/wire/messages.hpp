// Wire messages: encoding what the host sends and decoding (from a host-side copy) what the guest
// sends, in the fixed binary layout of abi.h. Pure functions, unit-tested and fuzzed without KVM.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "mote/error.hpp"
#include "mote/sandbox.hpp"
#include "mote/value.hpp"

namespace mote::wire {

// Encodes a MOTE_MSG_CALL for function `index` into `buffer`. Returns the bytes written, or
// InputTooLarge (nothing useful written) when the message does not fit.
Result<std::size_t> encode_call(std::span<std::uint8_t> buffer, std::uint32_t index,
                                std::span<const detail::WireArg> args);

// Encodes a MOTE_MSG_RESULT carrying `value` (status OK) into `buffer`.
Result<std::size_t> encode_result(std::span<std::uint8_t> buffer, const Value& value);
// Encodes a MOTE_MSG_RESULT carrying an error status and message (truncated to fit).
std::size_t encode_error(std::span<std::uint8_t> buffer, std::uint32_t status,
                         std::string_view message);

// The kind of a message whose bytes were copied out of guest memory; checks magic and that the
// header's size equals the copy's length.
Result<std::uint16_t> message_kind(std::span<const std::uint8_t> message);

// The total size a message header announces, checked against `capacity` (the buffer it lives in).
Result<std::uint32_t> announced_size(std::span<const std::uint8_t> header, std::uint64_t capacity);

struct ResultMessage {
  std::uint32_t status = 0;  // MOTE_STATUS_OK or an error code
  Value value;               // the return value; for errors the message (std::string)
};
// Decodes a MOTE_MSG_RESULT. With status OK the value's type must equal `expected` (any type when
// `expected` is kAnyType); with an error status the value must be a string.
inline constexpr ValueType kAnyType = static_cast<ValueType>(0xff);
Result<ResultMessage> decode_result(std::span<const std::uint8_t> message, ValueType expected);

struct HostCallMessage {
  std::string name;
  std::vector<Value> args;
};
Result<HostCallMessage> decode_host_call(std::span<const std::uint8_t> message);

// A MOTE_MSG_LOG or MOTE_MSG_ABORT: a code and a text, the text cut to `max_text` bytes.
struct CodedText {
  std::uint32_t code = 0;
  std::string text;
};
Result<CodedText> decode_coded_text(std::span<const std::uint8_t> message, std::uint16_t kind,
                                    std::size_t max_text);

Result<std::vector<FunctionSignature>> decode_function_table(std::span<const std::uint8_t> message);

}  // namespace mote::wire
