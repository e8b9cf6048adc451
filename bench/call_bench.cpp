// mote's call paths: a guest call, a guest call that calls the host once, and cold creation.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "mote/mote.hpp"

namespace mote::bench {
namespace {

std::filesystem::path guest(const char* name) { return std::filesystem::path(MOTE_GUEST_DIR) / name; }

Sandbox make(const char* name, HostFunctions host = {}) {
  auto s = Sandbox::create_from_file(guest(name), std::move(host));
  if (!s) {
    std::fprintf(stderr, "cannot create %s: %s\n", name, s.error().to_string().c_str());
    std::abort();
  }
  return std::move(s).value();
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "benchmark call failed: %s\n", what);
    std::abort();
  }
}

// Host -> guest call of an i32 -> i32 function and back.
void call_noop(benchmark::State& state) {
  Sandbox s = make("bench_guest");
  std::int32_t i = 0;
  for (auto _ : state) {
    auto r = s.call<std::int32_t>("noop_i32", ++i);
    check(r && *r == i, "noop_i32");
  }
}
BENCHMARK(call_noop)->Name("call/noop");

// A guest function that calls one host function (two exits per call).
void call_host_roundtrip(benchmark::State& state) {
  HostFunctions host;
  host.add("host_noop", [](std::int32_t v) { return v; });
  Sandbox s = make("bench_guest", std::move(host));
  std::int32_t i = 0;
  for (auto _ : state) {
    auto r = s.call<std::int32_t>("host_roundtrip", ++i);
    check(r && *r == i, "host_roundtrip");
  }
}
BENCHMARK(call_host_roundtrip)->Name("call/host_roundtrip");

// Create and initialise a sandbox from a guest binary already in memory, then destroy it.
void sandbox_create_cold(benchmark::State& state) {
  const auto path = guest("empty_guest");
  std::vector<std::uint8_t> bytes(std::filesystem::file_size(path));
  std::FILE* f = std::fopen(path.c_str(), "rb");
  check(f != nullptr && std::fread(bytes.data(), 1, bytes.size(), f) == bytes.size(), "read guest");
  std::fclose(f);
  for (auto _ : state) {
    auto s = Sandbox::create(bytes);
    check(s.has_value(), "create");
  }
}
BENCHMARK(sandbox_create_cold)->Name("sandbox/create_cold");

}  // namespace
}  // namespace mote::bench
