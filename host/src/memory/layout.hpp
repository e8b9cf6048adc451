// Layout: where every region of a sandbox lives in guest memory (identity-mapped, GPA == GVA).
#pragma once

#include <cstdint>

#include "memory/guest_memory.hpp"
#include "mote/config.hpp"
#include "mote/error.hpp"

namespace mote {

struct Region {
  GuestAddress base{0};
  std::uint64_t size = 0;
  GuestAddress end() const noexcept { return base + size; }
  bool contains(std::uint64_t address) const noexcept {
    return address >= raw(base) && address - raw(base) < size;
  }
};

// Guest memory, low to high. Regions marked (unmapped) have no page-table entry, so any access
// from the guest faults; guard pages separate the regions a runaway pointer reaches first.
//
//   0x0000          null page                           (unmapped)
//   gdt             GDT with Linux's selectors           supervisor, read-only
//   idt             IDT, 32 gates on IST1               supervisor, read-only
//   tss             TSS + I/O permission bitmap         supervisor, read-only
//   stubs           ring-0 exception stubs              supervisor, read-only, executable
//   entry_stub      ring-3 entry trampoline: resets      user, read-only, executable
//                   x87/SSE state and data segments,
//                   then jumps to the ELF entry point
//   guard                                               (unmapped)
//   exception_stack ring-0 stack for the stubs          supervisor, read-write
//   boot_info       struct mote_boot_info               user, read-only
//   guard                                               (unmapped)
//   image           the guest ELF, per segment flags    user
//   stack_guard                                         (unmapped)
//   stack           guest stack                         user, read-write
//   guard                                               (unmapped)
//   heap            guest heap                          user, read-write
//   guard                                               (unmapped)
//   input           host -> guest call messages         user, read-only
//   output          guest -> host messages              user, read-write
//   page_tables     PML4, PDPT, PDs, PTs                (unmapped: the CPU reads them physically)
struct Layout {
  Region gdt, idt, tss, stubs, entry_stub, exception_stack, boot_info, image, stack_guard, stack, heap, input,
      output, page_tables;
  std::uint64_t mapped_end = 0;  // end of the highest region the page tables map
  std::uint64_t total_size = 0;  // size of guest memory

  GuestAddress stack_top() const noexcept { return stack.end(); }
};

inline constexpr std::uint64_t kPageSize = 4096;

// Computes the layout for an image of `image_size` bytes that must be aligned to
// `image_alignment` (a power of two). Fails with InvalidConfig when the result exceeds the
// configured or absolute maximum memory size. The config must already be validated.
Result<Layout> compute_layout(const SandboxConfig& config, std::uint64_t image_size,
                              std::uint64_t image_alignment);

}  // namespace mote
