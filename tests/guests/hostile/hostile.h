/* Shared helpers of the hostile test guests: raw access to the output buffer and raw port I/O. */
#ifndef MOTE_HOSTILE_H
#define MOTE_HOSTILE_H

#include <mote/guest.h>

/* The boot info the runtime keeps from init (guest/runtime/runtime.h); hidden in the runtime, and
 * visible here because guest and runtime are linked into one static image. */
extern const struct mote_boot_info* mote_rt_boot __attribute__((visibility("hidden")));

static inline uint8_t* hostile_out(void) { return (uint8_t*)(uintptr_t)mote_rt_boot->output_base; }
static inline uint32_t hostile_out_size(void) { return (uint32_t)mote_rt_boot->output_size; }

/* Writes a RESULT/LOG/ABORT-shaped message by hand: header (magic, kind, size) and mote_result
 * (code, value). Nothing is checked: that is the point. */
static inline void hostile_record(uint32_t magic, uint16_t kind, uint32_t size, uint32_t code,
                                  uint8_t type, uint32_t value_size, uint64_t bits) {
  uint8_t* out = hostile_out();
  struct mote_message_header h = {.magic = magic, .kind = kind, .size = size};
  struct mote_result r = {.code = code, .value = {.type = type, .size = value_size, .bits = bits}};
  memcpy(out, &h, sizeof h);
  memcpy(out + sizeof h, &r, sizeof r);
}

/* `out` on a constant port, as the runtime does; the host decides whether we come back. */
#define HOSTILE_OUT(port) __asm__ volatile("outb %%al, %0" : : "N"(port), "a"(0) : "memory")

/* Ends the call with whatever the output buffer holds. The host never resumes after RETURN; the
 * trap makes a resume visible as a #UD instead of running on. */
static inline _Noreturn void hostile_return(void) {
  HOSTILE_OUT(MOTE_PORT_RETURN);
  for (;;) __builtin_trap();
}

/* The health check every hostile guest exports: ping(x) = x + 1. */
static inline void hostile_ping(const mote_args* a, mote_ret* r) {
  mote_ret_i32(r, mote_arg_i32(a, 0) + 1);
}

#endif /* MOTE_HOSTILE_H */
