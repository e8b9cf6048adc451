// MemoryImage: a snapshot's guest memory as an immutable file (a sealed memfd, or a snapshot
// file), mapped read-only for restores and mapped copy-on-write by every sandbox made from it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "mote/error.hpp"
#include "mote/snapshot.hpp"

namespace mote {

// Pages [first, end) of a memory image (page indexes, not bytes).
struct PageRun {
  std::uint64_t first = 0;
  std::uint64_t end = 0;
};

// The runs of 4 KiB pages of the file section [offset, offset + size) (`offset` page-aligned) that
// the file system reports as data (lseek SEEK_DATA/SEEK_HOLE), in order, rounded out to whole
// pages; the pages between runs are holes and read as zeros. A file system that cannot tell
// reports everything as data. Errors are ErrorKind::Io.
Result<std::vector<PageRun>> data_runs(int fd, std::uint64_t offset, std::uint64_t size);

class MemoryImage {
 public:
  // Copies the non-zero 4 KiB pages of `memory` into a new memfd (zero pages stay holes and take
  // no memory), seals it against any change, and maps it read-only. Also returns how many pages
  // were stored and the memory digest (see memory_digest()).
  static Result<MemoryImage> capture(std::span<const std::uint8_t> memory);

  // Adopts `fd` (closed by the image, also on failure) whose bytes [offset, offset + size) are the
  // memory, as in a snapshot file; `offset` and `size` are page-aligned (ErrorKind::InvalidSnapshot
  // otherwise). Maps them read-only and computes digest() and stored_pages(), reading only the
  // parts the file system reports as data (see data_runs): the caller compares the digest with the
  // one it expects. The file must not change while the image lives (it is mapped, not copied).
  static Result<MemoryImage> adopt(int fd, std::uint64_t offset, std::uint64_t size);

  MemoryImage(MemoryImage&& other) noexcept;
  MemoryImage& operator=(MemoryImage&&) = delete;
  MemoryImage(const MemoryImage&) = delete;
  ~MemoryImage();

  int fd() const noexcept { return fd_; }
  std::uint64_t offset() const noexcept { return offset_; }
  std::uint64_t size() const noexcept { return size_; }
  std::span<const std::uint8_t> bytes() const noexcept { return {view_, size_}; }
  std::uint64_t stored_pages() const noexcept { return stored_pages_; }
  // Whether page `page` holds data (else it is a zero page: restore writes zeros instead of
  // reading the hole, which would make the kernel allocate a zero-filled page for it).
  bool stores(std::uint64_t page) const noexcept {
    return page / 64 < stored_.size() && ((stored_[page / 64] >> (page % 64)) & 1) != 0;
  }
  const Digest& digest() const noexcept { return digest_; }

  // SHA-256 over (little-endian page index, page bytes) of every non-zero page, in order. Zero
  // pages contribute nothing, so the digest does not depend on how zeros are stored.
  static Digest memory_digest(std::span<const std::uint8_t> memory, std::uint64_t* stored_pages);

  // The runs of pages of this image that may hold data; every page outside them reads as zeros.
  Result<std::vector<PageRun>> data_runs() const;

 private:
  MemoryImage(int fd, std::uint64_t offset, std::uint64_t size, const std::uint8_t* view)
      : fd_(fd), offset_(offset), size_(size), view_(view) {}
  int fd_ = -1;
  std::uint64_t offset_ = 0;
  std::uint64_t size_ = 0;
  const std::uint8_t* view_ = nullptr;
  std::uint64_t stored_pages_ = 0;
  std::vector<std::uint64_t> stored_;  // one bit per page: holds data
  void mark_stored(std::uint64_t page) {
    if (stored_.size() <= page / 64) stored_.resize(page / 64 + 1, 0);
    stored_[page / 64] |= std::uint64_t{1} << (page % 64);
    ++stored_pages_;
  }
  Digest digest_{};
};

// True when the 4 KiB page at `page` is all zeros.
bool is_zero_page(const std::uint8_t* page) noexcept;

}  // namespace mote
