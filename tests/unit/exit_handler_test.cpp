// Unit tests of exit handling: classify_exit for every VmExit and port, describe_fault messages,
// and the error-kind tables (poisons, to_string) that decide what an exit does to a sandbox.
#include "sandbox/exit_handler.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <iterator>
#include <map>
#include <set>
#include <string>

#include "mote/abi.h"

namespace mote {
namespace {

using x86_64::ExceptionFrame;

void expect_error(const Result<ExitAction>& r, ErrorKind kind, const std::string& fragment = "") {
  ASSERT_FALSE(r.has_value()) << "classified as action " << static_cast<int>(*r);
  EXPECT_EQ(r.error().kind(), kind) << r.error().to_string();
  EXPECT_TRUE(poisons(r.error().kind()));
  EXPECT_NE(r.error().message().find(fragment), std::string::npos)
      << r.error().message() << " does not contain " << fragment;
}

// --- classify_exit -------------------------------------------------------------------------------

TEST(ClassifyExit, AbiPortsMapToTheirActions) {
  const std::map<std::uint16_t, ExitAction> expected = {
      {MOTE_PORT_RETURN, ExitAction::Return},
      {MOTE_PORT_HOST_CALL, ExitAction::HostCall},
      {MOTE_PORT_LOG, ExitAction::Log},
      {MOTE_PORT_ABORT, ExitAction::Abort},
      {MOTE_PORT_EXCEPTION, ExitAction::Exception},
  };
  for (const auto& [port, action] : expected) {
    for (std::uint32_t value : {0u, 1u, 0xFFFF'FFFFu}) {  // the OUT's data does not matter
      const auto r = classify_exit(vm::IoOut{port, value});
      ASSERT_TRUE(r.has_value()) << "port 0x" << std::hex << port << ": " << r.error().to_string();
      EXPECT_EQ(*r, action) << "port 0x" << std::hex << port;
    }
  }
}

TEST(ClassifyExit, EveryOtherPortIsAProtocolError) {
  const std::set<std::uint32_t> abi_ports = {MOTE_PORT_RETURN, MOTE_PORT_HOST_CALL, MOTE_PORT_LOG,
                                             MOTE_PORT_ABORT, MOTE_PORT_EXCEPTION};
  int refused = 0;
  for (std::uint32_t port = 0; port <= 0xFFFF; ++port) {
    if (abi_ports.count(port) != 0) continue;
    const auto r = classify_exit(vm::IoOut{static_cast<std::uint16_t>(port), 0});
    ASSERT_FALSE(r.has_value()) << "port 0x" << std::hex << port;
    ASSERT_EQ(r.error().kind(), ErrorKind::GuestProtocol) << "port 0x" << std::hex << port;
    ++refused;
  }
  EXPECT_EQ(refused, 0x10000 - 5);
  expect_error(classify_exit(vm::IoOut{0x3f8, 0}), ErrorKind::GuestProtocol, "0x3f8");
  expect_error(classify_exit(vm::IoOut{0x14, 0}), ErrorKind::GuestProtocol, "0x14");
  expect_error(classify_exit(vm::IoOut{0x20, 0}), ErrorKind::GuestProtocol, "0x20");
}

TEST(ClassifyExit, ReadingAnyPortIsAProtocolError) {
  for (std::uint16_t port :
       {std::uint16_t{MOTE_PORT_RETURN}, std::uint16_t{MOTE_PORT_HOST_CALL},
        std::uint16_t{MOTE_PORT_LOG}, std::uint16_t{MOTE_PORT_ABORT},
        std::uint16_t{MOTE_PORT_EXCEPTION}, std::uint16_t{0x60}, std::uint16_t{0xFFFF}}) {
    expect_error(classify_exit(vm::IoIn{port}), ErrorKind::GuestProtocol, "read");
  }
}

TEST(ClassifyExit, NonPortExits) {
  expect_error(classify_exit(vm::Halt{}), ErrorKind::UnexpectedExit, "halt");
  expect_error(classify_exit(vm::Shutdown{}), ErrorKind::UnexpectedExit, "triple fault");
  expect_error(classify_exit(vm::Mmio{0xFEE00000, false}), ErrorKind::UnexpectedExit, "0xfee00000");
  expect_error(classify_exit(vm::Mmio{0xDEAD000, true}), ErrorKind::UnexpectedExit, "wrote");
  expect_error(classify_exit(vm::Mmio{0xDEAD000, false}), ErrorKind::UnexpectedExit, "read");
  expect_error(classify_exit(vm::Failed{"KVM_EXIT_INTERNAL_ERROR suberror 1"}),
               ErrorKind::UnexpectedExit, "KVM_EXIT_INTERNAL_ERROR suberror 1");

  const auto interrupted = classify_exit(vm::Interrupted{});
  ASSERT_TRUE(interrupted.has_value());
  EXPECT_EQ(*interrupted, ExitAction::Interrupted);
}

// --- describe_fault ------------------------------------------------------------------------------

class DescribeFault : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = compute_layout(SandboxConfig{}, 0x8000, kPageSize);
    ASSERT_TRUE(l.has_value()) << l.error().to_string();
    layout_ = *l;
  }

  Error fault(std::uint64_t vector, std::uint64_t error_code, std::uint64_t rip,
              std::uint64_t address = 0) const {
    const ExceptionFrame frame{vector, error_code, rip, 0x33, 0x202, raw(layout_.stack_top()),
                               0x2b};
    return describe_fault(frame, address, layout_);
  }

  static void expect_contains(const Error& e, const std::string& fragment) {
    EXPECT_NE(e.message().find(fragment), std::string::npos)
        << "\"" << e.message() << "\" does not contain \"" << fragment << "\"";
  }
  static void expect_lacks(const Error& e, const std::string& fragment) {
    EXPECT_EQ(e.message().find(fragment), std::string::npos)
        << "\"" << e.message() << "\" contains \"" << fragment << "\"";
  }

  Layout layout_;
};

TEST_F(DescribeFault, InvalidOpcode) {
  const std::uint64_t rip = raw(layout_.image.base) + 0x1234;
  const Error e = fault(6, 0, rip, 0xAAAA000);
  EXPECT_EQ(e.kind(), ErrorKind::GuestFault);
  ASSERT_TRUE(e.fault().has_value());
  EXPECT_EQ(e.fault()->vector, 6);
  EXPECT_EQ(e.fault()->rip, rip);
  EXPECT_EQ(e.fault()->error_code, 0u);
  EXPECT_EQ(e.fault()->address, 0u);  // only page faults carry an address
  expect_contains(e, "#UD");
  expect_contains(e, "(6)");
  expect_contains(e, fmt::format("0x{:x}", rip));
  expect_lacks(e, "error code");
  expect_lacks(e, "aaaa000");
}

TEST_F(DescribeFault, PageFaultAccessKinds) {
  const std::uint64_t heap = raw(layout_.heap.base) + 0x40;
  const std::uint64_t rip = raw(layout_.image.base) + 0x10;
  // Error code bits: P (1) present, W (2) write, U (4) user, I/D (16) instruction fetch.
  const Error read = fault(14, 0x4, rip, heap);
  EXPECT_EQ(read.kind(), ErrorKind::GuestFault);
  ASSERT_TRUE(read.fault().has_value());
  EXPECT_EQ(read.fault()->vector, 14);
  EXPECT_EQ(read.fault()->address, heap);
  EXPECT_EQ(read.fault()->error_code, 0x4u);
  expect_contains(read, "#PF");
  expect_contains(read, "read");
  expect_contains(read, "not mapped");
  expect_contains(read, fmt::format("0x{:x}", heap));
  expect_contains(read, "heap");
  expect_lacks(read, "write");

  const std::uint64_t input = raw(layout_.input.base) + 8;
  const Error write = fault(14, 0x7, rip, input);
  expect_contains(write, "write");
  expect_contains(write, "protection violation");
  expect_contains(write, "input buffer");
  expect_lacks(write, "not mapped");

  const std::uint64_t stack = raw(layout_.stack.base) + 0x100;
  const Error fetch = fault(14, 0x15, stack, stack);
  expect_contains(fetch, "instruction fetch");
  expect_contains(fetch, "protection violation");
  expect_contains(fetch, "the stack");
  expect_lacks(fetch, "overflow");

  const std::uint64_t nowhere = layout_.total_size + 0x10000;
  const Error unmapped = fault(14, 0x14, nowhere, nowhere);
  expect_contains(unmapped, "instruction fetch");
  expect_contains(unmapped, "not mapped");
  expect_contains(unmapped, "no mapped region");
}

TEST_F(DescribeFault, StackGuardIsAStackOverflow) {
  for (std::uint64_t offset : {std::uint64_t{0}, std::uint64_t{0x800}, kPageSize - 8}) {
    const std::uint64_t address = raw(layout_.stack_guard.base) + offset;
    const Error e = fault(14, 0x6, raw(layout_.image.base), address);
    expect_contains(e, "stack overflow");
    expect_contains(e, "write");
    EXPECT_EQ(e.fault()->address, address);
  }
  // The byte above the guard is the stack itself.
  expect_lacks(fault(14, 0x6, 0, raw(layout_.stack.base)), "overflow");
}

TEST_F(DescribeFault, GeneralProtectionShowsTheErrorCode) {
  const Error e = fault(13, 0x2b, 0x401000);
  EXPECT_EQ(e.fault()->vector, 13);
  EXPECT_EQ(e.fault()->error_code, 0x2bu);
  expect_contains(e, "#GP");
  expect_contains(e, "error code 0x2b");
  expect_contains(e, "0x401000");

  expect_lacks(fault(13, 0, 0x401000), "error code");
}

// --- Error kinds ---------------------------------------------------------------------------------

constexpr ErrorKind kAllKinds[] = {
    ErrorKind::InvalidConfig,
    ErrorKind::InvalidBinary,
    ErrorKind::AbiMismatch,
    ErrorKind::Io,
    ErrorKind::HypervisorUnavailable,
    ErrorKind::Hypervisor,
    ErrorKind::UnknownFunction,
    ErrorKind::ArgumentCount,
    ErrorKind::ArgumentType,
    ErrorKind::ReturnType,
    ErrorKind::InputTooLarge,
    ErrorKind::GuestError,
    ErrorKind::GuestAborted,
    ErrorKind::GuestFault,
    ErrorKind::GuestProtocol,
    ErrorKind::UnexpectedExit,
    ErrorKind::Poisoned,
    ErrorKind::InvalidSnapshot,
    ErrorKind::SnapshotMismatch,
    ErrorKind::Cancelled,
};
static_assert(std::size(kAllKinds) == static_cast<std::size_t>(ErrorKind::Cancelled) + 1,
              "kAllKinds must list every ErrorKind");

TEST(ErrorKinds, PoisoningTable) {
  const std::map<ErrorKind, bool> expected = {
      // Found before the guest ran, or returned by the guest on purpose: the sandbox stays usable.
      {ErrorKind::InvalidConfig, false},
      {ErrorKind::InvalidBinary, false},
      {ErrorKind::AbiMismatch, false},
      {ErrorKind::Io, false},
      {ErrorKind::HypervisorUnavailable, false},
      {ErrorKind::UnknownFunction, false},
      {ErrorKind::ArgumentCount, false},
      {ErrorKind::ArgumentType, false},
      {ErrorKind::ReturnType, false},
      {ErrorKind::InputTooLarge, false},
      {ErrorKind::GuestError, false},
      {ErrorKind::Poisoned, false},
      {ErrorKind::InvalidSnapshot, false},
      {ErrorKind::SnapshotMismatch, false},
      {ErrorKind::Cancelled, true},
      // The guest did not reach its normal end.
      {ErrorKind::Hypervisor, true},
      {ErrorKind::GuestAborted, true},
      {ErrorKind::GuestFault, true},
      {ErrorKind::GuestProtocol, true},
      {ErrorKind::UnexpectedExit, true},
  };
  ASSERT_EQ(expected.size(), std::size(kAllKinds));
  for (ErrorKind kind : kAllKinds) {
    EXPECT_EQ(poisons(kind), expected.at(kind)) << to_string(kind);
  }
  // A value outside the enum is treated as the worst case.
  EXPECT_TRUE(poisons(static_cast<ErrorKind>(200)));
}

TEST(ErrorKinds, NamesAreNonEmptyAndDistinct) {
  std::set<std::string_view> names;
  for (ErrorKind kind : kAllKinds) {
    const std::string_view name = to_string(kind);
    EXPECT_FALSE(name.empty()) << static_cast<int>(kind);
    EXPECT_NE(name, to_string(static_cast<ErrorKind>(200))) << static_cast<int>(kind);
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  EXPECT_FALSE(to_string(static_cast<ErrorKind>(200)).empty());

  const Error e(ErrorKind::GuestProtocol, "bad message");
  EXPECT_EQ(e.to_string(), std::string(to_string(ErrorKind::GuestProtocol)) + ": bad message");
}

TEST(ErrorKinds, ExceptionNames) {
  EXPECT_EQ(exception_name(0), "DE");
  EXPECT_EQ(exception_name(6), "UD");
  EXPECT_EQ(exception_name(13), "GP");
  EXPECT_EQ(exception_name(14), "PF");
  EXPECT_EQ(exception_name(31), "RES31");
  for (unsigned v = 0; v < 32; ++v) {
    EXPECT_FALSE(exception_name(static_cast<std::uint8_t>(v)).empty()) << v;
  }
  EXPECT_EQ(exception_name(32), "??");
  EXPECT_EQ(exception_name(255), "??");
}

}  // namespace
}  // namespace mote
