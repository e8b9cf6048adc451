/* hostile_ports: a test guest that uses closed ports and privileged or trapping instructions. */
/* Closed I/O ports, IN on ABI ports, privileged instructions, software interrupts and system
 * calls, and the CPU exceptions ring 3 can raise itself. */
#include "hostile.h"

/* A function without arguments whose body is the rest of the macro's arguments. */
#define NOARGS(name, ...)                                                                        \
  static void name(const mote_args* a, mote_ret* r) {                                            \
    (void)a, (void)r;                                                                            \
    __VA_ARGS__;                                                                                 \
  }

/* ---- Ports ---- */

/* outb to any port (through DX, so ports above 0xFF too). */
static void out_port(const mote_args* a, mote_ret* r) {
  (void)r;
  uint16_t port = (uint16_t)mote_arg_u32(a, 0);
  __asm__ volatile("outb %%al, %%dx" : : "a"(0), "d"(port) : "memory");
}

/* outw / outl on an open port whose upper bytes reach closed ones (0x13 + 2, 0x12 + 4). */
NOARGS(outw_0x13, __asm__ volatile("outw %%ax, $0x13" : : "a"(0) : "memory"))
NOARGS(outl_0x12, __asm__ volatile("outl %%eax, $0x12" : : "a"(0) : "memory"))

/* inb from any port. */
static void in_port(const mote_args* a, mote_ret* r) {
  uint16_t port = (uint16_t)mote_arg_u32(a, 0);
  uint8_t value;
  __asm__ volatile("inb %%dx, %%al" : "=a"(value) : "d"(port) : "memory");
  mote_ret_u32(r, value);
}

/* The tail of in_then_forge / insb_then_forge: forges an i32 RESULT carrying the low half of
 * XMM8 and returns. Only asm: a vCPU resumed here would have another call's stack and registers. */
#define FORGE_RESULT_FROM_XMM8                                                                    \
  "movq mote_rt_boot(%%rip), %%rcx\n"                                                            \
  "movq 40(%%rcx), %%rdi\n"        /* boot->output_base */                                       \
  "movl $0x45544f4d, (%%rdi)\n"    /* magic */                                                   \
  "movl $2, 4(%%rdi)\n"            /* kind RESULT */                                             \
  "movq $40, 8(%%rdi)\n"           /* size */                                                    \
  "movq $0, 16(%%rdi)\n"           /* status OK */                                               \
  "movq $1, 24(%%rdi)\n"           /* type i32, size 0 */                                        \
  "movq %%xmm8, %%rax\n"                                                                         \
  "movslq %%eax, %%rax\n"                                                                        \
  "movq %%rax, 32(%%rdi)\n"        /* bits */                                                    \
  "outb %%al, $0x10\n"                                                                           \
  "ud2\n"

/* `in` from the RETURN port (a protocol error: the host must never resume after it), followed by
 * code that forges a reply for whatever call would run next if the vCPU ever resumed here: an i32
 * RESULT carrying the low half of XMM8, which this call loads with `secret`. */
static void in_then_forge(const mote_args* a, mote_ret* r) {
  (void)r;
  __asm__ volatile("movq %0, %%xmm8\n"
                   "inb $0x10, %%al\n" FORGE_RESULT_FROM_XMM8
                   :
                   : "r"(mote_arg_u64(a, 0))
                   : "rax", "rcx", "rdi", "xmm8", "memory");
}

/* The same with string I/O (`insb` into the output buffer), which KVM always emulates. */
static void insb_then_forge(const mote_args* a, mote_ret* r) {
  (void)r;
  __asm__ volatile("movq %0, %%xmm8\n"
                   "movq mote_rt_boot(%%rip), %%rcx\n"
                   "movq 40(%%rcx), %%rdi\n"
                   "movl $0x10, %%edx\n"
                   "insb\n" FORGE_RESULT_FROM_XMM8
                   :
                   : "r"(mote_arg_u64(a, 0))
                   : "rax", "rcx", "rdx", "rdi", "xmm8", "memory");
}

/* rep outsb of 4 bytes from an unmapped address to the LOG port (string I/O). */
NOARGS(outsb_unmapped, __asm__ volatile("rep outsb" : : "S"(0x7000000000ull), "c"(4), "d"(0x12)
                                        : "memory"))

/* ---- Privileged instructions ---- */

NOARGS(do_hlt, __asm__ volatile("hlt"))
NOARGS(do_cli, __asm__ volatile("cli"))
NOARGS(do_sti, __asm__ volatile("sti"))
NOARGS(do_rdmsr, __asm__ volatile("rdmsr" : : "c"(0xC0000080u) : "rax", "rdx")) /* EFER */
NOARGS(do_wrmsr, __asm__ volatile("wrmsr" : : "c"(0xC0000080u), "a"(0x501u), "d"(0)))
NOARGS(do_mov_cr3, __asm__ volatile("mov %0, %%cr3" : : "r"(0ull) : "memory"))
NOARGS(do_lgdt, {
  struct __attribute__((packed)) {
    uint16_t limit;
    uint64_t base;
  } d = {0xffff, 0};
  __asm__ volatile("lgdt %0" : : "m"(d));
})
NOARGS(do_invlpg, __asm__ volatile("invlpg (%0)" : : "r"(0ull) : "memory"))
NOARGS(do_swapgs, __asm__ volatile("swapgs"))
/* iretq to ring 0 (CS = 0x10): a return to a more privileged level is refused. */
NOARGS(do_iretq_ring0, __asm__ volatile("pushq $0x18\n pushq %%rsp\n pushfq\n pushq $0x10\n"
                                        "leaq 1f(%%rip), %%rax\n pushq %%rax\n iretq\n 1:"
                                        :
                                        :
                                        : "rax", "memory"))
/* Load the kernel data selector (0x18, DPL 0) into DS. */
NOARGS(load_kernel_ds, __asm__ volatile("movw $0x18, %%ax\n movw %%ax, %%ds" : : : "rax"))

/* ---- Software interrupts and system calls ---- */

NOARGS(do_int3, __asm__ volatile("int3"))
NOARGS(do_int1, __asm__ volatile(".byte 0xf1")) /* ICEBP / INT1 */
NOARGS(do_int_0x0e, __asm__ volatile("int $0x0e"))
NOARGS(do_int_0x20, __asm__ volatile("int $0x20"))
NOARGS(do_int_0x80, __asm__ volatile("int $0x80"))
NOARGS(do_syscall, __asm__ volatile("syscall" : : : "rcx", "r11", "memory"))
NOARGS(do_sysenter, __asm__ volatile("sysenter" : : : "memory"))
NOARGS(do_into, __asm__ volatile(".byte 0xce")) /* INTO: invalid in 64-bit mode */

/* ---- CPU exceptions ring 3 raises itself ---- */

static void divide_by_zero(const mote_args* a, mote_ret* r) {
  uint32_t d = mote_arg_u32(a, 0), q;
  __asm__ volatile("divl %2" : "=a"(q) : "a"(1), "r"(d), "d"(0));
  mote_ret_u32(r, q);
}

/* RFLAGS.AC set by popf (allowed in ring 3), CR0.AM is on: a misaligned load raises #AC. */
NOARGS(alignment_check, {
  uint64_t buf[2] = {0, 0};
  __asm__ volatile("pushfq\n orq $0x40000, (%%rsp)\n popfq\n movl 1(%0), %%eax"
                   :
                   : "r"(buf)
                   : "rax", "memory", "cc");
})

/* RFLAGS.TF by popf: a single-step trap after the next instruction. */
NOARGS(single_step,
       __asm__ volatile("pushfq\n orq $0x100, (%%rsp)\n popfq\n nop\n nop" : : : "memory", "cc"))

/* SSE divide by zero with the exception unmasked in MXCSR: #XM. */
NOARGS(simd_exception, {
  uint32_t mxcsr = 0x1f80u & ~0x200u; /* unmask ZE */
  float zero = 0.0f, one = 1.0f;
  __asm__ volatile("ldmxcsr %1\n divss %2, %0" : "+x"(one) : "m"(mxcsr), "x"(zero) : "memory");
})

/* x87 divide by zero with the exception unmasked: #MF at the next x87 instruction. */
NOARGS(x87_exception, {
  uint16_t fcw = 0x037f & ~0x4; /* unmask ZE */
  __asm__ volatile("fldcw %0\n fldz\n fld1\n fdivp\n fwait\n fninit" : : "m"(fcw) : "memory");
})

/* A push through a non-canonical RSP: #SS. */
NOARGS(stack_segment_fault, __asm__ volatile("movabsq $0x8000000000001000, %%rsp\n pushq $0"
                                             :
                                             :
                                             : "memory"))

/* rdpmc without CR4.PCE: #GP. */
NOARGS(do_rdpmc, __asm__ volatile("rdpmc" : : "c"(0) : "rax", "rdx"))

/* 1/x with SSE and with x87: +inf for x = 0 under the default MXCSR and x87 control word (all
 * exceptions masked), so the tests can see an unmasked state never outlives a restore. */
static void sse_inverse(const mote_args* a, mote_ret* r) {
  float x = mote_arg_f32(a, 0), q = 1.0f;
  __asm__ volatile("divss %1, %0" : "+x"(q) : "x"(x));
  mote_ret_f32(r, q);
}

static void x87_inverse(const mote_args* a, mote_ret* r) {
  double x = mote_arg_f64(a, 0), q;
  __asm__ volatile("fldl %1\n fld1\n fdivp\n fstpl %0" : "=m"(q) : "m"(x));
  mote_ret_f64(r, q);
}

/* ---- Unprivileged instructions that work: rdtsc, cpuid ---- */

static void do_rdtsc(const mote_args* a, mote_ret* r) {
  (void)a;
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  mote_ret_u64(r, ((uint64_t)hi << 32) | lo);
}

static void do_cpuid(const mote_args* a, mote_ret* r) {
  uint32_t eax, ebx, ecx, edx;
  __asm__ volatile("cpuid"
                   : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx)
                   : "a"(mote_arg_u32(a, 0)), "c"(0));
  mote_ret_u64(r, ((uint64_t)ebx << 32) | eax);
}

/* sgdt is unprivileged without CR4.UMIP: returns the GDT base the guest sees. */
static void do_sgdt(const mote_args* a, mote_ret* r) {
  (void)a;
  struct __attribute__((packed)) {
    uint16_t limit;
    uint64_t base;
  } d = {0, 0};
  __asm__ volatile("sgdt %0" : "=m"(d));
  mote_ret_u64(r, d.base);
}

int mote_main(void) {
  static const struct {
    const char* name;
    const char* signature;
    mote_handler fn;
  } functions[] = {
      {"ping", "i32(i32)", hostile_ping},
      {"out_port", "void(u32)", out_port},
      {"outw_0x13", "void()", outw_0x13},
      {"outl_0x12", "void()", outl_0x12},
      {"in_port", "u32(u32)", in_port},
      {"outsb_unmapped", "void()", outsb_unmapped},
      {"in_then_forge", "void(u64)", in_then_forge},
      {"insb_then_forge", "void(u64)", insb_then_forge},
      {"hlt", "void()", do_hlt},
      {"cli", "void()", do_cli},
      {"sti", "void()", do_sti},
      {"rdmsr", "void()", do_rdmsr},
      {"wrmsr", "void()", do_wrmsr},
      {"mov_cr3", "void()", do_mov_cr3},
      {"lgdt", "void()", do_lgdt},
      {"invlpg", "void()", do_invlpg},
      {"swapgs", "void()", do_swapgs},
      {"iretq_ring0", "void()", do_iretq_ring0},
      {"load_kernel_ds", "void()", load_kernel_ds},
      {"int3", "void()", do_int3},
      {"int1", "void()", do_int1},
      {"int_0x0e", "void()", do_int_0x0e},
      {"int_0x20", "void()", do_int_0x20},
      {"int_0x80", "void()", do_int_0x80},
      {"syscall", "void()", do_syscall},
      {"sysenter", "void()", do_sysenter},
      {"into", "void()", do_into},
      {"divide_by_zero", "u32(u32)", divide_by_zero},
      {"alignment_check", "void()", alignment_check},
      {"single_step", "void()", single_step},
      {"simd_exception", "void()", simd_exception},
      {"x87_exception", "void()", x87_exception},
      {"stack_segment_fault", "void()", stack_segment_fault},
      {"rdpmc", "void()", do_rdpmc},
      {"sse_inverse", "f32(f32)", sse_inverse},
      {"x87_inverse", "f64(f64)", x87_inverse},
      {"rdtsc", "u64()", do_rdtsc},
      {"cpuid", "u64(u32)", do_cpuid},
      {"sgdt", "u64()", do_sgdt},
  };
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; ++i) {
    int rc = mote_register(functions[i].name, functions[i].signature, functions[i].fn);
    if (rc != MOTE_REGISTER_OK) return rc;
  }
  return 0;
}
