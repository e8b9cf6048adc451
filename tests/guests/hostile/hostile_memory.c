/* hostile_memory: a test guest that reads, writes and executes memory it must not touch. */
/* Null, guard pages, above guest memory, non-canonical addresses, page tables, system tables,
 * its own code and read-only data, the input buffer, the boot info, non-executable memory. */
#include "hostile.h"

static const char rodata_text[] = "read-only data of hostile_memory";
static uint64_t data_word = 0x1122334455667788ull; /* .data */
static uint64_t bss_word;                          /* .bss */
static uint8_t data_code[16] = {0xc3};             /* a `ret`, in writable non-executable .data */

/* The address of a region the guest knows about, by name; 0 for an unknown name. */
static void where(const mote_args* a, mote_ret* r) {
  const char* what = mote_arg_string(a, 0, NULL);
  const struct mote_boot_info* b = mote_rt_boot;
  uint64_t v = 0;
  if (!strcmp(what, "text")) v = (uint64_t)(uintptr_t)&where;
  else if (!strcmp(what, "rodata")) v = (uint64_t)(uintptr_t)rodata_text;
  else if (!strcmp(what, "data")) v = (uint64_t)(uintptr_t)&data_word;
  else if (!strcmp(what, "bss")) v = (uint64_t)(uintptr_t)&bss_word;
  else if (!strcmp(what, "boot_info")) v = (uint64_t)(uintptr_t)b;
  else if (!strcmp(what, "input")) v = b->input_base;
  else if (!strcmp(what, "output")) v = b->output_base;
  else if (!strcmp(what, "heap")) v = b->heap_base;
  else if (!strcmp(what, "heap_end")) v = b->heap_base + b->heap_size;
  else if (!strcmp(what, "stack_base")) v = b->stack_base;
  else if (!strcmp(what, "stack_guard")) v = b->stack_base - 4096;
  else if (!strcmp(what, "stack_top")) v = b->stack_base + b->stack_size;
  else if (!strcmp(what, "page_tables")) v = b->output_base + b->output_size;
  mote_ret_u64(r, v);
}

/* Loads and stores through RAX: a base register that is not RSP/RBP, so a non-canonical address
 * raises #GP (through RSP or RBP it would be #SS). */
static void read_u64(const mote_args* a, mote_ret* r) {
  uint64_t value;
  __asm__ volatile("movq (%%rax), %%rdx" : "=d"(value) : "a"(mote_arg_u64(a, 0)) : "memory");
  mote_ret_u64(r, value);
}

static void write_u64(const mote_args* a, mote_ret* r) {
  (void)r;
  uint64_t address = mote_arg_u64(a, 0), value = mote_arg_u64(a, 1);
  __asm__ volatile("movq %%rdx, (%%rax)" : : "a"(address), "d"(value) : "memory");
}

static void jump_to(const mote_args* a, mote_ret* r) {
  (void)r;
  void (*target)(void) = (void (*)(void))(uintptr_t)mote_arg_u64(a, 0);
  __asm__ volatile("" : "+r"(target));
  target();
}

/* A `ret` copied to the heap, then called: NX. */
static void exec_heap(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  uint8_t* code = mote_alloc(16);
  code[0] = 0xc3;
  void (*target)(void) = (void (*)(void))(uintptr_t)code;
  __asm__ volatile("" : "+r"(target) : : "memory");
  target();
}

/* A `ret` on the stack, then called: NX. */
static void exec_stack(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  volatile uint8_t code[16] = {0xc3};
  void (*target)(void) = (void (*)(void))(uintptr_t)code;
  __asm__ volatile("" : "+r"(target) : : "memory");
  target();
}

/* A `ret` in .data, then called: NX. */
static void exec_data(const mote_args* a, mote_ret* r) {
  (void)a, (void)r;
  void (*target)(void) = (void (*)(void))(uintptr_t)data_code;
  __asm__ volatile("" : "+r"(target) : : "memory");
  target();
}

/* The globals, to show a restore put them back. */
static void globals(const mote_args* a, mote_ret* r) {
  (void)a;
  mote_ret_u64(r, data_word ^ bss_word);
}

int mote_main(void) {
  static const struct {
    const char* name;
    const char* signature;
    mote_handler fn;
  } functions[] = {
      {"ping", "i32(i32)", hostile_ping},   {"where", "u64(string)", where},
      {"read_u64", "u64(u64)", read_u64},   {"write_u64", "void(u64,u64)", write_u64},
      {"jump_to", "void(u64)", jump_to},    {"exec_heap", "void()", exec_heap},
      {"exec_stack", "void()", exec_stack}, {"exec_data", "void()", exec_data},
      {"globals", "u64()", globals},
  };
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; ++i) {
    int rc = mote_register(functions[i].name, functions[i].signature, functions[i].fn);
    if (rc != MOTE_REGISTER_OK) return rc;
  }
  return 0;
}
