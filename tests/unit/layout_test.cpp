// Unit tests of compute_layout: region order, alignment, guard pages, page-table sizing and limits.
#include "memory/layout.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "arch/x86_64/page_tables.hpp"

namespace mote {
namespace {

constexpr std::uint64_t kMiB = 1ull << 20;

std::vector<std::pair<std::string, Region>> regions_in_order(const Layout& l) {
  return {{"gdt", l.gdt},
          {"idt", l.idt},
          {"tss", l.tss},
          {"stubs", l.stubs},
          {"exception_stack", l.exception_stack},
          {"boot_info", l.boot_info},
          {"image", l.image},
          {"stack_guard", l.stack_guard},
          {"stack", l.stack},
          {"heap", l.heap},
          {"input", l.input},
          {"output", l.output},
          {"page_tables", l.page_tables}};
}

Layout layout_for(const SandboxConfig& config, std::uint64_t image_size = 0x5000,
                  std::uint64_t alignment = kPageSize) {
  auto l = compute_layout(config, image_size, alignment);
  EXPECT_TRUE(l.has_value()) << l.error().to_string();
  return l.value_or(Layout{});
}

// The configurations every structural property is checked against.
std::vector<SandboxConfig> configs() {
  SandboxConfig small;
  small.stack_size = 16 * 1024;
  small.heap_size = small.input_size = small.output_size = kPageSize;
  SandboxConfig large;
  large.heap_size = 512 * kMiB;
  large.stack_size = 8 * kMiB;
  large.input_size = large.output_size = 4 * kMiB;
  return {SandboxConfig{}, small, large};
}

TEST(Layout, RegionsAreOrderedPageAlignedAndDisjoint) {
  for (const SandboxConfig& config : configs()) {
    const Layout l = layout_for(config);
    std::uint64_t previous_end = kPageSize;  // the null page is never part of a region
    for (const auto& [name, r] : regions_in_order(l)) {
      EXPECT_EQ(raw(r.base) % kPageSize, 0u) << name;
      EXPECT_EQ(r.size % kPageSize, 0u) << name;
      EXPECT_GT(r.size, 0u) << name;
      EXPECT_GE(raw(r.base), previous_end) << name << " overlaps or precedes its predecessor";
      previous_end = raw(r.end());
    }
    EXPECT_EQ(l.mapped_end, raw(l.output.end()));
    EXPECT_GE(raw(l.page_tables.base), l.mapped_end);
    EXPECT_EQ(l.total_size, raw(l.page_tables.end()));
    EXPECT_EQ(l.total_size % kPageSize, 0u);
    EXPECT_EQ(l.stack_top(), l.stack.end());
  }
}

TEST(Layout, RegionSizesFollowTheConfig) {
  SandboxConfig config;
  config.stack_size = 64 * 1024;
  config.heap_size = 3 * kMiB;
  config.input_size = 8 * 1024;
  config.output_size = 12 * 1024;
  const Layout l = layout_for(config, 0x5001);
  EXPECT_EQ(l.stack.size, config.stack_size);
  EXPECT_EQ(l.heap.size, config.heap_size);
  EXPECT_EQ(l.input.size, config.input_size);
  EXPECT_EQ(l.output.size, config.output_size);
  EXPECT_EQ(l.image.size, 0x6000u);  // rounded up to whole pages
  EXPECT_EQ(l.exception_stack.size, 2 * kPageSize);
  EXPECT_EQ(l.boot_info.size, kPageSize);
}

TEST(Layout, GuardPages) {
  for (const SandboxConfig& config : configs()) {
    const Layout l = layout_for(config);
    // The stack guard is the page right below the stack.
    EXPECT_EQ(l.stack_guard.size, kPageSize);
    EXPECT_EQ(raw(l.stack_guard.end()), raw(l.stack.base));
    // Unmapped gaps of at least a page before the exception stack, image, heap and input.
    EXPECT_GE(raw(l.exception_stack.base), raw(l.stubs.end()) + kPageSize);
    EXPECT_GE(raw(l.image.base), raw(l.boot_info.end()) + kPageSize);
    EXPECT_GE(raw(l.heap.base), raw(l.stack.end()) + kPageSize);
    EXPECT_GE(raw(l.input.base), raw(l.heap.end()) + kPageSize);
    // The null page is below everything.
    EXPECT_GE(raw(l.gdt.base), kPageSize);
  }
}

TEST(Layout, ImageIsAlignedAsRequested) {
  const std::uint64_t alignments[] = {kPageSize, 0x10000, 0x100000, 2 * kMiB};
  for (std::uint64_t alignment : alignments) {
    const Layout l = layout_for(SandboxConfig{}, 0x3000, alignment);
    EXPECT_EQ(raw(l.image.base) % alignment, 0u) << std::hex << alignment;
    EXPECT_GE(raw(l.image.base), raw(l.boot_info.end()) + kPageSize) << std::hex << alignment;
    // No more padding than the alignment needs.
    EXPECT_LT(raw(l.image.base), raw(l.boot_info.end()) + kPageSize + alignment)
        << std::hex << alignment;
  }
}

TEST(Layout, PageTableRegionCoversTheMappedRange) {
  for (const SandboxConfig& config : configs()) {
    const Layout l = layout_for(config);
    const std::uint64_t pts = (l.mapped_end + 2 * kMiB - 1) / (2 * kMiB);
    const std::uint64_t pds = (l.mapped_end + (1ull << 30) - 1) >> 30;
    EXPECT_GE(l.page_tables.size / kPageSize, pts + pds + 2);

    // And the tables really fit: map every region as the sandbox does.
    auto memory = GuestMemory::allocate(l.total_size);
    ASSERT_TRUE(memory.has_value());
    std::vector<x86_64::PageMapping> mappings;
    for (const auto& [name, r] : regions_in_order(l)) {
      if (name != "stack_guard" && name != "page_tables") {
        mappings.push_back({r.base, r.size, true, true, false});
      }
    }
    const auto cr3 = x86_64::build_page_tables(*memory, l.page_tables, mappings);
    ASSERT_TRUE(cr3.has_value()) << cr3.error().to_string();
    EXPECT_TRUE(x86_64::lookup_leaf(*memory, *cr3, raw(l.output.end()) - kPageSize).has_value());
    EXPECT_FALSE(x86_64::lookup_leaf(*memory, *cr3, raw(l.stack_guard.base)).has_value());
  }
}

TEST(Layout, MaxMemorySizeIsEnforced) {
  const Layout unbounded = layout_for(SandboxConfig{});
  SandboxConfig config;
  config.max_memory_size = unbounded.total_size;
  const auto exact = compute_layout(config, 0x5000, kPageSize);
  ASSERT_TRUE(exact.has_value()) << exact.error().to_string();
  EXPECT_EQ(exact->total_size, unbounded.total_size);

  config.max_memory_size = unbounded.total_size - kPageSize;
  const auto over = compute_layout(config, 0x5000, kPageSize);
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error().kind(), ErrorKind::InvalidConfig);
}

TEST(Layout, AbsoluteMaximumIsEnforced) {
  // Every region at its validated maximum adds up to more than 1 GiB.
  SandboxConfig config;
  config.heap_size = 512 * kMiB;
  config.stack_size = 512 * kMiB;
  ASSERT_TRUE(config.validate().has_value());
  const auto l = compute_layout(config, 0x5000, kPageSize);
  ASSERT_FALSE(l.has_value());
  EXPECT_EQ(l.error().kind(), ErrorKind::InvalidConfig);

  const auto huge_image = compute_layout(SandboxConfig{}, SandboxConfig::kMaxMemory, kPageSize);
  ASSERT_FALSE(huge_image.has_value());
  EXPECT_EQ(huge_image.error().kind(), ErrorKind::InvalidConfig);
}

TEST(Layout, BadImageSizesAndAlignmentsAreRefused) {
  const struct {
    std::uint64_t size, alignment;
  } bad[] = {
      {0, kPageSize},                              // empty image
      {SandboxConfig::kMaxMemory + 1, kPageSize},  // larger than any guest memory
      {~0ull, kPageSize},                          // would overflow the arithmetic
      {0x5000, 0},                                 // no alignment
      {0x5000, 8},                                 // below a page
      {0x5000, 0x800},                             // below a page
      {0x5000, 0x3000},                            // not a power of two
      {0x5000, 4 * kMiB},                          // above 2 MiB
      {0x5000, 1ull << 63},                        // absurd
  };
  for (const auto& c : bad) {
    const auto l = compute_layout(SandboxConfig{}, c.size, c.alignment);
    ASSERT_FALSE(l.has_value()) << std::hex << c.size << " / " << c.alignment;
    EXPECT_EQ(l.error().kind(), ErrorKind::InvalidBinary) << l.error().to_string();
  }
}

}  // namespace
}  // namespace mote
