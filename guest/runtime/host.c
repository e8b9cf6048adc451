/* Messages to the host besides the result: host calls, log records and the abort record. */
#include "runtime.h"

/* ---- Host calls ---- */

/* Fills *out with a failure detected here; the message is a heap copy (NULL without heap). */
static uint32_t fail(mote_host_result* out, uint32_t status, const char* format, ...)
    MOTE_PRINTF(3, 4);
static uint32_t fail(mote_host_result* out, uint32_t status, const char* format, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, format);
  int n = mote_vsnprintf(msg, sizeof msg, format, ap);
  va_end(ap);
  size_t len = (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;
  *out = (mote_host_result){.status = status, .data = mote_alloc(len + 1)};
  if (out->data) {
    memcpy(out->data, msg, len + 1);
    out->size = len;
  }
  return status;
}

/* A heap copy of len bytes plus a NUL, or NULL. */
static char* copy_out(const uint8_t* src, size_t len) {
  char* p = mote_alloc(len + 1);
  if (p) {
    memcpy(p, src, len);
    p[len] = '\0';
  }
  return p;
}

/* Reads the RESULT the host wrote over our request. */
static uint32_t read_answer(const char* name, uint8_t ret_type, mote_host_result* out) {
  const uint8_t* msg = mote_rt_out();
  struct mote_message_header h;
  struct mote_result r;
  memcpy(&h, msg, sizeof h);
  memcpy(&r, msg + sizeof h, sizeof r);
  const struct mote_value* v = &r.value;
  if (h.magic != MOTE_MESSAGE_MAGIC || h.kind != MOTE_MSG_RESULT ||
      h.size < MOTE_RESULT_PAYLOAD_OFFSET || h.size > mote_rt_out_size())
    return fail(out, MOTE_STATUS_MALFORMED_MESSAGE,
                "%s: bad RESULT header from the host (magic 0x%x, kind %u, size %u)", name, h.magic,
                h.kind, h.size);
  if ((v->type == MOTE_TYPE_STRING || v->type == MOTE_TYPE_BYTES) &&
      (v->bits > h.size || v->size > h.size - v->bits))
    return fail(out, MOTE_STATUS_MALFORMED_MESSAGE,
                "%s: the host's %s (offset %lu, size %u) overruns its %u-byte answer", name,
                mote_rt_type_name(v->type), (unsigned long)v->bits, v->size, h.size);
  if (r.code != MOTE_STATUS_OK) {
    if (v->type != MOTE_TYPE_STRING)
      return fail(out, MOTE_STATUS_MALFORMED_MESSAGE, "%s: the host's error %u carries no message",
                  name, r.code);
    *out = (mote_host_result){.status = r.code, .data = copy_out(msg + v->bits, v->size)};
    out->size = out->data ? v->size : 0; /* without heap the code still gets through */
    return r.code;
  }
  if (v->type != ret_type)
    return fail(out, MOTE_STATUS_ARGUMENT_MISMATCH, "%s returned %s, expected %s", name,
                mote_rt_type_name(v->type), mote_rt_type_name(ret_type));
  *out = (mote_host_result){.status = MOTE_STATUS_OK, .type = v->type};
  switch (v->type) {
    case MOTE_TYPE_I32:
      out->as.i32 = (int32_t)v->bits;
      break;
    case MOTE_TYPE_U32:
      out->as.u32 = (uint32_t)v->bits;
      break;
    case MOTE_TYPE_I64:
      out->as.i64 = (int64_t)v->bits;
      break;
    case MOTE_TYPE_U64:
      out->as.u64 = v->bits;
      break;
    case MOTE_TYPE_F32:
      memcpy(&out->as.f32, &v->bits, sizeof out->as.f32);
      break; /* low half */
    case MOTE_TYPE_F64:
      memcpy(&out->as.f64, &v->bits, sizeof out->as.f64);
      break;
    case MOTE_TYPE_BOOL:
      out->as.b = v->bits != 0;
      break;
    case MOTE_TYPE_STRING:
    case MOTE_TYPE_BYTES:
      if ((out->data = copy_out(msg + v->bits, v->size)) == NULL)
        return fail(out, MOTE_STATUS_OUT_OF_MEMORY, "%s: no heap left for its %u-byte result", name,
                    v->size);
      out->size = v->size;
      break;
    default:
      break; /* void */
  }
  return MOTE_STATUS_OK;
}

uint32_t mote_call_host(const char* name, uint8_t ret_type, const mote_value_in* args,
                        uint32_t nargs, mote_host_result* out) {
  size_t name_size = name ? strnlen(name, MOTE_MAX_NAME + 1) : 0;
  if (name_size == 0 || name_size > MOTE_MAX_NAME)
    return fail(out, MOTE_STATUS_UNKNOWN_HOST_FUNCTION, "host function names are 1 to %u bytes",
                MOTE_MAX_NAME);
  if (ret_type >= MOTE_TYPE_COUNT)
    return fail(out, MOTE_STATUS_ARGUMENT_MISMATCH, "%s: invalid return type %u", name, ret_type);
  if (nargs > MOTE_MAX_PARAMS)
    return fail(out, MOTE_STATUS_ARGUMENT_MISMATCH, "%s: %u arguments (at most %u)", name, nargs,
                MOTE_MAX_PARAMS);
  size_t out_size = mote_rt_out_size();
  size_t total = MOTE_CALL_ARGS_OFFSET + nargs * sizeof(struct mote_value) + name_size;
  for (uint32_t i = 0; i < nargs; ++i) {
    uint8_t t = args[i].type;
    if (t == MOTE_TYPE_VOID || t >= MOTE_TYPE_COUNT)
      return fail(out, MOTE_STATUS_ARGUMENT_MISMATCH, "%s: argument %u has invalid type %u", name,
                  i, t);
    if (t == MOTE_TYPE_STRING || t == MOTE_TYPE_BYTES)
      total += args[i].as.buf.size < out_size ? args[i].as.buf.size : out_size; /* no overflow */
  }
  if (total > out_size)
    return fail(out, MOTE_STATUS_BUFFER_TOO_SMALL,
                "%s: the call needs more than the output buffer's %zu bytes", name, out_size);

  mote_rt_spill_result();
  uint8_t* msg = mote_rt_out();
  struct mote_value* values = (struct mote_value*)(msg + MOTE_CALL_ARGS_OFFSET);
  size_t at = MOTE_CALL_ARGS_OFFSET + nargs * sizeof(struct mote_value);
  memcpy(msg + at, name, name_size);
  *(struct mote_call*)(msg + sizeof(struct mote_message_header)) =
      (struct mote_call){.function_index = MOTE_INDEX_NONE,
                         .arg_count = nargs,
                         .name_offset = (uint32_t)at,
                         .name_size = (uint32_t)name_size};
  at += name_size;
  for (uint32_t i = 0; i < nargs; ++i) {
    const mote_value_in* a = &args[i];
    struct mote_value v = {.type = a->type};
    switch (a->type) {
      case MOTE_TYPE_I32:
        v.bits = (uint64_t)(int64_t)a->as.i32;
        break;
      case MOTE_TYPE_U32:
        v.bits = a->as.u32;
        break;
      case MOTE_TYPE_I64:
        v.bits = (uint64_t)a->as.i64;
        break;
      case MOTE_TYPE_U64:
        v.bits = a->as.u64;
        break;
      case MOTE_TYPE_F32:
        memcpy(&v.bits, &a->as.f32, sizeof a->as.f32);
        break; /* high half stays 0 */
      case MOTE_TYPE_F64:
        memcpy(&v.bits, &a->as.f64, sizeof a->as.f64);
        break;
      case MOTE_TYPE_BOOL:
        v.bits = a->as.b ? 1 : 0;
        break;
      default: /* STRING, BYTES */
        memmove(msg + at, a->as.buf.data, a->as.buf.size);
        v.bits = at;
        v.size = (uint32_t)a->as.buf.size;
        at += a->as.buf.size;
        break;
    }
    values[i] = v;
  }
  *(struct mote_message_header*)msg = (struct mote_message_header){
      .magic = MOTE_MESSAGE_MAGIC, .kind = MOTE_MSG_HOST_CALL, .size = (uint32_t)at};
  MOTE_RT_OUT(MOTE_PORT_HOST_CALL);
  return read_answer(name, ret_type, out);
}

void mote_host_result_free(mote_host_result* result) {
  mote_free(result->data);
  result->data = NULL;
  result->size = 0;
}

/* ---- Log ---- */

static bool log_enabled(uint32_t level) { return mote_rt_boot && level >= mote_rt_boot->log_level; }

static size_t log_room(void) {
  size_t room = mote_rt_payload_room();
  return room < MOTE_MAX_LOG_MESSAGE ? room : MOTE_MAX_LOG_MESSAGE;
}

static void send_log(uint32_t level, size_t len) {
  mote_rt_write_record(MOTE_MSG_LOG, level, MOTE_TYPE_STRING, (uint32_t)len,
                       MOTE_RESULT_PAYLOAD_OFFSET);
  MOTE_RT_OUT(MOTE_PORT_LOG);
}

void mote_log_n(uint32_t level, const char* message, size_t len) {
  if (!log_enabled(level)) return;
  mote_rt_spill_result();
  if (len > log_room()) len = log_room();
  memmove(mote_rt_out() + MOTE_RESULT_PAYLOAD_OFFSET, message, len);
  send_log(level, len);
}

void mote_log(uint32_t level, const char* message) { mote_log_n(level, message, strlen(message)); }

void mote_logf(uint32_t level, const char* format, ...) {
  if (!log_enabled(level)) return;
  mote_rt_spill_result();
  size_t cap =
      log_room() < mote_rt_payload_room() ? log_room() + 1 : mote_rt_payload_room(); /* + NUL */
  va_list ap;
  va_start(ap, format);
  int n = mote_vsnprintf((char*)mote_rt_out() + MOTE_RESULT_PAYLOAD_OFFSET, cap, format, ap);
  va_end(ap);
  send_log(level, (size_t)n < cap ? (size_t)n : cap - 1);
}

/* ---- Abort ---- */

static size_t abort_room(void) {
  size_t room = mote_rt_payload_room();
  return room < MOTE_MAX_ABORT_MESSAGE ? room : MOTE_MAX_ABORT_MESSAGE;
}

MOTE_NORETURN static void send_abort(uint32_t code, size_t len) {
  mote_rt_write_record(MOTE_MSG_ABORT, code, MOTE_TYPE_STRING, (uint32_t)len,
                       MOTE_RESULT_PAYLOAD_OFFSET);
  MOTE_RT_OUT(MOTE_PORT_ABORT);
  for (;;) __builtin_trap(); /* never resumed */
}

void mote_abort_n(uint32_t code, const char* message, size_t len) {
  if (mote_rt_boot == NULL)
    for (;;) __builtin_trap(); /* before init: no output buffer */
  if (len > abort_room()) len = abort_room();
  memmove(mote_rt_out() + MOTE_RESULT_PAYLOAD_OFFSET, message, len);
  send_abort(code, len);
}

void mote_abort(uint32_t code, const char* message) {
  mote_abort_n(code, message ? message : "", message ? strlen(message) : 0);
}

void mote_abortf(uint32_t code, const char* format, ...) {
  if (mote_rt_boot == NULL)
    for (;;) __builtin_trap();
  size_t cap = abort_room() < mote_rt_payload_room() ? abort_room() + 1 : mote_rt_payload_room();
  va_list ap;
  va_start(ap, format);
  int n = mote_vsnprintf((char*)mote_rt_out() + MOTE_RESULT_PAYLOAD_OFFSET, cap, format, ap);
  va_end(ap);
  send_abort(code, (size_t)n < cap ? (size_t)n : cap - 1);
}
