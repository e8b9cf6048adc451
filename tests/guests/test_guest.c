/* test_guest: the C guest of the e2e tests: echoes of every type, host calls, errors, faults. */
#include <mote/guest.h>

/* ---- Echoes and plain functions ---- */

static void echo_i32(const mote_args* a, mote_ret* r) { mote_ret_i32(r, mote_arg_i32(a, 0)); }
static void echo_u32(const mote_args* a, mote_ret* r) { mote_ret_u32(r, mote_arg_u32(a, 0)); }
static void echo_i64(const mote_args* a, mote_ret* r) { mote_ret_i64(r, mote_arg_i64(a, 0)); }
static void echo_u64(const mote_args* a, mote_ret* r) { mote_ret_u64(r, mote_arg_u64(a, 0)); }
static void echo_f32(const mote_args* a, mote_ret* r) { mote_ret_f32(r, mote_arg_f32(a, 0)); }
static void echo_f64(const mote_args* a, mote_ret* r) { mote_ret_f64(r, mote_arg_f64(a, 0)); }
static void echo_bool(const mote_args* a, mote_ret* r) { mote_ret_bool(r, mote_arg_bool(a, 0)); }

static void echo_string(const mote_args* a, mote_ret* r) {
  size_t n;
  const char* s = mote_arg_string(a, 0, &n);
  mote_ret_string(r, s, n);
}

static void echo_bytes(const mote_args* a, mote_ret* r) {
  size_t n;
  const uint8_t* p = mote_arg_bytes(a, 0, &n);
  mote_ret_bytes(r, p, n);
}

static void add(const mote_args* a, mote_ret* r) {
  mote_ret_i32(r,
               (int32_t)((uint32_t)mote_arg_i32(a, 0) + (uint32_t)mote_arg_i32(a, 1))); /* wraps */
}

static void noop(const mote_args* a, mote_ret* r) { (void)a, (void)r; }

/* The raw little-endian bytes of every argument, in order (bool as one byte). */
static void mixed(const mote_args* a, mote_ret* r) {
  size_t s1, b1, s2;
  const char* str1 = mote_arg_string(a, 7, &s1);
  const uint8_t* bytes = mote_arg_bytes(a, 8, &b1);
  const char* str2 = mote_arg_string(a, 10, &s2);
  int32_t i32 = mote_arg_i32(a, 0), i32b = mote_arg_i32(a, 9);
  uint32_t u32 = mote_arg_u32(a, 1);
  int64_t i64 = mote_arg_i64(a, 2);
  uint64_t u64 = mote_arg_u64(a, 3);
  float f32 = mote_arg_f32(a, 4);
  double f64 = mote_arg_f64(a, 5);
  uint8_t b = mote_arg_bool(a, 6) ? 1 : 0;
  uint8_t* out = mote_ret_buffer(r, 4 + 4 + 8 + 8 + 4 + 8 + 1 + s1 + b1 + 4 + s2);
  if (out == NULL) return; /* the call fails with MOTE_STATUS_BUFFER_TOO_SMALL */
#define PUT(p, n) (memcpy(out, (p), (n)), out += (n))
  PUT(&i32, 4);
  PUT(&u32, 4);
  PUT(&i64, 8);
  PUT(&u64, 8);
  PUT(&f32, 4);
  PUT(&f64, 8);
  PUT(&b, 1);
  PUT(str1, s1);
  PUT(bytes, b1);
  PUT(&i32b, 4);
  PUT(str2, s2);
#undef PUT
}

static void counter_increment(const mote_args* a, mote_ret* r) {
  static int64_t counter; /* lives across calls until a restore */
  (void)a;
  mote_ret_i64(r, ++counter);
}

/* ---- Host calls ---- */

/* Calls host function `name` with one argument and returns what it returned, error included. */
static void forward(mote_ret* r, const char* name, uint8_t type, mote_value_in arg) {
  mote_host_result res;
  mote_call_host(name, type, &arg, 1, &res);
  mote_ret_host_result(r, &res);
  mote_host_result_free(&res);
}

static void call_host_i32(const mote_args* a, mote_ret* r) {
  forward(r, "host_echo_i32", MOTE_TYPE_I32, mote_in_i32(mote_arg_i32(a, 0)));
}
static void call_host_u32(const mote_args* a, mote_ret* r) {
  forward(r, "host_echo_u32", MOTE_TYPE_U32, mote_in_u32(mote_arg_u32(a, 0)));
}
static void call_host_i64(const mote_args* a, mote_ret* r) {
  forward(r, "host_echo_i64", MOTE_TYPE_I64, mote_in_i64(mote_arg_i64(a, 0)));
}
static void call_host_u64(const mote_args* a, mote_ret* r) {
  forward(r, "host_echo_u64", MOTE_TYPE_U64, mote_in_u64(mote_arg_u64(a, 0)));
}
static void call_host_f32(const mote_args* a, mote_ret* r) {
  forward(r, "host_echo_f32", MOTE_TYPE_F32, mote_in_f32(mote_arg_f32(a, 0)));
}
static void call_host_f64(const mote_args* a, mote_ret* r) {
  forward(r, "host_echo_f64", MOTE_TYPE_F64, mote_in_f64(mote_arg_f64(a, 0)));
}
static void call_host_bool(const mote_args* a, mote_ret* r) {
  forward(r, "host_echo_bool", MOTE_TYPE_BOOL, mote_in_bool(mote_arg_bool(a, 0)));
}

static void call_host_string(const mote_args* a, mote_ret* r) {
  size_t n;
  const char* s = mote_arg_string(a, 0, &n);
  forward(r, "host_echo_string", MOTE_TYPE_STRING, mote_in_string(s, n));
}

static void call_host_bytes(const mote_args* a, mote_ret* r) {
  size_t n;
  const uint8_t* p = mote_arg_bytes(a, 0, &n);
  forward(r, "host_echo_bytes", MOTE_TYPE_BYTES, mote_in_bytes(p, n));
}

static void call_host_void(const mote_args* a, mote_ret* r) {
  mote_host_result res;
  (void)a;
  mote_call_host("host_void", MOTE_TYPE_VOID, NULL, 0, &res);
  mote_ret_host_result(r, &res);
  mote_host_result_free(&res);
}

static void call_host_add(const mote_args* a, mote_ret* r) {
  mote_value_in args[2] = {mote_in_i32(mote_arg_i32(a, 0)), mote_in_i32(mote_arg_i32(a, 1))};
  mote_host_result res;
  mote_call_host("host_add", MOTE_TYPE_I32, args, 2, &res);
  mote_ret_host_result(r, &res);
  mote_host_result_free(&res);
}

static void call_host_by_name(const mote_args* a, mote_ret* r) {
  mote_host_result res;
  mote_call_host(mote_arg_string(a, 0, NULL), MOTE_TYPE_I32, NULL, 0, &res);
  mote_ret_host_result(r, &res); /* an error keeps its code and message */
  mote_host_result_free(&res);
}

/* ---- Errors, logs, aborts, faults ---- */

static void fail_with(const mote_args* a, mote_ret* r) {
  size_t n;
  const char* msg = mote_arg_string(a, 1, &n);
  mote_ret_error_n(r, mote_arg_u32(a, 0), msg, n); /* a code below MOTE_STATUS_USER_BASE aborts */
}

static void log_message(const mote_args* a, mote_ret* r) {
  size_t n;
  const char* msg = mote_arg_string(a, 1, &n);
  (void)r;
  mote_log_n(mote_arg_u32(a, 0), msg, n);
}

static void abort_with(const mote_args* a, mote_ret* r) {
  size_t n;
  const char* msg = mote_arg_string(a, 1, &n);
  (void)r;
  mote_abort_n(mote_arg_u32(a, 0), msg, n);
}

static void trigger_ud(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  __asm__ volatile("ud2");
}

static void trigger_page_fault(const mote_args* a, mote_ret* r) {
  volatile const uint64_t* p = (volatile const uint64_t*)(uintptr_t)mote_arg_u64(a, 0);
  mote_ret_u64(r, *p);
}

/* ---- Bytes and the heap ---- */

static void make_bytes(const mote_args* a, mote_ret* r) {
  uint32_t n = mote_arg_u32(a, 0);
  uint8_t* out = mote_ret_buffer(r, n);
  for (uint32_t i = 0; out && i < n; ++i) out[i] = (uint8_t)i;
}

static void sum_bytes(const mote_args* a, mote_ret* r) {
  size_t n;
  const uint8_t* p = mote_arg_bytes(a, 0, &n);
  uint64_t sum = 0;
  for (size_t i = 0; i < n; ++i) sum += p[i];
  mote_ret_u64(r, sum);
}

/* n allocations of varied sizes (up to 32 live at a time, some grown with realloc), each filled
 * with a pattern that is checked before it is freed. Returns how many allocations succeeded; a
 * damaged or misaligned block fails the call (code 500). */
#define LIVE 32
static uint8_t pattern(uint32_t seed, size_t i) { return (uint8_t)(seed * 31u + i); }

static bool check_block(const uint8_t* p, size_t size, uint32_t seed) {
  for (size_t i = 0; i < size; ++i)
    if (p[i] != pattern(seed, i)) return false;
  return true;
}

static void alloc_stress(const mote_args* a, mote_ret* r) {
  uint32_t n = mote_arg_u32(a, 0), ok = 0;
  uint8_t* live[LIVE] = {0};
  size_t sizes[LIVE];
  uint32_t seeds[LIVE];
  bool damaged = false;
  for (uint32_t i = 0; i < n && !damaged; ++i) {
    uint32_t slot = i % LIVE;
    if (live[slot]) {
      damaged |= !check_block(live[slot], sizes[slot], seeds[slot]);
      free(live[slot]);
    }
    size_t size = (i % 16 == 15) ? 1 + (i * 7919u) % 65536 : (i * 7919u) % 512; /* 0 included */
    uint8_t* p = (i % 7 == 3) ? calloc(1, size) : malloc(size);
    if (p && i % 5 == 2) { /* grow half of them with realloc */
      uint8_t* q = realloc(p, size * 2 + 1);
      if (q) p = q, size = size * 2 + 1;
    }
    live[slot] = p;
    if (p == NULL) continue;
    damaged |= ((uintptr_t)p & 15) != 0;
    for (size_t j = 0; j < size; ++j) p[j] = pattern(i, j);
    sizes[slot] = size;
    seeds[slot] = i;
    ++ok;
  }
  for (uint32_t s = 0; s < LIVE; ++s) {
    if (live[s]) damaged |= !check_block(live[s], sizes[s], seeds[s]);
    free(live[s]);
  }
  if (damaged)
    mote_ret_error(r, 500, "alloc_stress: a heap block was damaged or misaligned");
  else
    mote_ret_u32(r, ok);
}

/* ---- Memory and CPU state, for the snapshot tests ---- */

/* 8 MiB of .bss: 2048 pages the snapshot tests fill and checksum. */
#define BIG_PAGES 2048u
static uint8_t big[BIG_PAGES * 4096u] __attribute__((aligned(4096)));

static uint64_t checksum_big_pages(void) {
  uint64_t sum = 0;
  for (size_t i = 0; i < sizeof big; i += 8) {
    uint64_t w;
    memcpy(&w, big + i, 8);
    sum = (sum ^ w) * 0x100000001b3ull + i;
  }
  return sum;
}

/* Fills pages [first, first + count) of `big` with a pattern from `seed`; returns the checksum of
 * all of `big`. */
static void fill_pages(const mote_args* a, mote_ret* r) {
  uint32_t first = mote_arg_u32(a, 0), count = mote_arg_u32(a, 1), seed = mote_arg_u32(a, 2);
  if (first > BIG_PAGES || count > BIG_PAGES - first) {
    mote_ret_error(r, 1000, "page range outside the buffer");
    return;
  }
  for (uint32_t p = first; p < first + count; ++p) {
    for (uint32_t i = 0; i < 4096; i += 64) big[p * 4096u + i] = (uint8_t)(seed + p + i / 64);
  }
  mote_ret_u64(r, checksum_big_pages());
}

static void checksum_big(const mote_args* a, mote_ret* r) {
  (void)a;
  mote_ret_u64(r, checksum_big_pages());
}

/* Leaves values in every piece of CPU state a function can change without privileges: XMM8-15,
 * MXCSR (round toward zero), the x87 control word and stack, and the FS selector. */
static void cpu_state_dirty(const mote_args* a, mote_ret* r) {
  (void)r;
  uint64_t v = mote_arg_u64(a, 0);
  uint32_t mxcsr = 0x7f80u;
  uint16_t fcw = 0x027f;
  double x = 1.5;
  __asm__ volatile(
      "movq %0, %%xmm8\n movq %0, %%xmm9\n movq %0, %%xmm10\n movq %0, %%xmm11\n"
      "movq %0, %%xmm12\n movq %0, %%xmm13\n movq %0, %%xmm14\n movq %0, %%xmm15\n"
      "ldmxcsr %1\n fldcw %2\n fldl %3\n fldl %3\n"
      "xorl %%eax, %%eax\n movl %%eax, %%fs\n"
      :
      : "r"(v), "m"(mxcsr), "m"(fcw), "m"(x)
      : "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "eax", "memory");
}

/* Describes that state: "xmm=<or of XMM8-15> mxcsr=<> fcw=<> fsw=<> fs=<>". */
static void cpu_state_read(const mote_args* a, mote_ret* r) {
  (void)a;
  uint64_t x8, x9, x10, x11, x12, x13, x14, x15;
  uint32_t mxcsr;
  uint16_t fcw, fsw, fs;
  __asm__ volatile(
      "movq %%xmm8, %0\n movq %%xmm9, %1\n movq %%xmm10, %2\n movq %%xmm11, %3\n"
      "movq %%xmm12, %4\n movq %%xmm13, %5\n movq %%xmm14, %6\n movq %%xmm15, %7\n"
      : "=r"(x8), "=r"(x9), "=r"(x10), "=r"(x11), "=r"(x12), "=r"(x13), "=r"(x14), "=r"(x15));
  __asm__ volatile("stmxcsr %0\n fnstcw %1\n fnstsw %2\n movw %%fs, %3"
                   : "=m"(mxcsr), "=m"(fcw), "=m"(fsw), "=r"(fs));
  char text[128];
  int n = mote_snprintf(text, sizeof text, "xmm=%llx mxcsr=%x fcw=%x fsw=%x fs=%x",
                        (unsigned long long)(x8 | x9 | x10 | x11 | x12 | x13 | x14 | x15), mxcsr,
                        fcw, fsw, fs);
  mote_ret_string(r, text, (size_t)n);
}

/* ---- Heap exhaustion ---- */

/* Allocates `block`-byte blocks until malloc returns NULL, frees them all, returns how many it got:
 * exhaustion is reported to the caller, not fatal. */
static void alloc_until_null(const mote_args* a, mote_ret* r) {
  uint32_t block = mote_arg_u32(a, 0);
  void** list = 0;
  uint64_t count = 0;
  for (;;) {
    void** p = (void**)malloc(block < sizeof(void*) ? sizeof(void*) : block);
    if (p == 0) break;
    *p = list;
    list = p;
    ++count;
  }
  while (list != 0) {
    void** next = (void**)*list;
    free(list);
    list = next;
  }
  mote_ret_u64(r, count);
}

/* ---- For the cancellation tests ---- */

static void spin(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  for (volatile uint64_t i = 0;; i = i + 1) {
  }
}

/* Calls host_slow (i32()) and returns what it returned. */
static void call_host_slow(const mote_args* a, mote_ret* r) {
  (void)a;
  mote_host_result h;
  mote_call_host("host_slow", MOTE_TYPE_I32, 0, 0, &h);
  mote_ret_host_result(r, &h);
  mote_host_result_free(&h);
}

int mote_main(void) {
  static const struct {
    const char* name;
    const char* signature;
    mote_handler fn;
  } functions[] = {
      {"echo_i32", "i32(i32)", echo_i32},
      {"echo_u32", "u32(u32)", echo_u32},
      {"echo_i64", "i64(i64)", echo_i64},
      {"echo_u64", "u64(u64)", echo_u64},
      {"echo_f32", "f32(f32)", echo_f32},
      {"echo_f64", "f64(f64)", echo_f64},
      {"echo_bool", "bool(bool)", echo_bool},
      {"echo_string", "string(string)", echo_string},
      {"echo_bytes", "bytes(bytes)", echo_bytes},
      {"add", "i32(i32,i32)", add},
      {"noop", "void()", noop},
      {"mixed", "bytes(i32,u32,i64,u64,f32,f64,bool,string,bytes,i32,string)", mixed},
      {"counter_increment", "i64()", counter_increment},
      {"call_host_i32", "i32(i32)", call_host_i32},
      {"call_host_u32", "u32(u32)", call_host_u32},
      {"call_host_i64", "i64(i64)", call_host_i64},
      {"call_host_u64", "u64(u64)", call_host_u64},
      {"call_host_f32", "f32(f32)", call_host_f32},
      {"call_host_f64", "f64(f64)", call_host_f64},
      {"call_host_bool", "bool(bool)", call_host_bool},
      {"call_host_string", "string(string)", call_host_string},
      {"call_host_bytes", "bytes(bytes)", call_host_bytes},
      {"call_host_void", "void()", call_host_void},
      {"call_host_add", "i32(i32,i32)", call_host_add},
      {"call_host_by_name", "i32(string)", call_host_by_name},
      {"fail_with", "i32(u32,string)", fail_with},
      {"log_message", "void(u32,string)", log_message},
      {"abort_with", "void(u32,string)", abort_with},
      {"trigger_ud", "void()", trigger_ud},
      {"trigger_page_fault", "u64(u64)", trigger_page_fault},
      {"make_bytes", "bytes(u32)", make_bytes},
      {"sum_bytes", "u64(bytes)", sum_bytes},
      {"alloc_stress", "u32(u32)", alloc_stress},
      {"fill_pages", "u64(u32,u32,u32)", fill_pages},
      {"checksum_big", "u64()", checksum_big},
      {"cpu_state_dirty", "void(u64)", cpu_state_dirty},
      {"cpu_state_read", "string()", cpu_state_read},
      {"spin", "void()", spin},
      {"alloc_until_null", "u64(u32)", alloc_until_null},
      {"call_host_slow", "i32()", call_host_slow},
  };
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; ++i) {
    int rc = mote_register(functions[i].name, functions[i].signature, functions[i].fn);
    if (rc != MOTE_REGISTER_OK) {
      mote_logf(MOTE_LOG_ERROR, "cannot register %s: %d", functions[i].name, rc);
      return rc;
    }
  }
  return 0;
}
