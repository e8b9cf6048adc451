// Unit tests of the page-table builder: permissions, presets, holes, overrides and identity
// mapping, checked through lookup_leaf on tables built into a GuestMemory (no KVM needed).
#include "arch/x86_64/page_tables.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <vector>

namespace mote::x86_64 {
namespace {

constexpr std::uint64_t kMemorySize = 8ull << 20;
constexpr GuestAddress kTables{6ull << 20};  // mappings must lie below the tables
constexpr std::uint64_t kTablePages = 16;

struct Built {
  GuestMemory memory;
  std::uint64_t cr3;
};

Result<Built> build(std::span<const PageMapping> mappings,
                    std::uint64_t table_pages = kTablePages) {
  GuestMemory memory = MOTE_TRY(GuestMemory::allocate(kMemorySize));
  // Garbage in the table region: the builder must clear it.
  auto area = MOTE_TRY(memory.bytes(kTables, table_pages * kPageSize));
  std::fill(area.begin(), area.end(), std::uint8_t{0xFF});
  const std::uint64_t cr3 =
      MOTE_TRY(build_page_tables(memory, Region{kTables, table_pages * kPageSize}, mappings));
  return Built{std::move(memory), cr3};
}

PageMapping mapping(std::uint64_t base, std::uint64_t pages, bool user, bool writable,
                    bool executable) {
  return {GuestAddress{base}, pages * kPageSize, user, writable, executable};
}

// A small guest: a supervisor read-only page pair, user data, user code, a range crossing a 2 MiB
// boundary, and a supervisor code page overriding the middle of the user data.
const std::vector<PageMapping> kMappings = {
    mapping(0x1000, 2, false, false, false), mapping(0x10000, 4, true, true, false),
    mapping(0x20000, 1, true, false, true),  mapping(0x1FF000, 2, true, true, false),
    mapping(0x11000, 1, false, false, true),  // overrides the second page of 0x10000
};

class PageTables : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = build(kMappings);
    ASSERT_TRUE(b.has_value()) << b.error().to_string();
    built_.emplace(std::move(*b));
  }
  std::optional<std::uint64_t> leaf(std::uint64_t address) const {
    return lookup_leaf(built_->memory, built_->cr3, address);
  }
  std::optional<Built> built_;
};

TEST_F(PageTables, RootIsTheFirstTablePage) {
  EXPECT_EQ(built_->cr3, raw(kTables));
  // Upper levels grant everything, so the leaf alone decides the permissions.
  const auto pml4e = built_->memory.read_object<std::uint64_t>(kTables);
  ASSERT_TRUE(pml4e.has_value());
  EXPECT_TRUE(*pml4e & kPresent);
  EXPECT_TRUE(*pml4e & kUser);
  EXPECT_TRUE(*pml4e & kWritable);
  EXPECT_FALSE(*pml4e & kNoExecute);
  const std::uint64_t next = *pml4e & kAddressMask;
  EXPECT_GE(next, raw(kTables));
  EXPECT_LT(next, raw(kTables) + kTablePages * kPageSize);
}

TEST_F(PageTables, SupervisorReadOnlyNoExecute) {
  for (std::uint64_t a : {0x1000ull, 0x1008ull, 0x2000ull, 0x2FFFull}) {
    const auto e = leaf(a);
    ASSERT_TRUE(e.has_value()) << std::hex << a;
    EXPECT_TRUE(*e & kPresent);
    EXPECT_FALSE(*e & kUser) << std::hex << a;
    EXPECT_FALSE(*e & kWritable) << std::hex << a;
    EXPECT_TRUE(*e & kNoExecute) << std::hex << a;
  }
}

TEST_F(PageTables, UserWritableData) {
  for (std::uint64_t a : {0x10000ull, 0x12000ull, 0x13FF8ull}) {
    const auto e = leaf(a);
    ASSERT_TRUE(e.has_value()) << std::hex << a;
    EXPECT_TRUE(*e & kUser) << std::hex << a;
    EXPECT_TRUE(*e & kWritable) << std::hex << a;
    EXPECT_TRUE(*e & kNoExecute) << std::hex << a;
  }
}

TEST_F(PageTables, UserCodeIsExecutableAndReadOnly) {
  const auto e = leaf(0x20000);
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(*e & kUser);
  EXPECT_FALSE(*e & kWritable);
  EXPECT_FALSE(*e & kNoExecute);
}

TEST_F(PageTables, LaterMappingOverridesASharedPage) {
  const auto e = leaf(0x11000);
  ASSERT_TRUE(e.has_value());
  EXPECT_FALSE(*e & kUser);
  EXPECT_FALSE(*e & kWritable);
  EXPECT_FALSE(*e & kNoExecute);
  // Its neighbours keep the earlier mapping's permissions.
  EXPECT_TRUE(leaf(0x10000).value_or(0) & kUser);
  EXPECT_TRUE(leaf(0x12000).value_or(0) & kUser);
}

TEST_F(PageTables, AccessedAndDirtyArePreset) {
  for (const PageMapping& m : kMappings) {
    for (std::uint64_t a = raw(m.base); a < raw(m.base) + m.size; a += kPageSize) {
      const auto e = leaf(a);
      ASSERT_TRUE(e.has_value()) << std::hex << a;
      EXPECT_TRUE(*e & kAccessed) << std::hex << a;
      EXPECT_TRUE(*e & kDirty) << std::hex << a;
    }
  }
}

TEST_F(PageTables, IdentityMapping) {
  for (const PageMapping& m : kMappings) {
    for (std::uint64_t a = raw(m.base); a < raw(m.base) + m.size; a += kPageSize) {
      const auto e = leaf(a + 0x123);
      ASSERT_TRUE(e.has_value()) << std::hex << a;
      EXPECT_EQ(*e & kAddressMask, a) << std::hex << a;
    }
  }
  // Across the 2 MiB boundary (two different page tables).
  EXPECT_EQ(leaf(0x1FF000).value_or(0) & kAddressMask, 0x1FF000u);
  EXPECT_EQ(leaf(0x200000).value_or(0) & kAddressMask, 0x200000u);
}

TEST_F(PageTables, HolesStayUnmapped) {
  const std::uint64_t holes[] = {0x0,        0xFFF,        0x3000,          0xF000,   0x14000,
                                 0x21000,    0x1FE000,     0x201000,        0x400000, raw(kTables),
                                 0x40000000, 0x8000000000, 0x7FFF'FFFF'F000};
  for (std::uint64_t a : holes) {
    EXPECT_FALSE(leaf(a).has_value()) << std::hex << a;
  }
}

TEST(PageTablesBuild, TablesAreExactlyAsLargeAsNeeded) {
  // One page needs a PML4, a PDPT, a PD and a PT.
  const PageMapping one[] = {mapping(0x5000, 1, true, true, false)};
  EXPECT_TRUE(build(one, 4).has_value());
  const auto small = build(one, 3);
  ASSERT_FALSE(small.has_value());
  EXPECT_EQ(small.error().kind(), ErrorKind::InvalidConfig);

  // Two pages in different 2 MiB ranges need a second PT.
  const PageMapping two[] = {mapping(0x1FF000, 2, true, true, false)};
  EXPECT_TRUE(build(two, 5).has_value());
  EXPECT_FALSE(build(two, 4).has_value());

  const auto root_only = build(one, 1);
  ASSERT_FALSE(root_only.has_value());
  EXPECT_EQ(root_only.error().kind(), ErrorKind::InvalidConfig);
}

TEST(PageTablesBuild, MisalignedOrOutOfRangeMappingsAreRefused) {
  const std::vector<PageMapping> bad = {
      {GuestAddress{0x1800}, kPageSize, true, true, false},      // base not page-aligned
      {GuestAddress{0x2000}, kPageSize + 8, true, true, false},  // size not a page multiple
      {GuestAddress{0x2000}, 0x800, true, true, false},          // size below a page
      {GuestAddress{raw(kTables) - kPageSize}, 2 * kPageSize, true, true, false},  // into tables
      {kTables, kPageSize, true, true, false},  // the tables themselves
      {GuestAddress{0xFFFF'FFFF'FFFF'F000ull}, 2 * kPageSize, true, true, false},  // wraps
  };
  for (const PageMapping& m : bad) {
    const PageMapping one[] = {m};
    const auto r = build(one);
    ASSERT_FALSE(r.has_value()) << std::hex << raw(m.base) << "+" << m.size;
    EXPECT_EQ(r.error().kind(), ErrorKind::InvalidConfig);
  }
  // The last page below the tables is fine.
  const PageMapping last[] = {
      {GuestAddress{raw(kTables) - kPageSize}, kPageSize, true, true, false}};
  EXPECT_TRUE(build(last).has_value());
}

TEST(PageTablesBuild, TableRegionOutsideMemoryIsRefused) {
  auto memory = GuestMemory::allocate(kMemorySize);
  ASSERT_TRUE(memory.has_value());
  const PageMapping one[] = {mapping(0x5000, 1, true, true, false)};
  const Region outside{GuestAddress{kMemorySize - kPageSize}, 4 * kPageSize};
  EXPECT_FALSE(build_page_tables(*memory, outside, one).has_value());
}

TEST(PageTablesLookup, OutOfMemoryRootIsUnmapped) {
  auto memory = GuestMemory::allocate(kMemorySize);
  ASSERT_TRUE(memory.has_value());
  // All-zero memory: nothing present.
  EXPECT_FALSE(lookup_leaf(*memory, raw(kTables), 0x1000).has_value());
  // A root beyond guest memory reads nothing instead of crashing.
  EXPECT_FALSE(lookup_leaf(*memory, kMemorySize + kPageSize, 0x1000).has_value());
}

}  // namespace
}  // namespace mote::x86_64
