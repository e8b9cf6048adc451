// System tables: the ring-0 scaffolding the host writes once so the guest never runs ring-0 code
// except the cold exception stubs.
#include "arch/x86_64/system_tables.hpp"

#include <array>
#include <cstring>
#include <vector>

#include "mote/abi.h"

namespace mote::x86_64 {

namespace {

// 64-bit TSS (Intel SDM vol. 3, 8.7) followed by the I/O permission bitmap.
struct [[gnu::packed]] Tss {
  std::uint32_t reserved0;
  std::uint64_t rsp[3];
  std::uint64_t reserved1;
  std::uint64_t ist[7];
  std::uint64_t reserved2;
  std::uint16_t reserved3;
  std::uint16_t iomap_base;
};
static_assert(sizeof(Tss) == 104);

// The bitmap covers ports 0..kBitmapPorts-1; ports beyond the TSS limit are denied.
constexpr unsigned kBitmapPorts = 64;
constexpr std::uint32_t kTssLimit = sizeof(Tss) + kBitmapPorts / 8 + 1 - 1;  // + 0xff terminator
constexpr std::array<std::uint16_t, 4> kOpenPorts = {MOTE_PORT_RETURN, MOTE_PORT_HOST_CALL,
                                                      MOTE_PORT_LOG, MOTE_PORT_ABORT};
static_assert(MOTE_PORT_EXCEPTION < kBitmapPorts, "the exception port must be in the bitmap (closed)");

constexpr std::uint64_t kStubSize = 16;

bool pushes_error_code(unsigned vector) {
  return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 ||
         vector == 29 || vector == 30;
}

// One stub: [push $0] ; push $vector ; out %al, $MOTE_PORT_EXCEPTION ; 1: hlt ; jmp 1b
std::vector<std::uint8_t> stub_code(unsigned vector) {
  std::vector<std::uint8_t> code;
  if (!pushes_error_code(vector)) code.insert(code.end(), {0x6a, 0x00});
  code.insert(code.end(), {0x6a, static_cast<std::uint8_t>(vector), 0xe6,
                           static_cast<std::uint8_t>(MOTE_PORT_EXCEPTION), 0xf4, 0xeb, 0xfd});
  return code;
}

constexpr std::uint64_t code_descriptor(unsigned dpl) {  // 64-bit code, present, accessed
  return 0x00af'9b00'0000'ffffull | (static_cast<std::uint64_t>(dpl) << 45);
}
constexpr std::uint64_t data_descriptor(unsigned dpl) {  // writable data, present, accessed
  return 0x00cf'9300'0000'ffffull | (static_cast<std::uint64_t>(dpl) << 45);
}

}  // namespace

Result<CpuState> write_system_tables(GuestMemory& memory, const Layout& layout, std::uint64_t cr3) {
  // GDT, slots as Linux: 2 kernel code, 3 kernel data, 4 user code32, 5 user data, 6 user code,
  // 8-9 TSS (16-byte system descriptor).
  std::array<std::uint64_t, 10> gdt{};
  gdt[kKernelCode / 8] = code_descriptor(0);
  gdt[kKernelData / 8] = data_descriptor(0);
  gdt[4] = 0x00cf'fb00'0000'ffffull;  // user 32-bit code (unused; keeps Linux's layout)
  gdt[kUserData / 8] = data_descriptor(3);
  gdt[kUserCode / 8] = code_descriptor(3);
  const std::uint64_t tss = raw(layout.tss.base);
  gdt[kTaskState / 8] = (kTssLimit & 0xffff) | ((tss & 0xff'ffff) << 16) | (0x89ull << 40) |
                        (static_cast<std::uint64_t>((kTssLimit >> 16) & 0xf) << 48) |
                        (((tss >> 24) & 0xff) << 56);
  gdt[kTaskState / 8 + 1] = tss >> 32;
  MOTE_TRY_VOID(memory.write_object(layout.gdt.base, gdt));

  // TSS: every privilege change and every exception lands on the exception stack (IST1).
  Tss t{};
  const std::uint64_t stack_top = raw(layout.exception_stack.end());
  t.rsp[0] = stack_top;
  t.ist[0] = stack_top;
  t.iomap_base = sizeof(Tss);
  std::array<std::uint8_t, kBitmapPorts / 8 + 1> bitmap;
  bitmap.fill(0xff);
  for (std::uint16_t port : kOpenPorts) bitmap[port / 8] &= static_cast<std::uint8_t>(~(1u << (port % 8)));
  MOTE_TRY_VOID(memory.write_object(layout.tss.base, t));
  MOTE_TRY_VOID(memory.write(layout.tss.base + sizeof(Tss), bitmap));

  // Stubs and IDT gates (64-bit interrupt gates, DPL 0, IST1).
  for (unsigned v = 0; v < kExceptionVectors; ++v) {
    const std::uint64_t stub = raw(layout.stubs.base) + v * kStubSize;
    MOTE_TRY_VOID(memory.write(GuestAddress{stub}, stub_code(v)));
    std::array<std::uint64_t, 2> gate{};
    gate[0] = (stub & 0xffff) | (static_cast<std::uint64_t>(kKernelCode) << 16) | (1ull << 32) |
              (0x8eull << 40) | (((stub >> 16) & 0xffff) << 48);
    gate[1] = stub >> 32;
    MOTE_TRY_VOID(memory.write_object(layout.idt.base + v * 16, gate));
  }

  CpuState s;
  s.code = {0, 0xffffffff, kUserCode, 11, 1, 3, 0, 1, 1, 1, 0};
  s.data = {0, 0xffffffff, kUserData, 3, 1, 3, 1, 1, 0, 1, 0};
  s.task = {tss, kTssLimit, kTaskState, 11, 1, 0, 0, 0, 0, 0, 0};
  s.gdt = {raw(layout.gdt.base), static_cast<std::uint16_t>(sizeof(gdt) - 1)};
  s.idt = {raw(layout.idt.base), static_cast<std::uint16_t>(kExceptionVectors * 16 - 1)};
  s.cr3 = cr3;
  return s;
}

Result<void> write_entry_stub(GuestMemory& memory, const Layout& layout, std::uint64_t entry) {
  std::vector<std::uint8_t> code = {0xdb, 0xe3};  // fninit
  for (int i = 0; i < 8; ++i) code.insert(code.end(), {0xd9, 0xee});  // fldz: overwrite ST0-7
  code.insert(code.end(), {0xdb, 0xe3});  // fninit: empty stack, default control word
  const std::size_t ldmxcsr_at = code.size();
  code.insert(code.end(), {0x0f, 0xae, 0x15, 0, 0, 0, 0});  // ldmxcsr mxcsr(%rip)
  for (std::uint8_t r = 0; r < 16; ++r) {                     // pxor %xmmN, %xmmN
    if (r >= 8) code.push_back(0x66), code.push_back(0x45);
    else code.push_back(0x66);
    const auto n = static_cast<std::uint8_t>(r & 7);
    code.insert(code.end(), {0x0f, 0xef, static_cast<std::uint8_t>(0xc0 | (n << 3) | n)});
  }
  code.insert(code.end(), {0xb8, static_cast<std::uint8_t>(kUserData), 0, 0, 0});  // mov $0x2b,%eax
  code.insert(code.end(), {0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xe0, 0x8e, 0xe8});  // ds, es, fs, gs
  code.insert(code.end(), {0xb8, 0, 0, 0, 0});  // mov $0,%eax (flags untouched)
  const std::size_t jmp_at = code.size();
  code.insert(code.end(), {0xff, 0x25, 0, 0, 0, 0});  // jmp *target(%rip)
  // Data after the code: the MXCSR reset value, then the jump target.
  while (code.size() % 8 != 0) code.push_back(0xcc);
  const std::size_t mxcsr_at = code.size();
  code.insert(code.end(), {0x80, 0x1f, 0, 0, 0, 0, 0, 0});  // 0x1f80: all exceptions masked
  const std::size_t target_at = code.size();
  for (int i = 0; i < 8; ++i) code.push_back(static_cast<std::uint8_t>(entry >> (8 * i)));
  auto rel32 = [&](std::size_t field, std::size_t next_insn, std::size_t target) {
    const auto disp = static_cast<std::int32_t>(static_cast<std::int64_t>(target) -
                                                static_cast<std::int64_t>(next_insn));
    std::memcpy(code.data() + field, &disp, 4);
  };
  rel32(ldmxcsr_at + 3, ldmxcsr_at + 7, mxcsr_at);
  rel32(jmp_at + 2, jmp_at + 6, target_at);
  return memory.write(layout.entry_stub.base, code);
}

}  // namespace mote::x86_64
