/* Internal interface between the files of the guest runtime (not part of the SDK). */
#ifndef MOTE_RUNTIME_H
#define MOTE_RUNTIME_H

#include <mote/guest.h>

#define MOTE_RT_HIDDEN __attribute__((visibility("hidden")))

/* The boot info of this sandbox, set at init (NULL before). */
extern const struct mote_boot_info* mote_rt_boot MOTE_RT_HIDDEN;

/* The output buffer, where every guest -> host message is written. */
static inline uint8_t* mote_rt_out(void) { return (uint8_t*)(uintptr_t)mote_rt_boot->output_base; }
static inline size_t mote_rt_out_size(void) { return (size_t)mote_rt_boot->output_size; }
/* Room for a payload after the header and mote_result of a RESULT/LOG/ABORT message. */
static inline size_t mote_rt_payload_room(void) {
  return mote_rt_out_size() - MOTE_RESULT_PAYLOAD_OFFSET;
}

/* Sends the output buffer to the host on `port` (a constant); returns once the host resumes us. */
#define MOTE_RT_OUT(port) __asm__ volatile("outb %%al, %0" : : "N"(port), "a"(0) : "memory")

/* Writes the header and mote_result of a RESULT/LOG/ABORT message whose value is (type, size,
 * bits); a STRING/BYTES payload must already be at MOTE_RESULT_PAYLOAD_OFFSET (bits = that offset).
 */
void mote_rt_write_record(uint16_t kind, uint32_t code, uint8_t type, uint32_t size,
                          uint64_t bits) MOTE_RT_HIDDEN;
/* Writes a RESULT carrying an error status and a formatted message. */
void mote_rt_reply_error(uint32_t code, const char* format, ...) MOTE_PRINTF(2, 3) MOTE_RT_HIDDEN;

/* One registered guest function. */
struct mote_rt_function {
  char* name; /* heap, NUL-terminated */
  uint32_t name_size;
  uint8_t return_type;
  uint8_t param_count;
  uint8_t param_types[MOTE_MAX_PARAMS];
  mote_handler fn;
  void* user_data;
};
extern struct mote_rt_function* mote_rt_functions MOTE_RT_HIDDEN;
extern uint32_t mote_rt_function_count MOTE_RT_HIDDEN;
extern bool mote_rt_registry_closed MOTE_RT_HIDDEN;

/* "i32", "string", ...; "?" for an unknown type. */
const char* mote_rt_type_name(uint8_t type) MOTE_RT_HIDDEN;

/* Runs one MOTE_OP_CALL: validates the CALL message, runs the function, writes the RESULT. */
void mote_rt_dispatch(void) MOTE_RT_HIDDEN;
/* Moves a STRING/BYTES/error result staged in the output buffer to the heap, before something
 * else (a log record, a host call) overwrites the output buffer. */
void mote_rt_spill_result(void) MOTE_RT_HIDDEN;

void mote_rt_heap_init(uint64_t base, uint64_t size) MOTE_RT_HIDDEN;

#endif /* MOTE_RUNTIME_H */
