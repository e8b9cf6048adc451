// Snapshot files: the on-disk format written by Snapshot::save and read by Snapshot::load.
#pragma once

// A snapshot file (all integers little-endian; offsets and sizes in bytes):
//
//   0        +--------------------------------------------------------------+
//            | header, 4096 bytes                                           |
//            |    0  magic               8 bytes  "MOTESNAP"                |
//            |    8  format version      u32      1                         |
//            |   12  architecture        u32      62 (ELF EM_X86_64)        |
//            |   16  guest ABI version   u32      MOTE_ABI_VERSION          |
//            |   20  header size         u32      4096                      |
//            |   24  file size           u64      st_size, exactly          |
//            |   32  metadata offset     u64      >= 4096                   |
//            |   40  metadata size       u64      1 .. 4 MiB                |
//            |   48  memory offset       u64      page-aligned              |
//            |   56  memory size         u64      pages, 4 KiB .. 1 GiB     |
//            |   64  stored pages        u64      non-zero pages of memory  |
//            |   72  config identity     32 bytes config_identity()         |
//            |  104  content digest      32 bytes Snapshot::digest()        |
//            |  136  metadata SHA-256    32 bytes of the metadata section   |
//            |  168  memory digest       32 bytes MemoryImage::digest()     |
//            |  200  reserved            3864     zero                      |
//            | 4064  header SHA-256      32 bytes of header bytes 0..4063   |
//   4096     +--------------------------------------------------------------+
//            | metadata: encode_metadata(), the canonical metadata encoding |
//            | (its own magic "MOTEMETA" and version, see metadata.hpp)     |
//            +--------------------------------------------------------------+
//            | zero padding to the next 4 KiB boundary                      |
//   memory   +--------------------------------------------------------------+
//   offset   | guest memory, exactly `memory size` bytes: guest page i is   |
//            | at memory offset + i * 4096. Sparse: only non-zero pages     |
//            | are written, zero pages are holes (no disk blocks)           |
//   file     +--------------------------------------------------------------+
//   size
//
// The writer puts the metadata at 4096 and the memory right after it, page-aligned, ending the
// file. The loader accepts any placement where both sections lie in the file after the header,
// do not overlap, the memory is page-aligned, and the file ends with the last section.
//
// Compatibility: magic and format version keep their offsets in every version. A loader accepts
// exactly its own format version; any change to the bytes of any section (header fields, the
// metadata encoding, the memory digest's definition) bumps it. The architecture must be the
// host's and the guest ABI version the host's MOTE_ABI_VERSION.
//
// Digests: memory digest = SHA-256 over (le64 page index, page) of every non-zero page (holes
// and written zero pages alike contribute nothing); content digest = content_digest(metadata
// SHA-256, memory digest), equal to the saved Snapshot's digest().

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "mote/config.hpp"
#include "mote/snapshot.hpp"

namespace mote::snapshot_file {

inline constexpr std::array<std::uint8_t, 8> kMagic = {'M', 'O', 'T', 'E', 'S', 'N', 'A', 'P'};
inline constexpr std::uint32_t kFormatVersion = 1;
inline constexpr std::uint32_t kArchX86_64 = 62;  // ELF e_machine EM_X86_64
inline constexpr std::uint64_t kHeaderSize = 4096;
// Size limits, checked before a section is read (4096 functions with 255-byte names fit).
inline constexpr std::uint64_t kMaxMetadataSize = 4ull << 20;
inline constexpr std::uint64_t kMaxMemorySize = SandboxConfig::kMaxMemory;

// Byte offsets of the header's fields.
namespace offset {
inline constexpr std::size_t kMagic = 0;
inline constexpr std::size_t kVersion = 8;
inline constexpr std::size_t kArch = 12;
inline constexpr std::size_t kAbiVersion = 16;
inline constexpr std::size_t kHeaderSize = 20;
inline constexpr std::size_t kFileSize = 24;
inline constexpr std::size_t kMetadataOffset = 32;
inline constexpr std::size_t kMetadataSize = 40;
inline constexpr std::size_t kMemoryOffset = 48;
inline constexpr std::size_t kMemorySize = 56;
inline constexpr std::size_t kStoredPages = 64;
inline constexpr std::size_t kConfigIdentity = 72;
inline constexpr std::size_t kContentDigest = 104;
inline constexpr std::size_t kMetadataDigest = 136;
inline constexpr std::size_t kMemoryDigest = 168;
inline constexpr std::size_t kReserved = 200;
inline constexpr std::size_t kHeaderDigest = 4064;
}  // namespace offset
static_assert(offset::kHeaderDigest + 32 == kHeaderSize);

using HeaderBytes = std::array<std::uint8_t, kHeaderSize>;

// The header's fields (magic and header SHA-256 are implied).
struct Header {
  std::uint32_t version = kFormatVersion;
  std::uint32_t arch = kArchX86_64;
  std::uint32_t abi_version = 0;
  std::uint32_t header_size = kHeaderSize;
  std::uint64_t file_size = 0;
  std::uint64_t metadata_offset = 0;
  std::uint64_t metadata_size = 0;
  std::uint64_t memory_offset = 0;
  std::uint64_t memory_size = 0;
  std::uint64_t stored_pages = 0;
  Digest config_identity{};
  Digest content_digest{};
  Digest metadata_digest{};
  Digest memory_digest{};
};

// The header's bytes: magic, the fields, zero reserved bytes, and the header SHA-256.
HeaderBytes encode_header(const Header& header);

// Reads the fields back without checking anything (the loader checks, in order).
Header parse_header(const HeaderBytes& bytes);

// SHA-256 of the header bytes before the header SHA-256 field.
Digest header_digest(const HeaderBytes& bytes);

}  // namespace mote::snapshot_file
