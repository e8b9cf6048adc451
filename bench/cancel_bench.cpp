// cancel/latency: from InterruptHandle::kill() to the killed call returning, guest in a tight loop.
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "mote/mote.hpp"

namespace mote::bench {
namespace {

using Clock = std::chrono::steady_clock;

void cancel_latency(benchmark::State& state) {
  auto created = Sandbox::create_from_file(std::filesystem::path(MOTE_GUEST_DIR) / "test_guest");
  if (!created) {
    std::fprintf(stderr, "cannot create test_guest: %s\n", created.error().to_string().c_str());
    std::abort();
  }
  Sandbox s = std::move(created).value();
  auto snap = s.snapshot();
  if (!snap) std::abort();
  InterruptHandle handle = s.interrupt_handle();
  for (auto _ : state) {
    std::atomic<Clock::rep> returned{0};
    std::thread caller([&] {
      auto r = s.call<void>("spin");
      returned.store(Clock::now().time_since_epoch().count());
      if (r || r.error().kind() != ErrorKind::Cancelled) std::abort();
    });
    // Let the guest get going (kill() returns false until the call has started), then time
    // kill() -> call returned.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto killed_at = Clock::now();
    while (!handle.kill()) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      killed_at = Clock::now();
    }
    caller.join();
    const auto latency = Clock::duration(returned.load()) - killed_at.time_since_epoch();
    state.SetIterationTime(std::chrono::duration<double>(latency).count());
    if (!s.restore(*snap)) std::abort();
  }
}
BENCHMARK(cancel_latency)->Name("cancel/latency")->UseManualTime()->Iterations(200);

}  // namespace
}  // namespace mote::bench
