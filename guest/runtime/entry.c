/* The runtime's operations: INIT (heap, constructors, mote_main, function table), CALL. */
#include "runtime.h"

/* The ELF note the host requires: owner "mote", type ABI_VERSION, desc = MOTE_ABI_VERSION. */
struct mote_abi_note {
  uint32_t name_size, desc_size, type;
  char name[8]; /* "mote\0", padded to 4 bytes */
  uint32_t desc;
};
__attribute__((section(".note.mote"), used,
               aligned(4))) static const struct mote_abi_note mote_abi_note = {
    sizeof(MOTE_NOTE_NAME), sizeof(uint32_t), MOTE_NOTE_TYPE_ABI_VERSION, MOTE_NOTE_NAME,
    MOTE_ABI_VERSION};

const struct mote_boot_info* mote_rt_boot;

/* Bounds of the constructor table, provided by the linker. */
extern void (*const __init_array_start[])(void) MOTE_RT_HIDDEN;
extern void (*const __init_array_end[])(void) MOTE_RT_HIDDEN;

void mote_runtime_entry(uint64_t op, const struct mote_boot_info* boot);

void mote_rt_write_record(uint16_t kind, uint32_t code, uint8_t type, uint32_t size,
                          uint64_t bits) {
  uint8_t* out = mote_rt_out();
  struct mote_message_header* h = (struct mote_message_header*)out;
  struct mote_result* r = (struct mote_result*)(out + sizeof *h);
  uint32_t payload = (type == MOTE_TYPE_STRING || type == MOTE_TYPE_BYTES) ? size : 0;
  *r = (struct mote_result){.code = code, .value = {.type = type, .size = size, .bits = bits}};
  *h = (struct mote_message_header){.magic = MOTE_MESSAGE_MAGIC,
                                    .kind = kind,
                                    .size = (uint32_t)MOTE_RESULT_PAYLOAD_OFFSET + payload};
}

void mote_rt_reply_error(uint32_t code, const char* format, ...) {
  char* msg = (char*)mote_rt_out() + MOTE_RESULT_PAYLOAD_OFFSET;
  size_t room = mote_rt_payload_room();
  va_list ap;
  va_start(ap, format);
  int n = mote_vsnprintf(msg, room, format, ap);
  va_end(ap);
  size_t len = (size_t)n < room ? (size_t)n : room - 1;
  mote_rt_write_record(MOTE_MSG_RESULT, code, MOTE_TYPE_STRING, (uint32_t)len,
                       MOTE_RESULT_PAYLOAD_OFFSET);
}

/* The reply to INIT: every registered function, in registration order (the index is the
 * position). Names follow the entries, without NULs. */
static void reply_function_table(void) {
  uint32_t count = mote_rt_function_count;
  size_t names_at = sizeof(struct mote_message_header) + sizeof(struct mote_function_table) +
                    (size_t)count * sizeof(struct mote_function_entry);
  size_t total = names_at;
  for (uint32_t i = 0; i < count; ++i) total += mote_rt_functions[i].name_size;
  if (total > mote_rt_out_size()) {
    mote_rt_reply_error(
        MOTE_STATUS_BUFFER_TOO_SMALL,
        "the function table (%u functions) needs %zu bytes; the output buffer has %zu", count,
        total, mote_rt_out_size());
    return;
  }
  uint8_t* out = mote_rt_out();
  struct mote_function_table* table =
      (struct mote_function_table*)(out + sizeof(struct mote_message_header));
  struct mote_function_entry* entries = (struct mote_function_entry*)(table + 1);
  *table = (struct mote_function_table){.count = count};
  size_t at = names_at;
  for (uint32_t i = 0; i < count; ++i) {
    const struct mote_rt_function* f = &mote_rt_functions[i];
    struct mote_function_entry* e = &entries[i];
    *e = (struct mote_function_entry){.name_offset = (uint32_t)at,
                                      .name_size = f->name_size,
                                      .return_type = f->return_type,
                                      .param_count = f->param_count};
    memcpy(e->param_types, f->param_types, f->param_count);
    memcpy(out + at, f->name, f->name_size);
    at += f->name_size;
  }
  *(struct mote_message_header*)out = (struct mote_message_header){
      .magic = MOTE_MESSAGE_MAGIC, .kind = MOTE_MSG_FUNCTION_TABLE, .size = (uint32_t)total};
}

static void init(const struct mote_boot_info* boot) {
  /* Without a sound boot info there is no output buffer to report into: fault instead. */
  if (boot->magic != MOTE_BOOT_INFO_MAGIC || boot->abi_version != MOTE_ABI_VERSION ||
      boot->output_size < MOTE_RESULT_PAYLOAD_OFFSET + 64 || boot->output_size > UINT32_MAX)
    __builtin_trap();
  mote_rt_boot = boot;
  mote_rt_heap_init(boot->heap_base, boot->heap_size);
  for (void (*const* ctor)(void) = __init_array_start; ctor < __init_array_end; ++ctor) (*ctor)();
  int rc = mote_main();
  mote_rt_registry_closed = true;
  if (rc != 0) {
    mote_rt_reply_error(MOTE_STATUS_INIT_FAILED, "mote_main failed (returned %d)", rc);
    return;
  }
  reply_function_table();
}

void mote_runtime_entry(uint64_t op, const struct mote_boot_info* boot) {
  if (op == MOTE_OP_INIT) {
    init(boot);
  } else if (mote_rt_boot == NULL) {
    __builtin_trap(); /* a call before init: nowhere to reply */
  } else if (op == MOTE_OP_CALL) {
    mote_rt_dispatch();
  } else {
    mote_rt_reply_error(MOTE_STATUS_MALFORMED_MESSAGE, "unknown operation %lu", (unsigned long)op);
  }
}
