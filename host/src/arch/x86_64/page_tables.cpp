// Page tables: host-side construction and lookup of the guest's identity map.
#include "arch/x86_64/page_tables.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace mote::x86_64 {

namespace {

constexpr std::uint64_t kTableFlags = kPresent | kWritable | kUser | kAccessed;

std::uint64_t index_at(std::uint64_t address, int level) {  // level 3 = PML4 ... 0 = PT
  return (address >> (12 + 9 * level)) & 511;
}

// Allocates zeroed tables from the region in order.
class TableAllocator {
 public:
  explicit TableAllocator(Region r) : region_(r) {}
  std::optional<std::uint64_t> next() {
    if (used_ + kPageSize > region_.size) return std::nullopt;
    std::uint64_t a = raw(region_.base) + used_;
    used_ += kPageSize;
    return a;
  }

 private:
  Region region_;
  std::uint64_t used_ = 0;
};

}  // namespace

Result<std::uint64_t> build_page_tables(GuestMemory& memory, Region tables,
                                        std::span<const PageMapping> mappings) {
  if (raw(tables.base) % kPageSize != 0) {
    return fail(ErrorKind::InvalidConfig, "the page-table region is not page-aligned");
  }
  auto area = MOTE_TRY(memory.bytes(tables.base, tables.size));
  std::fill(area.begin(), area.end(), std::uint8_t{0});
  TableAllocator alloc(tables);
  const auto root_page = alloc.next();
  if (!root_page) return fail(ErrorKind::InvalidConfig, "page-table region too small");
  const std::uint64_t root = *root_page;
  auto* base = memory.host_base();
  auto entry = [&](std::uint64_t table, std::uint64_t index) -> std::uint64_t& {
    return *reinterpret_cast<std::uint64_t*>(base + table + index * 8);
  };

  for (const PageMapping& m : mappings) {
    if (raw(m.base) % kPageSize != 0 || m.size % kPageSize != 0 ||
        raw(m.base) + m.size > raw(tables.base) || raw(m.base) + m.size < raw(m.base)) {
      return fail(ErrorKind::InvalidConfig,
                  fmt::format("mapping 0x{:x}+0x{:x} is misaligned or outside the mapped range",
                              raw(m.base), m.size));
    }
    std::uint64_t leaf_flags = kPresent | kAccessed | kDirty;
    if (m.user) leaf_flags |= kUser;
    if (m.writable) leaf_flags |= kWritable;
    if (!m.executable) leaf_flags |= kNoExecute;
    for (std::uint64_t a = raw(m.base); a < raw(m.base) + m.size; a += kPageSize) {
      std::uint64_t table = root;
      for (int level = 3; level > 0; --level) {
        std::uint64_t& e = entry(table, index_at(a, level));
        if ((e & kPresent) == 0) {
          auto fresh = alloc.next();
          if (!fresh) return fail(ErrorKind::InvalidConfig, "page-table region too small");
          e = *fresh | kTableFlags;
        }
        table = e & kAddressMask;
      }
      entry(table, index_at(a, 0)) = a | leaf_flags;
    }
  }
  return root;
}

std::optional<std::uint64_t> lookup_leaf(const GuestMemory& memory, std::uint64_t cr3,
                                         std::uint64_t address) {
  std::uint64_t table = cr3 & kAddressMask;
  for (int level = 3; level >= 0; --level) {
    auto e = memory.read_object<std::uint64_t>(GuestAddress{table + index_at(address, level) * 8});
    if (!e || (*e & kPresent) == 0) return std::nullopt;
    if (level == 0) return *e;
    table = *e & kAddressMask;
  }
  return std::nullopt;
}

}  // namespace mote::x86_64
