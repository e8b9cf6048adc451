// Guest ELF parsing, validation and loading: every file-supplied offset is checked before use.
#include "elf/elf_image.hpp"

// The ELF structures and constants come from glibc's <elf.h>, a well-kept system header, rather
// than from hand-written copies. Only program headers are used (like an OS loader); the section
// header table is ignored.
#include <elf.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "mote/abi.h"

namespace mote::elf {
namespace {

using Bytes = std::span<const std::uint8_t>;

std::string dec(std::uint64_t value) { return std::to_string(value); }

std::string hex(std::uint64_t value) {
  char buffer[2 + 16] = {'0', 'x'};
  const auto end = std::to_chars(buffer + 2, buffer + sizeof buffer, value, 16).ptr;
  return std::string(buffer, end);
}

std::unexpected<Error> invalid(std::string message) {
  return fail(ErrorKind::InvalidBinary, std::move(message));
}

// Whether [offset, offset + size) lies inside [0, limit), computed without overflow.
bool in_range(std::uint64_t offset, std::uint64_t size, std::uint64_t limit) {
  std::uint64_t end = 0;
  return !__builtin_add_overflow(offset, size, &end) && end <= limit;
}

// Copies a T out of the file at `offset`, or nothing if it does not fit (no alignment assumed).
template <class T>
std::optional<T> read_at(Bytes file, std::uint64_t offset) {
  if (!in_range(offset, sizeof(T), file.size())) return std::nullopt;
  T value;
  std::memcpy(&value, file.data() + offset, sizeof(T));
  return value;
}

std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) {  // no overflow: see callers
  return (value + alignment - 1) & ~(alignment - 1);
}

bool contains(const Segment& segment, std::uint64_t vaddr, std::uint64_t size) {
  return vaddr >= segment.vaddr && in_range(vaddr - segment.vaddr, size, segment.mem_size);
}

std::string segment_name(std::size_t index) { return "segment " + dec(index); }

// --- ELF header and program header table -------------------------------------------------------

std::string truncated_header(std::size_t file_size) {
  return "truncated: ELF header needs " + dec(sizeof(Elf64_Ehdr)) + " bytes, file has " +
         dec(file_size) + " bytes";
}

// Checks e_ident first, so that a short non-x86-64 file is refused for what it is.
Result<void> check_ident(Bytes file) {
  if (file.size() < SELFMAG || std::memcmp(file.data(), ELFMAG, SELFMAG) != 0) {
    return invalid("not an ELF file");
  }
  if (file.size() < EI_NIDENT) return invalid(truncated_header(file.size()));
  if (file[EI_CLASS] != ELFCLASS64) {
    return invalid("not a 64-bit ELF file (EI_CLASS " + dec(file[EI_CLASS]) + ")");
  }
  if (file[EI_DATA] != ELFDATA2LSB) {
    return invalid("not a little-endian ELF file (EI_DATA " + dec(file[EI_DATA]) + ")");
  }
  if (file[EI_VERSION] != EV_CURRENT) {
    return invalid("unsupported ELF version " + dec(file[EI_VERSION]));
  }
  return {};
}

Result<Elf64_Ehdr> read_header(Bytes file) {
  MOTE_TRY_VOID(check_ident(file));
  const auto read = read_at<Elf64_Ehdr>(file, 0);
  if (!read) return invalid(truncated_header(file.size()));
  const Elf64_Ehdr& header = *read;
  if (header.e_version != EV_CURRENT) {
    return invalid("unsupported ELF version " + dec(header.e_version));
  }
  if (header.e_machine != EM_X86_64) {
    return invalid("wrong machine: " + dec(header.e_machine) + " (expected x86-64)");
  }
  if (header.e_type == ET_EXEC) {
    return invalid("not a static-pie: ET_EXEC (link the guest with -static-pie)");
  }
  if (header.e_type != ET_DYN) {
    return invalid("not a static-pie: e_type " + dec(header.e_type) + " (expected ET_DYN)");
  }
  if (header.e_phentsize != sizeof(Elf64_Phdr)) {
    return invalid("bad program header entry size " + dec(header.e_phentsize) + " (expected " +
                   dec(sizeof(Elf64_Phdr)) + ")");
  }
  if (header.e_phnum == 0) return invalid("no program headers");
  if (header.e_phnum > kMaxProgramHeaders) {
    return invalid("too many program headers: " + dec(header.e_phnum) + " (at most " +
                   dec(kMaxProgramHeaders) + ")");
  }
  return header;
}

Result<std::vector<Elf64_Phdr>> read_program_headers(Bytes file, const Elf64_Ehdr& header) {
  const std::uint64_t table_size = std::uint64_t{header.e_phnum} * sizeof(Elf64_Phdr);
  std::uint64_t end = 0;
  if (__builtin_add_overflow(header.e_phoff, table_size, &end)) {
    return invalid("truncated: program header table offset " + hex(header.e_phoff) +
                   " is past any file");
  }
  if (end > file.size()) {
    return invalid("truncated: program header table ends at " + dec(end) + ", file has " +
                   dec(file.size()) + " bytes");
  }
  std::vector<Elf64_Phdr> phdrs(header.e_phnum);
  std::memcpy(phdrs.data(), file.data() + header.e_phoff, table_size);
  return phdrs;
}

Result<void> check_segment_kinds(const std::vector<Elf64_Phdr>& phdrs) {
  for (const Elf64_Phdr& phdr : phdrs) {
    if (phdr.p_type == PT_INTERP) {
      return invalid("dynamically linked (has PT_INTERP): build the guest as a static-pie");
    }
    if (phdr.p_type == PT_TLS && phdr.p_memsz > 0) {
      return invalid("thread-local storage (PT_TLS) is not supported");
    }
  }
  return {};
}

// --- ABI note ------------------------------------------------------------------------------------

// Reads the version of one note if it is the mote ABI note. `offset` is the note's file offset;
// its name and desc are known to lie inside the file.
Result<std::optional<std::uint32_t>> abi_note_version(Bytes file, std::uint64_t offset,
                                                      std::uint64_t desc_offset,
                                                      const Elf64_Nhdr& note) {
  const std::uint8_t* name = file.data() + offset + sizeof(Elf64_Nhdr);
  if (note.n_namesz != sizeof(MOTE_NOTE_NAME) ||
      std::memcmp(name, MOTE_NOTE_NAME, sizeof(MOTE_NOTE_NAME)) != 0 ||
      note.n_type != MOTE_NOTE_TYPE_ABI_VERSION) {
    return std::nullopt;
  }
  if (note.n_descsz != 4) {
    return invalid("malformed mote ABI note: desc is " + dec(note.n_descsz) +
                   " bytes (expected 4)");
  }
  const std::uint8_t* desc = file.data() + desc_offset;
  return std::uint32_t{desc[0]} | std::uint32_t{desc[1]} << 8 | std::uint32_t{desc[2]} << 16 |
         std::uint32_t{desc[3]} << 24;
}

// Walks the notes of one PT_NOTE segment. The desc and the next note start at the next multiple
// of 4 bytes per the ELF spec, or of 8 in a segment aligned to 8 (as binutils and glibc read
// .note.gnu.property); with 4 this is the classic "namesz and descsz padded to 4".
Result<void> scan_notes(Bytes file, const Elf64_Phdr& phdr, std::size_t index,
                        std::optional<std::uint32_t>& version) {
  if (!in_range(phdr.p_offset, phdr.p_filesz, file.size())) {
    return invalid(segment_name(index) + " (PT_NOTE) lies outside the file");
  }
  const std::uint64_t alignment = phdr.p_align == 8 ? 8 : 4;
  std::uint64_t position = 0;  // inside the segment; every sum below stays far below 2^64
  while (position < phdr.p_filesz) {
    const auto note = read_at<Elf64_Nhdr>(file, phdr.p_offset + position);
    if (!note || !in_range(position, sizeof(Elf64_Nhdr), phdr.p_filesz)) {
      return invalid(segment_name(index) + ": truncated note at offset " + hex(position));
    }
    // The name lies between the header and desc_at; n_namesz < 2^32, so nothing overflows.
    const std::uint64_t desc_at =
        position + align_up(sizeof(Elf64_Nhdr) + note->n_namesz, alignment);
    if (!in_range(desc_at, note->n_descsz, phdr.p_filesz)) {
      return invalid(segment_name(index) + ": truncated note at offset " + hex(position));
    }
    const auto found =
        MOTE_TRY(abi_note_version(file, phdr.p_offset + position, phdr.p_offset + desc_at, *note));
    if (found && version && *found != *version) {
      return invalid("conflicting mote ABI notes: versions " + dec(*version) + " and " +
                     dec(*found));
    }
    if (found) version = found;
    position = desc_at + align_up(note->n_descsz, alignment);
  }
  return {};
}

Result<std::uint32_t> read_abi_version(Bytes file, const std::vector<Elf64_Phdr>& phdrs) {
  std::optional<std::uint32_t> version;
  for (std::size_t i = 0; i < phdrs.size(); ++i) {
    if (phdrs[i].p_type == PT_NOTE) MOTE_TRY_VOID(scan_notes(file, phdrs[i], i, version));
  }
  if (!version) return invalid("no mote ABI note (build the guest with the mote guest SDK)");
  if (*version != MOTE_ABI_VERSION) {
    return fail(ErrorKind::AbiMismatch, "guest ABI version " + dec(*version) +
                                            ", host ABI version " + dec(MOTE_ABI_VERSION) +
                                            " (rebuild the guest with the matching mote SDK)");
  }
  return *version;
}

// --- Loadable segments ---------------------------------------------------------------------------

struct Layout {
  std::vector<Segment> segments;
  std::uint64_t image_size = 0;
  std::uint64_t alignment = kPageSize;
};

Result<Segment> check_load(Bytes file, const Elf64_Phdr& phdr, std::size_t index) {
  const std::string name = segment_name(index);
  if (phdr.p_filesz > phdr.p_memsz) {
    return invalid(name + ": filesz " + hex(phdr.p_filesz) + " exceeds memsz " + hex(phdr.p_memsz));
  }
  if (!in_range(phdr.p_offset, phdr.p_filesz, file.size())) {
    return invalid(name + " lies outside the file: offset " + hex(phdr.p_offset) + ", size " +
                   hex(phdr.p_filesz) + ", file has " + dec(file.size()) + " bytes");
  }
  std::uint64_t end = 0;
  if (__builtin_add_overflow(phdr.p_vaddr, phdr.p_memsz, &end)) {
    return invalid("absurd size: " + name + " (vaddr " + hex(phdr.p_vaddr) + ", memsz " +
                   hex(phdr.p_memsz) + ") ends past 2^64");
  }
  if (end > kMaxImageSize) {
    return invalid("absurd size: " + name + " ends at " + hex(end) +
                   ", past the 1 GiB image limit");
  }
  if (phdr.p_align != 0 && !std::has_single_bit(phdr.p_align)) {  // 0 and 1: no alignment
    return invalid(name + ": p_align " + hex(phdr.p_align) + " is not a power of two");
  }
  if (phdr.p_align > kMaxAlignment) {
    return invalid(name + ": p_align " + hex(phdr.p_align) + " exceeds 2 MiB");
  }
  return Segment{.vaddr = phdr.p_vaddr,
                 .file_offset = phdr.p_offset,
                 .file_size = phdr.p_filesz,
                 .mem_size = phdr.p_memsz,
                 .writable = (phdr.p_flags & PF_W) != 0,
                 .executable = (phdr.p_flags & PF_X) != 0};
}

// Validates every PT_LOAD; empty ones (memsz 0) are checked, then dropped.
Result<Layout> collect_loads(Bytes file, const std::vector<Elf64_Phdr>& phdrs) {
  Layout layout;
  std::vector<std::pair<Segment, std::size_t>> loads;  // with program header index, for messages
  for (std::size_t i = 0; i < phdrs.size(); ++i) {
    if (phdrs[i].p_type != PT_LOAD) continue;
    const Segment segment = MOTE_TRY(check_load(file, phdrs[i], i));
    layout.alignment = std::max(layout.alignment, phdrs[i].p_align);
    if (segment.mem_size > 0) loads.emplace_back(segment, i);
  }
  if (loads.empty()) return invalid("no loadable segment (PT_LOAD)");
  std::ranges::stable_sort(loads, {}, [](const auto& load) { return load.first.vaddr; });
  for (std::size_t i = 1; i < loads.size(); ++i) {
    const Segment& before = loads[i - 1].first;
    if (before.vaddr + before.mem_size > loads[i].first.vaddr) {  // no overflow: checked above
      return invalid("segments " + dec(loads[i - 1].second) + " and " + dec(loads[i].second) +
                     " overlap at " + hex(loads[i].first.vaddr));
    }
  }
  for (const auto& load : loads) layout.segments.push_back(load.first);
  const Segment& last = layout.segments.back();
  layout.image_size = align_up(last.vaddr + last.mem_size, kPageSize);  // <= 1 GiB, no overflow
  return layout;
}

Result<void> check_entry(const std::vector<Segment>& segments, std::uint64_t entry) {
  for (const Segment& segment : segments) {
    if (segment.executable && contains(segment, entry, 1)) return {};
  }
  return invalid("entry point " + hex(entry) + " is not inside an executable segment");
}

// --- Dynamic section and relocations -------------------------------------------------------------

struct Dynamic {
  std::optional<std::uint64_t> rela;              // DT_RELA (a vaddr)
  std::optional<std::uint64_t> rela_size;         // DT_RELASZ
  std::uint64_t rela_entry = sizeof(Elf64_Rela);  // DT_RELAENT
};

// Applies one dynamic entry; refuses every kind of relocation or dependency mote does not do.
Result<void> apply_dynamic_entry(const Elf64_Dyn& entry, Dynamic& dynamic) {
  switch (entry.d_tag) {
    case DT_RELA: dynamic.rela = entry.d_un.d_ptr; return {};
    case DT_RELASZ: dynamic.rela_size = entry.d_un.d_val; return {};
    case DT_RELAENT: dynamic.rela_entry = entry.d_un.d_val; return {};
    case DT_REL:
    case DT_RELSZ:
      return invalid("DT_REL relocations are not supported (x86-64 guests use DT_RELA)");
    case DT_RELR:
    case DT_RELRSZ:
      return invalid(
          "packed relocations (DT_RELR) are not supported: link without "
          "-z pack-relative-relocs");
    case DT_JMPREL: return invalid("PLT relocations (DT_JMPREL) are not supported");
    case DT_NEEDED:
      return invalid("dynamically linked (DT_NEEDED): build the guest as a static-pie");
    default: return {};  // informational tags (DT_RELACOUNT, DT_FLAGS, DT_GNU_HASH, ...)
  }
}

// Reads the PT_DYNAMIC entries up to DT_NULL or the end of the segment. No PT_DYNAMIC: nothing.
Result<Dynamic> read_dynamic(Bytes file, const std::vector<Elf64_Phdr>& phdrs) {
  const Elf64_Phdr* found = nullptr;
  for (const Elf64_Phdr& phdr : phdrs) {
    if (phdr.p_type != PT_DYNAMIC) continue;
    if (found) return invalid("more than one PT_DYNAMIC segment");
    found = &phdr;
  }
  Dynamic dynamic;
  if (!found) return dynamic;
  if (!in_range(found->p_offset, found->p_filesz, file.size())) {
    return invalid("PT_DYNAMIC lies outside the file");
  }
  for (std::uint64_t at = 0; at + sizeof(Elf64_Dyn) <= found->p_filesz; at += sizeof(Elf64_Dyn)) {
    const auto entry = read_at<Elf64_Dyn>(file, found->p_offset + at);
    if (!entry) return invalid("PT_DYNAMIC lies outside the file");
    if (entry->d_tag == DT_NULL) break;
    MOTE_TRY_VOID(apply_dynamic_entry(*entry, dynamic));
  }
  return dynamic;
}

// Translates the vaddr range [vaddr, vaddr + size) to a file offset through the PT_LOAD whose
// file bytes hold all of it.
Result<std::uint64_t> file_offset_of(const std::vector<Segment>& segments, std::uint64_t vaddr,
                                     std::uint64_t size) {
  for (const Segment& segment : segments) {
    if (vaddr >= segment.vaddr && in_range(vaddr - segment.vaddr, size, segment.file_size)) {
      return segment.file_offset + (vaddr - segment.vaddr);
    }
  }
  return invalid("relocation table at " + hex(vaddr) + " (" + dec(size) +
                 " bytes) is not inside a segment's file bytes");
}

Result<std::uint64_t> relocation_count(const Dynamic& dynamic) {
  if (!dynamic.rela || !dynamic.rela_size) {
    return invalid("DT_RELA and DT_RELASZ must come together");
  }
  if (dynamic.rela_entry != sizeof(Elf64_Rela)) {
    return invalid("DT_RELAENT " + dec(dynamic.rela_entry) + " (expected " +
                   dec(sizeof(Elf64_Rela)) + ")");
  }
  if (*dynamic.rela_size % sizeof(Elf64_Rela) != 0) {
    return invalid("DT_RELASZ " + dec(*dynamic.rela_size) + " is not a multiple of " +
                   dec(sizeof(Elf64_Rela)));
  }
  const std::uint64_t count = *dynamic.rela_size / sizeof(Elf64_Rela);
  if (count > kMaxRelocations) {
    return invalid("too many relocations: " + dec(count) + " (at most " + dec(kMaxRelocations) +
                   ")");
  }
  return count;
}

Result<std::optional<Relocation>> check_relocation(const Elf64_Rela& rela, std::uint64_t index,
                                                   const std::vector<Segment>& segments) {
  const std::uint64_t type = ELF64_R_TYPE(rela.r_info);
  if (type == R_X86_64_NONE) return std::nullopt;
  const std::string name = "relocation " + dec(index);
  if (type != R_X86_64_RELATIVE) {
    return invalid(name + ": unsupported type " + dec(type) +
                   " (only R_X86_64_RELATIVE and R_X86_64_NONE)");
  }
  const bool writable = std::ranges::any_of(segments, [&](const Segment& segment) {
    return segment.writable && contains(segment, rela.r_offset, sizeof(std::uint64_t));
  });
  if (!writable) {
    return invalid(name + ": target " + hex(rela.r_offset) + " is not inside a writable segment");
  }
  return Relocation{.offset = rela.r_offset, .addend = static_cast<std::uint64_t>(rela.r_addend)};
}

Result<std::vector<Relocation>> read_relocations(Bytes file, const Dynamic& dynamic,
                                                 const std::vector<Segment>& segments) {
  std::vector<Relocation> relocations;
  if (!dynamic.rela && dynamic.rela_size.value_or(0) == 0) return relocations;
  const std::uint64_t count = MOTE_TRY(relocation_count(dynamic));
  const std::uint64_t table = MOTE_TRY(file_offset_of(segments, *dynamic.rela, *dynamic.rela_size));
  relocations.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto rela = read_at<Elf64_Rela>(file, table + i * sizeof(Elf64_Rela));
    if (!rela) return invalid("relocation " + dec(i) + " lies outside the file");
    const auto relocation = MOTE_TRY(check_relocation(*rela, i, segments));
    if (relocation) relocations.push_back(*relocation);
  }
  return relocations;
}

void store_le64(std::uint8_t* out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(value >> (8 * i));
}

}  // namespace

Result<ElfImage> parse(std::span<const std::uint8_t> file) {
  const Elf64_Ehdr header = MOTE_TRY(read_header(file));
  const auto phdrs = MOTE_TRY(read_program_headers(file, header));
  const std::uint32_t abi_version = MOTE_TRY(read_abi_version(file, phdrs));
  MOTE_TRY_VOID(check_segment_kinds(phdrs));
  Layout layout = MOTE_TRY(collect_loads(file, phdrs));
  MOTE_TRY_VOID(check_entry(layout.segments, header.e_entry));
  const Dynamic dynamic = MOTE_TRY(read_dynamic(file, phdrs));
  auto relocations = MOTE_TRY(read_relocations(file, dynamic, layout.segments));
  return ElfImage{.image_size = layout.image_size,
                  .alignment = layout.alignment,
                  .entry = header.e_entry,
                  .abi_version = abi_version,
                  .segments = std::move(layout.segments),
                  .relative_relocations = std::move(relocations)};
}

Result<void> load(const ElfImage& parsed, std::span<const std::uint8_t> file,
                  std::span<std::uint8_t> image, std::uint64_t base) {
  if (image.size() < parsed.image_size) {
    return invalid("image buffer of " + dec(image.size()) + " bytes is smaller than the guest (" +
                   dec(parsed.image_size) + " bytes)");
  }
  for (const Segment& segment : parsed.segments) {
    if (segment.file_size > segment.mem_size ||
        !in_range(segment.file_offset, segment.file_size, file.size()) ||
        !in_range(segment.vaddr, segment.mem_size, image.size())) {
      return invalid("segment at " + hex(segment.vaddr) + " does not fit the file or the image");
    }
    if (segment.mem_size == 0) continue;
    std::uint8_t* target = image.data() + segment.vaddr;
    if (segment.file_size > 0) {
      std::memcpy(target, file.data() + segment.file_offset, segment.file_size);
    }
    std::memset(target + segment.file_size, 0, segment.mem_size - segment.file_size);
  }
  for (const Relocation& relocation : parsed.relative_relocations) {
    if (!in_range(relocation.offset, sizeof(std::uint64_t), image.size())) {
      return invalid("relocation target " + hex(relocation.offset) + " lies outside the image");
    }
    store_le64(image.data() + relocation.offset, base + relocation.addend);
  }
  return {};
}

std::vector<PageRange> page_ranges(const ElfImage& parsed) {
  // Elementary intervals between every segment's page-rounded bounds; each gets the union of the
  // segments covering it. At most kMaxProgramHeaders segments, so quadratic is fine.
  std::vector<std::uint64_t> bounds;
  for (const Segment& segment : parsed.segments) {
    bounds.push_back(segment.vaddr / kPageSize * kPageSize);
    bounds.push_back(align_up(segment.vaddr + segment.mem_size, kPageSize));
  }
  std::ranges::sort(bounds);
  const auto [first, last] = std::ranges::unique(bounds);
  bounds.erase(first, last);

  std::vector<PageRange> ranges;
  for (std::size_t i = 0; i + 1 < bounds.size(); ++i) {
    PageRange range{.start = bounds[i], .size = bounds[i + 1] - bounds[i]};
    bool covered = false;
    for (const Segment& segment : parsed.segments) {
      if (segment.vaddr < bounds[i + 1] && segment.vaddr + segment.mem_size > bounds[i]) {
        covered = true;
        range.writable = range.writable || segment.writable;
        range.executable = range.executable || segment.executable;
      }
    }
    if (!covered) continue;
    PageRange* previous = ranges.empty() ? nullptr : &ranges.back();
    if (previous && previous->start + previous->size == range.start &&
        previous->writable == range.writable && previous->executable == range.executable) {
      previous->size += range.size;
    } else {
      ranges.push_back(range);
    }
  }
  return ranges;
}

}  // namespace mote::elf
