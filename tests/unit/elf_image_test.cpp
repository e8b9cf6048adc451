// Unit tests of the guest ELF loader: a valid synthetic guest, every refusal, truncation, fuzzing.
#include "elf/elf_image.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <random>
#include <string>

#include "elf_builder.hpp"

namespace mote::elf {
namespace {

using namespace mote::elf_test;

constexpr std::uint64_t kBase = 0x7f0000010000;

Result<ElfImage> parse_bytes(const Bytes& file) { return parse(std::span(file)); }

// Expects `file` to be refused with `kind` and a message containing `fragment`.
void expect_refused(const Bytes& file, const std::string& fragment,
                    ErrorKind kind = ErrorKind::InvalidBinary) {
  const auto result = parse_bytes(file);
  ASSERT_FALSE(result.has_value()) << "accepted; expected: " << fragment;
  EXPECT_EQ(result.error().kind(), kind) << result.error().message();
  EXPECT_NE(result.error().message().find(fragment), std::string::npos)
      << "message: " << result.error().message() << "\nexpected to contain: " << fragment;
}

void expect_refused(const ElfSpec& spec, const std::string& fragment,
                    ErrorKind kind = ErrorKind::InvalidBinary) {
  expect_refused(build(spec), fragment, kind);
}

template <class Edit>
ElfSpec edited_guest(Edit edit) {
  ElfSpec spec = valid_guest();
  edit(spec);
  return spec;
}

std::uint64_t word_at(const Bytes& image, std::uint64_t offset) {
  return get<std::uint64_t>(image, offset);
}

// --- The valid guest -----------------------------------------------------------------------------

TEST(ElfImage, ParsesValidGuest) {
  const auto parsed = parse_bytes(build(valid_guest()));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  EXPECT_EQ(parsed->image_size, 0x4000u);
  EXPECT_EQ(parsed->alignment, 0x1000u);
  EXPECT_EQ(parsed->entry, kCodeVaddr);
  EXPECT_EQ(parsed->abi_version, MOTE_ABI_VERSION);
  ASSERT_EQ(parsed->segments.size(), 3u);
  const Segment& code = parsed->segments[1];
  EXPECT_EQ(code.vaddr, kCodeVaddr);
  EXPECT_EQ(code.file_offset, kCodeVaddr);
  EXPECT_EQ(code.file_size, kCodeSize);
  EXPECT_TRUE(code.executable);
  EXPECT_FALSE(code.writable);
  const Segment& data = parsed->segments[2];
  EXPECT_EQ(data.mem_size, kDataMemSize);
  EXPECT_TRUE(data.writable);
  EXPECT_FALSE(data.executable);
  EXPECT_FALSE(parsed->segments[0].writable || parsed->segments[0].executable);
  ASSERT_EQ(parsed->relative_relocations.size(), 2u);  // the R_X86_64_NONE one is dropped
  EXPECT_EQ(parsed->relative_relocations[0].offset, kWordsVaddr);
  EXPECT_EQ(parsed->relative_relocations[0].addend, kCodeVaddr);
}

TEST(ElfImage, LoadsValidGuestAndAppliesRelocations) {
  const Bytes file = build(valid_guest());
  const auto parsed = parse_bytes(file);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  Bytes image(parsed->image_size + 0x1000, 0xEE);  // dirty on purpose: load zero-fills mem_size
  std::fill(image.begin(), image.end() - 0x1000, std::uint8_t{0});
  std::fill(image.begin() + kDataVaddr, image.begin() + kDataVaddr + kDataMemSize, 0xEE);
  ASSERT_TRUE(load(*parsed, file, image, kBase).has_value());

  Bytes expected(image.size(), 0);
  std::copy_n(file.begin(), kHeadersSize, expected.begin());
  std::copy_n(file.begin() + kCodeVaddr, kCodeSize, expected.begin() + kCodeVaddr);
  std::copy_n(file.begin() + kDataVaddr, kDataFileSize, expected.begin() + kDataVaddr);
  put<std::uint64_t>(expected, kWordsVaddr, kBase + kCodeVaddr);
  put<std::uint64_t>(expected, kWordsVaddr + 8, kBase + kWordsVaddr + 0x10);
  std::fill(expected.end() - 0x1000, expected.end(), 0xEE);  // past image_size: untouched
  EXPECT_EQ(image, expected);
  EXPECT_EQ(word_at(image, kWordsVaddr), kBase + 0x1000);
  EXPECT_EQ(image[kWordsVaddr + 0x10], 0xB0);  // unrelocated data copied as is
}

TEST(ElfImage, NegativeAddendWrapsLikeTheCpu) {
  GuestOptions options;
  options.relocations = {{kWordsVaddr, R_X86_64_RELATIVE, -0x10}};
  const Bytes file = build(valid_guest(options));
  const auto parsed = parse_bytes(file);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  Bytes image(parsed->image_size, 0);
  ASSERT_TRUE(load(*parsed, file, image, kBase).has_value());
  EXPECT_EQ(word_at(image, kWordsVaddr), kBase - 0x10);
}

TEST(ElfImage, LoadRefusesTooSmallImageAndMismatchedFile) {
  const Bytes file = build(valid_guest());
  const auto parsed = parse_bytes(file);
  ASSERT_TRUE(parsed.has_value());
  Bytes small(parsed->image_size - 1, 0);
  const auto too_small = load(*parsed, file, small, kBase);
  ASSERT_FALSE(too_small.has_value());
  EXPECT_EQ(too_small.error().kind(), ErrorKind::InvalidBinary);

  Bytes image(parsed->image_size, 0);
  const Bytes shorter(file.begin(), file.end() - 1);  // not the file it was parsed from
  EXPECT_FALSE(load(*parsed, shorter, image, kBase).has_value());
  ElfImage forged = *parsed;
  forged.relative_relocations.push_back({.offset = parsed->image_size - 4, .addend = 0});
  EXPECT_FALSE(load(forged, file, image, kBase).has_value());
}

TEST(ElfImage, NoDynamicSegmentMeansNoRelocations) {
  auto spec = edited_guest([](ElfSpec& s) { s.phdrs[kDynamic].p_type = PT_NULL; });
  const auto parsed = parse_bytes(build(spec));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  EXPECT_TRUE(parsed->relative_relocations.empty());
}

TEST(ElfImage, AcceptsNoteInEightAlignedSegmentAmongOtherNotes) {
  auto spec = edited_guest([](ElfSpec& s) {
    Bytes notes = note("GNU", NT_GNU_PROPERTY_TYPE_0, Bytes(16, 0), 8);
    const Bytes abi = abi_note(MOTE_ABI_VERSION, 8);
    notes.insert(notes.end(), abi.begin(), abi.end());
    s.contents[0].second = notes;
    s.phdrs[kNote].p_filesz = s.phdrs[kNote].p_memsz = notes.size();
    s.phdrs[kNote].p_align = 8;
  });
  const auto parsed = parse_bytes(build(spec));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  EXPECT_EQ(parsed->abi_version, MOTE_ABI_VERSION);
}

// Two segments sharing a page: allowed; the page gets the union of their permissions.
TEST(ElfImage, SharedPageGetsUnionOfPermissions) {
  auto spec = edited_guest([](ElfSpec& s) { s.phdrs[kLoadRW].p_vaddr = kCodeVaddr + 0x100; });
  const auto parsed = parse_bytes(build(spec));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  const auto ranges = page_ranges(*parsed);
  ASSERT_EQ(ranges.size(), 3u);
  EXPECT_EQ(ranges[0].start, 0u);
  EXPECT_EQ(ranges[0].size, 0x1000u);
  EXPECT_FALSE(ranges[0].writable || ranges[0].executable);
  EXPECT_EQ(ranges[1].start, 0x1000u);
  EXPECT_EQ(ranges[1].size, 0x1000u);
  EXPECT_TRUE(ranges[1].writable && ranges[1].executable);
  EXPECT_EQ(ranges[2].start, 0x2000u);
  EXPECT_EQ(ranges[2].size, 0x1000u);  // RW segment ends at 0x1100 + 0x1800 = 0x2900
  EXPECT_TRUE(ranges[2].writable && !ranges[2].executable);
}

TEST(ElfImage, PageRangesMergeAndSkipGaps) {
  ElfImage image;
  image.segments = {{.vaddr = 0, .mem_size = 0x10},
                    {.vaddr = 0x1000, .mem_size = 0x10},  // same permissions, adjacent page
                    {.vaddr = 0x5000, .mem_size = 0x2001, .writable = true}};
  const auto ranges = page_ranges(image);
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0].start, 0u);
  EXPECT_EQ(ranges[0].size, 0x2000u);
  EXPECT_EQ(ranges[1].start, 0x5000u);
  EXPECT_EQ(ranges[1].size, 0x3000u);
  EXPECT_TRUE(ranges[1].writable);
}

// --- Header refusals -----------------------------------------------------------------------------

TEST(ElfImage, RefusesTruncationAtEveryLength) {
  const Bytes file = build(valid_guest());
  const std::size_t phdr_end = sizeof(Elf64_Ehdr) + 6 * sizeof(Elf64_Phdr);
  for (std::size_t cut = 0; cut < file.size(); ++cut) {
    const Bytes truncated(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(cut));
    const auto result = parse_bytes(truncated);
    ASSERT_FALSE(result.has_value()) << "accepted a file cut at " << cut;
    const std::string& message = result.error().message();
    if (cut < SELFMAG) {
      EXPECT_EQ(message, "not an ELF file");
    } else if (cut < sizeof(Elf64_Ehdr)) {
      EXPECT_EQ(message,
                "truncated: ELF header needs 64 bytes, file has " + std::to_string(cut) + " bytes");
    } else if (cut < phdr_end) {
      EXPECT_EQ(message, "truncated: program header table ends at " + std::to_string(phdr_end) +
                             ", file has " + std::to_string(cut) + " bytes");
    }
  }
}

TEST(ElfImage, RefusesNonElf) {
  expect_refused(Bytes{}, "not an ELF file");
  Bytes text(200, 'x');
  expect_refused(text, "not an ELF file");
}

TEST(ElfImage, Refuses32Bit) {
  Bytes file = build(valid_guest());
  file[EI_CLASS] = ELFCLASS32;
  expect_refused(file, "not a 64-bit ELF file (EI_CLASS 1)");
  file.resize(52);  // a whole ELF32 header is still refused as 32-bit, not as truncated
  expect_refused(file, "not a 64-bit ELF file");
}

TEST(ElfImage, RefusesBigEndian) {
  Bytes file = build(valid_guest());
  file[EI_DATA] = ELFDATA2MSB;
  expect_refused(file, "not a little-endian ELF file (EI_DATA 2)");
}

TEST(ElfImage, RefusesOtherElfVersion) {
  expect_refused(edited_guest([](ElfSpec& s) { s.header.e_version = 2; }),
                 "unsupported ELF version 2");
}

TEST(ElfImage, RefusesWrongMachine) {
  expect_refused(edited_guest([](ElfSpec& s) { s.header.e_machine = EM_386; }),
                 "wrong machine: 3 (expected x86-64)");
}

TEST(ElfImage, RefusesNonPie) {
  expect_refused(edited_guest([](ElfSpec& s) { s.header.e_type = ET_EXEC; }),
                 "not a static-pie: ET_EXEC");
  expect_refused(edited_guest([](ElfSpec& s) { s.header.e_type = ET_REL; }),
                 "not a static-pie: e_type 1");
}

TEST(ElfImage, RefusesBadProgramHeaderTable) {
  Bytes file = build(valid_guest());
  put<Elf64_Half>(file, offsetof(Elf64_Ehdr, e_phentsize), 32);
  expect_refused(file, "bad program header entry size 32 (expected 56)");

  file = build(valid_guest());
  put<Elf64_Half>(file, offsetof(Elf64_Ehdr, e_phnum), 65);
  expect_refused(file, "too many program headers: 65");
  put<Elf64_Half>(file, offsetof(Elf64_Ehdr, e_phnum), 0);
  expect_refused(file, "no program headers");

  file = build(valid_guest());
  put<Elf64_Off>(file, offsetof(Elf64_Ehdr, e_phoff), ~std::uint64_t{0} - 8);
  expect_refused(file, "truncated: program header table offset");
  put<Elf64_Off>(file, offsetof(Elf64_Ehdr, e_phoff), file.size() - 8);
  expect_refused(file, "truncated: program header table ends at");
}

// --- Segment refusals ----------------------------------------------------------------------------

TEST(ElfImage, RefusesInterpreter) {
  expect_refused(edited_guest([](ElfSpec& s) {
                   s.phdrs.push_back(phdr(PT_INTERP, PF_R, 0x100, 0x100, 0x10, 0x10, 1));
                 }),
                 "dynamically linked");
}

TEST(ElfImage, RefusesThreadLocalStorage) {
  expect_refused(edited_guest([](ElfSpec& s) {
                   s.phdrs.push_back(phdr(PT_TLS, PF_R, kDataVaddr, kDataVaddr, 0, 8, 8));
                 }),
                 "PT_TLS");
  auto empty_tls = edited_guest([](ElfSpec& s) {  // an empty PT_TLS is harmless
    s.phdrs.push_back(phdr(PT_TLS, PF_R, kDataVaddr, kDataVaddr, 0, 0, 8));
  });
  EXPECT_TRUE(parse_bytes(build(empty_tls)).has_value());
}

TEST(ElfImage, RefusesNoLoadSegment) {
  expect_refused(edited_guest([](ElfSpec& s) {
                   for (std::size_t i : {kLoadR, kLoadRX, kLoadRW}) s.phdrs[i].p_type = PT_NULL;
                 }),
                 "no loadable segment");
}

TEST(ElfImage, RefusesSegmentOutsideFile) {
  expect_refused(edited_guest([](ElfSpec& s) { s.phdrs[kLoadRW].p_filesz = 0x121; }),
                 "segment 2 lies outside the file");
  expect_refused(edited_guest([](ElfSpec& s) { s.phdrs[kLoadRX].p_offset = ~std::uint64_t{0}; }),
                 "segment 1 lies outside the file");
  expect_refused(edited_guest([](ElfSpec& s) { s.phdrs[kNote].p_offset = 0x10000; }),
                 "segment 4 (PT_NOTE) lies outside the file");
  expect_refused(edited_guest([](ElfSpec& s) { s.phdrs[kDynamic].p_filesz = 0x1000; }),
                 "PT_DYNAMIC lies outside the file");
}

TEST(ElfImage, RefusesFileSizeAboveMemSize) {
  expect_refused(edited_guest([](ElfSpec& s) { s.phdrs[kLoadRX].p_memsz = kCodeSize - 1; }),
                 "segment 1: filesz 0x20 exceeds memsz 0x1f");
}

TEST(ElfImage, RefusesAbsurdSizes) {
  expect_refused(
      edited_guest([](ElfSpec& s) { s.phdrs[kLoadRW].p_memsz = std::uint64_t{1} << 60; }),
      "absurd size: segment 2 ends at");
  expect_refused(
      edited_guest([](ElfSpec& s) { s.phdrs[kLoadRW].p_vaddr = ~std::uint64_t{0} - 0x1000; }),
      "absurd size: segment 2 (vaddr");
  expect_refused(edited_guest([](ElfSpec& s) { s.phdrs[kLoadRW].p_vaddr = kMaxImageSize; }),
                 "past the 1 GiB image limit");
  auto just_fits = edited_guest([](ElfSpec& s) {  // ends exactly at 1 GiB: accepted
    s.phdrs[kLoadRW].p_memsz = kMaxImageSize - kDataVaddr;
  });
  const auto parsed = parse_bytes(build(just_fits));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  EXPECT_EQ(parsed->image_size, kMaxImageSize);
}

TEST(ElfImage, RefusesBadAlignment) {
  expect_refused(edited_guest([](ElfSpec& s) { s.phdrs[kLoadRX].p_align = 0x3000; }),
                 "segment 1: p_align 0x3000 is not a power of two");
  expect_refused(edited_guest([](ElfSpec& s) { s.phdrs[kLoadRX].p_align = 0x400000; }),
                 "segment 1: p_align 0x400000 exceeds 2 MiB");
  const auto large = parse_bytes(
      build(edited_guest([](ElfSpec& s) { s.phdrs[kLoadRX].p_align = kMaxAlignment; })));
  ASSERT_TRUE(large.has_value());
  EXPECT_EQ(large->alignment, kMaxAlignment);
}

TEST(ElfImage, RefusesOverlappingSegments) {
  expect_refused(edited_guest([](ElfSpec& s) { s.phdrs[kLoadRW].p_vaddr = kCodeVaddr + 0x1f; }),
                 "segments 1 and 2 overlap at 0x101f");
  expect_refused(edited_guest([](ElfSpec& s) { s.phdrs[kLoadRW].p_vaddr = 0; }),
                 "segments 0 and 2 overlap at 0x0");
}

TEST(ElfImage, RefusesEntryOutsideExecutableSegment) {
  expect_refused(edited_guest([](ElfSpec& s) { s.header.e_entry = kDataVaddr; }),
                 "entry point 0x2000 is not inside an executable segment");
  expect_refused(edited_guest([](ElfSpec& s) { s.header.e_entry = kCodeVaddr + kCodeSize; }),
                 "entry point 0x1020");
  expect_refused(edited_guest([](ElfSpec& s) { s.header.e_entry = ~std::uint64_t{0}; }),
                 "entry point 0xffffffffffffffff");
}

// --- ABI note ------------------------------------------------------------------------------------

TEST(ElfImage, RefusesMissingNote) {
  GuestOptions options;
  options.with_note = false;
  expect_refused(valid_guest(options),
                 "no mote ABI note (build the guest with the mote guest SDK)");
  expect_refused(edited_guest([](ElfSpec& s) { s.phdrs[kNote].p_type = PT_NULL; }),
                 "no mote ABI note");
}

TEST(ElfImage, RefusesOtherAbiVersionNamingBoth) {
  GuestOptions options;
  options.abi_version = 7;
  expect_refused(valid_guest(options),
                 "guest ABI version 7, host ABI version " + std::to_string(MOTE_ABI_VERSION),
                 ErrorKind::AbiMismatch);
}

TEST(ElfImage, RefusesMalformedNotes) {
  expect_refused(edited_guest([](ElfSpec& s) {
                   s.contents[0].second =
                       note(MOTE_NOTE_NAME, MOTE_NOTE_TYPE_ABI_VERSION, Bytes(8));
                   s.phdrs[kNote].p_filesz = s.contents[0].second.size();
                 }),
                 "malformed mote ABI note: desc is 8 bytes");
  expect_refused(edited_guest([](ElfSpec& s) { s.phdrs[kNote].p_filesz -= 1; }),
                 "segment 4: truncated note at offset 0x0");
  expect_refused(edited_guest([](ElfSpec& s) { s.phdrs[kNote].p_filesz += 4; }),
                 "segment 4: truncated note at offset 0x18");
  expect_refused(edited_guest([](ElfSpec& s) {
                   Bytes twice = abi_note(MOTE_ABI_VERSION);
                   const Bytes other = abi_note(MOTE_ABI_VERSION + 1);
                   twice.insert(twice.end(), other.begin(), other.end());
                   s.contents[0].second = twice;
                   s.phdrs[kNote].p_filesz = twice.size();
                 }),
                 "conflicting mote ABI notes");
  Bytes huge_name = build(valid_guest());  // n_namesz near 2^32 must not wrap anything
  put<std::uint32_t>(huge_name, kNoteOffset, 0xFFFFFFFFu);
  expect_refused(huge_name, "truncated note");
}

// --- Relocations ---------------------------------------------------------------------------------

TEST(ElfImage, RefusesUnsupportedRelocationType) {
  GuestOptions options;
  options.relocations.push_back({kWordsVaddr + 0x10, R_X86_64_64, 0});
  expect_refused(valid_guest(options),
                 "relocation 3: unsupported type 1 (only R_X86_64_RELATIVE and R_X86_64_NONE)");
}

TEST(ElfImage, RefusesRelocationOutsideWritableSegments) {
  GuestOptions outside;
  outside.relocations = {{0x4000, R_X86_64_RELATIVE, 0}};
  expect_refused(valid_guest(outside), "relocation 0: target 0x4000 is not inside a writable");
  GuestOptions straddling;
  straddling.relocations = {{kDataVaddr + kDataMemSize - 4, R_X86_64_RELATIVE, 0}};
  expect_refused(valid_guest(straddling), "not inside a writable segment");
  GuestOptions read_only;
  read_only.relocations = {{kCodeVaddr, R_X86_64_RELATIVE, 0}};
  expect_refused(valid_guest(read_only), "target 0x1000 is not inside a writable segment");
  GuestOptions wrapping;
  wrapping.relocations = {{~std::uint64_t{0} - 3, R_X86_64_RELATIVE, 0}};
  expect_refused(valid_guest(wrapping), "not inside a writable segment");
}

TEST(ElfImage, RefusesRel) {
  GuestOptions options;
  options.extra_dynamic = {{DT_REL, kRelaOffset}, {DT_RELSZ, 0}};
  expect_refused(valid_guest(options), "DT_REL relocations are not supported");
}

TEST(ElfImage, RefusesOtherDynamicFeatures) {
  const std::pair<std::int64_t, std::string> cases[] = {
      {DT_RELR, "DT_RELR"}, {DT_JMPREL, "DT_JMPREL"}, {DT_NEEDED, "DT_NEEDED"}};
  for (const auto& [tag, fragment] : cases) {
    GuestOptions options;
    options.extra_dynamic = {{tag, 0}};
    expect_refused(valid_guest(options), fragment);
  }
  ElfSpec spec = valid_guest();
  spec.phdrs.push_back(spec.phdrs[kDynamic]);
  expect_refused(spec, "more than one PT_DYNAMIC");
}

TEST(ElfImage, RefusesBadRelocationTable) {
  GuestOptions entry_size;
  entry_size.extra_dynamic = {{DT_RELAENT, 16}};  // the later entry wins
  expect_refused(valid_guest(entry_size), "DT_RELAENT 16 (expected 24)");
  GuestOptions odd_size;
  odd_size.extra_dynamic = {{DT_RELASZ, 25}};
  expect_refused(valid_guest(odd_size), "DT_RELASZ 25 is not a multiple of 24");
  GuestOptions huge;
  huge.extra_dynamic = {{DT_RELASZ, 24 * (kMaxRelocations + 1)}};
  expect_refused(valid_guest(huge), "too many relocations");
  GuestOptions outside;
  outside.extra_dynamic = {{DT_RELASZ, 24 * 100}};  // runs past the R segment's file bytes
  expect_refused(valid_guest(outside), "relocation table at 0x300 (2400 bytes) is not inside");
  GuestOptions in_bss;
  in_bss.extra_dynamic = {{DT_RELA, kDataVaddr + kDataFileSize}};  // memory only, no file bytes
  expect_refused(valid_guest(in_bss), "is not inside a segment's file bytes");
  expect_refused(edited_guest([](ElfSpec& s) {
                   s.contents[3].second = dynamic({{DT_RELA, kRelaOffset}});  // no DT_RELASZ
                   s.phdrs[kDynamic].p_filesz = s.contents[3].second.size();
                 }),
                 "DT_RELA and DT_RELASZ must come together");
}

// --- Robustness ----------------------------------------------------------------------------------

// Perturbs the headers, notes, relocations and dynamic section of the valid guest at random (fixed
// seed): parse must never crash, and whatever it accepts must load cleanly.
TEST(ElfImage, SurvivesRandomPerturbation) {
  const Bytes valid = build(valid_guest());
  std::mt19937_64 random(0x6d6f7465);
  const std::uint64_t interesting[] = {0,
                                       1,
                                       7,
                                       0x1000,
                                       0x2000,
                                       0x3fff,
                                       0x7fffffffffffffff,
                                       ~std::uint64_t{0},
                                       std::uint64_t{1} << 32,
                                       kMaxImageSize};
  int accepted = 0, loaded = 0;
  for (int iteration = 0; iteration < 5000; ++iteration) {
    Bytes file = valid;
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits; ++e) {
      const bool in_dynamic = random() % 4 == 0;
      const std::size_t span = in_dynamic ? 0x60 : kHeadersSize;
      const std::size_t at = (in_dynamic ? kDataVaddr : 0) + random() % span;
      if (random() % 2 == 0) {
        file[at] = static_cast<std::uint8_t>(file[at] ^ (1u << (random() % 8)));
      } else {
        put<std::uint64_t>(file, at & ~std::size_t{7},
                           interesting[random() % std::size(interesting)]);
      }
    }
    file.resize(valid.size());
    const auto parsed = parse_bytes(file);
    if (!parsed) {
      EXPECT_FALSE(parsed.error().message().empty());
      continue;
    }
    ++accepted;
    if (parsed->image_size > (std::uint64_t{16} << 20)) continue;  // keep the test light
    Bytes image(parsed->image_size, 0);
    const auto result = load(*parsed, file, image, kBase);
    EXPECT_TRUE(result.has_value())
        << "iteration " << iteration << ": " << result.error().message();
    loaded += result.has_value() ? 1 : 0;
  }
  EXPECT_GT(accepted, 0);
  EXPECT_GT(loaded, 0);
}

}  // namespace
}  // namespace mote::elf
