// Snapshots and pools: restore by dirty pages, the call+restore cycle, snapshot take/save/load,
// sandbox creation from a snapshot, pool leases, and the memory an idle pooled sandbox keeps.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "mote/mote.hpp"
#include "mote/pool.hpp"

namespace mote::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::filesystem::path guest(const char* name) {
  return std::filesystem::path(MOTE_GUEST_DIR) / name;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "benchmark setup failed: %s\n", what.c_str());
  std::abort();
}

template <class T>
T take(Result<T> r, const char* what) {
  if (!r) die(std::string(what) + ": " + r.error().to_string());
  return std::move(r).value();
}

void take(Result<void> r, const char* what) {
  if (!r) die(std::string(what) + ": " + r.error().to_string());
}

// A sandbox of `name` and a snapshot of it taken right after initialisation (its base from now on).
struct Initialised {
  Sandbox sandbox;
  SnapshotPtr snapshot;
};

Initialised initialised(const char* name) {
  Sandbox s = take(Sandbox::create_from_file(guest(name)), "create");
  SnapshotPtr snap = take(s.snapshot(), "snapshot");
  return {std::move(s), std::move(snap)};
}

// ---- restore ----------------------------------------------------------------------------------

// One untimed touch_pages(k) call: dirties k pages of bench_guest's array, plus the stack and
// buffers every call writes.
void touch(Sandbox& s, std::uint32_t k) {
  auto touched = s.call<std::uint32_t>("touch_pages", k);
  if (!touched || *touched != k) die("touch_pages");
}

// The first cycle allocates what later ones reuse (the sandbox's private copies of the pages, and
// the snapshot's page cache for its zero pages, which restore reads): keep it out of the timing.
void warm_up(Sandbox& s, const SnapshotPtr& snap, std::uint32_t k) {
  touch(s, k);
  take(s.restore(snap), "restore");
}

// Restore after a call that dirtied k pages: the call untimed, restore() timed alone.
void restore_dirty(benchmark::State& state, std::uint32_t k) {
  auto [s, snap] = initialised("bench_guest");
  warm_up(s, snap, k);
  for (auto _ : state) {
    touch(s, k);
    const auto start = Clock::now();
    auto r = s.restore(snap);
    const auto end = Clock::now();
    if (!r) die("restore: " + r.error().to_string());
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
  }
}

// The same, timing restore() plus the next call (noop_i32): that call pays for the pages restore
// write-protected again. Minus restore/dirty:k minus call/noop = what the next call pays extra.
void restore_next_call(benchmark::State& state, std::uint32_t k) {
  auto [s, snap] = initialised("bench_guest");
  warm_up(s, snap, k);
  std::int32_t i = 0;
  for (auto _ : state) {
    touch(s, k);
    const auto start = Clock::now();
    auto r = s.restore(snap);
    auto next = s.call<std::int32_t>("noop_i32", ++i);
    const auto end = Clock::now();
    if (!r || !next || *next != i) die("restore + noop_i32");
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
  }
}

// The per-request cycle of a pooled or reused sandbox: one call, then restore.
void call_restore_noop(benchmark::State& state) {
  auto [s, snap] = initialised("bench_guest");
  std::int32_t i = 0;
  for (auto _ : state) {
    auto r = s.call<std::int32_t>("noop_i32", ++i);
    if (!r || *r != i) die("noop_i32");
    take(s.restore(snap), "restore");
  }
}
BENCHMARK(call_restore_noop)->Name("call_restore/noop");

// ---- snapshots --------------------------------------------------------------------------------

void memory_counters(benchmark::State& state, const Snapshot& snap) {
  state.counters["memory_kib"] = static_cast<double>(snap.memory_size()) / 1024.0;
  state.counters["stored_pages"] = static_cast<double>(snap.stored_pages());
}

// Sandbox::snapshot() of an initialised sandbox: reads all of guest memory, copies its non-zero
// pages into a sealed memfd, hashes them.
void snapshot_create(benchmark::State& state, const char* name) {
  auto [s, snap] = initialised(name);
  for (auto _ : state) {
    auto taken = s.snapshot();
    if (!taken) die("snapshot: " + taken.error().to_string());
    benchmark::DoNotOptimize(taken->get());
  }
  memory_counters(state, *snap);
}

std::filesystem::path scratch_file(const char* stem) {
  return std::filesystem::temp_directory_path() /
         (std::string("mote-bench-") + stem + "-" + std::to_string(::getpid()) + ".snap");
}

// Snapshot::save of a post-init snapshot (sparse file, fsync, rename) to the temporary directory.
void snapshot_save(benchmark::State& state, const char* name) {
  SnapshotPtr snap = initialised(name).snapshot;
  const auto path = scratch_file("save");
  for (auto _ : state) take(snap->save(path), "save");
  std::filesystem::remove(path);
  memory_counters(state, *snap);
}

// Snapshot::load of that file (page cache warm): validation, digests, mapping.
void snapshot_load(benchmark::State& state, const char* name) {
  SnapshotPtr snap = initialised(name).snapshot;
  const auto path = scratch_file("load");
  take(snap->save(path), "save");
  for (auto _ : state) {
    auto loaded = Snapshot::load(path);
    if (!loaded) die("load: " + loaded.error().to_string());
    benchmark::DoNotOptimize(loaded->get());
  }
  std::filesystem::remove(path);
  memory_counters(state, *snap);
}

// ---- sandboxes from snapshots, pools ----------------------------------------------------------

// A new VM from a post-init snapshot of bench_guest (no init runs), then its destruction. The
// vCPU first runs at the first call, unlike in floor/vm_create, which runs to its first exit.
void sandbox_from_snapshot(benchmark::State& state) {
  SnapshotPtr snap = initialised("bench_guest").snapshot;
  for (auto _ : state) {
    auto s = Sandbox::from_snapshot(snap);
    if (!s) die("from_snapshot: " + s.error().to_string());
  }
}
BENCHMARK(sandbox_from_snapshot)->Name("sandbox/from_snapshot");

// The same plus its first call (noop_i32): what it takes until a new sandbox has answered once.
// The first KVM_RUN of a VM costs more than later ones (KVM builds its shadow page tables and
// starts its per-VM worker thread).
void sandbox_from_snapshot_first_call(benchmark::State& state) {
  SnapshotPtr snap = initialised("bench_guest").snapshot;
  for (auto _ : state) {
    auto s = Sandbox::from_snapshot(snap);
    if (!s) die("from_snapshot: " + s.error().to_string());
    auto r = s->call<std::int32_t>("noop_i32", 7);
    if (!r || *r != 7) die("noop_i32");
  }
}
BENCHMARK(sandbox_from_snapshot_first_call)->Name("sandbox/from_snapshot_first_call");

// Acquire a pooled sandbox and release it (which restores it); no call in between.
void pool_acquire_release(benchmark::State& state) {
  SnapshotPtr snap = initialised("bench_guest").snapshot;
  SandboxPool pool = take(SandboxPool::create(snap, {}, {}, {.initial_size = 1, .max_size = 1}),
                          "pool");
  for (auto _ : state) {
    auto lease = pool.acquire();
    if (!lease) die("acquire: " + lease.error().to_string());
    take(lease->release(), "release");
  }
}
BENCHMARK(pool_acquire_release)->Name("pool/acquire_release");

// ---- memory of idle pooled sandboxes ----------------------------------------------------------

// Named kB lines of a /proc file ("Anonymous:  123 kB").
std::map<std::string, double> kib_lines(const char* path) {
  std::map<std::string, double> out;
  std::ifstream in(path);
  std::string key;
  double value = 0;
  std::string unit;
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    key = line.substr(0, colon);
    if (std::sscanf(line.c_str() + colon + 1, "%lf", &value) == 1) out[key] = value;
  }
  return out;
}

// Kernel memory /proc/meminfo can attribute: slab objects (KVM's vcpu and VM structures, memslots),
// page tables (the process's own, and the secondary/shadow ones KVM builds), kernel stacks,
// vmalloc (KVM's dirty bitmaps and other vzalloc'ed arrays) and per-CPU data.
double kernel_kib(const std::map<std::string, double>& m) {
  double sum = 0;
  for (const char* k :
       {"Slab", "PageTables", "SecPageTables", "KernelStack", "VmallocUsed", "Percpu"}) {
    if (auto it = m.find(k); it != m.end()) sum += it->second;
  }
  return sum;
}

// Creates kIdle sandboxes in a pool of one snapshot, lets each serve one call and be restored, and
// reports what the process and the kernel hold per idle sandbox, in KiB:
//  - private_kib_per_sandbox: growth of the process's anonymous memory (smaps_rollup "Anonymous"):
//    the pages each sandbox copied on write plus its host-side heap. Page-cache pages of the
//    snapshot's memfd are shared by all sandboxes and excluded.
//  - pss_kib_per_sandbox: growth of the process's proportional set size, for comparison (includes
//    the share of the snapshot's pages; with many sandboxes that share goes to zero).
//  - kernel_kib_per_sandbox: growth of the kernel memory in /proc/meminfo (see kernel_kib); this
//    is system-wide, so it is only meaningful on a quiet machine. Its main parts are reported too:
//    slab_kib (Slab), vmalloc_kib (VmallocUsed), page_tables_kib (PageTables + SecPageTables) and
//    kernel_stack_kib (KernelStack: KVM starts one kernel thread per VM at its first KVM_RUN).
//  - memfree_kib_per_sandbox: fall of MemFree, system-wide: everything, as a cross-check.
void pool_idle_memory(benchmark::State& state) {
  constexpr std::size_t kIdle = 50;
  SnapshotPtr snap = initialised("bench_guest").snapshot;
  std::map<std::string, double> sums;
  for (auto _ : state) {
    SandboxPool pool =
        take(SandboxPool::create(snap, {}, {}, {.initial_size = 0, .max_size = kIdle + 1}), "pool");
    // Warm-up outside the measurement (the snapshot's page cache, the allocator): one sandbox,
    // leased until the end so that the kIdle measured ones are all new.
    auto warm = take(pool.acquire(), "acquire");
    take(warm->call<std::int32_t>("noop_i32", 1), "noop_i32");
    const auto proc0 = kib_lines("/proc/self/smaps_rollup");
    const auto sys0 = kib_lines("/proc/meminfo");
    {
      std::vector<PooledSandbox> leases;
      for (std::size_t i = 0; i < kIdle; ++i) leases.push_back(take(pool.acquire(), "acquire"));
      for (auto& lease : leases) take(lease->call<std::int32_t>("noop_i32", 2), "noop_i32");
      for (auto& lease : leases) take(lease.release(), "release");
    }
    const auto proc1 = kib_lines("/proc/self/smaps_rollup");
    const auto sys1 = kib_lines("/proc/meminfo");
    take(warm.release(), "release");
    if (pool.stats().idle != kIdle + 1) die("the pool lost sandboxes");
    const auto delta = [](const auto& a, const auto& b, const char* key) {
      const auto before = a.find(key), after = b.find(key);
      if (before == a.end() || after == b.end()) return 0.0;  // a line this kernel lacks
      return (after->second - before->second) / static_cast<double>(kIdle);
    };
    sums["private_kib_per_sandbox"] += delta(proc0, proc1, "Anonymous");
    sums["pss_kib_per_sandbox"] += delta(proc0, proc1, "Pss");
    sums["kernel_kib_per_sandbox"] +=
        (kernel_kib(sys1) - kernel_kib(sys0)) / static_cast<double>(kIdle);
    sums["slab_kib"] += delta(sys0, sys1, "Slab");
    sums["vmalloc_kib"] += delta(sys0, sys1, "VmallocUsed");
    sums["page_tables_kib"] += delta(sys0, sys1, "PageTables") + delta(sys0, sys1, "SecPageTables");
    sums["kernel_stack_kib"] += delta(sys0, sys1, "KernelStack");
    sums["memfree_kib_per_sandbox"] -= delta(sys0, sys1, "MemFree");
  }
  for (const auto& [name, sum] : sums) {
    state.counters[name] = sum / static_cast<double>(state.iterations());
  }
}
BENCHMARK(pool_idle_memory)->Name("pool/idle_memory")->Iterations(1)->Unit(benchmark::kMillisecond);

// Names carry the argument ("restore/dirty:16") so the driver's ratio table lists each one. The
// untimed page writes cost far more than the timed part (a write fault is ~20 us here), so the
// minimum times are of timed work and kept short: about 1-3 s of wall time per repetition.
const bool registered = [] {
  for (std::uint32_t k : {0u, 1u, 16u, 256u, 4096u}) {
    benchmark::RegisterBenchmark(("restore/dirty:" + std::to_string(k)).c_str(), restore_dirty, k)
        ->UseManualTime()
        ->MinTime(0.05);
    benchmark::RegisterBenchmark(("restore_next_call/dirty:" + std::to_string(k)).c_str(),
                                 restore_next_call, k)
        ->UseManualTime()
        ->MinTime(0.2);
  }
  benchmark::RegisterBenchmark("snapshot/create", snapshot_create, "bench_guest");
  benchmark::RegisterBenchmark("snapshot/save", snapshot_save, "bench_guest");
  benchmark::RegisterBenchmark("snapshot/load", snapshot_load, "bench_guest");
  return true;
}();

}  // namespace
}  // namespace mote::bench
