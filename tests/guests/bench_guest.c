/* bench_guest: the cheapest possible call and host round trip, for the call benchmarks. */
#include <mote/guest.h>

static void noop_i32(const mote_args* a, mote_ret* r) { mote_ret_i32(r, mote_arg_i32(a, 0)); }

/* One call to host_noop(i32)->i32; returns its result (or its error). */
static void host_roundtrip(const mote_args* a, mote_ret* r) {
  mote_value_in arg = mote_in_i32(mote_arg_i32(a, 0));
  mote_host_result res;
  mote_call_host("host_noop", MOTE_TYPE_I32, &arg, 1, &res);
  mote_ret_host_result(r, &res);
  mote_host_result_free(&res);
}

int mote_main(void) {
  return mote_register("noop_i32", "i32(i32)", noop_i32) |
         mote_register("host_roundtrip", "i32(i32)", host_roundtrip);
}
