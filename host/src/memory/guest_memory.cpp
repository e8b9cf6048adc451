// GuestMemory: anonymous mapping for guest RAM and its bounds-checked accessors.
#include "memory/guest_memory.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <fmt/format.h>
#include <utility>

namespace mote {

namespace {
Error out_of_range(GuestAddress address, std::uint64_t length, std::uint64_t size) {
  return Error(ErrorKind::GuestProtocol,
               fmt::format("guest range 0x{:x}+0x{:x} lies outside guest memory (0x{:x} bytes)",
                           raw(address), length, size));
}
}  // namespace

Result<GuestMemory> GuestMemory::allocate(std::uint64_t size) {
  if (size == 0 || size % 4096 != 0) {
    return fail(ErrorKind::InvalidConfig, fmt::format("guest memory size 0x{:x} is not a positive "
                                                      "multiple of 4096", size));
  }
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
  if (p == MAP_FAILED) {
    return fail(ErrorKind::Hypervisor,
                fmt::format("mmap of {} bytes of guest memory failed: errno {}", size, errno));
  }
  return GuestMemory(static_cast<std::uint8_t*>(p), size);
}

Result<GuestMemory> GuestMemory::map_copy_on_write(int fd, std::uint64_t offset, std::uint64_t size) {
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd,
                   static_cast<off_t>(offset));
  if (p == MAP_FAILED) {
    return fail(ErrorKind::Hypervisor,
                fmt::format("copy-on-write mapping of {} bytes failed: errno {}", size, errno));
  }
  return GuestMemory(static_cast<std::uint8_t*>(p), size);
}

Result<void> GuestMemory::remap_copy_on_write(int fd, std::uint64_t offset) {
  void* p = ::mmap(base_, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE | MAP_FIXED,
                   fd, static_cast<off_t>(offset));
  if (p == MAP_FAILED) {
    return fail(ErrorKind::Hypervisor, fmt::format("remapping guest memory failed: errno {}", errno));
  }
  return {};
}

GuestMemory::GuestMemory(GuestMemory&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)), size_(std::exchange(other.size_, 0)) {}

GuestMemory& GuestMemory::operator=(GuestMemory&& other) noexcept {
  if (this != &other) {
    if (base_ != nullptr) ::munmap(base_, size_);
    base_ = std::exchange(other.base_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

GuestMemory::~GuestMemory() {
  if (base_ != nullptr) ::munmap(base_, size_);
}

Result<std::span<std::uint8_t>> GuestMemory::bytes(GuestAddress address, std::uint64_t length) {
  if (!contains(address, length)) return std::unexpected(out_of_range(address, length, size_));
  return std::span(base_ + raw(address), length);
}

Result<std::span<const std::uint8_t>> GuestMemory::bytes(GuestAddress address,
                                                         std::uint64_t length) const {
  if (!contains(address, length)) return std::unexpected(out_of_range(address, length, size_));
  return std::span<const std::uint8_t>(base_ + raw(address), length);
}

Result<void> GuestMemory::read(GuestAddress address, std::span<std::uint8_t> out) const {
  if (!contains(address, out.size())) return std::unexpected(out_of_range(address, out.size(), size_));
  std::memcpy(out.data(), base_ + raw(address), out.size());
  return {};
}

Result<void> GuestMemory::write(GuestAddress address, std::span<const std::uint8_t> in) {
  if (!contains(address, in.size())) return std::unexpected(out_of_range(address, in.size(), size_));
  std::memcpy(base_ + raw(address), in.data(), in.size());
  return {};
}

}  // namespace mote
