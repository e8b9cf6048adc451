// The raw KVM floor, measured in the same run as mote: one exit round trip, and a cold VM.
#include <benchmark/benchmark.h>

#include "raw_kvm.hpp"

namespace mote::bench {
namespace {

// A ring-3 guest doing one `out` per KVM_RUN, registers through sync_regs: the least a call can cost.
void floor_exit_roundtrip(benchmark::State& state) {
  RawVm vm;
  std::uint64_t i = 0;
  for (auto _ : state) vm.exit_roundtrip(++i);
}
BENCHMARK(floor_exit_roundtrip)->Name("floor/exit_roundtrip");

// Create VM + memory + vCPU, run to the first exit, tear down.
void floor_vm_create(benchmark::State& state) {
  for (auto _ : state) {
    RawVm vm;
    benchmark::DoNotOptimize(&vm);
  }
}
BENCHMARK(floor_vm_create)->Name("floor/vm_create");

}  // namespace
}  // namespace mote::bench
