// Benchmark driver: runs every benchmark with repetitions and prints each median as a ratio of the
// raw KVM floor measured in the same run (machines are noisy; ratios compare across them).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace {

// Passes everything to the console reporter and remembers the medians.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.aggregate_name == "median") medians_[r.run_name.function_name] = r.GetAdjustedRealTime();
    }
    ConsoleReporter::ReportRuns(runs);
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    const auto floor = medians_.find("floor/exit_roundtrip");
    const auto create_floor = medians_.find("floor/vm_create");
    std::printf("\nmedian ratios to the raw KVM floor measured in this run:\n");
    for (const auto& [name, t] : medians_) {
      // VM-creating benchmarks compare with creating a raw VM; everything else with one exit.
      const bool is_create = name.starts_with("sandbox/") || name.starts_with("floor/vm_create");
      const auto base = is_create ? create_floor : floor;
      if (base == medians_.end()) {
        std::printf("  %-28s %12.2f us  (its floor was not run)\n", name.c_str(), t / 1000.0);
        continue;
      }
      std::printf("  %-28s %12.2f us  = %6.3f x %s\n", name.c_str(), t / 1000.0, t / base->second,
                  base->first.c_str());
    }
  }

 private:
  std::map<std::string, double> medians_;  // nanoseconds
};

}  // namespace

int main(int argc, char** argv) {
  // Defaults that a user's --benchmark_* flags override: 10 repetitions, randomly interleaved
  // across benchmarks (so a noisy phase of the shared machine hits the floor and mote alike),
  // aggregates only.
  std::vector<char*> args(argv, argv + argc);
  std::string defaults[] = {"--benchmark_repetitions=10", "--benchmark_enable_random_interleaving=true",
                            "--benchmark_report_aggregates_only=true"};
  for (std::string& d : defaults) args.insert(args.begin() + 1, d.data());
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  // The ratio table rides on the console format; other formats (json, csv) are left untouched.
  bool console = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.starts_with("--benchmark_format=") && a != "--benchmark_format=console") console = false;
  }
  RatioReporter reporter;
  if (console) {
    benchmark::RunSpecifiedBenchmarks(&reporter);
  } else {
    benchmark::RunSpecifiedBenchmarks();
  }
  benchmark::Shutdown();
  return 0;
}
