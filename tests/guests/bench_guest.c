/* bench_guest: the cheapest call and host round trip, and page dirtying, for the benchmarks. */
#include <mote/guest.h>

#define BENCH_PAGE_SIZE 4096u
#define BENCH_MAX_PAGES 4096u

/* 16 MiB of .bss (zero pages: a snapshot stores none of them) for touch_pages to dirty. */
static unsigned char pages[BENCH_MAX_PAGES * BENCH_PAGE_SIZE] __attribute__((aligned(4096)));

static void noop_i32(const mote_args* a, mote_ret* r) { mote_ret_i32(r, mote_arg_i32(a, 0)); }

/* One call to host_noop(i32)->i32; returns its result (or its error). */
static void host_roundtrip(const mote_args* a, mote_ret* r) {
  mote_value_in arg = mote_in_i32(mote_arg_i32(a, 0));
  mote_host_result res;
  mote_call_host("host_noop", MOTE_TYPE_I32, &arg, 1, &res);
  mote_ret_host_result(r, &res);
  mote_host_result_free(&res);
}

/* Writes one byte into each of the first k 4 KiB pages of `pages` (k <= 4096) and returns k. */
static void touch_pages(const mote_args* a, mote_ret* r) {
  uint32_t k = mote_arg_u32(a, 0);
  if (k > BENCH_MAX_PAGES) {
    mote_ret_errorf(r, 1, "touch_pages: %u pages asked, at most %u", k, BENCH_MAX_PAGES);
    return;
  }
  volatile unsigned char* p = pages;
  for (uint32_t i = 0; i < k; ++i) p[(uint64_t)i * BENCH_PAGE_SIZE] = (unsigned char)(i | 1u);
  mote_ret_u32(r, k);
}

int mote_main(void) {
  return mote_register("noop_i32", "i32(i32)", noop_i32) |
         mote_register("host_roundtrip", "i32(i32)", host_roundtrip) |
         mote_register("touch_pages", "u32(u32)", touch_pages);
}
