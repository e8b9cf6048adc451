// GuestMemory: the VM's RAM as one host mapping, reachable only through bounds-checked accessors.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

#include "mote/error.hpp"

namespace mote {

// A guest physical address. Guest virtual addresses equal physical ones in mote (identity map),
// so one type serves both. Never a host pointer: turn it into bytes only through GuestMemory.
enum class GuestAddress : std::uint64_t {};

constexpr std::uint64_t raw(GuestAddress a) noexcept { return static_cast<std::uint64_t>(a); }
constexpr GuestAddress operator+(GuestAddress a, std::uint64_t offset) noexcept {
  return GuestAddress{raw(a) + offset};
}

class GuestMemory {
 public:
  // Maps `size` bytes of zeroed anonymous memory (size a multiple of 4096).
  static Result<GuestMemory> allocate(std::uint64_t size);

  // Maps bytes [offset, offset + size) of `fd` (a snapshot's memory) copy-on-write: reads share
  // the file's pages, the first write to a page gives this memory a private copy.
  static Result<GuestMemory> map_copy_on_write(int fd, std::uint64_t offset, std::uint64_t size);

  // Replaces the whole mapping, in place (same host address), by a copy-on-write mapping of
  // another file of the same size. Private copies are dropped.
  Result<void> remap_copy_on_write(int fd, std::uint64_t offset);

  GuestMemory(GuestMemory&& other) noexcept;
  GuestMemory& operator=(GuestMemory&& other) noexcept;
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;
  ~GuestMemory();

  std::uint64_t size() const noexcept { return size_; }
  // For the hypervisor's memory registration only.
  std::uint8_t* host_base() const noexcept { return base_; }

  // True when [address, address + length) lies inside guest memory (overflow-safe).
  bool contains(GuestAddress address, std::uint64_t length) const noexcept {
    std::uint64_t end = 0;
    return !__builtin_add_overflow(raw(address), length, &end) && end <= size_;
  }

  // A view of [address, address + length), or an empty optional-like error when out of range.
  Result<std::span<std::uint8_t>> bytes(GuestAddress address, std::uint64_t length);
  Result<std::span<const std::uint8_t>> bytes(GuestAddress address, std::uint64_t length) const;

  // Copies out of / into guest memory; fails (and copies nothing) when out of range.
  Result<void> read(GuestAddress address, std::span<std::uint8_t> out) const;
  Result<void> write(GuestAddress address, std::span<const std::uint8_t> in);

  template <class T>
    requires std::is_trivially_copyable_v<T>
  Result<T> read_object(GuestAddress address) const {
    T value;
    MOTE_TRY_VOID(read(address, std::span(reinterpret_cast<std::uint8_t*>(&value), sizeof(T))));
    return value;
  }
  template <class T>
    requires std::is_trivially_copyable_v<T>
  Result<void> write_object(GuestAddress address, const T& value) {
    return write(address, std::span(reinterpret_cast<const std::uint8_t*>(&value), sizeof(T)));
  }

 private:
  GuestMemory(std::uint8_t* base, std::uint64_t size) : base_(base), size_(size) {}
  std::uint8_t* base_ = nullptr;
  std::uint64_t size_ = 0;
};

}  // namespace mote
