// The initial image: everything the host prepares in guest memory before the guest first runs.
#include "snapshot/initial_image.hpp"

#include <vector>

#include "arch/x86_64/page_tables.hpp"
#include "arch/x86_64/system_tables.hpp"
#include "elf/elf_image.hpp"
#include "mote/abi.h"

namespace mote {

namespace {

// The image's pages as elf::page_ranges lays them out (a page shared by two segments gets the
// union of their permissions), placed at `base`.
std::vector<x86_64::PageMapping> image_mappings(const elf::ElfImage& image, GuestAddress base) {
  std::vector<x86_64::PageMapping> out;
  for (const elf::PageRange& r : elf::page_ranges(image)) {
    out.push_back({base + r.start, r.size, true, r.writable, r.executable});
  }
  return out;
}

std::vector<x86_64::PageMapping> system_mappings(const Layout& l) {
  return {
      {l.gdt.base, l.gdt.size, false, false, false},
      {l.idt.base, l.idt.size, false, false, false},
      {l.tss.base, l.tss.size, false, false, false},
      {l.stubs.base, l.stubs.size, false, false, true},
      {l.entry_stub.base, l.entry_stub.size, true, false, true},
      {l.exception_stack.base, l.exception_stack.size, false, true, false},
      {l.boot_info.base, l.boot_info.size, true, false, false},
      {l.stack.base, l.stack.size, true, true, false},
      {l.heap.base, l.heap.size, true, true, false},
      {l.input.base, l.input.size, true, false, false},
      {l.output.base, l.output.size, true, true, false},
  };
}

mote_boot_info boot_info_for(const Layout& l, const SandboxConfig& config) {
  mote_boot_info b{};
  b.magic = MOTE_BOOT_INFO_MAGIC;
  b.abi_version = MOTE_ABI_VERSION;
  b.heap_base = raw(l.heap.base);
  b.heap_size = l.heap.size;
  b.input_base = raw(l.input.base);
  b.input_size = l.input.size;
  b.output_base = raw(l.output.base);
  b.output_size = l.output.size;
  b.stack_base = raw(l.stack.base);
  b.stack_size = l.stack.size;
  b.log_level = static_cast<std::uint32_t>(config.log_level);
  return b;
}

}  // namespace

Result<InitialImage> build_initial_image(std::span<const std::uint8_t> binary,
                                         const SandboxConfig& config) {
  MOTE_TRY_VOID(config.validate());
  const elf::ElfImage image = MOTE_TRY(elf::parse(binary));
  const Layout layout = MOTE_TRY(compute_layout(config, image.image_size, image.alignment));
  GuestMemory memory = MOTE_TRY(GuestMemory::allocate(layout.total_size));

  auto image_bytes = MOTE_TRY(memory.bytes(layout.image.base, image.image_size));
  MOTE_TRY_VOID(elf::load(image, binary, image_bytes, raw(layout.image.base)));

  auto mappings = system_mappings(layout);
  auto image_pages = image_mappings(image, layout.image.base);
  mappings.insert(mappings.end(), image_pages.begin(), image_pages.end());
  const std::uint64_t cr3 = MOTE_TRY(x86_64::build_page_tables(memory, layout.page_tables, mappings));

  SnapshotMetadata meta;
  meta.layout = layout;
  meta.cpu = MOTE_TRY(x86_64::write_system_tables(memory, layout, cr3));
  meta.entry = raw(layout.image.base) + image.entry;
  meta.abi_version = image.abi_version;
  meta.log_level = static_cast<std::uint32_t>(config.log_level);
  meta.next = NextAction::Initialise;
  MOTE_TRY_VOID(x86_64::write_entry_stub(memory, layout, meta.entry));
  MOTE_TRY_VOID(memory.write_object(layout.boot_info.base, boot_info_for(layout, config)));
  return InitialImage{std::move(meta), std::move(memory)};
}

}  // namespace mote
