// End to end: malformed guest binaries, derived from a real guest, are refused with typed errors.
#include <elf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "test_sandbox.hpp"

namespace mote::test {
namespace {

class BinaryRefusal : public ::testing::Test {
 protected:
  std::vector<std::uint8_t> good = guest_bytes("test_guest");

  Elf64_Ehdr header() const {
    Elf64_Ehdr h;
    std::memcpy(&h, good.data(), sizeof h);
    return h;
  }
  // The index of the first program header of `type`.
  Elf64_Phdr* phdr(std::vector<std::uint8_t>& file, std::uint32_t type) {
    const Elf64_Ehdr h = header();
    for (int i = 0; i < h.e_phnum; ++i) {
      auto* p = reinterpret_cast<Elf64_Phdr*>(file.data() + h.e_phoff + i * sizeof(Elf64_Phdr));
      if (p->p_type == type) return p;
    }
    return nullptr;
  }
  // Offset of the mote ABI note's owner name inside the file.
  std::size_t note_name_offset(std::vector<std::uint8_t>& file) {
    Elf64_Phdr* note = phdr(file, PT_NOTE);
    EXPECT_NE(note, nullptr);
    for (std::size_t off = note->p_offset; off + 5 <= note->p_offset + note->p_filesz; off += 4) {
      if (std::memcmp(file.data() + off, "mote", 5) == 0) return off;
    }
    ADD_FAILURE() << "no mote note found in test_guest";
    return 0;
  }
  static Error refused(const std::vector<std::uint8_t>& file) {
    auto s = Sandbox::create(file);
    EXPECT_FALSE(s) << "a malformed binary was accepted";
    return s ? Error(ErrorKind::Io, "accepted") : s.error();
  }
};

TEST_F(BinaryRefusal, TheUnmodifiedGuestLoads) { ASSERT_TRUE(Sandbox::create(good)); }

TEST_F(BinaryRefusal, Truncated) {
  // Cuts inside the headers, and inside the file bytes of the last loadable segment (the file
  // also carries section headers and debug info after it, which a loader never reads).
  std::uint64_t load_end = 0;
  const Elf64_Ehdr h = header();
  for (int i = 0; i < h.e_phnum; ++i) {
    Elf64_Phdr p;
    std::memcpy(&p, good.data() + h.e_phoff + i * sizeof(Elf64_Phdr), sizeof p);
    if (p.p_type == PT_LOAD) load_end = std::max(load_end, p.p_offset + p.p_filesz);
  }
  ASSERT_GT(load_end, 200u);
  for (std::uint64_t cut : {std::uint64_t{0}, std::uint64_t{10}, std::uint64_t{63}, std::uint64_t{100},
                            load_end / 2, load_end - 1}) {
    std::vector<std::uint8_t> file(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_EQ(refused(file).kind(), ErrorKind::InvalidBinary) << "cut at " << cut;
  }
}

TEST_F(BinaryRefusal, NotElf) {
  const std::string text = "#!/bin/sh\necho this is not a guest\n";
  EXPECT_EQ(refused(std::vector<std::uint8_t>(text.begin(), text.end())).kind(),
            ErrorKind::InvalidBinary);
}

TEST_F(BinaryRefusal, WrongMachine) {
  auto file = good;
  const std::uint16_t aarch64 = EM_AARCH64;
  std::memcpy(file.data() + offsetof(Elf64_Ehdr, e_machine), &aarch64, 2);
  Error e = refused(file);
  EXPECT_EQ(e.kind(), ErrorKind::InvalidBinary);
  EXPECT_NE(e.message().find("machine"), std::string::npos) << e.message();
}

TEST_F(BinaryRefusal, NotStaticPie) {
  auto file = good;
  const std::uint16_t exec = ET_EXEC;
  std::memcpy(file.data() + offsetof(Elf64_Ehdr, e_type), &exec, 2);
  Error e = refused(file);
  EXPECT_EQ(e.kind(), ErrorKind::InvalidBinary);
  EXPECT_NE(e.message().find("static-pie"), std::string::npos) << e.message();
}

TEST_F(BinaryRefusal, SegmentOutsideTheFile) {
  auto file = good;
  phdr(file, PT_LOAD)->p_offset = file.size() + 4096;
  EXPECT_EQ(refused(file).kind(), ErrorKind::InvalidBinary);
}

TEST_F(BinaryRefusal, AbsurdSegmentSize) {
  auto file = good;
  phdr(file, PT_LOAD)->p_memsz = 1ull << 50;
  EXPECT_EQ(refused(file).kind(), ErrorKind::InvalidBinary);
  auto wrap = good;
  phdr(wrap, PT_LOAD)->p_vaddr = ~0ull - 10;
  EXPECT_EQ(refused(wrap).kind(), ErrorKind::InvalidBinary);
}

TEST_F(BinaryRefusal, MissingAbiNote) {
  auto file = good;
  file[note_name_offset(file)] = 'x';  // owner "xote": no longer a mote note
  Error e = refused(file);
  EXPECT_EQ(e.kind(), ErrorKind::InvalidBinary);
  EXPECT_NE(e.message().find("ABI note"), std::string::npos) << e.message();
}

TEST_F(BinaryRefusal, WrongAbiVersionNamesBothVersions) {
  auto file = good;
  const std::size_t name = note_name_offset(file);
  const std::uint32_t other = 77;
  std::memcpy(file.data() + name + 8, &other, 4);  // desc follows the 5-byte name padded to 8
  Error e = refused(file);
  EXPECT_EQ(e.kind(), ErrorKind::AbiMismatch);
  EXPECT_NE(e.message().find("77"), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("1"), std::string::npos) << e.message();
}

}  // namespace
}  // namespace mote::test
