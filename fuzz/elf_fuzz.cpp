// libFuzzer target: elf::parse on file bytes, then load and page_ranges of what it accepts.
#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "elf/elf_image.hpp"
#include "fuzz_support.hpp"
#include "mote/abi.h"

namespace mote::fuzz {
namespace {

// Images up to this size are loaded; larger ones (up to 1 GiB are valid) only get page_ranges,
// so that one input cannot cost seconds of memset.
constexpr std::uint64_t kMaxLoadedImage = std::uint64_t{64} << 20;
// Images up to this size are loaded into an exact-size heap buffer (ASan sees any write past its
// end) and compared byte for byte with a reference load.
constexpr std::uint64_t kMaxComparedImage = std::uint64_t{1} << 20;
constexpr std::uint64_t kBase = 0x4000'0000;  // where the sandbox could place the image

void check_parsed(const elf::ElfImage& image) {
  FUZZ_CHECK(image.abi_version == MOTE_ABI_VERSION);
  FUZZ_CHECK(image.image_size > 0 && image.image_size <= elf::kMaxImageSize);
  FUZZ_CHECK(image.image_size % elf::kPageSize == 0);
  FUZZ_CHECK(std::has_single_bit(image.alignment));
  FUZZ_CHECK(image.alignment >= elf::kPageSize && image.alignment <= elf::kMaxAlignment);
  FUZZ_CHECK(!image.segments.empty());
  bool entry_ok = false;
  for (std::size_t i = 0; i < image.segments.size(); ++i) {
    const elf::Segment& s = image.segments[i];
    FUZZ_CHECK(s.mem_size > 0 && s.file_size <= s.mem_size);
    FUZZ_CHECK(s.vaddr + s.mem_size <= image.image_size);
    if (i > 0) {
      const elf::Segment& before = image.segments[i - 1];
      FUZZ_CHECK(before.vaddr + before.mem_size <= s.vaddr);
    }
    entry_ok = entry_ok || (s.executable && image.entry >= s.vaddr &&
                            image.entry - s.vaddr < s.mem_size);
  }
  FUZZ_CHECK(entry_ok);
  for (const elf::Relocation& r : image.relative_relocations) {
    const bool in_writable = std::ranges::any_of(image.segments, [&](const elf::Segment& s) {
      return s.writable && r.offset >= s.vaddr && r.offset - s.vaddr <= s.mem_size &&
             s.mem_size - (r.offset - s.vaddr) >= 8;
    });
    FUZZ_CHECK(in_writable);
  }
}

// page_ranges: sorted, page-aligned, non-empty, non-overlapping, adjacent equal ranges merged;
// every segment byte lies in a range with at least its permissions; every range touches a segment.
void check_page_ranges(const elf::ElfImage& image, const std::vector<elf::PageRange>& ranges) {
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const elf::PageRange& r = ranges[i];
    FUZZ_CHECK(r.start % elf::kPageSize == 0 && r.size % elf::kPageSize == 0 && r.size > 0);
    FUZZ_CHECK(r.start + r.size <= image.image_size);
    if (i > 0) {
      const elf::PageRange& p = ranges[i - 1];
      FUZZ_CHECK(p.start + p.size <= r.start);
      FUZZ_CHECK(!(p.start + p.size == r.start && p.writable == r.writable &&
                   p.executable == r.executable));
    }
    const bool touched = std::ranges::any_of(image.segments, [&](const elf::Segment& s) {
      return s.vaddr < r.start + r.size && s.vaddr + s.mem_size > r.start;
    });
    FUZZ_CHECK(touched);
  }
  for (const elf::Segment& s : image.segments) {
    // Each page of the segment must be inside one range granting the segment's permissions.
    const std::uint64_t first = s.vaddr / elf::kPageSize * elf::kPageSize;
    for (std::uint64_t page = first; page < s.vaddr + s.mem_size; page += elf::kPageSize) {
      const auto it = std::ranges::find_if(ranges, [&](const elf::PageRange& r) {
        return page >= r.start && page < r.start + r.size;
      });
      FUZZ_CHECK(it != ranges.end());
      FUZZ_CHECK(it->writable || !s.writable);
      FUZZ_CHECK(it->executable || !s.executable);
    }
  }
}

// What load() must produce, computed the obvious way.
std::vector<std::uint8_t> reference_image(const elf::ElfImage& image,
                                          std::span<const std::uint8_t> file) {
  std::vector<std::uint8_t> out(image.image_size, 0);
  for (const elf::Segment& s : image.segments) {
    std::memcpy(out.data() + s.vaddr, file.data() + s.file_offset, s.file_size);
  }
  for (const elf::Relocation& r : image.relative_relocations) {
    const std::uint64_t value = kBase + r.addend;
    for (int i = 0; i < 8; ++i) out[r.offset + static_cast<std::uint64_t>(i)] =
        static_cast<std::uint8_t>(value >> (8 * i));
  }
  return out;
}

void check_load_into(const elf::ElfImage& image, std::span<const std::uint8_t> file,
                     std::span<std::uint8_t> buffer, bool compare) {
  const auto loaded = elf::load(image, file, buffer, kBase);
  FUZZ_CHECK(loaded.has_value());  // parse() accepted these bytes, so load() must too
  if (compare) {
    const std::vector<std::uint8_t> expected = reference_image(image, file);
    FUZZ_CHECK(std::memcmp(expected.data(), buffer.data(), expected.size()) == 0);
  }
  // A buffer one byte short is refused before anything is written.
  FUZZ_CHECK(!elf::load(image, file, buffer.first(buffer.size() - 1), kBase).has_value());
}

void check_load(const elf::ElfImage& image, std::span<const std::uint8_t> file) {
  if (image.image_size <= kMaxComparedImage) {
    // On the heap, exactly image_size bytes: ASan sees any write past the end.
    std::vector<std::uint8_t> buffer(image.image_size, 0);
    check_load_into(image, file, buffer, true);
    return;
  }
  if (image.image_size > kMaxLoadedImage) return;
  // A fresh anonymous mapping: zero-filled, as load() requires, and only touched pages cost.
  void* memory = mmap(nullptr, image.image_size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  FUZZ_CHECK(memory != MAP_FAILED);
  check_load_into(image, file, std::span(static_cast<std::uint8_t*>(memory), image.image_size),
                  false);
  munmap(memory, image.image_size);
}

}  // namespace
}  // namespace mote::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::uint8_t> copy(data, data + size);  // exact-size heap copy for ASan
  const std::span<const std::uint8_t> file(copy);
  const auto parsed = mote::elf::parse(file);
  if (!parsed) return 0;
  mote::fuzz::check_parsed(*parsed);
  mote::fuzz::check_load(*parsed, file);
  mote::fuzz::check_page_ranges(*parsed, mote::elf::page_ranges(*parsed));
  return 0;
}
