// Layout: computes region placement from the configuration and the image size.
#include "memory/layout.hpp"

#include <fmt/format.h>

namespace mote {

namespace {

constexpr std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) {
  return (value + alignment - 1) & ~(alignment - 1);
}

// Hands out consecutive page-aligned regions.
class Cursor {
 public:
  Region take(std::uint64_t size) {
    Region r{GuestAddress{next_}, align_up(size, kPageSize)};
    next_ += r.size;
    return r;
  }
  void skip_guard() { next_ += kPageSize; }
  void align(std::uint64_t alignment) { next_ = align_up(next_, alignment); }
  std::uint64_t position() const { return next_; }

 private:
  std::uint64_t next_ = kPageSize;  // the null page stays unmapped
};

}  // namespace

Result<Layout> compute_layout(const SandboxConfig& config, std::uint64_t image_size,
                              std::uint64_t image_alignment) {
  const std::uint64_t limit =
      config.max_memory_size != 0 ? config.max_memory_size : SandboxConfig::kMaxMemory;
  // Each input is bounded before any arithmetic, so the sums below cannot overflow.
  if (image_size == 0 || image_size > SandboxConfig::kMaxMemory || image_alignment < kPageSize ||
      image_alignment > (2u << 20) || (image_alignment & (image_alignment - 1)) != 0) {
    return fail(ErrorKind::InvalidBinary,
                fmt::format("image size 0x{:x} / alignment 0x{:x} cannot be laid out", image_size,
                            image_alignment));
  }

  Layout l;
  Cursor c;
  l.gdt = c.take(kPageSize);
  l.idt = c.take(kPageSize);
  l.tss = c.take(kPageSize);
  l.stubs = c.take(kPageSize);
  l.entry_stub = c.take(kPageSize);
  c.skip_guard();
  l.exception_stack = c.take(2 * kPageSize);
  l.boot_info = c.take(kPageSize);
  c.skip_guard();
  c.align(image_alignment);
  l.image = c.take(image_size);
  l.stack_guard = c.take(kPageSize);
  l.stack = c.take(config.stack_size);
  c.skip_guard();
  l.heap = c.take(config.heap_size);
  c.skip_guard();
  l.input = c.take(config.input_size);
  l.output = c.take(config.output_size);
  l.mapped_end = c.position();

  // 4-level tables for [0, mapped_end): one PT per 2 MiB, one PD per 1 GiB, a PDPT and a PML4.
  const std::uint64_t pts = align_up(l.mapped_end, 2u << 20) >> 21;
  const std::uint64_t pds = align_up(l.mapped_end, 1u << 30) >> 30;
  l.page_tables = c.take((pts + pds + 2) * kPageSize);
  l.total_size = c.position();

  if (l.total_size > limit) {
    return fail(ErrorKind::InvalidConfig,
                fmt::format("the sandbox needs 0x{:x} bytes of guest memory, more than the limit "
                            "of 0x{:x}", l.total_size, limit));
  }
  return l;
}

}  // namespace mote
