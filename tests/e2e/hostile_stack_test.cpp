// End to end: the hostile_stack guest's stack smashing, overflows and pivots.
// Smashed return address, buffer overflow, unbounded recursion, huge alloca and frame, stack
// pointer moved into forbidden pages.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "memory/layout.hpp"
#include "hostile_support.hpp"

namespace mote::test {
namespace {

const std::string kGuest = "hostile_stack";

// The system regions of the default layout (they do not depend on the image).
const Layout& system_layout() {
  static const Layout layout = *compute_layout(SandboxConfig{}, kPageSize, kPageSize);
  return layout;
}

// Where a page fault must be.
enum class At {
  Nothing,     // not a page fault
  StackGuard,  // in the guard page below the stack
  StackTop,    // the first byte above the stack (the guard between stack and heap)
  Exact,       // `address`
};

struct StackCase {
  std::string name;
  std::string function;
  std::vector<Value> args;
  std::uint8_t vector;
  std::optional<std::uint64_t> error_code;  // unset: not checked (kvm_pvm sets RSVD in the
                                            // upper half, where bare metal says not-present)
  At at;
  std::uint64_t address;
  std::string excerpt;
};

std::vector<StackCase> stack_cases() {
  const Layout& l = system_layout();
  const std::uint64_t gdt = raw(l.gdt.base), exception_stack_top = raw(l.exception_stack.end());
  const std::string guard = "(not mapped) in the stack guard page (stack overflow)";
  return {
      // ret to a non-canonical address: #GP on the ret itself.
      {"smash_return_noncanonical",
       "smash_return",
       {std::uint64_t{0xdeadbeefdeadbeef}},
       13,
       0,
       At::Nothing,
       0,
       "#GP (13)"},
      // ret to an unmapped address: #PF fetching it.
      {"smash_return_unmapped",
       "smash_return",
       {std::uint64_t{0x40000000}},
       14,
       0x14,
       At::Exact,
       0x40000000,
       "instruction fetch of address 0x40000000 (not mapped) in no mapped region"},
      // 64 bytes of 0x41 over a 16-byte buffer: the return address becomes 0x4141414141414141.
      {"overflow_into_return_address",
       "overflow_buffer",
       {std::uint32_t{64}},
       13,
       0,
       At::Nothing,
       0,
       "#GP (13)"},
      // 1 MiB of 0x41 upwards: runs off the top of the stack into the guard above it.
      {"overflow_off_the_stack_top",
       "overflow_buffer",
       {std::uint32_t{1u << 20}},
       14,
       0x6,
       At::StackTop,
       0,
       "(not mapped) in the guard page above the stack"},
      // Downwards: the guard page below the stack, named as a stack overflow.
      {"unbounded_recursion", "unbounded_recursion", {}, 14, 0x6, At::StackGuard, 0, guard},
      {"alloca_1MiB", "huge_alloca", {std::uint32_t{1u << 20}}, 14, 0x6, At::StackGuard, 0, guard},
      {"alloca_300KiB",
       "huge_alloca",
       {std::uint32_t{300u << 10}},
       14,
       0x6,
       At::StackGuard,
       0,
       guard},
      {"frame_1MiB", "big_frame", {std::uint32_t{5}}, 14, 0x6, At::StackGuard, 0, guard},
      // RSP moved to where it must not be, then a push.
      {"pivot_to_zero",
       "stack_pivot",
       {std::uint64_t{0}},
       14,
       std::nullopt,
       At::Exact,
       0xfffffffffffffff8,
       "write of address 0xfffffffffffffff8"},
      {"pivot_into_gdt",
       "stack_pivot",
       {std::uint64_t{gdt + 8}},
       14,
       0x7,
       At::Exact,
       gdt,
       "(protection violation) in the system area"},
      {"pivot_onto_exception_stack",
       "stack_pivot",
       {std::uint64_t{exception_stack_top}},
       14,
       0x7,
       At::Exact,
       exception_stack_top - 8,
       "(protection violation) in the system area"},
  };
}

// Names the case in test listings (instead of a byte dump).
void PrintTo(const StackCase& c, std::ostream* os) { *os << c.name; }

class HostileStackFault : public ::testing::TestWithParam<StackCase> {};

TEST_P(HostileStackFault, IsAPoisoningGuestFaultAndTheHostRecovers) {
  const StackCase& c = GetParam();
  Sandbox s = make_sandbox(kGuest);
  auto before = s.snapshot();
  ASSERT_TRUE(before) << before.error().to_string();
  auto base = s.call<std::uint64_t>("stack_base");
  ASSERT_TRUE(base) << base.error().to_string();
  const std::uint64_t top = *base + s.config().stack_size;

  auto r = call_any(s, c.function, c.args);
  ASSERT_FALSE(r) << c.function << " did not fault";
  ASSERT_EQ(r.error().kind(), ErrorKind::GuestFault) << r.error().to_string();
  ASSERT_TRUE(r.error().fault());
  const GuestFault& f = *r.error().fault();
  EXPECT_EQ(f.vector, c.vector) << r.error().message();
  if (c.error_code) {
    EXPECT_EQ(f.error_code, *c.error_code) << r.error().message();
  }
  EXPECT_NE(r.error().message().find(c.excerpt), std::string::npos) << r.error().message();
  switch (c.at) {
    case At::Nothing:
      EXPECT_EQ(f.address, 0u);
      break;
    case At::StackGuard:
      EXPECT_GE(f.address, *base - kPageSize) << r.error().message();
      EXPECT_LT(f.address, *base) << r.error().message();
      break;
    case At::StackTop:
      EXPECT_EQ(f.address, top) << r.error().message();
      break;
    case At::Exact:
      EXPECT_EQ(f.address, c.address) << r.error().message();
      break;
  }
  expect_recovers(s, *before, true, kGuest);
}

INSTANTIATE_TEST_SUITE_P(Cases, HostileStackFault, ::testing::ValuesIn(stack_cases()),
                         [](const auto& case_info) { return case_info.param.name; });

class HostileStack : public ::testing::Test {
 protected:
  void SetUp() override {
    auto snap = s.snapshot();
    ASSERT_TRUE(snap) << snap.error().to_string();
    before = *snap;
  }
  Sandbox s = make_sandbox(kGuest);
  SnapshotPtr before;
};

// The controls: allocations and recursion that fit are fine.
TEST_F(HostileStack, WhatFitsTheStackWorks) {
  auto a = s.call<std::uint32_t>("huge_alloca", std::uint32_t{100'000});
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(*a, 3u);
  auto d = s.call<std::uint64_t>("bounded_recursion", std::uint64_t{1500});
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(*d, 1500u);
  expect_recovers(s, before, false, kGuest);
}

// After a stack overflow and a restore, the whole stack is usable again.
TEST_F(HostileStack, TheStackIsWholeAgainAfterAnOverflowAndARestore) {
  auto r = s.call<std::uint64_t>("unbounded_recursion");
  ASSERT_FALSE(r);
  ASSERT_TRUE(s.restore(before));
  auto d = s.call<std::uint64_t>("bounded_recursion", std::uint64_t{1500});
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(*d, 1500u);
}

// The guard follows the configured stack size: 1 MiB of alloca fits a 2 MiB stack.
TEST_F(HostileStack, TheGuardMovesWithTheConfiguredStackSize) {
  SandboxConfig config;
  config.stack_size = 2u << 20;
  Sandbox big = make_sandbox(kGuest, config);
  auto a = big.call<std::uint32_t>("huge_alloca", std::uint32_t{1u << 20});
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(*a, 3u);
  auto r = big.call<std::uint32_t>("huge_alloca", std::uint32_t{3u << 20});
  ASSERT_FALSE(r);
  ASSERT_TRUE(r.error().fault());
  EXPECT_NE(r.error().message().find("stack overflow"), std::string::npos) << r.error().message();
}

}  // namespace
}  // namespace mote::test
