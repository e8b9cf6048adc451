// End to end: 10,000 sandbox create/destroy cycles leak no file descriptors and no memory.
#include <dirent.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "test_sandbox.hpp"

namespace mote::test {
namespace {

int open_fds() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  while (readdir(d) != nullptr) ++n;
  closedir(d);
  return n;
}

long rss_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

TEST(Leaks, TenThousandCreateDestroyCycles) {
  const auto binary = guest_bytes("test_guest");
  auto snapshot = Snapshot::from_binary(binary);
  ASSERT_TRUE(snapshot);
  // Warm up allocators and caches, then measure.
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(Sandbox::from_snapshot(*snapshot));
  const int fds_before = open_fds();
  const long rss_before = rss_kib();
  for (int i = 0; i < 10000; ++i) {
    // Alternate the two creation paths; every 10th sandbox also calls, snapshots and restores.
    auto s = (i % 2 == 0) ? Sandbox::create(binary) : Sandbox::from_snapshot(*snapshot);
    ASSERT_TRUE(s) << "cycle " << i << ": " << s.error().to_string();
    if (i % 10 == 0) {
      ASSERT_TRUE(s->call<std::int64_t>("counter_increment"));
      auto snap = s->snapshot();
      ASSERT_TRUE(snap);
      ASSERT_TRUE(s->call<std::int64_t>("counter_increment"));
      ASSERT_TRUE(s->restore(*snap));
    }
  }
  EXPECT_EQ(open_fds(), fds_before);
#ifdef MOTE_SANITIZED
  GTEST_SKIP() << "RSS is not measured under sanitizers (their quarantine keeps freed memory)";
#endif
  const long growth = rss_kib() - rss_before;
  EXPECT_LT(growth, 8 * 1024) << "RSS grew by " << growth << " KiB over 10,000 cycles";
}

}  // namespace
}  // namespace mote::test
