// End to end: a thread restricted to the sandbox system-call allow-list runs calls, restores,
// snapshots and kills, and nothing else.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>

#include "mote/hardening.hpp"
#include "test_sandbox.hpp"

namespace mote::test {
namespace {

TEST(Hardening, RestrictedThreadRunsSandboxesAndNothingElse) {
#ifdef MOTE_SANITIZED
  GTEST_SKIP() << "sanitizer runtimes make system calls outside the sandbox allow-list";
#endif
  std::thread worker([] {
    std::vector<std::string> logs;
    SandboxConfig config;
    config.log_sink = [&](const LogRecord& r) { logs.emplace_back(r.message); };
    Sandbox s = make_sandbox("test_guest", config);  // creation happens before the restriction
    auto clean = s.snapshot();
    ASSERT_TRUE(clean);
    ASSERT_TRUE(restrict_thread_to_sandbox_syscalls());

    // Everything a sandbox thread does keeps working.
    for (std::int32_t i = 0; i < 200; ++i) {
      auto r = s.call<std::int32_t>("call_host_add", i, 1);
      ASSERT_TRUE(r) << r.error().to_string();
      ASSERT_EQ(*r, i + 1);
    }
    ASSERT_TRUE(s.call<void>("log_message", std::uint32_t{3}, std::string("from a jail")));
    EXPECT_EQ(logs.size(), 1u);
    auto later = s.snapshot();
    ASSERT_TRUE(later) << later.error().to_string();
    ASSERT_TRUE(s.restore(*clean));
    ASSERT_FALSE(s.call<void>("trigger_ud"));  // a fault, then a restore with KVM_SET_SREGS
    ASSERT_TRUE(s.restore(*later));
    InterruptHandle handle = s.interrupt_handle();
    std::thread killer([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      handle.kill();
    });
    auto spun = s.call<void>("spin");
    killer.join();
    ASSERT_FALSE(spun);
    EXPECT_EQ(spun.error().kind(), ErrorKind::Cancelled);
    ASSERT_TRUE(s.restore(*clean));
    EXPECT_TRUE(s.call<std::int32_t>("add", 1, 2));

    // Anything else is refused with EPERM.
    errno = 0;
    EXPECT_EQ(::open("/etc/hostname", O_RDONLY), -1);
    EXPECT_EQ(errno, EPERM);
    errno = 0;
    EXPECT_EQ(::socket(AF_INET, SOCK_STREAM, 0), -1);
    EXPECT_EQ(errno, EPERM);
    EXPECT_EQ(::ioctl(1, 0x5401 /* TCGETS: not a KVM ioctl */, nullptr), -1);
    EXPECT_EQ(errno, EPERM);
  });
  worker.join();
  // Other threads are not restricted.
  const int fd = ::open("/proc/self/status", O_RDONLY);
  EXPECT_GE(fd, 0);
  if (fd >= 0) ::close(fd);
}

}  // namespace
}  // namespace mote::test
