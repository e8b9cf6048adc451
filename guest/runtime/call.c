/* One MOTE_OP_CALL: the CALL message checked against the signature, the arguments, the result. */
#include "runtime.h"

struct mote_args {
  const uint8_t* message; /* the CALL message, in the read-only input buffer */
  const struct mote_value* values;
  const struct mote_rt_function* fn;
};

enum ret_state { RET_NONE, RET_VALUE, RET_ERROR };

/* A STRING/BYTES value or an error message lives at MOTE_RESULT_PAYLOAD_OFFSET in the output
 * buffer ("staged"), or in `spilled` (heap) once something else needed the output buffer. */
struct mote_ret {
  const struct mote_rt_function* fn;
  enum ret_state state;
  uint32_t code;
  uint8_t type;
  uint32_t size;
  uint64_t bits;
  void* spilled;
};

/* The result of the running call, for mote_rt_spill_result(); NULL before the first call. Every
 * call puts its result at the same stack address, so this is written only when it changes: a call
 * that touches no global of its own leaves every data page clean (cheaper snapshot restores). */
static struct mote_ret* current;

/* ---- Arguments ---- */

static const struct mote_value* arg(const mote_args* args, uint32_t index, uint8_t type) {
  if (index >= args->fn->param_count || args->fn->param_types[index] != type)
    mote_abortf(
        MOTE_STATUS_ARGUMENT_MISMATCH, "%s: argument %u read as %s, but it is %s", args->fn->name,
        index, mote_rt_type_name(type),
        index < args->fn->param_count ? mote_rt_type_name(args->fn->param_types[index]) : "absent");
  return &args->values[index];
}

uint32_t mote_arg_count(const mote_args* args) { return args->fn->param_count; }
void* mote_user_data(const mote_args* args) { return args->fn->user_data; }
int32_t mote_arg_i32(const mote_args* a, uint32_t i) {
  return (int32_t)arg(a, i, MOTE_TYPE_I32)->bits;
}
uint32_t mote_arg_u32(const mote_args* a, uint32_t i) {
  return (uint32_t)arg(a, i, MOTE_TYPE_U32)->bits;
}
int64_t mote_arg_i64(const mote_args* a, uint32_t i) {
  return (int64_t)arg(a, i, MOTE_TYPE_I64)->bits;
}
uint64_t mote_arg_u64(const mote_args* a, uint32_t i) { return arg(a, i, MOTE_TYPE_U64)->bits; }
bool mote_arg_bool(const mote_args* a, uint32_t i) { return arg(a, i, MOTE_TYPE_BOOL)->bits != 0; }

float mote_arg_f32(const mote_args* a, uint32_t i) {
  uint32_t low = (uint32_t)arg(a, i, MOTE_TYPE_F32)->bits;
  float f;
  memcpy(&f, &low, sizeof f);
  return f;
}

double mote_arg_f64(const mote_args* a, uint32_t i) {
  double d;
  memcpy(&d, &arg(a, i, MOTE_TYPE_F64)->bits, sizeof d);
  return d;
}

const char* mote_arg_string(const mote_args* a, uint32_t i, size_t* len) {
  const struct mote_value* v = arg(a, i, MOTE_TYPE_STRING);
  if (len) *len = v->size;
  return (const char*)a->message + v->bits;
}

const uint8_t* mote_arg_bytes(const mote_args* a, uint32_t i, size_t* len) {
  const struct mote_value* v = arg(a, i, MOTE_TYPE_BYTES);
  if (len) *len = v->size;
  return a->message + v->bits;
}

/* ---- Results ---- */

static void expect_return_type(mote_ret* ret, uint8_t type) {
  if (ret->fn->return_type != type)
    mote_abortf(MOTE_STATUS_ARGUMENT_MISMATCH, "%s returns %s, but a %s result was set",
                ret->fn->name, mote_rt_type_name(ret->fn->return_type), mote_rt_type_name(type));
}

static void drop_previous(mote_ret* ret) {
  mote_free(ret->spilled);
  ret->spilled = NULL;
}

static void set_scalar(mote_ret* ret, uint8_t type, uint64_t bits) {
  expect_return_type(ret, type);
  drop_previous(ret);
  *ret = (struct mote_ret){.fn = ret->fn, .state = RET_VALUE, .type = type, .bits = bits};
}

void mote_ret_i32(mote_ret* r, int32_t v) { set_scalar(r, MOTE_TYPE_I32, (uint64_t)(int64_t)v); }
void mote_ret_u32(mote_ret* r, uint32_t v) { set_scalar(r, MOTE_TYPE_U32, v); }
void mote_ret_i64(mote_ret* r, int64_t v) { set_scalar(r, MOTE_TYPE_I64, (uint64_t)v); }
void mote_ret_u64(mote_ret* r, uint64_t v) { set_scalar(r, MOTE_TYPE_U64, v); }
void mote_ret_bool(mote_ret* r, bool v) { set_scalar(r, MOTE_TYPE_BOOL, v ? 1 : 0); }

void mote_ret_f32(mote_ret* r, float v) {
  uint32_t bits;
  memcpy(&bits, &v, sizeof bits);
  set_scalar(r, MOTE_TYPE_F32, bits);
}

void mote_ret_f64(mote_ret* r, double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  set_scalar(r, MOTE_TYPE_F64, bits);
}

/* Stages `len` payload bytes of a value or message; returns where they go. */
static uint8_t* stage(mote_ret* ret, enum ret_state state, uint32_t code, uint8_t type,
                      size_t len) {
  drop_previous(ret);
  *ret = (struct mote_ret){.fn = ret->fn,
                           .state = state,
                           .code = code,
                           .type = type,
                           .size = (uint32_t)len,
                           .bits = MOTE_RESULT_PAYLOAD_OFFSET};
  return mote_rt_out() + MOTE_RESULT_PAYLOAD_OFFSET;
}

static void set_message(mote_ret* ret, uint32_t code, const char* msg, size_t len) {
  size_t room = mote_rt_payload_room();
  if (len > room) len = room;
  memmove(stage(ret, RET_ERROR, code, MOTE_TYPE_STRING, len), msg, len);
}

void* mote_ret_buffer(mote_ret* ret, size_t len) {
  uint8_t type = ret->fn->return_type;
  if (type != MOTE_TYPE_STRING && type != MOTE_TYPE_BYTES) expect_return_type(ret, MOTE_TYPE_BYTES);
  if (len > mote_rt_payload_room()) {
    char msg[128];
    int n = mote_snprintf(msg, sizeof msg,
                          "%s: a %zu-byte result does not fit the output buffer (%zu bytes)",
                          ret->fn->name, len, mote_rt_payload_room());
    set_message(ret, MOTE_STATUS_BUFFER_TOO_SMALL, msg,
                (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
    return NULL;
  }
  return stage(ret, RET_VALUE, MOTE_STATUS_OK, type, len);
}

static int set_payload(mote_ret* ret, uint8_t type, const void* data, size_t len) {
  expect_return_type(ret, type);
  void* dst = mote_ret_buffer(ret, len);
  if (dst == NULL) return (int)MOTE_STATUS_BUFFER_TOO_SMALL;
  memmove(dst, data, len);
  return 0;
}

int mote_ret_string(mote_ret* r, const char* s, size_t len) {
  return set_payload(r, MOTE_TYPE_STRING, s, len);
}
int mote_ret_bytes(mote_ret* r, const void* p, size_t len) {
  return set_payload(r, MOTE_TYPE_BYTES, p, len);
}

void mote_ret_error_n(mote_ret* ret, uint32_t code, const char* message, size_t len) {
  if (code < MOTE_STATUS_USER_BASE)
    mote_abortf(MOTE_ABORT_RUNTIME_ERROR, "%s: error code %u is reserved (guest codes start at %u)",
                ret->fn->name, code, MOTE_STATUS_USER_BASE);
  set_message(ret, code, message, len);
}

void mote_ret_error(mote_ret* ret, uint32_t code, const char* message) {
  mote_ret_error_n(ret, code, message, strlen(message));
}

void mote_ret_errorf(mote_ret* ret, uint32_t code, const char* format, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, format);
  int n = mote_vsnprintf(msg, sizeof msg, format, ap);
  va_end(ap);
  mote_ret_error_n(ret, code, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
}

void mote_ret_host_result(mote_ret* ret, const mote_host_result* r) {
  if (r->status != MOTE_STATUS_OK) {
    set_message(ret, r->status, r->data ? r->data : "", r->data ? r->size : 0);
    return;
  }
  switch (r->type) {
    case MOTE_TYPE_VOID:
      expect_return_type(ret, MOTE_TYPE_VOID);
      drop_previous(ret);
      ret->state = RET_NONE;
      break;
    case MOTE_TYPE_I32:
      mote_ret_i32(ret, r->as.i32);
      break;
    case MOTE_TYPE_U32:
      mote_ret_u32(ret, r->as.u32);
      break;
    case MOTE_TYPE_I64:
      mote_ret_i64(ret, r->as.i64);
      break;
    case MOTE_TYPE_U64:
      mote_ret_u64(ret, r->as.u64);
      break;
    case MOTE_TYPE_F32:
      mote_ret_f32(ret, r->as.f32);
      break;
    case MOTE_TYPE_F64:
      mote_ret_f64(ret, r->as.f64);
      break;
    case MOTE_TYPE_BOOL:
      mote_ret_bool(ret, r->as.b);
      break;
    default:
      set_payload(ret, r->type, r->data, r->size);
      break;
  }
}

void mote_rt_spill_result(void) {
  struct mote_ret* r = current;
  bool staged =
      r && (r->state == RET_ERROR ||
            (r->state == RET_VALUE && (r->type == MOTE_TYPE_STRING || r->type == MOTE_TYPE_BYTES)));
  if (!staged || r->spilled || r->size == 0) return;
  if ((r->spilled = mote_alloc(r->size)) == NULL)
    mote_abortf(MOTE_STATUS_OUT_OF_MEMORY, "%s: no heap left to keep its %u-byte result aside",
                r->fn->name, r->size);
  memcpy(r->spilled, mote_rt_out() + MOTE_RESULT_PAYLOAD_OFFSET, r->size);
}

/* ---- Dispatch ---- */

/* Checks the CALL message field by field; on failure writes the RESULT and returns NULL. */
static const struct mote_rt_function* check_call(const uint8_t* in, size_t in_size) {
  const struct mote_message_header* h = (const struct mote_message_header*)in;
  const struct mote_call* c = (const struct mote_call*)(h + 1);
  if (in_size < MOTE_CALL_ARGS_OFFSET || h->magic != MOTE_MESSAGE_MAGIC ||
      h->kind != MOTE_MSG_CALL || h->size < MOTE_CALL_ARGS_OFFSET || h->size > in_size) {
    mote_rt_reply_error(MOTE_STATUS_MALFORMED_MESSAGE,
                        "bad CALL header (magic 0x%x, kind %u, size %u)", h->magic, h->kind,
                        h->size);
    return NULL;
  }
  if (c->function_index >= mote_rt_function_count) {
    mote_rt_reply_error(MOTE_STATUS_UNKNOWN_FUNCTION,
                        "no function with index %u (the guest has %u)", c->function_index,
                        mote_rt_function_count);
    return NULL;
  }
  const struct mote_rt_function* fn = &mote_rt_functions[c->function_index];
  if (c->arg_count != fn->param_count) {
    mote_rt_reply_error(MOTE_STATUS_ARGUMENT_MISMATCH, "%s takes %u arguments, got %u", fn->name,
                        fn->param_count, c->arg_count);
    return NULL;
  }
  if (MOTE_CALL_ARGS_OFFSET + (size_t)c->arg_count * sizeof(struct mote_value) > h->size) {
    mote_rt_reply_error(MOTE_STATUS_MALFORMED_MESSAGE,
                        "CALL of %u bytes too short for %u arguments", h->size, c->arg_count);
    return NULL;
  }
  const struct mote_value* values = (const struct mote_value*)(in + MOTE_CALL_ARGS_OFFSET);
  for (uint32_t i = 0; i < c->arg_count; ++i) {
    const struct mote_value* v = &values[i];
    if (v->type != fn->param_types[i]) {
      mote_rt_reply_error(MOTE_STATUS_ARGUMENT_MISMATCH, "%s: argument %u is %s, expected %s",
                          fn->name, i, mote_rt_type_name(v->type),
                          mote_rt_type_name(fn->param_types[i]));
      return NULL;
    }
    bool ok = true;
    if (v->type == MOTE_TYPE_STRING) /* the bytes and the NUL after them */
      ok = v->bits < h->size && v->size < h->size - v->bits && in[v->bits + v->size] == '\0';
    else if (v->type == MOTE_TYPE_BYTES)
      ok = v->bits <= h->size && v->size <= h->size - v->bits;
    else if (v->type == MOTE_TYPE_BOOL)
      ok = v->bits <= 1;
    if (!ok && v->type == MOTE_TYPE_BOOL) {
      mote_rt_reply_error(MOTE_STATUS_MALFORMED_MESSAGE, "%s: bool argument %u is %lu, not 0 or 1",
                          fn->name, i, (unsigned long)v->bits);
      return NULL;
    }
    if (!ok) {
      mote_rt_reply_error(MOTE_STATUS_MALFORMED_MESSAGE,
                          "%s: %s argument %u (offset %lu, size %u) overruns the %u-byte message%s",
                          fn->name, mote_rt_type_name(v->type), i, (unsigned long)v->bits, v->size,
                          h->size, v->type == MOTE_TYPE_STRING ? " or lacks its NUL" : "");
      return NULL;
    }
  }
  return fn;
}

void mote_rt_dispatch(void) {
  const uint8_t* in = (const uint8_t*)(uintptr_t)mote_rt_boot->input_base;
  const struct mote_rt_function* fn = check_call(in, (size_t)mote_rt_boot->input_size);
  if (fn == NULL) return;
  mote_args args = {
      .message = in, .values = (const struct mote_value*)(in + MOTE_CALL_ARGS_OFFSET), .fn = fn};
  mote_ret ret = {.fn = fn, .state = RET_NONE};
  if (current != &ret) current = &ret;
  fn->fn(&args, &ret);

  if (ret.state == RET_NONE && fn->return_type != MOTE_TYPE_VOID)
    mote_abortf(MOTE_STATUS_ARGUMENT_MISMATCH, "%s returned without setting its %s result",
                fn->name, mote_rt_type_name(fn->return_type));
  if (ret.spilled) {
    memcpy(mote_rt_out() + MOTE_RESULT_PAYLOAD_OFFSET, ret.spilled, ret.size);
    mote_free(ret.spilled);
  }
  if (ret.state == RET_NONE)
    mote_rt_write_record(MOTE_MSG_RESULT, MOTE_STATUS_OK, MOTE_TYPE_VOID, 0, 0);
  else
    mote_rt_write_record(MOTE_MSG_RESULT, ret.code, ret.type, ret.size, ret.bits);
}
