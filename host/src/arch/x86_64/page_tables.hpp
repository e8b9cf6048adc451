// Page tables: builds the guest's 4-level, identity-mapped x86-64 tables on the host side.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "memory/guest_memory.hpp"
#include "memory/layout.hpp"
#include "mote/error.hpp"

namespace mote::x86_64 {

struct PageMapping {
  GuestAddress base{0};  // page-aligned
  std::uint64_t size = 0;  // multiple of 4096
  bool user = false;
  bool writable = false;
  bool executable = false;
};

// Leaf entry bits (Intel SDM vol. 3, 4.5).
inline constexpr std::uint64_t kPresent = 1ull << 0;
inline constexpr std::uint64_t kWritable = 1ull << 1;
inline constexpr std::uint64_t kUser = 1ull << 2;
inline constexpr std::uint64_t kAccessed = 1ull << 5;
inline constexpr std::uint64_t kDirty = 1ull << 6;
inline constexpr std::uint64_t kNoExecute = 1ull << 63;
inline constexpr std::uint64_t kAddressMask = 0x000f'ffff'ffff'f000ull;

// Writes page tables into `tables` (zeroing it first) that map each mapping's pages to the same
// physical address with the given permissions, accessed/dirty bits preset (so the CPU never writes
// the tables). Pages outside every mapping stay unmapped. Later mappings override earlier ones for
// a page they share. Returns the value for CR3. Fails if `tables` is too small or a mapping lies
// outside [0, tables.base).
Result<std::uint64_t> build_page_tables(GuestMemory& memory, Region tables,
                                        std::span<const PageMapping> mappings);

// What the CPU would see for `address` (for tests and diagnostics): the leaf entry, or nothing.
std::optional<std::uint64_t> lookup_leaf(const GuestMemory& memory, std::uint64_t cr3,
                                         std::uint64_t address);

}  // namespace mote::x86_64
