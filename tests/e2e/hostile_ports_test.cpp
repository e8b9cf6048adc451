// End to end: the hostile_ports guest's port I/O, privileged instructions and exceptions.
// Closed ports, IN on ABI ports, privileged instructions, software interrupts, system calls and
// CPU exceptions raised on purpose.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "memory/layout.hpp"
#include "mote/abi.h"
#include "hostile_support.hpp"

namespace mote::test {
namespace {

const std::string kGuest = "hostile_ports";

// ---- Faults ------------------------------------------------------------------------------------

// One accepted outcome: vector and CPU error code.
struct Outcome {
  std::uint8_t vector;
  std::uint64_t error_code;
};

struct FaultCase {
  std::string name;
  std::string function;
  std::vector<Value> args;
  // The outcomes accepted. Where kvm_pvm (the hypervisor of our machines) differs from the
  // architecture (bare-metal KVM), both are listed: architecture first, then kvm_pvm.
  std::vector<Outcome> outcomes;
  std::string excerpt;  // in the message
};

constexpr Outcome kGP{13, 0};

std::vector<FaultCase> fault_cases() {
  const auto port = [](std::uint32_t p) { return std::vector<Value>{p}; };
  return {
      // Ports the TSS I/O bitmap closes: #GP(0). Beyond the bitmap (>= 64) the TSS limit denies.
      {"out_0x14", "out_port", port(0x14), {kGP}, "#GP (13)"},
      {"out_0x80", "out_port", port(0x80), {kGP}, "#GP (13)"},
      {"out_0x3f8", "out_port", port(0x3f8), {kGP}, "#GP (13)"},
      {"out_0x1f_exception_port", "out_port", port(MOTE_PORT_EXCEPTION), {kGP}, "#GP (13)"},
      {"out_0xffff", "out_port", port(0xffff), {kGP}, "#GP (13)"},
      // A wide OUT on an open port whose upper bytes reach a closed one.
      {"outw_0x13", "outw_0x13", {}, {kGP}, "#GP (13)"},
      {"outl_0x12", "outl_0x12", {}, {kGP}, "#GP (13)"},
      {"in_0x1f", "in_port", port(0x1f), {kGP}, "#GP (13)"},
      {"in_0x80", "in_port", port(0x80), {kGP}, "#GP (13)"},
      // String I/O from an unmapped source: the read faults before any exit.
      {"outsb_unmapped",
       "outsb_unmapped",
       {},
       {{14, 0x4}},
       "read of address 0x7000000000 (not mapped) in no mapped region"},
      // Privileged instructions.
      {"hlt", "hlt", {}, {kGP}, "#GP (13)"},
      {"cli", "cli", {}, {kGP}, "#GP (13)"},
      {"sti", "sti", {}, {kGP}, "#GP (13)"},
      {"rdmsr", "rdmsr", {}, {kGP}, "#GP (13)"},
      {"wrmsr", "wrmsr", {}, {kGP}, "#GP (13)"},
      {"mov_cr3", "mov_cr3", {}, {kGP}, "#GP (13)"},
      {"lgdt", "lgdt", {}, {kGP}, "#GP (13)"},
      {"invlpg", "invlpg", {}, {kGP}, "#GP (13)"},
      {"swapgs", "swapgs", {}, {kGP}, "#GP (13)"},
      {"rdpmc", "rdpmc", {}, {kGP}, "#GP (13)"},
      {"iretq_to_ring0", "iretq_ring0", {}, {{13, 0x10}}, "#GP (13) at rip 0x"},
      {"load_kernel_ds", "load_kernel_ds", {}, {{13, 0x18}}, ", error code 0x18"},
      // Software interrupts. The IDT gates have DPL 0 and the IDT holds 32 vectors: the
      // architecture raises #GP with the IDT error code ((vector << 3) | 2); kvm_pvm delivers
      // int3 as #BP and `int $n` as #UD. Either way a fault, never the handler.
      {"int3", "int3", {}, {{13, 0x1a}, {3, 0}}, " at rip 0x"},
      {"int_0x0e", "int_0x0e", {}, {{13, 0x72}, {6, 0}}, " at rip 0x"},
      {"int_0x20", "int_0x20", {}, {{13, 0x102}, {6, 0}}, " at rip 0x"},
      {"int_0x80", "int_0x80", {}, {{13, 0x402}, {6, 0}}, " at rip 0x"},
      // ICEBP does not check the gate's DPL: #DB everywhere.
      {"int1", "int1", {}, {{1, 0}}, "#DB (1)"},
      // SYSCALL with EFER.SCE off is #UD on bare-metal KVM. kvm_pvm ignores SCE: it jumps to
      // LSTAR (never set: 0) in ring 3, which faults fetching the unmapped null page.
      {"syscall", "syscall", {}, {{6, 0}}, "SYSCALL is not available to guests"},
      // SYSENTER in 64-bit mode: #UD on AMD and kvm_pvm, #GP(0) on Intel (SYSENTER_CS is 0).
      {"sysenter", "sysenter", {}, {{6, 0}, kGP}, " at rip 0x"},
      {"into", "into", {}, {{6, 0}}, "#UD (6)"},
      // Exceptions ring 3 raises itself.
      {"divide_by_zero", "divide_by_zero", {std::uint32_t{0}}, {{0, 0}}, "#DE (0)"},
      {"alignment_check", "alignment_check", {}, {{17, 0}}, "#AC (17)"},
      {"single_step", "single_step", {}, {{1, 0}}, "#DB (1)"},
      {"simd_exception", "simd_exception", {}, {{19, 0}}, "#XM (19)"},
      {"x87_exception", "x87_exception", {}, {{16, 0}}, "#MF (16)"},
      {"stack_segment_fault", "stack_segment_fault", {}, {{12, 0}}, "#SS (12)"},
  };
}

// Names the case in test listings (instead of a byte dump).
void PrintTo(const FaultCase& c, std::ostream* os) { *os << c.name; }

class HostilePortsFault : public ::testing::TestWithParam<FaultCase> {};

TEST_P(HostilePortsFault, IsAPoisoningGuestFaultAndTheHostRecovers) {
  const FaultCase& c = GetParam();
  Sandbox s = make_sandbox(kGuest);
  auto before = s.snapshot();
  ASSERT_TRUE(before) << before.error().to_string();
  auto r = call_any(s, c.function, c.args);
  ASSERT_FALSE(r) << c.function << " did not fault";
  ASSERT_EQ(r.error().kind(), ErrorKind::GuestFault) << r.error().to_string();
  ASSERT_TRUE(r.error().fault());
  const GuestFault& f = *r.error().fault();
  bool accepted = false;
  for (const Outcome& o : c.outcomes)
    accepted |= f.vector == o.vector && f.error_code == o.error_code;
  EXPECT_TRUE(accepted) << "vector " << int(f.vector) << " error code 0x" << std::hex
                        << f.error_code << ": " << r.error().message();
  EXPECT_NE(r.error().message().find(c.excerpt), std::string::npos) << r.error().message();
  if (f.vector == 14) {
    EXPECT_EQ(f.address, c.name == "syscall" ? 0u : 0x7000000000u);
  } else {
    EXPECT_EQ(f.address, 0u);  // only page faults carry an address
    EXPECT_NE(f.rip, 0u);
  }
  expect_recovers(s, *before, true, kGuest);
}

INSTANTIATE_TEST_SUITE_P(Cases, HostilePortsFault, ::testing::ValuesIn(fault_cases()),
                         [](const auto& case_info) { return case_info.param.name; });

// ---- Reading an ABI port: a protocol error (the bitmap lets IN through to the host) ------------

class HostilePorts : public ::testing::Test {
 protected:
  void SetUp() override {
    auto snap = s.snapshot();
    ASSERT_TRUE(snap) << snap.error().to_string();
    before = *snap;
  }
  Sandbox s = make_sandbox(kGuest);
  SnapshotPtr before;
};

TEST_F(HostilePorts, InFromTheReturnPortIsAProtocolError) {
  auto r = s.call<std::uint32_t>("in_port", std::uint32_t{MOTE_PORT_RETURN});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::GuestProtocol);
  EXPECT_EQ(r.error().message(), "guest read from port 0x10");
  expect_recovers(s, before, true, kGuest);
}

TEST_F(HostilePorts, InFromTheHostCallPortIsAProtocolError) {
  auto r = s.call<std::uint32_t>("in_port", std::uint32_t{MOTE_PORT_HOST_CALL});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::GuestProtocol);
  EXPECT_EQ(r.error().message(), "guest read from port 0x11");
  expect_recovers(s, before, true, kGuest);
}

// OUT to the RETURN port from the middle of a function: the host takes whatever the output buffer
// holds as the reply (here still the function table from init: the wrong kind).
TEST_F(HostilePorts, AnEarlyOutToTheReturnPortIsJudgedByTheOutputBuffer) {
  auto r = s.call<void>("out_port", std::uint32_t{MOTE_PORT_RETURN});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::GuestProtocol);
  EXPECT_EQ(r.error().message(), fmt::format("expected message kind {}, got {}", MOTE_MSG_RESULT,
                                             MOTE_MSG_FUNCTION_TABLE));
  expect_recovers(s, before, true, kGuest);
}

// An IN on an ABI port ends the call with a protocol error, but KVM keeps the IN pending and
// completes it on the next KVM_RUN. The next operation must still start at the entry stub, not
// resume after the IN: there this guest forges a reply from XMM8, which carries the previous
// call's `secret` unless the entry stub (skipped by a resume) clears it.
class HostilePortsAbandonedIn : public ::testing::TestWithParam<std::string> {};

TEST_P(HostilePortsAbandonedIn, NeverResumesAfterARestore) {
  Sandbox s = make_sandbox(kGuest);
  auto before = s.snapshot();
  ASSERT_TRUE(before) << before.error().to_string();
  constexpr std::uint64_t kSecret = 0x5EC12E7;
  auto r = s.call<void>(GetParam(), kSecret);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::GuestProtocol);
  EXPECT_EQ(r.error().message(), "guest read from port 0x10");
  EXPECT_TRUE(s.poisoned());
  ASSERT_TRUE(s.restore(*before));
  auto p = s.call<std::int32_t>("ping", 1);
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_NE(*p, static_cast<std::int32_t>(kSecret))
      << "the call resumed after the abandoned IN and returned the previous call's XMM8";
  EXPECT_EQ(*p, 2);
  expect_recovers(s, *before, false, kGuest);
}

INSTANTIATE_TEST_SUITE_P(Cases, HostilePortsAbandonedIn,
                         ::testing::Values("in_then_forge", "insb_then_forge"),
                         [](const auto& case_info) { return case_info.param; });

// ---- Unprivileged instructions: they work and leak nothing of the host --------------------------

TEST_F(HostilePorts, RdtscAndCpuidWork) {
  auto tsc = s.call<std::uint64_t>("rdtsc");
  ASSERT_TRUE(tsc) << tsc.error().to_string();
  auto leaf0 = s.call<std::uint64_t>("cpuid", std::uint32_t{0});
  ASSERT_TRUE(leaf0) << leaf0.error().to_string();
  EXPECT_GT(*leaf0 & 0xffffffffu, 0u);  // the highest standard leaf
  expect_recovers(s, before, false, kGuest);
}

// Without CR4.UMIP, SGDT works in ring 3; it shows the guest's own GDT, not the host's.
TEST_F(HostilePorts, SgdtShowsTheGuestsOwnGdt) {
  auto layout = compute_layout(SandboxConfig{}, kPageSize, kPageSize);
  ASSERT_TRUE(layout);
  auto base = s.call<std::uint64_t>("sgdt");
  ASSERT_TRUE(base) << base.error().to_string();
  EXPECT_EQ(*base, raw(layout->gdt.base));
  expect_recovers(s, before, false, kGuest);
}

// ---- State a fault leaves behind never reaches the next call ------------------------------------

// An unmasked MXCSR / x87 control word (left by the faulting call) is reset: 1/0 is +inf again,
// not another #XM / #MF.
TEST_F(HostilePorts, UnmaskedFloatingPointExceptionsDoNotOutliveARestore) {
  for (const char* function : {"simd_exception", "x87_exception"}) {
    auto r = s.call<void>(function);
    ASSERT_FALSE(r) << function;
    ASSERT_TRUE(s.restore(before));
    auto sse = s.call<float>("sse_inverse", 0.0f);
    ASSERT_TRUE(sse) << function << ": " << sse.error().to_string();
    EXPECT_TRUE(std::isinf(*sse));
    auto x87 = s.call<double>("x87_inverse", 0.0);
    ASSERT_TRUE(x87) << function << ": " << x87.error().to_string();
    EXPECT_TRUE(std::isinf(*x87));
  }
}

// RFLAGS.AC and RFLAGS.TF set by the faulting call are gone after the restore: a misaligned
// access in the runtime, or any instruction, does not trap.
TEST_F(HostilePorts, TrapFlagsDoNotOutliveARestore) {
  for (const char* function : {"alignment_check", "single_step"}) {
    auto r = s.call<void>(function);
    ASSERT_FALSE(r) << function;
    ASSERT_TRUE(s.restore(before));
    for (int i = 0; i < 3; ++i) {
      auto q = s.call<std::uint32_t>("divide_by_zero", std::uint32_t{1});
      ASSERT_TRUE(q) << function << ": " << q.error().to_string();
      EXPECT_EQ(*q, 1u);
    }
  }
}

}  // namespace
}  // namespace mote::test
