// libFuzzer target: every decoder of guest-written wire messages, on the same bytes, with checks.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <unordered_set>
#include <variant>
#include <vector>

#include "fuzz_support.hpp"
#include "mote/abi.h"
#include "wire/messages.hpp"

namespace mote::fuzz {
namespace {

constexpr ValueType kTypes[] = {ValueType::Void, ValueType::I32,  ValueType::U32,
                                ValueType::I64,  ValueType::U64,  ValueType::F32,
                                ValueType::F64,  ValueType::Bool, ValueType::String,
                                ValueType::Bytes, wire::kAnyType};

// Equal values, floats compared by their bits (NaN payloads included).
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

std::size_t payload_size(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return s->size();
  if (const auto* b = std::get_if<Bytes>(&v)) return b->size();
  return 0;
}

void check_kind(std::span<const std::uint8_t> message) {
  const auto kind = wire::message_kind(message);
  if (!kind) return;
  mote_message_header h{};
  std::memcpy(&h, message.data(), sizeof h);
  FUZZ_CHECK(h.magic == MOTE_MESSAGE_MAGIC);
  FUZZ_CHECK(h.size == message.size());
  FUZZ_CHECK(*kind == h.kind);
}

void check_announced_size(std::span<const std::uint8_t> message) {
  for (const std::uint64_t capacity : {std::uint64_t{message.size()}, std::uint64_t{64 * 1024},
                                       std::uint64_t{0}, ~std::uint64_t{0}}) {
    const auto size = wire::announced_size(message, capacity);
    if (!size) continue;
    FUZZ_CHECK(message.size() >= sizeof(mote_message_header));
    FUZZ_CHECK(*size >= sizeof(mote_message_header) && *size <= capacity);
  }
}

// decode_result with every expected type; a decoded OK value must survive encode_result, and a
// decoded error message must survive encode_error.
void check_result(std::span<const std::uint8_t> message) {
  for (const ValueType expected : kTypes) {
    const auto decoded = wire::decode_result(message, expected);
    if (!decoded) continue;
    FUZZ_CHECK(payload_size(decoded->value) <= message.size());
    std::vector<std::uint8_t> buffer(message.size() + 64);
    if (decoded->status == MOTE_STATUS_OK) {
      if (expected != wire::kAnyType) FUZZ_CHECK(type_of(decoded->value) == expected);
      const auto n = wire::encode_result(buffer, decoded->value);
      FUZZ_CHECK(n.has_value());  // the guest's message fitted, so the re-encoding fits
      const auto again = wire::decode_result(std::span(buffer).first(*n), expected);
      FUZZ_CHECK(again.has_value() && again->status == MOTE_STATUS_OK);
      FUZZ_CHECK(same_value(again->value, decoded->value));
    } else {
      const auto* text = std::get_if<std::string>(&decoded->value);
      FUZZ_CHECK(text != nullptr);
      const std::size_t n = wire::encode_error(buffer, decoded->status, *text);
      const auto again = wire::decode_result(std::span(buffer).first(n), expected);
      FUZZ_CHECK(again.has_value() && again->status == decoded->status);
      FUZZ_CHECK(same_value(again->value, decoded->value));
    }
  }
}

void check_host_call(std::span<const std::uint8_t> message) {
  const auto call = wire::decode_host_call(message);
  if (!call) return;
  FUZZ_CHECK(!call->name.empty() && call->name.size() <= MOTE_MAX_NAME);
  FUZZ_CHECK(call->args.size() <= MOTE_MAX_PARAMS);
  for (const Value& arg : call->args) {
    FUZZ_CHECK(type_of(arg) != ValueType::Void);
    FUZZ_CHECK(payload_size(arg) <= message.size());
  }
}

void check_coded_text(std::span<const std::uint8_t> message) {
  const std::pair<std::uint16_t, std::size_t> cases[] = {
      {MOTE_MSG_LOG, MOTE_MAX_LOG_MESSAGE}, {MOTE_MSG_ABORT, MOTE_MAX_ABORT_MESSAGE},
      {MOTE_MSG_LOG, 0}, {MOTE_MSG_ABORT, 7}, {MOTE_MSG_RESULT, ~std::size_t{0}}};
  for (const auto& [kind, max_text] : cases) {
    const auto text = wire::decode_coded_text(message, kind, max_text);
    if (!text) continue;
    FUZZ_CHECK(text->text.size() <= max_text && text->text.size() <= message.size());
  }
}

void check_function_table(std::span<const std::uint8_t> message) {
  const auto table = wire::decode_function_table(message);
  if (!table) return;
  FUZZ_CHECK(table->size() <= MOTE_MAX_FUNCTIONS);
  std::unordered_set<std::string> names;
  for (const FunctionSignature& f : *table) {
    FUZZ_CHECK(!f.name.empty() && f.name.size() <= MOTE_MAX_NAME);
    FUZZ_CHECK(names.insert(f.name).second);
    FUZZ_CHECK(static_cast<unsigned>(f.result) < MOTE_TYPE_COUNT);
    FUZZ_CHECK(f.params.size() <= MOTE_MAX_PARAMS);
    for (const ValueType p : f.params) {
      FUZZ_CHECK(p != ValueType::Void && static_cast<unsigned>(p) < MOTE_TYPE_COUNT);
    }
  }
}

}  // namespace
}  // namespace mote::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The host decodes a private copy of the guest's bytes: a heap copy of exactly the message
  // lets ASan see any read past its end.
  const std::vector<std::uint8_t> copy(data, data + size);
  const std::span<const std::uint8_t> message(copy);
  mote::fuzz::check_kind(message);
  mote::fuzz::check_announced_size(message);
  mote::fuzz::check_result(message);
  mote::fuzz::check_host_call(message);
  mote::fuzz::check_coded_text(message);
  mote::fuzz::check_function_table(message);
  return 0;
}
