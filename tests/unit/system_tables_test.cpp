// Unit tests of write_system_tables: GDT selectors, TSS stacks and I/O bitmap, IDT gates and stubs,
// and the initial CPU state, decoded from a GuestMemory laid out by compute_layout.
#include "arch/x86_64/system_tables.hpp"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <vector>

#include "mote/abi.h"

namespace mote::x86_64 {
namespace {

constexpr std::uint64_t kCr3 = 0x0123'4000;

// Fields of an 8-byte code/data segment descriptor (Intel SDM vol. 3, 3.4.5).
struct Descriptor {
  std::uint64_t raw;
  unsigned type() const { return static_cast<unsigned>((raw >> 40) & 0xf); }
  bool s() const { return (raw >> 44) & 1; }
  unsigned dpl() const { return static_cast<unsigned>((raw >> 45) & 3); }
  bool present() const { return (raw >> 47) & 1; }
  bool l() const { return (raw >> 53) & 1; }
  bool db() const { return (raw >> 54) & 1; }
  bool g() const { return (raw >> 55) & 1; }
  bool code() const { return type() & 8; }
};

class SystemTables : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = compute_layout(SandboxConfig{}, 0x4000, kPageSize);
    ASSERT_TRUE(l.has_value()) << l.error().to_string();
    layout_ = *l;
    auto m = GuestMemory::allocate(layout_.total_size);
    ASSERT_TRUE(m.has_value()) << m.error().to_string();
    memory_.emplace(std::move(*m));
    auto s = write_system_tables(*memory_, layout_, kCr3);
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
    state_ = *s;
  }

  template <class T>
  T read(std::uint64_t address) const {
    auto v = memory_->read_object<T>(GuestAddress{address});
    EXPECT_TRUE(v.has_value()) << std::hex << address;
    return v.value_or(T{});
  }
  Descriptor gdt_entry(std::uint16_t selector) const {
    return {read<std::uint64_t>(raw(layout_.gdt.base) + (selector & ~7u))};
  }
  std::uint64_t tss_base_from_gdt() const {
    const std::uint64_t low = gdt_entry(kTaskState).raw;
    const std::uint64_t high = gdt_entry(kTaskState + 8).raw;
    return ((low >> 16) & 0xff'ffff) | (((low >> 56) & 0xff) << 24) | ((high & 0xffff'ffff) << 32);
  }
  std::uint32_t tss_limit_from_gdt() const {
    const std::uint64_t low = gdt_entry(kTaskState).raw;
    return static_cast<std::uint32_t>((low & 0xffff) | (((low >> 48) & 0xf) << 16));
  }

  // Whether ring 3 may `out %al, port`: the CPU reads two bitmap bytes at iomap_base + port / 8,
  // both inside the TSS limit, and the port's bit must be clear (Intel SDM vol. 1, 19.5.2).
  bool port_allowed(std::uint32_t port) const {
    const std::uint64_t tss = raw(layout_.tss.base);
    const std::uint64_t limit = tss_limit_from_gdt();
    const std::uint64_t iomap = read<std::uint16_t>(tss + 102);
    const std::uint64_t byte = iomap + port / 8;
    if (byte + 1 > limit) return false;
    return ((read<std::uint8_t>(tss + byte) >> (port % 8)) & 1) == 0;
  }

  Layout layout_;
  std::optional<GuestMemory> memory_;
  CpuState state_;
};

// --- GDT -----------------------------------------------------------------------------------------

TEST_F(SystemTables, GdtNullDescriptor) {
  EXPECT_EQ(gdt_entry(0).raw, 0u);
}

TEST_F(SystemTables, GdtKernelCode) {
  EXPECT_EQ(kKernelCode, 0x10);
  const Descriptor d = gdt_entry(kKernelCode);
  EXPECT_TRUE(d.present());
  EXPECT_TRUE(d.s());
  EXPECT_TRUE(d.code());
  EXPECT_EQ(d.dpl(), 0u);
  EXPECT_TRUE(d.l());
  EXPECT_FALSE(d.db());  // L=1 requires D=0
}

TEST_F(SystemTables, GdtKernelData) {
  EXPECT_EQ(kKernelData, 0x18);
  const Descriptor d = gdt_entry(kKernelData);
  EXPECT_TRUE(d.present());
  EXPECT_FALSE(d.code());
  EXPECT_TRUE(d.type() & 2);  // writable
  EXPECT_EQ(d.dpl(), 0u);
}

TEST_F(SystemTables, GdtUserDataIsDpl3) {
  EXPECT_EQ(kUserData, 0x2b);
  EXPECT_EQ(kUserData & 3, 3);  // RPL 3
  const Descriptor d = gdt_entry(kUserData);
  EXPECT_TRUE(d.present());
  EXPECT_TRUE(d.s());
  EXPECT_FALSE(d.code());
  EXPECT_TRUE(d.type() & 2);
  EXPECT_EQ(d.dpl(), 3u);
}

TEST_F(SystemTables, GdtUserCodeIsDpl3LongMode) {
  EXPECT_EQ(kUserCode, 0x33);
  EXPECT_EQ(kUserCode & 3, 3);
  const Descriptor d = gdt_entry(kUserCode);
  EXPECT_TRUE(d.present());
  EXPECT_TRUE(d.s());
  EXPECT_TRUE(d.code());
  EXPECT_EQ(d.dpl(), 3u);
  EXPECT_TRUE(d.l());
  EXPECT_FALSE(d.db());
}

TEST_F(SystemTables, TssDescriptorPointsToTheTss) {
  EXPECT_EQ(kTaskState, 0x40);
  const Descriptor d = gdt_entry(kTaskState);
  EXPECT_TRUE(d.present());
  EXPECT_FALSE(d.s());        // a system descriptor
  EXPECT_EQ(d.type(), 0x9u);  // available 64-bit TSS
  EXPECT_EQ(d.dpl(), 0u);
  EXPECT_EQ(tss_base_from_gdt(), raw(layout_.tss.base));
  // The limit covers the 104-byte TSS and the bitmap, and the GDT limit covers both slots.
  EXPECT_GE(tss_limit_from_gdt(), 104u + 8u);
  EXPECT_LT(tss_limit_from_gdt(), layout_.tss.size);
  EXPECT_GE(state_.gdt.limit, kTaskState + 15);
  EXPECT_EQ(state_.gdt.base, raw(layout_.gdt.base));
}

// --- TSS and I/O bitmap --------------------------------------------------------------------------

TEST_F(SystemTables, TssStacksAreTheExceptionStackTop) {
  const std::uint64_t tss = raw(layout_.tss.base);
  const std::uint64_t top = raw(layout_.exception_stack.end());
  EXPECT_EQ(read<std::uint64_t>(tss + 4), top);   // RSP0
  EXPECT_EQ(read<std::uint64_t>(tss + 36), top);  // IST1
  EXPECT_EQ(top % 16, 0u);
  for (unsigned ist = 2; ist <= 7; ++ist) {
    EXPECT_EQ(read<std::uint64_t>(tss + 36 + 8 * (ist - 1)), 0u) << "IST" << ist;
  }
  EXPECT_GE(read<std::uint16_t>(tss + 102), 104u);  // the bitmap follows the TSS proper
}

TEST_F(SystemTables, IoBitmapOpensExactlyTheGuestPorts) {
  const std::set<std::uint32_t> open = {MOTE_PORT_RETURN, MOTE_PORT_HOST_CALL, MOTE_PORT_LOG,
                                        MOTE_PORT_ABORT};
  for (std::uint32_t port : open) EXPECT_TRUE(port_allowed(port)) << std::hex << port;
  EXPECT_FALSE(port_allowed(MOTE_PORT_EXCEPTION));
  EXPECT_FALSE(port_allowed(0x80));
  EXPECT_FALSE(port_allowed(0x3f8));
  EXPECT_FALSE(port_allowed(0xFFFF));

  std::set<std::uint32_t> allowed;
  for (std::uint32_t port = 0; port <= 0xFFFF; ++port) {
    if (port_allowed(port)) allowed.insert(port);
  }
  EXPECT_EQ(allowed, open);
}

TEST_F(SystemTables, PortsBeyondTheBitmapAreDeniedByTheLimit) {
  // Past the bitmap the CPU would read bytes beyond the TSS limit; those must not exist.
  const std::uint64_t tss = raw(layout_.tss.base);
  const std::uint32_t limit = tss_limit_from_gdt();
  const std::uint16_t iomap = read<std::uint16_t>(tss + 102);
  const std::uint32_t covered_ports = (limit - iomap) * 8;  // ports with both bytes in the limit
  EXPECT_GT(covered_ports, MOTE_PORT_EXCEPTION);
  EXPECT_LT(covered_ports, 0x80u);
  // The byte at the limit (the CPU's second read for the last covered ports) is all ones.
  EXPECT_EQ(read<std::uint8_t>(tss + limit), 0xFF);
  EXPECT_EQ(state_.task.limit, limit);
}

// --- IDT and stubs -------------------------------------------------------------------------------

TEST_F(SystemTables, IdtGatesPointToTheStubs) {
  std::set<std::uint64_t> targets;
  for (unsigned v = 0; v < kExceptionVectors; ++v) {
    const std::uint64_t gate = raw(layout_.idt.base) + 16 * v;
    const auto low = read<std::uint64_t>(gate);
    const auto high = read<std::uint64_t>(gate + 8);
    const std::uint64_t offset =
        (low & 0xffff) | (((low >> 48) & 0xffff) << 16) | ((high & 0xffff'ffff) << 32);
    EXPECT_EQ((low >> 16) & 0xffff, kKernelCode) << "vector " << v;
    EXPECT_EQ((low >> 32) & 7, 1u) << "vector " << v << " IST";
    EXPECT_EQ((low >> 40) & 0xff, 0x8Eu) << "vector " << v << " type";
    EXPECT_EQ(high >> 32, 0u) << "vector " << v << " reserved";
    EXPECT_TRUE(layout_.stubs.contains(offset)) << "vector " << v;
    EXPECT_TRUE(targets.insert(offset).second) << "vector " << v << " shares a stub";
  }
  EXPECT_EQ(state_.idt.base, raw(layout_.idt.base));
  EXPECT_EQ(state_.idt.limit, kExceptionVectors * 16 - 1);
}

TEST_F(SystemTables, StubsPushVectorAndReportOnTheExceptionPort) {
  const std::set<unsigned> with_error_code = {8, 10, 11, 12, 13, 14, 17, 21, 29, 30};
  for (unsigned v = 0; v < kExceptionVectors; ++v) {
    const auto low = read<std::uint64_t>(raw(layout_.idt.base) + 16 * v);
    const auto high = read<std::uint64_t>(raw(layout_.idt.base) + 16 * v + 8);
    const std::uint64_t stub =
        (low & 0xffff) | (((low >> 48) & 0xffff) << 16) | ((high & 0xffff'ffff) << 32);
    std::vector<std::uint8_t> expected;
    if (with_error_code.count(v) == 0) {
      expected = {0x6a, 0x00};  // push $0 in place of an error code
    }
    const std::vector<std::uint8_t> rest = {0x6a, static_cast<std::uint8_t>(v),  // push $v
                                            0xe6, static_cast<std::uint8_t>(MOTE_PORT_EXCEPTION),
                                            0xf4, 0xeb,
                                            0xfd};  // hlt; jmp hlt
    expected.insert(expected.end(), rest.begin(), rest.end());
    std::vector<std::uint8_t> code(expected.size());
    ASSERT_TRUE(memory_->read(GuestAddress{stub}, code).has_value());
    EXPECT_EQ(code, expected) << "vector " << v;
  }
}

// --- CPU state -----------------------------------------------------------------------------------

TEST_F(SystemTables, CpuStateEntersRing3InLongMode) {
  EXPECT_EQ(state_.code.selector, kUserCode);
  EXPECT_EQ(state_.code.dpl, 3);
  EXPECT_EQ(state_.code.l, 1);
  EXPECT_EQ(state_.code.db, 0);
  EXPECT_EQ(state_.code.s, 1);
  EXPECT_EQ(state_.code.present, 1);
  EXPECT_TRUE(state_.code.type & 8);  // code
  EXPECT_EQ(state_.data.selector, kUserData);
  EXPECT_EQ(state_.data.dpl, 3);
  EXPECT_EQ(state_.data.present, 1);
  EXPECT_FALSE(state_.data.type & 8);  // data
  EXPECT_TRUE(state_.data.type & 2);   // writable
  // The cached segments agree with the GDT descriptors they name.
  EXPECT_EQ(state_.code.dpl, gdt_entry(kUserCode).dpl());
  EXPECT_EQ(state_.code.l, gdt_entry(kUserCode).l());
  EXPECT_EQ(state_.data.dpl, gdt_entry(kUserData).dpl());

  EXPECT_EQ(state_.task.selector, kTaskState);
  EXPECT_EQ(state_.task.base, raw(layout_.tss.base));
  EXPECT_EQ(state_.task.type, 11);  // busy 64-bit TSS, as TR must hold
  EXPECT_EQ(state_.task.present, 1);
  EXPECT_EQ(state_.task.s, 0);
}

TEST_F(SystemTables, ControlRegisters) {
  EXPECT_EQ(state_.cr3, kCr3);
  EXPECT_EQ(state_.cr0, 0x8005'0033u);
  EXPECT_TRUE(state_.cr0 & (1u << 0));   // PE
  EXPECT_TRUE(state_.cr0 & (1u << 16));  // WP: ring 0 honours read-only pages too
  EXPECT_TRUE(state_.cr0 & (1u << 31));  // PG
  EXPECT_EQ(state_.cr4, 0x620u);
  EXPECT_TRUE(state_.cr4 & (1u << 5));  // PAE
  EXPECT_EQ(state_.efer, 0xD00u);
  EXPECT_TRUE(state_.efer & (1u << 8));   // LME
  EXPECT_TRUE(state_.efer & (1u << 10));  // LMA
  EXPECT_TRUE(state_.efer & (1u << 11));  // NXE: the page tables' NX bit is honoured
  EXPECT_FALSE(state_.efer & 1u);         // no SCE: SYSCALL raises #UD
}

TEST(SystemTablesWrite, FailsWhenTheRegionsAreOutsideMemory) {
  auto layout = compute_layout(SandboxConfig{}, 0x4000, kPageSize);
  ASSERT_TRUE(layout.has_value());
  auto memory = GuestMemory::allocate(2 * kPageSize);  // holds the GDT but not the IDT or TSS
  ASSERT_TRUE(memory.has_value());
  EXPECT_FALSE(write_system_tables(*memory, *layout, kCr3).has_value());
}

}  // namespace
}  // namespace mote::x86_64
