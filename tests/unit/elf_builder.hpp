// Builds small synthetic ELF64 guest files in memory for the ELF loader's unit tests.
#pragma once

// glibc's <elf.h>: the same well-kept structure definitions the loader uses.
#include <elf.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "mote/abi.h"

namespace mote::elf_test {

using Bytes = std::vector<std::uint8_t>;

// Raw access to a trivially copyable value at a byte offset (the caller keeps it in bounds).
template <class T>
void put(Bytes& bytes, std::size_t offset, const T& value) {
  if (bytes.size() < offset + sizeof(T)) bytes.resize(offset + sizeof(T));
  std::memcpy(bytes.data() + offset, &value, sizeof(T));
}
template <class T>
T get(const Bytes& bytes, std::size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

template <class T>
void append(Bytes& bytes, const T& value) {
  put(bytes, bytes.size(), value);
}

inline void pad_to(Bytes& bytes, std::size_t alignment) {
  while (bytes.size() % alignment != 0) bytes.push_back(0);
}

// One note: Elf64_Nhdr, then the name (with its NUL) and the desc, each padded to `alignment`.
inline Bytes note(const std::string& name, std::uint32_t type, const Bytes& desc,
                  std::size_t alignment = 4) {
  Bytes out;
  append(out, Elf64_Nhdr{.n_namesz = static_cast<std::uint32_t>(name.size() + 1),
                         .n_descsz = static_cast<std::uint32_t>(desc.size()),
                         .n_type = type});
  out.insert(out.end(), name.begin(), name.end());
  out.push_back(0);
  pad_to(out, alignment);
  out.insert(out.end(), desc.begin(), desc.end());
  pad_to(out, alignment);
  return out;
}

inline Bytes le32(std::uint32_t value) {
  return {static_cast<std::uint8_t>(value), static_cast<std::uint8_t>(value >> 8),
          static_cast<std::uint8_t>(value >> 16), static_cast<std::uint8_t>(value >> 24)};
}

inline Bytes abi_note(std::uint32_t version, std::size_t alignment = 4) {
  return note(MOTE_NOTE_NAME, MOTE_NOTE_TYPE_ABI_VERSION, le32(version), alignment);
}

// Dynamic entries, terminated by DT_NULL.
inline Bytes dynamic(const std::vector<std::pair<std::int64_t, std::uint64_t>>& entries) {
  Bytes out;
  for (const auto& [tag, value] : entries) append(out, Elf64_Dyn{.d_tag = tag, .d_un = {value}});
  append(out, Elf64_Dyn{.d_tag = DT_NULL, .d_un = {0}});
  return out;
}

struct Rela {
  std::uint64_t offset;
  std::uint32_t type;
  std::int64_t addend;
};

inline Bytes relas(const std::vector<Rela>& entries) {
  Bytes out;
  for (const Rela& r : entries) {
    append(out, Elf64_Rela{.r_offset = r.offset,
                           .r_info = ELF64_R_INFO(0, std::uint64_t{r.type}),
                           .r_addend = r.addend});
  }
  return out;
}

inline Elf64_Phdr phdr(std::uint32_t type, std::uint32_t flags, std::uint64_t offset,
                       std::uint64_t vaddr, std::uint64_t file_size, std::uint64_t mem_size,
                       std::uint64_t alignment) {
  return Elf64_Phdr{.p_type = type,
                    .p_flags = flags,
                    .p_offset = offset,
                    .p_vaddr = vaddr,
                    .p_paddr = vaddr,
                    .p_filesz = file_size,
                    .p_memsz = mem_size,
                    .p_align = alignment};
}

// A whole file: the ELF header at 0, the program headers right after it, then `contents`
// (bytes at file offsets, written in order), zero-padded to at least `min_size`.
struct ElfSpec {
  Elf64_Ehdr header{};  // e_phoff, e_phnum are filled in by build()
  std::vector<Elf64_Phdr> phdrs;
  std::vector<std::pair<std::uint64_t, Bytes>> contents;
  std::size_t min_size = 0;
};

inline Elf64_Ehdr x86_64_pie_header(std::uint64_t entry) {
  Elf64_Ehdr header{};
  std::memcpy(header.e_ident, ELFMAG, SELFMAG);
  header.e_ident[EI_CLASS] = ELFCLASS64;
  header.e_ident[EI_DATA] = ELFDATA2LSB;
  header.e_ident[EI_VERSION] = EV_CURRENT;
  header.e_type = ET_DYN;
  header.e_machine = EM_X86_64;
  header.e_version = EV_CURRENT;
  header.e_entry = entry;
  header.e_ehsize = sizeof(Elf64_Ehdr);
  header.e_phentsize = sizeof(Elf64_Phdr);
  return header;
}

inline Bytes build(const ElfSpec& spec) {
  Elf64_Ehdr header = spec.header;
  header.e_phoff = sizeof(Elf64_Ehdr);
  header.e_phnum = static_cast<Elf64_Half>(spec.phdrs.size());
  Bytes out;
  append(out, header);
  for (const Elf64_Phdr& p : spec.phdrs) append(out, p);
  for (const auto& [offset, bytes] : spec.contents) {
    if (out.size() < offset + bytes.size()) out.resize(offset + bytes.size());
    if (!bytes.empty()) std::memcpy(out.data() + offset, bytes.data(), bytes.size());
  }
  if (out.size() < spec.min_size) out.resize(spec.min_size);
  return out;
}

// The canonical valid guest:
//   phdr 0  PT_LOAD R    vaddr 0       file [0, 0x400)   headers, ABI note at 0x200, relas at 0x300
//   phdr 1  PT_LOAD RX   vaddr 0x1000  file [0x1000, +0x20)  code; entry = 0x1000
//   phdr 2  PT_LOAD RW   vaddr 0x2000  file [0x2000, +0x120), memsz 0x1800  dynamic, data, bss
//   phdr 3  PT_DYNAMIC   vaddr 0x2000  (DT_RELA 0x300, DT_RELASZ, DT_RELAENT, extra, DT_NULL)
//   phdr 4  PT_NOTE      vaddr 0x200   the mote ABI note
//   phdr 5  PT_GNU_STACK (ignored by the loader)
// Relocations: [0x2100] = base + 0x1000, [0x2108] = base + 0x2110, and one R_X86_64_NONE.
// Image size 0x4000.
inline constexpr std::size_t kLoadR = 0, kLoadRX = 1, kLoadRW = 2, kDynamic = 3, kNote = 4;
inline constexpr std::uint64_t kNoteOffset = 0x200, kRelaOffset = 0x300, kHeadersSize = 0x400;
inline constexpr std::uint64_t kCodeVaddr = 0x1000, kCodeSize = 0x20;
inline constexpr std::uint64_t kDataVaddr = 0x2000, kDataFileSize = 0x120, kDataMemSize = 0x1800;
inline constexpr std::uint64_t kWordsVaddr = 0x2100;  // relocated words and plain data

struct GuestOptions {
  std::uint32_t abi_version = MOTE_ABI_VERSION;
  bool with_note = true;
  std::vector<Rela> relocations = {
      {kWordsVaddr, R_X86_64_RELATIVE, static_cast<std::int64_t>(kCodeVaddr)},
      {kWordsVaddr + 8, R_X86_64_RELATIVE, static_cast<std::int64_t>(kWordsVaddr + 0x10)},
      {0, R_X86_64_NONE, 0}};
  std::vector<std::pair<std::int64_t, std::uint64_t>> extra_dynamic;  // before DT_NULL
};

inline Bytes code_bytes() {
  Bytes code(kCodeSize);
  for (std::size_t i = 0; i < code.size(); ++i) code[i] = static_cast<std::uint8_t>(0x90 + i);
  return code;
}

inline Bytes data_words() {  // 0x20 bytes at kWordsVaddr; the first two words get relocated
  Bytes words(0x20);
  for (std::size_t i = 0; i < words.size(); ++i) words[i] = static_cast<std::uint8_t>(0xA0 + i);
  return words;
}

inline ElfSpec valid_guest(const GuestOptions& options = {}) {
  ElfSpec spec;
  spec.header = x86_64_pie_header(kCodeVaddr);
  const Bytes rela_table = relas(options.relocations);
  std::vector<std::pair<std::int64_t, std::uint64_t>> dyn = {
      {DT_RELA, kRelaOffset}, {DT_RELASZ, rela_table.size()}, {DT_RELAENT, sizeof(Elf64_Rela)}};
  dyn.insert(dyn.end(), options.extra_dynamic.begin(), options.extra_dynamic.end());
  const Bytes dynamic_table = dynamic(dyn);
  const Bytes abi = options.with_note ? abi_note(options.abi_version)
                                      : note("GNU", NT_GNU_BUILD_ID, le32(0x12345678));

  spec.phdrs = {
      phdr(PT_LOAD, PF_R, 0, 0, kHeadersSize, kHeadersSize, 0x1000),
      phdr(PT_LOAD, PF_R | PF_X, kCodeVaddr, kCodeVaddr, kCodeSize, kCodeSize, 0x1000),
      phdr(PT_LOAD, PF_R | PF_W, kDataVaddr, kDataVaddr, kDataFileSize, kDataMemSize, 0x1000),
      phdr(PT_DYNAMIC, PF_R | PF_W, kDataVaddr, kDataVaddr, dynamic_table.size(),
           dynamic_table.size(), 8),
      phdr(PT_NOTE, PF_R, kNoteOffset, kNoteOffset, abi.size(), abi.size(), 4),
      phdr(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16),
  };
  spec.contents = {{kNoteOffset, abi},
                   {kRelaOffset, rela_table},
                   {kCodeVaddr, code_bytes()},
                   {kDataVaddr, dynamic_table},
                   {kWordsVaddr, data_words()}};
  spec.min_size = kDataVaddr + kDataFileSize;
  return spec;
}

}  // namespace mote::elf_test
