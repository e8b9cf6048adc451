/* The host/guest ABI of mote: ports, entry registers, boot info and the call wire format. */
/*
 * This header is shared, unchanged, by the host library (C++23) and by freestanding guests
 * (C or C++). It uses fixed-width types only and every shared struct has its size and field
 * offsets pinned by static_assert, so a layout change cannot go unnoticed.
 *
 * ABI version rule: MOTE_ABI_VERSION is bumped whenever anything in this header changes in a way
 * that an existing guest or host would observe: a port number, an entry register, a struct size or
 * offset, a type or message tag, a status code meaning. Additions that old peers can never see
 * (a new status code only the host produces for its own caller) do not bump it. The host refuses a
 * guest whose note carries another version, and says both versions.
 *
 * Guest entry (the ELF entry point, always in ring 3, interrupts off):
 *   RDI = operation (MOTE_OP_INIT once, then MOTE_OP_CALL per call)
 *   RSI = guest address of the read-only struct mote_boot_info
 *   RSP = top of the guest stack, 16-byte aligned (no return address)
 *   every other general register is 0; RFLAGS = 0x2.
 * The guest finishes an operation with `out MOTE_PORT_RETURN` after writing its reply into the
 * output buffer; the host never resumes it after that port. Every other port the guest may use
 * is resumed at the next instruction once the host has answered.
 *
 * Messages: every message starts with struct mote_message_header and is at most its buffer's size.
 *   host  -> guest, input buffer:   MOTE_MSG_CALL (one per MOTE_OP_CALL)
 *   guest -> host,  output buffer:  MOTE_MSG_FUNCTION_TABLE (reply to MOTE_OP_INIT),
 *                                   MOTE_MSG_RESULT (reply to MOTE_OP_CALL, or a failed init),
 *                                   MOTE_MSG_HOST_CALL (port MOTE_PORT_HOST_CALL),
 *                                   MOTE_MSG_LOG (port MOTE_PORT_LOG),
 *                                   MOTE_MSG_ABORT (port MOTE_PORT_ABORT)
 *   host  -> guest, output buffer:  MOTE_MSG_RESULT (the answer to a host call, written over the
 *                                   guest's request before the guest resumes)
 *
 * A MOTE_MSG_CALL / MOTE_MSG_HOST_CALL:
 *   +----------------------+ 0
 *   | mote_message_header  |
 *   +----------------------+ 16
 *   | mote_call            |  function_index (host->guest) or name (guest->host), arg_count
 *   +----------------------+ 32
 *   | mote_value[arg_count]|  scalars inline; string/bytes as (offset from message start, size)
 *   +----------------------+ 32 + 16 * arg_count
 *   | payload bytes        |  names, strings, bytes; the host adds a NUL after each string it writes
 *   +----------------------+ header.size
 * A MOTE_MSG_RESULT / MOTE_MSG_LOG / MOTE_MSG_ABORT is a mote_message_header, a mote_result
 * (code + one mote_value) and the payload. For RESULT, code is MOTE_STATUS_OK and the value is the
 * return value, or code is an error status and the value is a STRING message. For LOG, code is the
 * level and the value is the STRING message; for ABORT, code is the abort code and the value is the
 * STRING message.
 * A MOTE_MSG_FUNCTION_TABLE is a header, a mote_function_table and count mote_function_entry,
 * then the payload (names). The function index used by MOTE_MSG_CALL is the entry's position.
 */
#ifndef MOTE_ABI_H
#define MOTE_ABI_H

#ifndef __ASSEMBLER__
#include <stdint.h>
#endif

#define MOTE_ABI_VERSION 1u

/* ELF note carrying the ABI version: section ".note.mote", owner "mote", type 1, desc = u32. */
#define MOTE_NOTE_NAME "mote"
#define MOTE_NOTE_TYPE_ABI_VERSION 1u

/* I/O ports. Only the first four are open to ring 3 in the TSS I/O permission bitmap. */
#define MOTE_PORT_RETURN 0x10u    /* operation finished; reply in the output buffer */
#define MOTE_PORT_HOST_CALL 0x11u /* call a host function; request/answer in the output buffer */
#define MOTE_PORT_LOG 0x12u       /* log record in the output buffer */
#define MOTE_PORT_ABORT 0x13u     /* fatal: abort record in the output buffer; never resumed */
#define MOTE_PORT_EXCEPTION 0x1Fu /* ring-0 exception stubs only; closed to ring 3 */

/* Operations passed in RDI at entry. */
#define MOTE_OP_INIT 1u
#define MOTE_OP_CALL 2u

#define MOTE_BOOT_INFO_MAGIC 0x544f4f42u /* "BOOT" */
#define MOTE_MESSAGE_MAGIC 0x45544f4du   /* "MOTE" */

/* Message kinds. */
#define MOTE_MSG_CALL 1u
#define MOTE_MSG_RESULT 2u
#define MOTE_MSG_HOST_CALL 3u
#define MOTE_MSG_LOG 4u
#define MOTE_MSG_ABORT 5u
#define MOTE_MSG_FUNCTION_TABLE 6u

/* Value types. VOID is valid only as a return type. */
#define MOTE_TYPE_VOID 0u
#define MOTE_TYPE_I32 1u
#define MOTE_TYPE_U32 2u
#define MOTE_TYPE_I64 3u
#define MOTE_TYPE_U64 4u
#define MOTE_TYPE_F32 5u
#define MOTE_TYPE_F64 6u
#define MOTE_TYPE_BOOL 7u
#define MOTE_TYPE_STRING 8u
#define MOTE_TYPE_BYTES 9u
#define MOTE_TYPE_COUNT 10u

/* Status codes in a RESULT. 1..255 are produced by mote itself; a guest function's own error
 * codes must be >= MOTE_STATUS_USER_BASE (the SDK refuses smaller ones). */
#define MOTE_STATUS_OK 0u
#define MOTE_STATUS_UNKNOWN_FUNCTION 1u      /* guest: no such function index */
#define MOTE_STATUS_ARGUMENT_MISMATCH 2u     /* arity or types disagree with the signature */
#define MOTE_STATUS_MALFORMED_MESSAGE 3u     /* a message failed validation */
#define MOTE_STATUS_UNKNOWN_HOST_FUNCTION 4u /* host: the guest called a name nobody registered */
#define MOTE_STATUS_HOST_FUNCTION_FAILED 5u  /* host: the host function returned an error */
#define MOTE_STATUS_OUT_OF_MEMORY 6u         /* guest allocator exhausted */
#define MOTE_STATUS_BUFFER_TOO_SMALL 7u      /* a message did not fit its buffer */
#define MOTE_STATUS_INIT_FAILED 8u           /* the guest's mote_main reported failure */
#define MOTE_STATUS_USER_BASE 256u

/* Abort code the guest runtime uses when a guest broke the SDK's rules or corrupted its own state
 * (heap corruption, pure virtual call, a reserved error code, ...). */
#define MOTE_ABORT_RUNTIME_ERROR 255u

/* Log levels (MOTE_MSG_LOG code, boot info log_level filter). */
#define MOTE_LOG_TRACE 0u
#define MOTE_LOG_DEBUG 1u
#define MOTE_LOG_INFO 2u
#define MOTE_LOG_WARN 3u
#define MOTE_LOG_ERROR 4u
#define MOTE_LOG_OFF 5u

#define MOTE_MAX_PARAMS 16u
#define MOTE_MAX_NAME 255u
#define MOTE_MAX_FUNCTIONS 4096u
#define MOTE_MAX_LOG_MESSAGE 4096u   /* host truncates longer log messages */
#define MOTE_MAX_ABORT_MESSAGE 1024u /* host truncates longer abort messages */
#define MOTE_INDEX_NONE 0xFFFFFFFFu  /* mote_call.function_index in a host call */

#ifndef __ASSEMBLER__ /* the rest is C: structs and their layout checks */

/* Read-only page the host writes before init; RSI points at it. */
struct mote_boot_info {
  uint32_t magic;       /* MOTE_BOOT_INFO_MAGIC */
  uint32_t abi_version; /* MOTE_ABI_VERSION */
  uint64_t heap_base;   /* guest address of the heap region (read-write) */
  uint64_t heap_size;
  uint64_t input_base; /* host -> guest call messages (read-only to the guest) */
  uint64_t input_size;
  uint64_t output_base; /* guest -> host messages and host-call answers (read-write) */
  uint64_t output_size;
  uint64_t stack_base; /* lowest address of the stack; a guard page lies below it */
  uint64_t stack_size;
  uint32_t log_level; /* records below this level are not sent */
  uint32_t reserved;
};

struct mote_message_header {
  uint32_t magic; /* MOTE_MESSAGE_MAGIC */
  uint16_t kind;  /* MOTE_MSG_* */
  uint16_t reserved;
  uint32_t size; /* whole message in bytes, header included */
  uint32_t reserved2;
};

/* One value. Scalars live in `bits` (integers zero- or sign-extended to 64 bits per their type,
 * f32 in the low 32 bits, bool as 0 or 1) with size 0. STRING and BYTES hold the offset of their
 * bytes from the start of the message in `bits` and their length in `size`. */
struct mote_value {
  uint8_t type; /* MOTE_TYPE_* */
  uint8_t reserved[3];
  uint32_t size;
  uint64_t bits;
};

struct mote_call {
  uint32_t function_index; /* host -> guest: index into the function table; else MOTE_INDEX_NONE */
  uint32_t arg_count;      /* <= MOTE_MAX_PARAMS */
  uint32_t name_offset;    /* guest -> host: offset of the name from the message start */
  uint32_t name_size;      /* <= MOTE_MAX_NAME; 0 for host -> guest */
};

struct mote_result {
  uint32_t code; /* status (RESULT), level (LOG) or abort code (ABORT) */
  uint32_t reserved;
  struct mote_value value;
};

struct mote_function_table {
  uint32_t count; /* <= MOTE_MAX_FUNCTIONS */
  uint32_t reserved;
};

struct mote_function_entry {
  uint32_t name_offset; /* from the message start */
  uint32_t name_size;   /* 1..MOTE_MAX_NAME */
  uint8_t return_type;  /* MOTE_TYPE_* */
  uint8_t param_count;  /* <= MOTE_MAX_PARAMS */
  uint8_t param_types[MOTE_MAX_PARAMS];
  uint8_t reserved[6];
};

#define MOTE_CALL_ARGS_OFFSET (sizeof(struct mote_message_header) + sizeof(struct mote_call))
#define MOTE_RESULT_PAYLOAD_OFFSET                                                              \
  (sizeof(struct mote_message_header) + sizeof(struct mote_result))

#ifdef __cplusplus
#define MOTE_ABI_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define MOTE_ABI_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif
#define MOTE_ABI_OFFSET(type, field) __builtin_offsetof(struct type, field)

MOTE_ABI_ASSERT(sizeof(struct mote_boot_info) == 80, "mote_boot_info size");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_boot_info, magic) == 0, "boot magic");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_boot_info, abi_version) == 4, "boot abi_version");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_boot_info, heap_base) == 8, "boot heap_base");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_boot_info, heap_size) == 16, "boot heap_size");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_boot_info, input_base) == 24, "boot input_base");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_boot_info, input_size) == 32, "boot input_size");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_boot_info, output_base) == 40, "boot output_base");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_boot_info, output_size) == 48, "boot output_size");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_boot_info, stack_base) == 56, "boot stack_base");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_boot_info, stack_size) == 64, "boot stack_size");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_boot_info, log_level) == 72, "boot log_level");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_boot_info, reserved) == 76, "boot reserved");

MOTE_ABI_ASSERT(sizeof(struct mote_message_header) == 16, "mote_message_header size");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_message_header, magic) == 0, "header magic");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_message_header, kind) == 4, "header kind");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_message_header, reserved) == 6, "header reserved");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_message_header, size) == 8, "header size");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_message_header, reserved2) == 12, "header reserved2");

MOTE_ABI_ASSERT(sizeof(struct mote_value) == 16, "mote_value size");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_value, type) == 0, "value type");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_value, reserved) == 1, "value reserved");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_value, size) == 4, "value size");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_value, bits) == 8, "value bits");

MOTE_ABI_ASSERT(sizeof(struct mote_call) == 16, "mote_call size");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_call, function_index) == 0, "call function_index");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_call, arg_count) == 4, "call arg_count");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_call, name_offset) == 8, "call name_offset");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_call, name_size) == 12, "call name_size");

MOTE_ABI_ASSERT(sizeof(struct mote_result) == 24, "mote_result size");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_result, code) == 0, "result code");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_result, reserved) == 4, "result reserved");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_result, value) == 8, "result value");

MOTE_ABI_ASSERT(sizeof(struct mote_function_table) == 8, "mote_function_table size");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_function_table, count) == 0, "table count");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_function_table, reserved) == 4, "table reserved");

MOTE_ABI_ASSERT(sizeof(struct mote_function_entry) == 32, "mote_function_entry size");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_function_entry, name_offset) == 0, "entry name_offset");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_function_entry, name_size) == 4, "entry name_size");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_function_entry, return_type) == 8, "entry return_type");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_function_entry, param_count) == 9, "entry param_count");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_function_entry, param_types) == 10, "entry param_types");
MOTE_ABI_ASSERT(MOTE_ABI_OFFSET(mote_function_entry, reserved) == 26, "entry reserved");

#endif /* __ASSEMBLER__ */

#endif /* MOTE_ABI_H */
