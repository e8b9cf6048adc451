// Parses, validates and loads mote guest ELF files (x86-64 static-pie carrying the mote ABI note).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "mote/error.hpp"

namespace mote::elf {

inline constexpr std::uint64_t kPageSize = 4096;
inline constexpr std::uint64_t kMaxImageSize = std::uint64_t{1} << 30;  // 1 GiB of guest image
inline constexpr std::uint64_t kMaxAlignment = std::uint64_t{2} << 20;  // 2 MiB (a large page)
inline constexpr std::size_t kMaxProgramHeaders = 64;
inline constexpr std::size_t kMaxRelocations = std::size_t{1} << 20;  // 16 MiB of host memory

// One non-empty PT_LOAD segment. Readable always; p_flags only add write and execute.
struct Segment {
  std::uint64_t vaddr = 0;        // offset from the image base (p_vaddr)
  std::uint64_t file_offset = 0;  // p_offset
  std::uint64_t file_size = 0;    // p_filesz (<= mem_size)
  std::uint64_t mem_size = 0;     // p_memsz (> 0)
  bool writable = false;          // PF_W
  bool executable = false;        // PF_X
};

// One R_X86_64_RELATIVE relocation: load() writes base + addend, 8 bytes little-endian, at offset.
// The addend is r_addend in two's complement and the sum wraps modulo 2^64; it is not required to
// point inside the image (it is data the guest could compute anyway).
struct Relocation {
  std::uint64_t offset = 0;  // r_offset: from the image base; 8 bytes inside a writable segment
  std::uint64_t addend = 0;  // r_addend
};

// A validated guest image. Holds offsets only, never pointers into the file it came from.
struct ElfImage {
  std::uint64_t image_size = 0;   // span of all PT_LOAD from offset 0, rounded up to kPageSize
  std::uint64_t alignment = 0;    // largest PT_LOAD p_align, a power of two in [4 KiB, 2 MiB]
  std::uint64_t entry = 0;        // e_entry: from the image base, inside an executable segment
  std::uint32_t abi_version = 0;  // from the ABI note; always MOTE_ABI_VERSION after parse()
  std::vector<Segment> segments;  // sorted by vaddr, byte ranges non-overlapping
  std::vector<Relocation> relative_relocations;  // R_X86_64_NONE entries are dropped
};

// A page-aligned range of the image and the permissions its pages must get (always readable).
struct PageRange {
  std::uint64_t start = 0;  // offset from the image base, multiple of kPageSize
  std::uint64_t size = 0;   // multiple of kPageSize, > 0
  bool writable = false;
  bool executable = false;
};

// Parses and validates every header, segment, note and relocation of `file` (borrowed for the
// call only; nothing of it is kept). Never reads outside `file`.
// Errors: ErrorKind::InvalidBinary with a message naming the defect, or ErrorKind::AbiMismatch
// when the ABI note carries another version (the message names both versions). The ABI note is
// checked right after the program header table, before the rest, so that a guest built for
// another ABI is reported as such even if this host would also dislike its layout.
Result<ElfImage> parse(std::span<const std::uint8_t> file);

// Copies each segment's file bytes to image[vaddr, vaddr + file_size), zero-fills the rest of its
// mem_size, then applies the relocations for load address `base`: image[offset..offset+8) =
// base + addend. `parsed` must come from parse(file) on the same bytes.
// Preconditions: `image` is zero-filled (gaps between segments are not touched) and
// image.size() >= parsed.image_size. Bounds are re-checked anyway: a violation returns
// InvalidBinary and may leave `image` partly written.
Result<void> load(const ElfImage& parsed, std::span<const std::uint8_t> file,
                  std::span<std::uint8_t> image, std::uint64_t base);

// The page-granular mapping of the segments, sorted, non-overlapping, adjacent ranges with equal
// permissions merged; pages no segment touches are absent. Two segments may share a page (their
// bytes never overlap, but a linker may start one mid-page right after another): that page gets
// the union of both segments' permissions, e.g. an RX and an RW segment sharing a page make it
// RWX. This weakens only the guest's own W^X, never the host's isolation.
std::vector<PageRange> page_ranges(const ElfImage& parsed);

}  // namespace mote::elf
