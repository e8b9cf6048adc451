// End to end: snapshots of running sandboxes, restore, sandboxes from snapshots, CPU state resets.
#include <gtest/gtest.h>

#include "test_sandbox.hpp"

namespace mote::test {
namespace {

std::uint64_t call_u64(Sandbox& s, const char* f, auto... args) {
  auto r = s.call<std::uint64_t>(f, args...);
  EXPECT_TRUE(r) << f << ": " << r.error().to_string();
  return r ? *r : 0;
}

std::int64_t count(Sandbox& s) {
  auto r = s.call<std::int64_t>("counter_increment");
  EXPECT_TRUE(r) << r.error().to_string();
  return r ? *r : -1;
}

SnapshotPtr take(Sandbox& s) {
  auto snap = s.snapshot();
  EXPECT_TRUE(snap) << snap.error().to_string();
  return snap ? *snap : nullptr;
}

void restore(Sandbox& s, const SnapshotPtr& snap) {
  auto r = s.restore(snap);
  ASSERT_TRUE(r) << r.error().to_string();
}

TEST(Snapshot, RestoreBringsTheCounterBack) {
  Sandbox s = make_sandbox();
  EXPECT_EQ(count(s), 1);
  SnapshotPtr at_one = take(s);
  EXPECT_EQ(count(s), 2);
  EXPECT_EQ(count(s), 3);
  restore(s, at_one);
  EXPECT_EQ(count(s), 2);
  restore(s, at_one);
  EXPECT_EQ(count(s), 2);
  EXPECT_EQ(at_one->next_action(), NextAction::Call);
  EXPECT_EQ(at_one->functions().size(), s.functions().size());
}

TEST(Snapshot, LargeBufferIsBackToItsSnapshotContents) {
  Sandbox s = make_sandbox();
  const std::uint64_t clean = call_u64(s, "checksum_big");
  SnapshotPtr snap = take(s);
  const std::uint64_t filled = call_u64(s, "fill_pages", 0u, 2048u, 7u);
  EXPECT_NE(filled, clean);
  restore(s, snap);
  EXPECT_EQ(call_u64(s, "checksum_big"), clean);
}

TEST(Snapshot, RestoreAfterThousandsOfDirtyPagesAndAgainAfterFew) {
  Sandbox s = make_sandbox();
  const std::uint64_t base_sum = call_u64(s, "fill_pages", 100u, 10u, 1u);
  SnapshotPtr snap = take(s);
  for (std::uint32_t round = 0; round < 5; ++round) {
    call_u64(s, "fill_pages", 0u, 2048u, 40u + round);  // thousands of pages
    restore(s, snap);
    EXPECT_EQ(call_u64(s, "checksum_big"), base_sum) << "round " << round;
    call_u64(s, "fill_pages", round, 3u, 90u + round);  // a few pages (sticky path)
    restore(s, snap);
    EXPECT_EQ(call_u64(s, "checksum_big"), base_sum) << "round " << round;
  }
  for (int i = 0; i < 200; ++i) {  // past the sticky set's re-arm interval
    call_u64(s, "fill_pages", static_cast<std::uint32_t>(i % 7), 2u, static_cast<std::uint32_t>(i));
    restore(s, snap);
  }
  EXPECT_EQ(call_u64(s, "checksum_big"), base_sum);
}

TEST(Snapshot, RestoreAfterAFailedCallClearsPoisoning) {
  Sandbox s = make_sandbox();
  SnapshotPtr snap = take(s);
  ASSERT_FALSE(s.call<void>("trigger_ud"));
  ASSERT_TRUE(s.poisoned());
  auto refused = s.snapshot();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind(), ErrorKind::Poisoned);
  restore(s, snap);
  EXPECT_FALSE(s.poisoned());
  EXPECT_EQ(count(s), 1);
  // A page fault and an abort, each followed by a restore.
  ASSERT_FALSE(s.call<std::uint64_t>("trigger_page_fault", std::uint64_t{0}));
  restore(s, snap);
  ASSERT_FALSE(s.call<void>("abort_with", 300u, std::string("stop")));
  restore(s, snap);
  EXPECT_EQ(count(s), 1);
}

TEST(Snapshot, TwoSnapshotsOfOneSandboxStayIndependent) {
  Sandbox s = make_sandbox();
  EXPECT_EQ(count(s), 1);
  SnapshotPtr a = take(s);
  const std::uint64_t sum_a = call_u64(s, "checksum_big");
  call_u64(s, "fill_pages", 5u, 20u, 3u);
  EXPECT_EQ(count(s), 2);
  EXPECT_EQ(count(s), 3);
  SnapshotPtr b = take(s);
  const std::uint64_t sum_b = call_u64(s, "checksum_big");
  ASSERT_NE(sum_a, sum_b);
  EXPECT_NE(a->digest(), b->digest());
  for (int i = 0; i < 4; ++i) {
    restore(s, a);
    EXPECT_EQ(call_u64(s, "checksum_big"), sum_a);
    EXPECT_EQ(count(s), 2);
    restore(s, b);
    EXPECT_EQ(call_u64(s, "checksum_big"), sum_b);
    EXPECT_EQ(count(s), 4);
  }
}

TEST(Snapshot, EqualStatesHaveEqualDigests) {
  Sandbox s = make_sandbox();
  SnapshotPtr first = take(s);
  SnapshotPtr again = take(s);
  EXPECT_EQ(first->digest(), again->digest());
  count(s);
  SnapshotPtr later = take(s);
  EXPECT_NE(first->digest(), later->digest());
  restore(s, first);
  EXPECT_EQ(take(s)->digest(), first->digest());
}

TEST(Snapshot, SandboxFromASnapshotNeedsNoInitAndSharesNothingWritable) {
  Sandbox s = make_sandbox();
  count(s);
  count(s);
  SnapshotPtr snap = take(s);
  auto a = Sandbox::from_snapshot(snap, test_host_functions());
  auto b = Sandbox::from_snapshot(snap, test_host_functions());
  ASSERT_TRUE(a && b);
  EXPECT_EQ(count(*a), 3);
  EXPECT_EQ(count(*a), 4);
  EXPECT_EQ(count(*b), 3);
  EXPECT_EQ(count(s), 3);
  auto host = a->call<std::int32_t>("call_host_add", 2, 3);  // host functions work there too
  ASSERT_TRUE(host) << host.error().to_string();
  EXPECT_EQ(*host, 5);
}

TEST(Snapshot, SnapshotOfASandboxMadeFromASnapshot) {
  Sandbox s = make_sandbox();
  count(s);
  auto child = Sandbox::from_snapshot(take(s), test_host_functions());
  ASSERT_TRUE(child);
  count(*child);
  SnapshotPtr grandchild_snap = take(*child);
  auto grandchild = Sandbox::from_snapshot(grandchild_snap, test_host_functions());
  ASSERT_TRUE(grandchild);
  EXPECT_EQ(count(*grandchild), 3);
  EXPECT_EQ(count(*child), 3);
  restore(*child, grandchild_snap);
  EXPECT_EQ(count(*child), 3);
}

TEST(Snapshot, RestoreIntoASecondSandboxOfTheSameConfiguration) {
  Sandbox a = make_sandbox();
  Sandbox b = make_sandbox();
  EXPECT_EQ(a.config_identity(), b.config_identity());
  for (int i = 0; i < 5; ++i) count(a);
  SnapshotPtr snap = take(a);
  restore(b, snap);
  EXPECT_EQ(count(b), 6);
}

TEST(Snapshot, RestoreIntoAnotherConfigurationIsRefused) {
  Sandbox a = make_sandbox();
  SandboxConfig bigger;
  bigger.heap_size = 8 * 1024 * 1024;
  Sandbox b = make_sandbox("test_guest", bigger);
  EXPECT_NE(a.config_identity(), b.config_identity());
  auto r = b.restore(take(a));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::SnapshotMismatch);
  EXPECT_FALSE(b.poisoned());
  EXPECT_EQ(count(b), 1);
  Sandbox other_guest = make_sandbox("cxx_guest");
  auto r2 = other_guest.restore(take(a));
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().kind(), ErrorKind::SnapshotMismatch);
}

TEST(Snapshot, CpuStateNeverLeaksAcrossCallsOrRestores) {
  Sandbox s = make_sandbox();
  auto clean = s.call<std::string>("cpu_state_read");
  ASSERT_TRUE(clean) << clean.error().to_string();
  EXPECT_EQ(*clean, "xmm=0 mxcsr=1f80 fcw=37f fsw=0 fs=2b");
  SnapshotPtr snap = take(s);
  ASSERT_TRUE(s.call<void>("cpu_state_dirty", std::uint64_t{0x1234'5678'9abc'def0}));
  EXPECT_EQ(*s.call<std::string>("cpu_state_read"), *clean);  // the next call starts clean
  ASSERT_TRUE(s.call<void>("cpu_state_dirty", std::uint64_t{0xfeed}));
  restore(s, snap);
  EXPECT_EQ(*s.call<std::string>("cpu_state_read"), *clean);  // and so does a restored sandbox
}

TEST(Snapshot, PreInitSnapshotFromABinary) {
  auto snap = Snapshot::from_binary(guest_bytes("test_guest"));
  ASSERT_TRUE(snap) << snap.error().to_string();
  EXPECT_EQ((*snap)->next_action(), NextAction::Initialise);
  EXPECT_TRUE((*snap)->functions().empty());
  EXPECT_GT((*snap)->stored_pages(), 0u);
  EXPECT_LT((*snap)->stored_pages() * 4096, (*snap)->memory_size());
  auto a = Sandbox::from_snapshot(*snap, test_host_functions());
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(count(*a), 1);
  count(*a);
  restore(*a, *snap);  // back before init: init runs again
  EXPECT_EQ(count(*a), 1);
  auto again = Snapshot::from_binary(guest_bytes("test_guest"));
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->digest(), (*snap)->digest());
}

TEST(Snapshot, MalformedBinaryIsRefusedBeforeAnySnapshot) {
  auto bytes = guest_bytes("test_guest");
  bytes.resize(100);
  auto snap = Snapshot::from_binary(bytes);
  ASSERT_FALSE(snap);
  EXPECT_EQ(snap.error().kind(), ErrorKind::InvalidBinary);
}

}  // namespace
}  // namespace mote::test
