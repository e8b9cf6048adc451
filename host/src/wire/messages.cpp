// Wire messages: encoder and validating decoders for the abi.h message layout.
#include "wire/messages.hpp"

#include <bit>
#include <cstring>
#include <unordered_set>

#include <fmt/format.h>

#include "mote/abi.h"

namespace mote::wire {

namespace {

constexpr std::size_t kHeader = sizeof(mote_message_header);

Error protocol(std::string message) { return Error(ErrorKind::GuestProtocol, std::move(message)); }

template <class T>
T load(std::span<const std::uint8_t> bytes, std::size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

template <class T>
void store(std::span<std::uint8_t> bytes, std::size_t offset, const T& value) {
  std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

constexpr std::size_t align8(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

void store_header(std::span<std::uint8_t> buffer, std::uint16_t kind, std::size_t size) {
  mote_message_header h{};
  h.magic = MOTE_MESSAGE_MAGIC;
  h.kind = kind;
  h.size = static_cast<std::uint32_t>(size);
  store(buffer, 0, h);
}

bool is_variable(std::uint8_t type) { return type == MOTE_TYPE_STRING || type == MOTE_TYPE_BYTES; }

// Checks a guest-written value against the message bounds and turns it into a Value.
Result<Value> decode_value(std::span<const std::uint8_t> message, const mote_value& v) {
  switch (v.type) {
    case MOTE_TYPE_VOID:
      if (v.bits != 0 || v.size != 0) return std::unexpected(protocol("void value with content"));
      return Value{};
    case MOTE_TYPE_I32: {
      const auto low = static_cast<std::int32_t>(static_cast<std::uint32_t>(v.bits));
      if (static_cast<std::uint64_t>(static_cast<std::int64_t>(low)) != v.bits) {
        return std::unexpected(protocol(fmt::format("i32 value 0x{:x} is not sign-extended", v.bits)));
      }
      return Value{low};
    }
    case MOTE_TYPE_U32:
    case MOTE_TYPE_F32:
      if (v.bits > 0xffff'ffffull) {
        return std::unexpected(protocol(fmt::format("32-bit value 0x{:x} has high bits set", v.bits)));
      }
      if (v.type == MOTE_TYPE_U32) return Value{static_cast<std::uint32_t>(v.bits)};
      return Value{std::bit_cast<float>(static_cast<std::uint32_t>(v.bits))};
    case MOTE_TYPE_I64:
      return Value{static_cast<std::int64_t>(v.bits)};
    case MOTE_TYPE_U64:
      return Value{v.bits};
    case MOTE_TYPE_F64:
      return Value{std::bit_cast<double>(v.bits)};
    case MOTE_TYPE_BOOL:
      if (v.bits > 1) return std::unexpected(protocol(fmt::format("bool value {} is not 0 or 1", v.bits)));
      return Value{v.bits == 1};
    case MOTE_TYPE_STRING:
    case MOTE_TYPE_BYTES: {
      if (v.bits > message.size() || v.size > message.size() - v.bits) {
        return std::unexpected(protocol(fmt::format(
            "value bytes at offset {} size {} exceed the {}-byte message", v.bits, v.size, message.size())));
      }
      const auto* first = message.data() + v.bits;
      if (v.type == MOTE_TYPE_STRING) return Value{std::string(first, first + v.size)};
      return Value{Bytes(first, first + v.size)};
    }
    default:
      return std::unexpected(protocol(fmt::format("unknown value type {}", v.type)));
  }
}

// Writes one value record at `record` and its bytes (if any) at `*payload`; false if no room.
bool put_value(std::span<std::uint8_t> buffer, std::size_t record, std::size_t* payload,
               const detail::WireArg& arg) {
  mote_value v{};
  v.type = static_cast<std::uint8_t>(arg.type);
  if (is_variable(v.type)) {
    const bool nul = arg.type == ValueType::String;
    if (buffer.size() < (nul ? 1u : 0u)) return false;
    const std::size_t room = buffer.size() - (nul ? 1 : 0);
    if (arg.size > room || *payload > room - arg.size) return false;
    if (arg.size != 0) std::memcpy(buffer.data() + *payload, arg.data, arg.size);
    if (nul) buffer[*payload + arg.size] = 0;
    v.bits = *payload;
    v.size = static_cast<std::uint32_t>(arg.size);
    *payload = align8(*payload + arg.size + (nul ? 1 : 0));
  } else {
    v.bits = arg.bits;
  }
  store(buffer, record, v);
  return true;
}

}  // namespace

Result<std::size_t> encode_call(std::span<std::uint8_t> buffer, std::uint32_t index,
                                std::span<const detail::WireArg> args) {
  const std::size_t records = MOTE_CALL_ARGS_OFFSET + args.size() * sizeof(mote_value);
  std::size_t payload = records;
  bool fits = records <= buffer.size() && args.size() <= MOTE_MAX_PARAMS;
  for (std::size_t i = 0; fits && i < args.size(); ++i) {
    fits = put_value(buffer, MOTE_CALL_ARGS_OFFSET + i * sizeof(mote_value), &payload, args[i]);
  }
  if (!fits || payload > buffer.size() || payload > UINT32_MAX) {
    std::uint64_t needed = records;
    for (const auto& a : args) {
      if (a.type == ValueType::String || a.type == ValueType::Bytes) needed += align8(a.size + 1);
    }
    return fail(ErrorKind::InputTooLarge,
                fmt::format("the call needs {} bytes but the input buffer holds {}", needed,
                            buffer.size()));
  }
  store_header(buffer, MOTE_MSG_CALL, payload);
  mote_call call{};
  call.function_index = index;
  call.arg_count = static_cast<std::uint32_t>(args.size());
  store(buffer, kHeader, call);
  return payload;
}

namespace {
detail::WireArg wire_arg_of(const Value& value) {
  detail::WireArg a{type_of(value)};
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          a.data = reinterpret_cast<const std::uint8_t*>(v.data());
          a.size = v.size();
        } else if constexpr (std::is_same_v<T, Bytes>) {
          a.data = v.data();
          a.size = v.size();
        } else if constexpr (!std::is_same_v<T, std::monostate>) {
          a = detail::to_wire_arg(v);
        }
      },
      value);
  return a;
}

std::size_t encode_result_record(std::span<std::uint8_t> buffer, std::uint32_t status,
                                 const detail::WireArg& arg, bool* fits) {
  std::size_t payload = MOTE_RESULT_PAYLOAD_OFFSET;
  *fits = buffer.size() >= MOTE_RESULT_PAYLOAD_OFFSET &&
          put_value(buffer, kHeader + offsetof(mote_result, value), &payload, arg);
  *fits = *fits && payload <= buffer.size();
  if (!*fits) return 0;
  store_header(buffer, MOTE_MSG_RESULT, payload);
  store(buffer, kHeader, status);
  store(buffer, kHeader + 4, std::uint32_t{0});
  return payload;
}
}  // namespace

Result<std::size_t> encode_result(std::span<std::uint8_t> buffer, const Value& value) {
  bool fits = false;
  const std::size_t n = encode_result_record(buffer, MOTE_STATUS_OK, wire_arg_of(value), &fits);
  if (!fits) {
    return fail(ErrorKind::InputTooLarge,
                fmt::format("the host function's result does not fit the {}-byte output buffer",
                            buffer.size()));
  }
  return n;
}

std::size_t encode_error(std::span<std::uint8_t> buffer, std::uint32_t status,
                         std::string_view message) {
  const std::size_t room = buffer.size() > MOTE_RESULT_PAYLOAD_OFFSET + 8
                               ? buffer.size() - MOTE_RESULT_PAYLOAD_OFFSET - 8
                               : 0;
  message = message.substr(0, room);
  detail::WireArg arg{ValueType::String, 0, reinterpret_cast<const std::uint8_t*>(message.data()),
                      message.size()};
  bool fits = false;
  return encode_result_record(buffer, status, arg, &fits);
}

Result<std::uint32_t> announced_size(std::span<const std::uint8_t> header, std::uint64_t capacity) {
  if (header.size() < kHeader) return std::unexpected(protocol("message shorter than its header"));
  const auto h = load<mote_message_header>(header, 0);
  if (h.magic != MOTE_MESSAGE_MAGIC) {
    return std::unexpected(protocol(fmt::format("bad message magic 0x{:08x}", h.magic)));
  }
  if (h.size < kHeader || h.size > capacity) {
    return std::unexpected(protocol(fmt::format(
        "message size {} outside [{}, {}] (the buffer's size)", h.size, kHeader, capacity)));
  }
  return h.size;
}

Result<std::uint16_t> message_kind(std::span<const std::uint8_t> message) {
  const std::uint32_t size = MOTE_TRY(announced_size(message, message.size()));
  if (size != message.size()) return std::unexpected(protocol("message size changed while copied"));
  return load<mote_message_header>(message, 0).kind;
}

namespace {
Result<void> expect_kind(std::span<const std::uint8_t> message, std::uint16_t kind,
                         std::size_t fixed) {
  const std::uint16_t got = MOTE_TRY(message_kind(message));
  if (got != kind) {
    return std::unexpected(protocol(fmt::format("expected message kind {}, got {}", kind, got)));
  }
  if (message.size() < fixed) {
    return std::unexpected(protocol(fmt::format("message of kind {} is {} bytes, needs at least {}",
                                                kind, message.size(), fixed)));
  }
  return {};
}
}  // namespace

Result<ResultMessage> decode_result(std::span<const std::uint8_t> message, ValueType expected) {
  MOTE_TRY_VOID(expect_kind(message, MOTE_MSG_RESULT, MOTE_RESULT_PAYLOAD_OFFSET));
  const auto r = load<mote_result>(message, kHeader);
  ResultMessage out;
  out.status = r.code;
  if (r.code != MOTE_STATUS_OK) {
    if (r.value.type != MOTE_TYPE_STRING) {
      return std::unexpected(protocol("an error result must carry a string message"));
    }
  } else if (expected != kAnyType && r.value.type != static_cast<std::uint8_t>(expected)) {
    return std::unexpected(protocol(fmt::format("the guest returned a value of type {}, its "
                                                 "signature says {}",
                                                 r.value.type < MOTE_TYPE_COUNT
                                                     ? to_string(static_cast<ValueType>(r.value.type))
                                                     : std::string_view("invalid"),
                                                 to_string(expected))));
  }
  out.value = MOTE_TRY(decode_value(message, r.value));
  return out;
}

Result<HostCallMessage> decode_host_call(std::span<const std::uint8_t> message) {
  MOTE_TRY_VOID(expect_kind(message, MOTE_MSG_HOST_CALL, MOTE_CALL_ARGS_OFFSET));
  const auto call = load<mote_call>(message, kHeader);
  if (call.arg_count > MOTE_MAX_PARAMS ||
      MOTE_CALL_ARGS_OFFSET + std::size_t{call.arg_count} * sizeof(mote_value) > message.size()) {
    return std::unexpected(protocol(fmt::format("host call with {} arguments does not fit its "
                                                "{}-byte message", call.arg_count, message.size())));
  }
  if (call.name_size == 0 || call.name_size > MOTE_MAX_NAME || call.name_offset > message.size() ||
      call.name_size > message.size() - call.name_offset) {
    return std::unexpected(protocol("host call name is empty, too long or outside the message"));
  }
  HostCallMessage out;
  out.name.assign(reinterpret_cast<const char*>(message.data()) + call.name_offset, call.name_size);
  out.args.reserve(call.arg_count);
  for (std::uint32_t i = 0; i < call.arg_count; ++i) {
    const auto v = load<mote_value>(message, MOTE_CALL_ARGS_OFFSET + i * sizeof(mote_value));
    if (v.type == MOTE_TYPE_VOID) return std::unexpected(protocol("void host-call argument"));
    out.args.push_back(MOTE_TRY(decode_value(message, v)));
  }
  return out;
}

Result<CodedText> decode_coded_text(std::span<const std::uint8_t> message, std::uint16_t kind,
                                    std::size_t max_text) {
  MOTE_TRY_VOID(expect_kind(message, kind, MOTE_RESULT_PAYLOAD_OFFSET));
  auto r = load<mote_result>(message, kHeader);
  if (r.value.type != MOTE_TYPE_STRING) return std::unexpected(protocol("text record without a string"));
  // The whole announced range must lie in the message, even the part cut off below.
  if (r.value.bits > message.size() || r.value.size > message.size() - r.value.bits) {
    return std::unexpected(protocol("text record outside the message"));
  }
  r.value.size = static_cast<std::uint32_t>(std::min<std::uint64_t>(r.value.size, max_text));
  Value text = MOTE_TRY(decode_value(message, r.value));
  return CodedText{r.code, std::get<std::string>(std::move(text))};
}

Result<std::vector<FunctionSignature>> decode_function_table(std::span<const std::uint8_t> message) {
  constexpr std::size_t kEntries = kHeader + sizeof(mote_function_table);
  MOTE_TRY_VOID(expect_kind(message, MOTE_MSG_FUNCTION_TABLE, kEntries));
  const auto table = load<mote_function_table>(message, kHeader);
  if (table.count > MOTE_MAX_FUNCTIONS ||
      kEntries + std::size_t{table.count} * sizeof(mote_function_entry) > message.size()) {
    return std::unexpected(protocol(fmt::format("function table of {} entries does not fit its "
                                                "{}-byte message", table.count, message.size())));
  }
  std::vector<FunctionSignature> out;
  out.reserve(table.count);
  std::unordered_set<std::string> seen;
  for (std::uint32_t i = 0; i < table.count; ++i) {
    const auto e = load<mote_function_entry>(message, kEntries + i * sizeof(mote_function_entry));
    if (e.name_size == 0 || e.name_size > MOTE_MAX_NAME || e.name_offset > message.size() ||
        e.name_size > message.size() - e.name_offset) {
      return std::unexpected(protocol(fmt::format("function {} has a bad name range", i)));
    }
    if (e.param_count > MOTE_MAX_PARAMS || e.return_type >= MOTE_TYPE_COUNT) {
      return std::unexpected(protocol(fmt::format("function {} has a bad signature", i)));
    }
    FunctionSignature sig;
    sig.name.assign(reinterpret_cast<const char*>(message.data()) + e.name_offset, e.name_size);
    sig.result = static_cast<ValueType>(e.return_type);
    for (std::uint8_t p = 0; p < e.param_count; ++p) {
      if (e.param_types[p] == MOTE_TYPE_VOID || e.param_types[p] >= MOTE_TYPE_COUNT) {
        return std::unexpected(protocol(fmt::format("function {} has a bad parameter type", sig.name)));
      }
      sig.params.push_back(static_cast<ValueType>(e.param_types[p]));
    }
    if (!seen.insert(sig.name).second) {
      return std::unexpected(protocol(fmt::format("function {} is exported twice", sig.name)));
    }
    out.push_back(std::move(sig));
  }
  return out;
}

}  // namespace mote::wire
