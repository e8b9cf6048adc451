/* mote guest SDK, C API: registration, arguments and results, host calls, logging, abort, heap. */
/*
 * A guest is a freestanding static-PIE program linked with mote_guest_runtime. The runtime owns
 * the ELF entry point: on MOTE_OP_INIT it sets up the heap, runs C++ global constructors and calls
 * the author's mote_main(), which registers the guest's functions; on each MOTE_OP_CALL it checks
 * the call against the registered signature, runs the handler and sends its result.
 *
 *   static void add(const mote_args* args, mote_ret* ret) {
 *     mote_ret_i32(ret, mote_arg_i32(args, 0) + mote_arg_i32(args, 1));
 *   }
 *   int mote_main(void) { return mote_register("add", "i32(i32,i32)", add); }
 *
 * Globals persist from one call to the next (until the host restores a snapshot). Everything here
 * runs on the single guest thread; nothing is reentrant or thread-safe, nor needs to be.
 * "Aborts" below means mote_abort(): the call fails, the host reports the code and message, and
 * the sandbox is poisoned until restored. The SDK aborts only on a guest programming error.
 */
#ifndef MOTE_GUEST_H
#define MOTE_GUEST_H

#include <mote/abi.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif

#ifdef __cplusplus
#define MOTE_NORETURN [[noreturn]]
#define MOTE_NOEXCEPT noexcept
extern "C" {
#else
#define MOTE_NORETURN _Noreturn
#define MOTE_NOEXCEPT
#endif
#define MOTE_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* MOTE_ABORT_RUNTIME_ERROR (abi.h) is the abort code the runtime uses when it stops a guest that
 * broke the SDK's rules or corrupted its own state. A result or argument used with the wrong type
 * aborts with MOTE_STATUS_ARGUMENT_MISMATCH instead. */

/* ---- The guest program ----------------------------------------------------------------------- */

/* Written by the guest author. Runs once, at init, after the heap is ready and C++ global
 * constructors have run; register the guest's functions here. Return 0 on success; any other value
 * fails the sandbox's initialisation (the host sees MOTE_STATUS_INIT_FAILED). */
int mote_main(void);

/* ---- Registration ---------------------------------------------------------------------------- */

typedef struct mote_args mote_args; /* the arguments of the running call; valid during the call */
typedef struct mote_ret mote_ret;   /* the result of the running call; valid during the call */

/* A guest function. It reads its arguments with mote_arg_*() and sets its result with a
 * mote_ret_*() call (if it makes several, the last one counts). Returning without setting a result
 * is fine for a void function and aborts for any other. */
typedef void (*mote_handler)(const mote_args* args, mote_ret* ret);

/* mote_register*() results. */
#define MOTE_REGISTER_OK 0
#define MOTE_REGISTER_BAD_NAME (-1)      /* name empty or longer than MOTE_MAX_NAME bytes */
#define MOTE_REGISTER_BAD_SIGNATURE (-2) /* unparsable signature, bad type, > MOTE_MAX_PARAMS */
#define MOTE_REGISTER_FULL (-3)          /* MOTE_MAX_FUNCTIONS already registered */
#define MOTE_REGISTER_NO_MEMORY (-4)     /* the heap could not hold the table */
#define MOTE_REGISTER_CLOSED (-5)        /* init is over: the host already has the table */

/* Registers `fn` under `name` (NUL-terminated, 1..MOTE_MAX_NAME bytes, copied) with `signature`,
 * e.g. "i32(i32,string)", "void()", "bytes(bytes, u64)": a return type, then the parameter types
 * in parentheses, from void i32 u32 i64 u64 f32 f64 bool string bytes (void only as the return
 * type; spaces allowed). Registering a name again replaces its signature and handler, keeping its
 * place in the table. Only before mote_main returns. Returns a MOTE_REGISTER_* value. */
int mote_register(const char* name, const char* signature, mote_handler fn);

/* The same with the types given as MOTE_TYPE_* values (param_types holds param_count entries) and
 * a pointer handed back by mote_user_data() when `fn` runs. */
int mote_register_types(const char* name, uint8_t return_type, const uint8_t* param_types,
                        uint32_t param_count, mote_handler fn, void* user_data);

/* ---- Arguments ------------------------------------------------------------------------------- */
/* The runtime has checked every argument against the signature before the handler runs. An
 * accessor whose index is out of range or whose type is not the parameter's type aborts. */

uint32_t mote_arg_count(const mote_args* args);
void* mote_user_data(const mote_args* args); /* as given to mote_register_types, else NULL */
int32_t mote_arg_i32(const mote_args* args, uint32_t index);
uint32_t mote_arg_u32(const mote_args* args, uint32_t index);
int64_t mote_arg_i64(const mote_args* args, uint32_t index);
uint64_t mote_arg_u64(const mote_args* args, uint32_t index);
float mote_arg_f32(const mote_args* args, uint32_t index);
double mote_arg_f64(const mote_args* args, uint32_t index);
bool mote_arg_bool(const mote_args* args, uint32_t index);
/* Borrowed from the read-only input buffer, valid until the handler returns (host calls do not
 * disturb it). A string is also NUL-terminated (the NUL is not counted). `len` may be NULL. */
const char* mote_arg_string(const mote_args* args, uint32_t index, size_t* len);
const uint8_t* mote_arg_bytes(const mote_args* args, uint32_t index, size_t* len);

/* ---- Results --------------------------------------------------------------------------------- */
/* Each setter must match the function's return type (else it aborts). */

void mote_ret_i32(mote_ret* ret, int32_t value);
void mote_ret_u32(mote_ret* ret, uint32_t value);
void mote_ret_i64(mote_ret* ret, int64_t value);
void mote_ret_u64(mote_ret* ret, uint64_t value);
void mote_ret_f32(mote_ret* ret, float value);
void mote_ret_f64(mote_ret* ret, double value);
void mote_ret_bool(mote_ret* ret, bool value);
/* Copies len bytes (a string need not be NUL-terminated). Returns 0, or
 * MOTE_STATUS_BUFFER_TOO_SMALL when they cannot fit the output buffer: the call then fails with
 * that status. */
int mote_ret_string(mote_ret* ret, const char* data, size_t len);
int mote_ret_bytes(mote_ret* ret, const void* data, size_t len);
/* Sets a STRING or BYTES result of len bytes and returns where to write them (in the output
 * buffer), or NULL when they cannot fit (the call then fails with MOTE_STATUS_BUFFER_TOO_SMALL).
 * Fill it before calling any other mote_* function that talks to the host (log, host call). */
void* mote_ret_buffer(mote_ret* ret, size_t len);
/* Fails the call with `code` (>= MOTE_STATUS_USER_BASE; smaller codes are reserved and abort) and
 * a message (NUL-terminated, copied, truncated to fit the output buffer). Works for any return
 * type. The sandbox stays usable. */
void mote_ret_error(mote_ret* ret, uint32_t code, const char* message);
void mote_ret_error_n(mote_ret* ret, uint32_t code, const char* message, size_t len);
void mote_ret_errorf(mote_ret* ret, uint32_t code, const char* format, ...) MOTE_PRINTF(3, 4);

/* ---- Calling host functions ------------------------------------------------------------------ */

/* One argument of a host call; build it with mote_in_*(). STRING/BYTES are borrowed for the call.
 */
typedef struct mote_value_in {
  uint8_t type; /* MOTE_TYPE_*, not VOID */
  union {
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    float f32;
    double f64;
    bool b;
    struct {
      const void* data;
      size_t size;
    } buf;
  } as;
} mote_value_in;

/* What a host call returned. On success `type` is the return type asked for and the value is in
 * `as` (scalars) or `data`/`size` (STRING, BYTES). On failure `status` is the error code (the
 * host's, or one of the local failures listed at mote_call_host) and `data`/`size` hold the
 * message. `data` is heap memory owned by the caller, NUL-terminated (the NUL is not in `size`), or
 * NULL: release it with mote_host_result_free() (or mote_free(data)). */
typedef struct mote_host_result {
  uint32_t status; /* MOTE_STATUS_OK or the error code */
  uint8_t type;
  union {
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    float f32;
    double f64;
    bool b;
  } as;
  char* data;
  size_t size;
} mote_host_result;

/* Calls the host function `name` (NUL-terminated) with nargs (<= MOTE_MAX_PARAMS) arguments,
 * expecting a `ret_type` result (MOTE_TYPE_*, VOID included). Fills *out and returns out->status.
 * The host checks the name and argument types; the runtime checks the answer. Local failures:
 * MOTE_STATUS_UNKNOWN_HOST_FUNCTION (bad name length), MOTE_STATUS_ARGUMENT_MISMATCH (bad argument
 * or return type, or the host returned another type), MOTE_STATUS_BUFFER_TOO_SMALL (the request
 * does not fit the output buffer), MOTE_STATUS_MALFORMED_MESSAGE (bad answer),
 * MOTE_STATUS_OUT_OF_MEMORY (no heap for the returned string/bytes). Pass an error on unchanged
 * with mote_ret_host_result(). */
uint32_t mote_call_host(const char* name, uint8_t ret_type, const mote_value_in* args,
                        uint32_t nargs, mote_host_result* out);
/* Frees result->data and sets it to NULL. Safe to call twice. */
void mote_host_result_free(mote_host_result* result);
/* Makes the running call's result what the host call returned: its value (same type as the
 * function's return type, else abort) or its error, with its code (whatever it is) and message. */
void mote_ret_host_result(mote_ret* ret, const mote_host_result* result);

#ifdef __cplusplus
#define MOTE_IN_(type, field, ...) (mote_value_in{type, {.field = __VA_ARGS__}})
#else
#define MOTE_IN_(type, field, ...) ((mote_value_in){type, {.field = __VA_ARGS__}})
#endif
static inline mote_value_in mote_in_i32(int32_t v) { return MOTE_IN_(MOTE_TYPE_I32, i32, v); }
static inline mote_value_in mote_in_u32(uint32_t v) { return MOTE_IN_(MOTE_TYPE_U32, u32, v); }
static inline mote_value_in mote_in_i64(int64_t v) { return MOTE_IN_(MOTE_TYPE_I64, i64, v); }
static inline mote_value_in mote_in_u64(uint64_t v) { return MOTE_IN_(MOTE_TYPE_U64, u64, v); }
static inline mote_value_in mote_in_f32(float v) { return MOTE_IN_(MOTE_TYPE_F32, f32, v); }
static inline mote_value_in mote_in_f64(double v) { return MOTE_IN_(MOTE_TYPE_F64, f64, v); }
static inline mote_value_in mote_in_bool(bool v) { return MOTE_IN_(MOTE_TYPE_BOOL, b, v); }
/* `s` and `p` are borrowed until mote_call_host returns. */
static inline mote_value_in mote_in_string(const char* s, size_t len) {
  return MOTE_IN_(MOTE_TYPE_STRING, buf, {s, len});
}
static inline mote_value_in mote_in_bytes(const void* p, size_t len) {
  return MOTE_IN_(MOTE_TYPE_BYTES, buf, {p, len});
}

/* ---- Logging and abort ----------------------------------------------------------------------- */

/* Sends a log record (level MOTE_LOG_TRACE..MOTE_LOG_ERROR) to the host, unless level is below the
 * sandbox's log level. The message is copied and truncated to MOTE_MAX_LOG_MESSAGE bytes. */
void mote_log(uint32_t level, const char* message);
void mote_log_n(uint32_t level, const char* message, size_t len);
void mote_logf(uint32_t level, const char* format, ...) MOTE_PRINTF(2, 3);

/* Stops the guest for good: the host reports the code and message (truncated to
 * MOTE_MAX_ABORT_MESSAGE bytes) and poisons the sandbox. */
MOTE_NORETURN void mote_abort(uint32_t code, const char* message);
MOTE_NORETURN void mote_abort_n(uint32_t code, const char* message, size_t len);
MOTE_NORETURN void mote_abortf(uint32_t code, const char* format, ...) MOTE_PRINTF(2, 3);

/* ---- Formatting ------------------------------------------------------------------------------ */

/* snprintf for %d %i %u %x %X %c %s %p %%, with the flags '-' and '0', a width (or *), a precision
 * for %s (%.5s, %.*s) and the l, ll and z length modifiers; no floating point. Always
 * NUL-terminates when cap > 0; returns the length the whole output would have had. */
int mote_snprintf(char* buf, size_t cap, const char* format, ...) MOTE_PRINTF(3, 4);
int mote_vsnprintf(char* buf, size_t cap, const char* format, va_list ap);

/* ---- Heap ------------------------------------------------------------------------------------ */
/* A first-fit allocator over the sandbox's heap region. Blocks are 16-byte aligned; NULL when the
 * heap is exhausted. malloc/free/calloc/realloc/aligned_alloc below are the same functions. */

void* mote_alloc(size_t size);
void mote_free(void* ptr); /* NULL is ignored; anything not from this heap aborts */
void* mote_calloc(size_t count, size_t size);
void* mote_realloc(void* ptr, size_t size);              /* size 0 frees and returns NULL */
void* mote_aligned_alloc(size_t alignment, size_t size); /* alignment: a power of two */

/* ---- The C library subset the runtime provides ----------------------------------------------- */

void* malloc(size_t size) MOTE_NOEXCEPT;
void free(void* ptr) MOTE_NOEXCEPT;
void* calloc(size_t count, size_t size) MOTE_NOEXCEPT;
void* realloc(void* ptr, size_t size) MOTE_NOEXCEPT;
void* aligned_alloc(size_t alignment, size_t size) MOTE_NOEXCEPT;
void* memcpy(void* dst, const void* src, size_t n) MOTE_NOEXCEPT;
void* memmove(void* dst, const void* src, size_t n) MOTE_NOEXCEPT;
void* memset(void* dst, int c, size_t n) MOTE_NOEXCEPT;
int memcmp(const void* a, const void* b, size_t n) MOTE_NOEXCEPT;
size_t strlen(const char* s) MOTE_NOEXCEPT;
size_t strnlen(const char* s, size_t max) MOTE_NOEXCEPT;
int strcmp(const char* a, const char* b) MOTE_NOEXCEPT;
int strncmp(const char* a, const char* b, size_t n) MOTE_NOEXCEPT;
#ifndef __cplusplus /* C++'s <cstring> declares const-correct overloads instead */
void* memchr(const void* s, int c, size_t n);
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MOTE_GUEST_H */
