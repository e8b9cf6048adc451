/* hostile_result: a test guest that ends calls with hand-made, malformed messages. */
/* RESULT (and LOG, ABORT, HOST_CALL) messages written straight into the output buffer and sent
 * with a raw `out`, to pin down each of the host's checks. */
#include "hostile.h"

#define MAGIC MOTE_MESSAGE_MAGIC
#define RESULT MOTE_MSG_RESULT
#define HEADER ((uint32_t)sizeof(struct mote_message_header))
#define PAYLOAD ((uint32_t)MOTE_RESULT_PAYLOAD_OFFSET) /* 40: header + mote_result */
#define USER_CODE 300u                                 /* a guest's own error code */

/* A RESULT with status OK and a scalar value, then RETURN. */
static _Noreturn void scalar(uint8_t type, uint64_t bits) {
  hostile_record(MAGIC, RESULT, PAYLOAD, MOTE_STATUS_OK, type, 0, bits);
  hostile_return();
}

/* A RESULT of `size` bytes whose value is a STRING at (offset, length), then RETURN. */
static _Noreturn void string_at(uint32_t size, uint32_t code, uint64_t offset, uint32_t length) {
  memcpy(hostile_out() + PAYLOAD, "hostile!", 8);
  hostile_record(MAGIC, RESULT, size, code, MOTE_TYPE_STRING, length, offset);
  hostile_return();
}

/* ---- Controls: hand-made but valid ---- */

/* A correct RESULT written by hand: i32 42. Proves the harness itself is sound. */
static void valid_handmade(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  scalar(MOTE_TYPE_I32, 42);
}

/* A valid string filling the whole output buffer: accepted. */
static void string_fills_buffer(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  uint32_t size = hostile_out_size();
  memset(hostile_out() + PAYLOAD, 'x', size - PAYLOAD);
  hostile_record(MAGIC, RESULT, size, MOTE_STATUS_OK, MOTE_TYPE_STRING, size - PAYLOAD, PAYLOAD);
  hostile_return();
}

/* An empty string whose offset is the message's end: accepted (the range is empty). */
static void string_empty_at_end(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  string_at(PAYLOAD, MOTE_STATUS_OK, PAYLOAD, 0);
}

/* ---- String ranges outside the message or the buffer ---- */

static void string_offset_huge(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  string_at(PAYLOAD + 8, MOTE_STATUS_OK, 0xFFFFFFFFFFFFFFF0ull, 4);
}

/* offset + size wraps around 2^64 to a small number: must still be refused. */
static void string_offset_wraps(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  string_at(PAYLOAD + 8, MOTE_STATUS_OK, 0xFFFFFFFFFFFFFFF8ull, 16);
}

static void string_size_huge(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  string_at(PAYLOAD + 8, MOTE_STATUS_OK, PAYLOAD, 0xFFFFFFFFu);
}

/* Inside the output buffer but past the message's announced end. */
static void string_past_message(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  string_at(PAYLOAD + 8, MOTE_STATUS_OK, PAYLOAD, 100);
}

/* ---- Headers ---- */

static void header_size_over_buffer(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  hostile_record(MAGIC, RESULT, hostile_out_size() + 1, MOTE_STATUS_OK, MOTE_TYPE_I32, 0, 1);
  hostile_return();
}

static void header_size_max(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  hostile_record(MAGIC, RESULT, 0xFFFFFFFFu, MOTE_STATUS_OK, MOTE_TYPE_I32, 0, 1);
  hostile_return();
}

static void header_size_under_header(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  hostile_record(MAGIC, RESULT, 8, MOTE_STATUS_OK, MOTE_TYPE_I32, 0, 1);
  hostile_return();
}

/* A whole header, but too short for the mote_result after it. */
static void header_size_under_result(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  hostile_record(MAGIC, RESULT, HEADER + 8, MOTE_STATUS_OK, MOTE_TYPE_I32, 0, 1);
  hostile_return();
}

static void bad_magic(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  hostile_record(0x4d4f5445u, RESULT, PAYLOAD, MOTE_STATUS_OK, MOTE_TYPE_I32, 0, 1);
  hostile_return();
}

/* RETURN with an output buffer of zeros (no message at all). */
static void zeroed_output(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  memset(hostile_out(), 0, 256);
  hostile_return();
}

static void wrong_kind_log(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  hostile_record(MAGIC, MOTE_MSG_LOG, PAYLOAD, MOTE_STATUS_OK, MOTE_TYPE_I32, 0, 1);
  hostile_return();
}

static void wrong_kind_unknown(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  hostile_record(MAGIC, 0xFFFF, PAYLOAD, MOTE_STATUS_OK, MOTE_TYPE_I32, 0, 1);
  hostile_return();
}

/* ---- Values that disagree with the signature or their type's rules ---- */

/* A well-formed string, from a function declared i32. */
static void string_for_i32(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  string_at(PAYLOAD + 8, MOTE_STATUS_OK, PAYLOAD, 8);
}

static void i64_for_i32(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  scalar(MOTE_TYPE_I64, 1);
}

static void void_for_string(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  scalar(MOTE_TYPE_VOID, 0);
}

static void invalid_type(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  scalar(200, 1);
}

static void bool_seven(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  scalar(MOTE_TYPE_BOOL, 7);
}

/* -2^31 zero-extended instead of sign-extended. */
static void i32_not_sign_extended(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  scalar(MOTE_TYPE_I32, 0x80000000ull);
}

/* A positive i32 with garbage in the high half. */
static void i32_high_garbage(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  scalar(MOTE_TYPE_I32, 0x100000001ull);
}

static void u32_high_bits(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  scalar(MOTE_TYPE_U32, 0x100000000ull);
}

static void f32_high_bits(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  scalar(MOTE_TYPE_F32, 0xFFFFFFFF3F800000ull); /* 1.0f with a dirty high half */
}

static void void_with_content(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  scalar(MOTE_TYPE_VOID, 1);
}

/* ---- Error statuses ---- */

/* An error status whose value is an i32, not a message. */
static void error_not_string(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  hostile_record(MAGIC, RESULT, PAYLOAD, USER_CODE, MOTE_TYPE_I32, 0, 1);
  hostile_return();
}

static void error_unknown_type(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  hostile_record(MAGIC, RESULT, PAYLOAD, USER_CODE, 99, 0, 0);
  hostile_return();
}

/* An error message that overruns its message. */
static void error_string_outside(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  string_at(PAYLOAD + 8, USER_CODE, PAYLOAD, 1000);
}

/* A status below MOTE_STATUS_USER_BASE that the SDK would refuse: the host cannot tell it from a
 * real one, and reports it as the guest's error (no poisoning). */
static void forged_mote_status(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  string_at(PAYLOAD + 8, MOTE_STATUS_UNKNOWN_FUNCTION, PAYLOAD, 8);
}

static void error_max_code(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  string_at(PAYLOAD + 8, 0xFFFFFFFFu, PAYLOAD, 8);
}

/* ---- The other guest -> host messages, by hand ---- */

/* A HOST_CALL message: header, mote_call, `nargs` values from `values`, then the name "host_noop".
 * Returns the message size. */
static uint32_t host_call_message(uint32_t nargs, const struct mote_value* values,
                                  uint32_t name_offset, uint32_t name_size) {
  uint8_t* out = hostile_out();
  uint32_t at = (uint32_t)MOTE_CALL_ARGS_OFFSET;
  for (uint32_t i = 0; i < nargs; ++i, at += sizeof(struct mote_value))
    memcpy(out + at, &values[i], sizeof values[i]);
  memcpy(out + at, "host_noop", 9);
  if (name_offset == 0) name_offset = at;
  at += 9;
  struct mote_call c = {.function_index = MOTE_INDEX_NONE,
                        .arg_count = nargs,
                        .name_offset = name_offset,
                        .name_size = name_size};
  memcpy(out + HEADER, &c, sizeof c);
  struct mote_message_header h = {.magic = MAGIC, .kind = MOTE_MSG_HOST_CALL, .size = at};
  memcpy(out, &h, sizeof h);
  return at;
}

/* Variant v of a malformed HOST_CALL, sent on MOTE_PORT_HOST_CALL. Returns the host's answer
 * status if the host ever answers (it must not). */
static void bad_host_call(const mote_args* a, mote_ret* r) {
  struct mote_value one = {.type = MOTE_TYPE_I32, .bits = 1};
  struct mote_value v = one;
  uint32_t nargs = 1, name_offset = 0, name_size = 9;
  switch (mote_arg_u32(a, 0)) {
    case 0: nargs = 17; break;                               /* > MOTE_MAX_PARAMS */
    case 1: nargs = 0; name_size = 0; break;                 /* empty name */
    case 2: name_size = 256; break;                          /* > MOTE_MAX_NAME */
    case 3: name_offset = 0xFFFFFFF0u; break;                /* name outside the message */
    case 4: v = (struct mote_value){.type = MOTE_TYPE_VOID}; break;            /* void argument */
    case 5: v = (struct mote_value){.type = MOTE_TYPE_STRING, .size = 5, .bits = 1u << 20}; break;
    case 6: v = (struct mote_value){.type = MOTE_TYPE_BOOL, .bits = 2}; break;
    case 7: v = (struct mote_value){.type = MOTE_TYPE_I32, .bits = 0xFFFFFFFFull}; break;
    case 8: v = (struct mote_value){.type = 77}; break;                        /* unknown type */
    default: nargs = 0xFFFFFFFFu; break; /* arg_count whose byte size overflows 32 bits */
  }
  struct mote_value values[17];
  for (int i = 0; i < 17; ++i) values[i] = v;
  uint32_t size = host_call_message(nargs > 17 ? 0 : nargs, values, name_offset, name_size);
  if (nargs > 17) { /* announce the absurd count without writing its records */
    struct mote_call c = {MOTE_INDEX_NONE, nargs, size - 9, 9};
    memcpy(hostile_out() + HEADER, &c, sizeof c);
  }
  HOSTILE_OUT(MOTE_PORT_HOST_CALL);
  mote_ret_i32(r, -1); /* only reached if the host answered */
}

/* Variant v of a LOG record, sent on MOTE_PORT_LOG; the call then returns normally (void). */
static void bad_log(const mote_args* a, mote_ret* r) {
  (void)r;
  uint32_t size = hostile_out_size();
  switch (mote_arg_u32(a, 0)) {
    case 0: /* an i32 instead of a message */
      hostile_record(MAGIC, MOTE_MSG_LOG, PAYLOAD, MOTE_LOG_WARN, MOTE_TYPE_I32, 0, 5);
      break;
    case 1: /* a message overrunning the record */
      hostile_record(MAGIC, MOTE_MSG_LOG, PAYLOAD + 4, MOTE_LOG_WARN, MOTE_TYPE_STRING, 5000,
                     PAYLOAD);
      break;
    case 2: /* a RESULT sent on the LOG port */
      hostile_record(MAGIC, RESULT, PAYLOAD, MOTE_STATUS_OK, MOTE_TYPE_I32, 0, 5);
      break;
    case 3: /* valid: a message of the whole buffer, longer than MOTE_MAX_LOG_MESSAGE */
      memset(hostile_out() + PAYLOAD, 'L', size - PAYLOAD);
      hostile_record(MAGIC, MOTE_MSG_LOG, size, MOTE_LOG_WARN, MOTE_TYPE_STRING, size - PAYLOAD,
                     PAYLOAD);
      break;
    default: /* valid: a level far above MOTE_LOG_ERROR */
      memcpy(hostile_out() + PAYLOAD, "loud", 4);
      hostile_record(MAGIC, MOTE_MSG_LOG, PAYLOAD + 4, 0xFFFFFFFFu, MOTE_TYPE_STRING, 4, PAYLOAD);
      break;
  }
  HOSTILE_OUT(MOTE_PORT_LOG);
}

/* Variant v of an ABORT record, sent on MOTE_PORT_ABORT. */
static void bad_abort(const mote_args* a, mote_ret* r) {
  (void)r;
  switch (mote_arg_u32(a, 0)) {
    case 0: /* an i32 instead of a message */
      hostile_record(MAGIC, MOTE_MSG_ABORT, PAYLOAD, 9, MOTE_TYPE_I32, 0, 5);
      break;
    case 1: /* bad magic */
      hostile_record(0, MOTE_MSG_ABORT, PAYLOAD, 9, MOTE_TYPE_STRING, 0, PAYLOAD);
      break;
    default: { /* valid, with a 5000-byte message: cut to MOTE_MAX_ABORT_MESSAGE */
      memset(hostile_out() + PAYLOAD, 'A', 5000);
      hostile_record(MAGIC, MOTE_MSG_ABORT, PAYLOAD + 5000, 9, MOTE_TYPE_STRING, 5000, PAYLOAD);
      break;
    }
  }
  HOSTILE_OUT(MOTE_PORT_ABORT);
  for (;;) __builtin_trap();
}

int mote_main(void) {
  static const struct {
    const char* name;
    const char* signature;
    mote_handler fn;
  } functions[] = {
      {"ping", "i32(i32)", hostile_ping},
      {"valid_handmade", "i32()", valid_handmade},
      {"string_fills_buffer", "string()", string_fills_buffer},
      {"string_empty_at_end", "string()", string_empty_at_end},
      {"string_offset_huge", "string()", string_offset_huge},
      {"string_offset_wraps", "string()", string_offset_wraps},
      {"string_size_huge", "string()", string_size_huge},
      {"string_past_message", "string()", string_past_message},
      {"header_size_over_buffer", "i32()", header_size_over_buffer},
      {"header_size_max", "i32()", header_size_max},
      {"header_size_under_header", "i32()", header_size_under_header},
      {"header_size_under_result", "i32()", header_size_under_result},
      {"bad_magic", "i32()", bad_magic},
      {"zeroed_output", "i32()", zeroed_output},
      {"wrong_kind_log", "i32()", wrong_kind_log},
      {"wrong_kind_unknown", "i32()", wrong_kind_unknown},
      {"string_for_i32", "i32()", string_for_i32},
      {"i64_for_i32", "i32()", i64_for_i32},
      {"void_for_string", "string()", void_for_string},
      {"invalid_type", "i32()", invalid_type},
      {"bool_seven", "bool()", bool_seven},
      {"i32_not_sign_extended", "i32()", i32_not_sign_extended},
      {"i32_high_garbage", "i32()", i32_high_garbage},
      {"u32_high_bits", "u32()", u32_high_bits},
      {"f32_high_bits", "f32()", f32_high_bits},
      {"void_with_content", "void()", void_with_content},
      {"error_not_string", "i32()", error_not_string},
      {"error_unknown_type", "i32()", error_unknown_type},
      {"error_string_outside", "i32()", error_string_outside},
      {"forged_mote_status", "i32()", forged_mote_status},
      {"error_max_code", "i32()", error_max_code},
      {"bad_host_call", "i32(u32)", bad_host_call},
      {"bad_log", "void(u32)", bad_log},
      {"bad_abort", "void(u32)", bad_abort},
  };
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; ++i) {
    int rc = mote_register(functions[i].name, functions[i].signature, functions[i].fn);
    if (rc != MOTE_REGISTER_OK) return rc;
  }
  return 0;
}
