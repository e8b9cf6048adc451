/* hostile_storm: a test guest that floods the host with exits (host calls, log records). */
/* Host calls and log records by the hundred thousand, to show the host keeps count and
 * survives. */
#include "hostile.h"

/* n calls of host_noop(i) (the test's host function returns its argument); returns how many
 * answered OK with the right value. */
static void host_call_storm(const mote_args* a, mote_ret* r) {
  uint32_t n = mote_arg_u32(a, 0), ok = 0;
  for (uint32_t i = 0; i < n; ++i) {
    mote_value_in arg = mote_in_i32((int32_t)i);
    mote_host_result res;
    if (mote_call_host("host_noop", MOTE_TYPE_I32, &arg, 1, &res) == MOTE_STATUS_OK &&
        res.as.i32 == (int32_t)i)
      ++ok;
    mote_host_result_free(&res);
  }
  mote_ret_u32(r, ok);
}

/* n calls of a host function nobody registered; returns how many were answered with
 * MOTE_STATUS_UNKNOWN_HOST_FUNCTION. */
static void unknown_host_storm(const mote_args* a, mote_ret* r) {
  uint32_t n = mote_arg_u32(a, 0), refused = 0;
  for (uint32_t i = 0; i < n; ++i) {
    mote_host_result res;
    if (mote_call_host("nobody_has_this", MOTE_TYPE_I32, NULL, 0, &res) ==
        MOTE_STATUS_UNKNOWN_HOST_FUNCTION)
      ++refused;
    mote_host_result_free(&res);
  }
  mote_ret_u32(r, refused);
}

/* `below` records at TRACE (below the default level: filtered in the guest, no exit) and `above`
 * at WARN, each numbered; returns how many were attempted. */
static void log_storm(const mote_args* a, mote_ret* r) {
  uint32_t below = mote_arg_u32(a, 0), above = mote_arg_u32(a, 1);
  for (uint32_t i = 0; i < below; ++i) mote_logf(MOTE_LOG_TRACE, "quiet %u", i);
  for (uint32_t i = 0; i < above; ++i) mote_logf(MOTE_LOG_WARN, "loud %u", i);
  mote_ret_u32(r, below + above);
}

int mote_main(void) {
  if (mote_register("ping", "i32(i32)", hostile_ping) != 0 ||
      mote_register("host_call_storm", "u32(u32)", host_call_storm) != 0 ||
      mote_register("unknown_host_storm", "u32(u32)", unknown_host_storm) != 0 ||
      mote_register("log_storm", "u32(u32,u32)", log_storm) != 0)
    return 1;
  return 0;
}
