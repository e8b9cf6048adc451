// MemoryImage: sealed memfd capture, adoption of snapshot files, read-only mapping, digest.
#include "snapshot/memory_image.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "memory/layout.hpp"
#include "snapshot/sha256.hpp"

namespace mote {

namespace {

Error os_error(const char* what) {
  return Error(ErrorKind::Io, fmt::format("{} failed: {}", what, std::strerror(errno)));
}

Result<const std::uint8_t*> map_read_only(int fd, std::uint64_t offset, std::uint64_t size) {
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(offset));
  if (p == MAP_FAILED) return std::unexpected(os_error("mmap of snapshot memory"));
  return static_cast<const std::uint8_t*>(p);
}

}  // namespace

bool is_zero_page(const std::uint8_t* page) noexcept {
  std::uint64_t acc = 0;
  for (std::size_t i = 0; i < kPageSize; i += 64) {
    std::uint64_t w[8];
    std::memcpy(w, page + i, sizeof w);
    acc |= w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7];
    if (acc != 0) return false;
  }
  return true;
}

Result<std::vector<PageRun>> data_runs(int fd, std::uint64_t offset, std::uint64_t size) {
  std::vector<PageRun> runs;
  const std::uint64_t end = offset + size;
  std::uint64_t position = offset;
  while (position < end) {
    const off_t data = ::lseek(fd, static_cast<off_t>(position), SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // only holes from `position` to the end of the file
      return std::unexpected(os_error("lseek(SEEK_DATA) on snapshot memory"));
    }
    const auto data_start = static_cast<std::uint64_t>(data);
    if (data_start >= end) break;
    const off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) return std::unexpected(os_error("lseek(SEEK_HOLE) on snapshot memory"));
    const std::uint64_t data_end = std::min(static_cast<std::uint64_t>(hole), end);
    const std::uint64_t first = (data_start - offset) / kPageSize;
    const std::uint64_t last = (data_end - offset + kPageSize - 1) / kPageSize;
    if (!runs.empty() && runs.back().end >= first) {
      runs.back().end = std::max(runs.back().end, last);
    } else {
      runs.push_back({first, last});
    }
    position = offset + last * kPageSize;  // > data_start, so the loop always advances
  }
  return runs;
}

Result<std::vector<PageRun>> MemoryImage::data_runs() const {
  return mote::data_runs(fd_, offset_, size_);
}

Digest MemoryImage::memory_digest(std::span<const std::uint8_t> memory, std::uint64_t* stored_pages) {
  Sha256 sha;
  std::uint64_t stored = 0;
  for (std::uint64_t page = 0; page < memory.size() / kPageSize; ++page) {
    const std::uint8_t* p = memory.data() + page * kPageSize;
    if (is_zero_page(p)) continue;
    sha.update_u64(page).update({p, kPageSize});
    ++stored;
  }
  if (stored_pages != nullptr) *stored_pages = stored;
  return sha.finish();
}

Result<MemoryImage> MemoryImage::capture(std::span<const std::uint8_t> memory) {
  const int fd = ::memfd_create("mote-snapshot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return std::unexpected(os_error("memfd_create"));
  MemoryImage image(fd, 0, memory.size(), nullptr);
  if (::ftruncate(fd, static_cast<off_t>(memory.size())) != 0) {
    return std::unexpected(os_error("ftruncate of the snapshot memfd"));
  }
  Sha256 sha;
  const std::uint64_t pages = memory.size() / kPageSize;
  for (std::uint64_t page = 0; page < pages;) {
    if (is_zero_page(memory.data() + page * kPageSize)) {
      ++page;
      continue;
    }
    std::uint64_t end = page;  // a run of non-zero pages, written with one pwrite
    while (end < pages && !is_zero_page(memory.data() + end * kPageSize)) {
      sha.update_u64(end).update({memory.data() + end * kPageSize, kPageSize});
      image.mark_stored(end);
      ++end;
    }
    const std::uint64_t offset = page * kPageSize, length = (end - page) * kPageSize;
    for (std::uint64_t done = 0; done < length;) {
      const ssize_t n = ::pwrite(fd, memory.data() + offset + done, length - done,
                                 static_cast<off_t>(offset + done));
      if (n <= 0) return std::unexpected(os_error("write of snapshot memory"));
      done += static_cast<std::uint64_t>(n);
    }
    page = end;
  }
  image.digest_ = sha.finish();
  if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
    return std::unexpected(os_error("sealing the snapshot memfd"));
  }
  image.view_ = MOTE_TRY(map_read_only(fd, 0, memory.size()));
  return image;
}

Result<MemoryImage> MemoryImage::adopt(int fd, std::uint64_t offset, std::uint64_t size) {
  MemoryImage image(fd, offset, size, nullptr);
  if (offset % kPageSize != 0 || size % kPageSize != 0 || size == 0) {
    return fail(ErrorKind::InvalidSnapshot, "snapshot memory is empty or not page-aligned");
  }
  image.view_ = MOTE_TRY(map_read_only(fd, offset, size));
  // Holes are zero pages, which the digest skips anyway: hash only what the file stores. Same
  // digest as memory_digest(bytes()), without faulting in the zeros of a sparse file.
  const std::vector<PageRun> runs = MOTE_TRY(image.data_runs());
  Sha256 sha;
  for (const PageRun& run : runs) {
    for (std::uint64_t page = run.first; page < run.end; ++page) {
      const std::uint8_t* p = image.view_ + page * kPageSize;
      if (is_zero_page(p)) continue;
      sha.update_u64(page).update({p, kPageSize});
      image.mark_stored(page);
    }
  }
  image.digest_ = sha.finish();
  return image;
}

MemoryImage::MemoryImage(MemoryImage&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      offset_(o.offset_),
      size_(o.size_),
      view_(std::exchange(o.view_, nullptr)),
      stored_pages_(o.stored_pages_),
      stored_(std::move(o.stored_)),
      digest_(o.digest_) {}

MemoryImage::~MemoryImage() {
  if (view_ != nullptr) ::munmap(const_cast<std::uint8_t*>(view_), size_);
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace mote
