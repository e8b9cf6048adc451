// End to end: the hostile_memory guest's forbidden memory accesses and the errors they give.
// Null, guard pages, above guest memory, non-canonical addresses, page tables, system tables,
// its own code and read-only data, the input buffer, the boot info, non-executable memory.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "memory/layout.hpp"
#include "mote/abi.h"
#include "hostile_support.hpp"

namespace mote::test {
namespace {

const std::string kGuest = "hostile_memory";

// The system regions of the default layout (they do not depend on the image).
const Layout& system_layout() {
  static const Layout layout = *compute_layout(SandboxConfig{}, kPageSize, kPageSize);
  return layout;
}

// An address: a region (a name the guest's where() knows, a system region of the layout, or
// "absolute") plus an offset.
struct Target {
  std::string region;
  std::int64_t offset = 0;
};

std::uint64_t resolve(Sandbox& s, const Target& t) {
  const Layout& l = system_layout();
  std::uint64_t base = 0;
  if (t.region == "absolute")
    base = 0;
  else if (t.region == "gdt")
    base = raw(l.gdt.base);
  else if (t.region == "idt")
    base = raw(l.idt.base);
  else if (t.region == "tss")
    base = raw(l.tss.base);
  else if (t.region == "stubs")
    base = raw(l.stubs.base);
  else if (t.region == "entry_stub")
    base = raw(l.entry_stub.base);
  else if (t.region == "exception_stack")
    base = raw(l.exception_stack.base);
  else if (t.region == "system_guard")
    base = raw(l.entry_stub.end());  // below exception stack
  else if (t.region == "boot_guard")
    base = raw(l.boot_info.end());  // before the image
  else {
    auto where = s.call<std::uint64_t>("where", t.region);
    EXPECT_TRUE(where && *where != 0) << "where(" << t.region << ")";
    base = where ? *where : 0;
  }
  return base + static_cast<std::uint64_t>(t.offset);
}

enum class Op { Read, Write, Fetch };

struct MemoryCase {
  std::string name;
  Op op;
  Target target;
  std::uint8_t vector;            // 14 (#PF) or 13 (#GP: non-canonical)
  bool protection;                // #PF: a present page the access may not make (else: not mapped)
  std::string region;             // #PF: the region the message names
  bool check_error_code = true;   // false in the upper half, where kvm_pvm sets RSVD
  std::int64_t fault_offset = 0;  // the fault's address minus the target (a straddling access)
};

std::vector<MemoryCase> memory_cases() {
  const std::string system = "the system area", none = "no mapped region",
                    null_page = "the null page", above_stack = "the guard page above the stack",
                    above_heap = "the guard page above the heap",
                    guard = "the stack guard page (stack overflow)", image = "the guest image";
  return {
      // Null (reading null is in errors_test).
      {"write_null", Op::Write, {"absolute", 0}, 14, false, null_page},
      {"jump_to_null", Op::Fetch, {"absolute", 0}, 14, false, null_page},
      // Guard pages around the stack and the heap.
      {"read_stack_guard", Op::Read, {"stack_guard", 0}, 14, false, guard},
      {"write_stack_guard_top", Op::Write, {"stack_guard", 4088}, 14, false, guard},
      {"read_above_stack", Op::Read, {"stack_top", 0}, 14, false, above_stack},
      {"read_below_heap", Op::Read, {"heap", -8}, 14, false, above_stack},
      {"write_above_heap", Op::Write, {"heap_end", 0}, 14, false, above_heap},
      // An 8-byte read straddling the heap's end: the fault is at the first unmapped byte.
      {"read_straddling_heap_end", Op::Read, {"heap_end", -4}, 14, false, above_heap, true, 4},
      {"read_system_guard", Op::Read, {"system_guard", 0}, 14, false, system},
      {"read_guard_after_boot_info", Op::Read, {"boot_guard", 0}, 14, false, none},
      // Above guest memory, and the top of the lower canonical half.
      {"read_1GiB", Op::Read, {"absolute", 1ll << 30}, 14, false, none},
      {"write_2p47_minus_8", Op::Write, {"absolute", (1ll << 47) - 8}, 14, false, none},
      // Non-canonical: #GP(0), no address.
      {"read_noncanonical",
       Op::Read,
       {"absolute", static_cast<std::int64_t>(0x8000000000000000ull)},
       13,
       false,
       ""},
      {"write_noncanonical",
       Op::Write,
       {"absolute", static_cast<std::int64_t>(0xdeadbeefdeadbeefull)},
       13,
       false,
       ""},
      // The upper canonical half: not mapped (kvm_pvm reports a reserved-bit violation there).
      {"read_upper_half",
       Op::Read,
       {"absolute", static_cast<std::int64_t>(0xffff800000000000ull)},
       14,
       false,
       none,
       false},
      // Page tables: in guest-physical memory but without a mapping.
      {"read_page_tables", Op::Read, {"page_tables", 0}, 14, false, "the page tables"},
      {"write_page_tables", Op::Write, {"page_tables", 0}, 14, false, "the page tables"},
      // Supervisor pages: GDT, IDT, TSS, ring-0 stubs, exception stack.
      {"read_gdt", Op::Read, {"gdt", 0}, 14, true, system},
      {"write_gdt", Op::Write, {"gdt", 0x30}, 14, true, system},
      {"read_idt", Op::Read, {"idt", 0}, 14, true, system},
      {"write_idt", Op::Write, {"idt", 14 * 16}, 14, true, system},
      {"read_tss", Op::Read, {"tss", 0}, 14, true, system},
      {"write_tss_io_bitmap", Op::Write, {"tss", 104}, 14, true, system},
      {"read_stubs", Op::Read, {"stubs", 0}, 14, true, system},
      {"read_exception_stack", Op::Read, {"exception_stack", 0}, 14, true, system},
      {"write_exception_stack", Op::Write, {"exception_stack", 8184}, 14, true, system},
      // Read-only user pages.
      {"write_entry_stub", Op::Write, {"entry_stub", 0}, 14, true, system},
      {"write_own_code", Op::Write, {"text", 0}, 14, true, image},
      {"write_rodata", Op::Write, {"rodata", 0}, 14, true, image},
      {"write_input_buffer", Op::Write, {"input", 0}, 14, true, "the input buffer"},
      {"write_boot_info", Op::Write, {"boot_info", 0}, 14, true, "the boot info page"},
      // Executing what is not code: NX pages, and supervisor code from ring 3.
      {"jump_into_input", Op::Fetch, {"input", 0}, 14, true, "the input buffer"},
      {"jump_into_output", Op::Fetch, {"output", 0}, 14, true, "the output buffer"},
      {"jump_into_boot_info", Op::Fetch, {"boot_info", 0}, 14, true, "the boot info page"},
      {"jump_into_data", Op::Fetch, {"data", 0}, 14, true, image},
      {"jump_into_stubs", Op::Fetch, {"stubs", 0}, 14, true, system},
      {"jump_into_ud_stub", Op::Fetch, {"stubs", 6 * 16}, 14, true, system},
      {"jump_into_page_tables", Op::Fetch, {"page_tables", 0}, 14, false, "the page tables"},
  };
}

// Names the case in test listings (instead of a byte dump).
void PrintTo(const MemoryCase& c, std::ostream* os) { *os << c.name; }

class HostileMemoryFault : public ::testing::TestWithParam<MemoryCase> {};

TEST_P(HostileMemoryFault, IsAPoisoningGuestFaultAndTheHostRecovers) {
  const MemoryCase& c = GetParam();
  Sandbox s = make_sandbox(kGuest);
  auto before = s.snapshot();
  ASSERT_TRUE(before) << before.error().to_string();
  const std::uint64_t address = resolve(s, c.target);

  Result<void> r = [&]() -> Result<void> {
    switch (c.op) {
      case Op::Read: {
        auto v = s.call<std::uint64_t>("read_u64", address);
        if (!v) return std::unexpected(v.error());
        return {};
      }
      case Op::Write:
        return s.call<void>("write_u64", address, std::uint64_t{0x4242424242424242});
      case Op::Fetch:
        return s.call<void>("jump_to", address);
    }
    return {};
  }();
  ASSERT_FALSE(r) << c.name << ": no fault at 0x" << std::hex << address;
  ASSERT_EQ(r.error().kind(), ErrorKind::GuestFault) << r.error().to_string();
  ASSERT_TRUE(r.error().fault());
  const GuestFault& f = *r.error().fault();
  ASSERT_EQ(f.vector, c.vector) << r.error().message();
  if (c.vector == 13) {
    EXPECT_EQ(f.error_code, 0u);
    EXPECT_EQ(f.address, 0u);
    EXPECT_NE(r.error().message().find("#GP (13)"), std::string::npos) << r.error().message();
  } else {
    const std::uint64_t fault_address = address + static_cast<std::uint64_t>(c.fault_offset);
    EXPECT_EQ(f.address, fault_address) << r.error().message();
    const std::uint64_t expected_code = (c.protection ? 1u : 0u) | (c.op == Op::Write ? 2u : 0u) |
                                        4u | (c.op == Op::Fetch ? 16u : 0u);
    const char* access = c.op == Op::Fetch   ? "instruction fetch"
                         : c.op == Op::Write ? "write"
                                             : "read";
    if (c.check_error_code) {
      EXPECT_EQ(f.error_code, expected_code) << r.error().message();
      EXPECT_NE(r.error().message().find(
                    fmt::format("{} of address 0x{:x} ({}) in {}", access, fault_address,
                                c.protection ? "protection violation" : "not mapped", c.region)),
                std::string::npos)
          << r.error().message();
    } else {
      EXPECT_NE(
          r.error().message().find(fmt::format("{} of address 0x{:x} (", access, fault_address)),
          std::string::npos)
          << r.error().message();
    }
    if (c.op == Op::Fetch) {
      EXPECT_EQ(f.rip, address);  // the fetch itself faulted
    }
  }
  expect_recovers(s, *before, true, kGuest);
}

INSTANTIATE_TEST_SUITE_P(Cases, HostileMemoryFault, ::testing::ValuesIn(memory_cases()),
                         [](const auto& case_info) { return case_info.param.name; });

// ---- Executing from the heap, the stack and .data (addresses the guest picks itself) ------------

struct NxCase {
  std::string function;
  std::string region;
};

void PrintTo(const NxCase& c, std::ostream* os) { *os << c.function; }

class HostileMemoryNx : public ::testing::TestWithParam<NxCase> {};

TEST_P(HostileMemoryNx, CodeCopiedIntoDataPagesDoesNotRun) {
  Sandbox s = make_sandbox(kGuest);
  auto before = s.snapshot();
  ASSERT_TRUE(before);
  auto r = s.call<void>(GetParam().function);
  ASSERT_FALSE(r);
  ASSERT_EQ(r.error().kind(), ErrorKind::GuestFault) << r.error().to_string();
  const GuestFault& f = *r.error().fault();
  EXPECT_EQ(f.vector, 14);
  EXPECT_EQ(f.error_code, 0x15u);  // present, user, instruction fetch: NX
  EXPECT_EQ(f.rip, f.address);
  EXPECT_NE(r.error().message().find(
                fmt::format("instruction fetch of address 0x{:x} (protection violation) in {}",
                            f.address, GetParam().region)),
            std::string::npos)
      << r.error().message();
  expect_recovers(s, *before, true, kGuest);
}

INSTANTIATE_TEST_SUITE_P(Cases, HostileMemoryNx,
                         ::testing::Values(NxCase{"exec_heap", "the heap"},
                                           NxCase{"exec_stack", "the stack"},
                                           NxCase{"exec_data", "the guest image"}),
                         [](const auto& case_info) { return case_info.param.function; });

// ---- What the guest may do ----------------------------------------------------------------------

class HostileMemory : public ::testing::Test {
 protected:
  void SetUp() override {
    auto snap = s.snapshot();
    ASSERT_TRUE(snap) << snap.error().to_string();
    before = *snap;
  }
  Sandbox s = make_sandbox(kGuest);
  SnapshotPtr before;
};

// The boot info and the entry trampoline are user-readable (read-only): reading them is fine.
TEST_F(HostileMemory, TheBootInfoAndTheEntryStubAreReadable) {
  const Layout& l = system_layout();
  auto boot = s.call<std::uint64_t>("where", std::string("boot_info"));
  ASSERT_TRUE(boot);
  EXPECT_EQ(*boot, raw(l.boot_info.base));
  auto magic = s.call<std::uint64_t>("read_u64", *boot);
  ASSERT_TRUE(magic) << magic.error().to_string();
  EXPECT_EQ(*magic & 0xffffffffu, MOTE_BOOT_INFO_MAGIC);
  EXPECT_EQ(*magic >> 32, MOTE_ABI_VERSION);
  auto code = s.call<std::uint64_t>("read_u64", raw(l.entry_stub.base));
  ASSERT_TRUE(code) << code.error().to_string();
  EXPECT_EQ(*code & 0xffff, 0xe3dbu);  // fninit
  expect_recovers(s, before, false, kGuest);
}

// Writes to its own .data and .bss succeed (they are the guest's), and a restore undoes them.
TEST_F(HostileMemory, WritesToItsOwnDataAreUndoneByARestore) {
  auto initial = s.call<std::uint64_t>("globals");
  ASSERT_TRUE(initial);
  for (const char* region : {"data", "bss"}) {
    auto at = s.call<std::uint64_t>("where", std::string(region));
    ASSERT_TRUE(at);
    ASSERT_TRUE(s.call<void>("write_u64", *at, std::uint64_t{0x0f0f0f0f0f0f0f0f}));
  }
  auto changed = s.call<std::uint64_t>("globals");
  ASSERT_TRUE(changed);
  EXPECT_EQ(*changed, 0u);  // both words equal: their xor is 0
  ASSERT_TRUE(s.restore(before));
  auto restored = s.call<std::uint64_t>("globals");
  ASSERT_TRUE(restored);
  EXPECT_EQ(*restored, *initial);
}

// Jumping into the entry trampoline re-enters the runtime with whatever RDI holds: it answers
// with "unknown operation" (MOTE_STATUS_MALFORMED_MESSAGE), which is a returned error, not a
// poisoning one. The guest can only re-run its own entry point.
TEST_F(HostileMemory, JumpingIntoTheEntryStubReentersTheRuntime) {
  auto r = s.call<void>("jump_to", raw(system_layout().entry_stub.base));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::GuestError) << r.error().to_string();
  EXPECT_EQ(r.error().guest_code(), MOTE_STATUS_MALFORMED_MESSAGE);
  EXPECT_NE(r.error().message().find("unknown operation"), std::string::npos)
      << r.error().message();
  expect_recovers(s, before, false, kGuest);
}

// The layout the guest reports agrees with the host's, so the cases above hit what they name.
TEST_F(HostileMemory, TheGuestSeesTheLayoutTheHostBuilt) {
  auto stack_base = s.call<std::uint64_t>("where", std::string("stack_base"));
  auto stack_top = s.call<std::uint64_t>("where", std::string("stack_top"));
  auto heap = s.call<std::uint64_t>("where", std::string("heap"));
  auto heap_end = s.call<std::uint64_t>("where", std::string("heap_end"));
  auto input = s.call<std::uint64_t>("where", std::string("input"));
  auto output = s.call<std::uint64_t>("where", std::string("output"));
  auto tables = s.call<std::uint64_t>("where", std::string("page_tables"));
  ASSERT_TRUE(stack_base && stack_top && heap && heap_end && input && output && tables);
  EXPECT_EQ(*stack_top - *stack_base, s.config().stack_size);
  EXPECT_EQ(*heap, *stack_top + kPageSize);  // one guard page between
  EXPECT_EQ(*heap_end - *heap, s.config().heap_size);
  EXPECT_EQ(*input, *heap_end + kPageSize);
  EXPECT_EQ(*output, *input + s.config().input_size);
  EXPECT_EQ(*tables, *output + s.config().output_size);
}

}  // namespace
}  // namespace mote::test
