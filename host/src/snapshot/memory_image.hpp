// MemoryImage: a snapshot's guest memory as an immutable file (a sealed memfd, or a snapshot
// file), mapped read-only for restores and mapped copy-on-write by every sandbox made from it.
#pragma once

#include <cstdint>
#include <span>

#include "mote/error.hpp"
#include "mote/snapshot.hpp"

namespace mote {

class MemoryImage {
 public:
  // Copies the non-zero 4 KiB pages of `memory` into a new memfd (zero pages stay holes and take
  // no memory), seals it against any change, and maps it read-only. Also returns how many pages
  // were stored and the memory digest (see memory_digest()).
  static Result<MemoryImage> capture(std::span<const std::uint8_t> memory);

  // Adopts `fd` (closed by the image) whose bytes [offset, offset + size) are the memory, as in a
  // snapshot file; `offset` is page-aligned. Nothing is read: call memory_digest() to verify.
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
  const Digest& digest() const noexcept { return digest_; }

  // SHA-256 over (little-endian page index, page bytes) of every non-zero page, in order. Zero
  // pages contribute nothing, so the digest does not depend on how zeros are stored.
  static Digest memory_digest(std::span<const std::uint8_t> memory, std::uint64_t* stored_pages);

 private:
  MemoryImage(int fd, std::uint64_t offset, std::uint64_t size, const std::uint8_t* view)
      : fd_(fd), offset_(offset), size_(size), view_(view) {}
  int fd_ = -1;
  std::uint64_t offset_ = 0;
  std::uint64_t size_ = 0;
  const std::uint8_t* view_ = nullptr;
  std::uint64_t stored_pages_ = 0;
  Digest digest_{};
};

// True when the 4 KiB page at `page` is all zeros.
bool is_zero_page(const std::uint8_t* page) noexcept;

}  // namespace mote
