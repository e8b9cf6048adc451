/* hostile_loop: a test guest whose calls never return, for the time-limit and kill() tests. */
/* A bare infinite loop, a pause loop, endless host calls, endless log records, a blocking host
 * call followed by a loop, and a loop that ends (for the per-call limit). */
#include "hostile.h"

/* The bare loop: no exit ever reaches the host. */
static void spin(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  for (;;) __asm__ volatile("" ::: "memory");
}

/* The loop with `pause` (what a polite spin-wait does). */
static void spin_pause(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  for (;;) __asm__ volatile("pause" ::: "memory");
}

/* A loop that exits to the host on every iteration: host_noop(i) forever. */
static void host_call_forever(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  for (int32_t i = 0;; ++i) {
    mote_value_in arg = mote_in_i32(i);
    mote_host_result res;
    mote_call_host("host_noop", MOTE_TYPE_I32, &arg, 1, &res);
    mote_host_result_free(&res);
  }
}

/* A loop of log records forever. */
static void log_forever(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  for (uint32_t i = 0;; ++i) mote_logf(MOTE_LOG_WARN, "still here %u", i);
}

/* Calls the host function `host_block` (the test makes it wait), then spins. */
static void host_call_then_spin(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  mote_host_result res;
  mote_call_host("host_block", MOTE_TYPE_VOID, NULL, 0, &res);
  mote_host_result_free(&res);
  for (;;) __asm__ volatile("" ::: "memory");
}

/* Spins for n iterations, then returns n: a call that ends on its own. */
static void spin_for(const mote_args* a, mote_ret* r) {
  uint64_t n = mote_arg_u64(a, 0);
  for (volatile uint64_t i = 0; i < n; ++i) {
  }
  mote_ret_u64(r, n);
}

int mote_main(void) {
  if (mote_register("ping", "i32(i32)", hostile_ping) != 0 ||
      mote_register("spin", "void()", spin) != 0 ||
      mote_register("spin_pause", "void()", spin_pause) != 0 ||
      mote_register("host_call_forever", "void()", host_call_forever) != 0 ||
      mote_register("log_forever", "void()", log_forever) != 0 ||
      mote_register("host_call_then_spin", "void()", host_call_then_spin) != 0 ||
      mote_register("spin_for", "u64(u64)", spin_for) != 0)
    return 1;
  return 0;
}
