/* hostile_stack: a test guest that wrecks its own stack in every way a C program can. */
/* A smashed return address, a buffer overflow, unbounded recursion, a huge alloca and frame, and
 * a stack pointer moved to where it must not be. */
#include "hostile.h"

/* smash_and_return(target): overwrites its own return address with `target`, then returns. */
void smash_and_return(uint64_t target);
__asm__(".text\n"
        ".globl smash_and_return\n"
        ".type smash_and_return, @function\n"
        "smash_and_return:\n"
        "  movq %rdi, (%rsp)\n"
        "  ret\n"
        ".size smash_and_return, . - smash_and_return\n");

static void smash_return(const mote_args* a, mote_ret* r) {
  (void)r;
  smash_and_return(mote_arg_u64(a, 0));
}

/* The classic: n bytes of 0x41 into a 16-byte local buffer, then return through what was the
 * return address (0x4141414141414141: not canonical). */
__attribute__((noinline)) static void overflow(uint32_t n) {
  char buf[16];
  char* p = buf;
  __asm__ volatile("" : "+r"(p)); /* hide the bound from the compiler */
  for (uint32_t i = 0; i < n; ++i) p[i] = 0x41;
  __asm__ volatile("" : : "r"(p) : "memory");
}

static void overflow_buffer(const mote_args* a, mote_ret* r) {
  (void)r;
  overflow(mote_arg_u32(a, 0));
}

/* Recursion without a base case: 64 bytes of frame plus the return address per level. */
#pragma GCC diagnostic ignored "-Winfinite-recursion" /* that is the point */
__attribute__((noinline)) static uint64_t recurse(uint64_t depth) {
  volatile uint64_t pad[8];
  pad[0] = depth;
  return recurse(depth + 1) + pad[0];
}

static void unbounded_recursion(const mote_args* a, mote_ret* r) {
  (void)a;
  mote_ret_u64(r, recurse(0));
}

/* alloca of n bytes; -fstack-clash-protection (the SDK's flags) probes every page on the way. */
static void huge_alloca(const mote_args* a, mote_ret* r) {
  uint32_t n = mote_arg_u32(a, 0);
  volatile char* p = __builtin_alloca(n);
  p[0] = 1;
  p[n - 1] = 2;
  mote_ret_u32(r, (uint32_t)p[0] + p[n - 1]);
}

/* A fixed 1 MiB frame (the default stack is 256 KiB); probed in the prologue. */
__attribute__((noinline)) static uint32_t big_frame_user(uint32_t i) {
  volatile char big[1u << 20];
  big[i] = 7;
  return big[i];
}

static void big_frame(const mote_args* a, mote_ret* r) {
  mote_ret_u32(r, big_frame_user(mote_arg_u32(a, 0)));
}

/* RSP := target, then a push. */
static void stack_pivot(const mote_args* a, mote_ret* r) {
  (void)r;
  __asm__ volatile("movq %0, %%rsp\n pushq $0" : : "r"(mote_arg_u64(a, 0)) : "memory");
}

/* Recursion that stops at `depth` levels: proves the stack works after a restore. */
__attribute__((noinline)) static uint64_t recurse_to(uint64_t depth) {
  volatile uint64_t pad[8];
  pad[0] = depth;
  return depth == 0 ? 0 : recurse_to(depth - 1) + pad[0] - depth + 1;
}

static void bounded_recursion(const mote_args* a, mote_ret* r) {
  mote_ret_u64(r, recurse_to(mote_arg_u64(a, 0)));
}

/* The lowest address of the stack (the guard page lies below it). */
static void stack_base(const mote_args* a, mote_ret* r) {
  (void)a;
  mote_ret_u64(r, mote_rt_boot->stack_base);
}

int mote_main(void) {
  if (mote_register("ping", "i32(i32)", hostile_ping) != 0 ||
      mote_register("stack_base", "u64()", stack_base) != 0 ||
      mote_register("smash_return", "void(u64)", smash_return) != 0 ||
      mote_register("overflow_buffer", "void(u32)", overflow_buffer) != 0 ||
      mote_register("unbounded_recursion", "u64()", unbounded_recursion) != 0 ||
      mote_register("huge_alloca", "u32(u32)", huge_alloca) != 0 ||
      mote_register("big_frame", "u32(u32)", big_frame) != 0 ||
      mote_register("stack_pivot", "void(u64)", stack_pivot) != 0 ||
      mote_register("bounded_recursion", "u64(u64)", bounded_recursion) != 0)
    return 1;
  return 0;
}
