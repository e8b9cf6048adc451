// System tables: GDT, IDT, TSS with its I/O bitmap, ring-0 exception stubs, and the vCPU's
// initial control state that enters the guest directly in ring 3.
#pragma once

#include <cstdint>

#include "memory/guest_memory.hpp"
#include "memory/layout.hpp"
#include "mote/error.hpp"

namespace mote::x86_64 {

// Linux's x86-64 GDT selectors. kvm_pvm runs guest ring 3 as host user mode and needs the user
// segments to be exactly these; keeping the kernel ones at Linux's slots too costs nothing.
inline constexpr std::uint16_t kKernelCode = 0x10;
inline constexpr std::uint16_t kKernelData = 0x18;
inline constexpr std::uint16_t kUserData = 0x2b;
inline constexpr std::uint16_t kUserCode = 0x33;
inline constexpr std::uint16_t kTaskState = 0x40;

inline constexpr std::uint64_t kCr0 = 0x8005'0033;  // PE MP ET NE WP AM PG
inline constexpr std::uint64_t kCr4 = 0x620;        // PAE OSFXSR OSXMMEXCPT
inline constexpr std::uint64_t kEfer = 0xD00;       // LME LMA NXE (no SCE: SYSCALL is #UD)
inline constexpr std::uint64_t kInitialRflags = 0x2;
// IA32_LSTAR points into the unmapped null page. With EFER.SCE clear, SYSCALL raises #UD on real
// hardware; kvm_pvm instead jumps to LSTAR in ring 3, which then faults here and is reported as
// the #UD it should have been (describe_fault).
inline constexpr std::uint32_t kMsrLstar = 0xc0000082;
inline constexpr std::uint64_t kSyscallTrap = 0xfc0;
inline constexpr unsigned kExceptionVectors = 32;

// A segment register as KVM describes it (hypervisor-neutral mirror of kvm_segment).
struct Segment {
  std::uint64_t base = 0;
  std::uint32_t limit = 0;
  std::uint16_t selector = 0;
  std::uint8_t type = 0, present = 0, dpl = 0, db = 0, s = 0, l = 0, g = 0, unusable = 0;
};

struct DescriptorTable {
  std::uint64_t base = 0;
  std::uint16_t limit = 0;
};

// Everything the vCPU needs besides general registers to run the guest in ring 3.
struct CpuState {
  Segment code, data, task;
  DescriptorTable gdt, idt;
  std::uint64_t cr0 = kCr0, cr3 = 0, cr4 = kCr4, efer = kEfer;
};

// Writes GDT, IDT, TSS (+ I/O bitmap opening only the ports in abi.h that ring 3 may use) and the
// exception stubs into their regions, and returns the matching CPU state for page-table root cr3.
Result<CpuState> write_system_tables(GuestMemory& memory, const Layout& layout, std::uint64_t cr3);

// Writes the ring-3 entry trampoline into layout.entry_stub: it resets everything a guest could
// carry from one call to the next outside memory (x87 registers and control word, MXCSR, XMM0-15,
// DS/ES/FS/GS) without touching RDI/RSI/RSP or flags, then jumps to `entry`. The host starts every
// operation there, so no guest can skip it.
Result<void> write_entry_stub(GuestMemory& memory, const Layout& layout, std::uint64_t entry);

// The frame a ring-0 stub leaves on the exception stack: what the stub pushes (vector, and an error
// code or 0) followed by the CPU's interrupt frame.
struct ExceptionFrame {
  std::uint64_t vector;
  std::uint64_t error_code;
  std::uint64_t rip;
  std::uint64_t cs;
  std::uint64_t rflags;
  std::uint64_t rsp;
  std::uint64_t ss;
};

}  // namespace mote::x86_64
