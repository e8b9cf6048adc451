# The commands a user types: `make run` (the demo), `make test` (everything), `make bench`;
# `make test-asan`, `make test-tsan` and `make fuzz` for the checks of docs/testing.md.
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
BENCH_ARGS ?=
JOBS ?= $(shell nproc)

# Sanitizer builds (GCC): each in its own build directory, benchmarks left out.
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
# Any sanitizer report fails the test that triggered it (the process aborts).
ASAN_ENV := ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1 \
	UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
TSAN_ENV := TSAN_OPTIONS=halt_on_error=1:abort_on_error=1:second_deadlock_stack=1 \
	UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
# The tests TSan runs: the ones with more than one thread.
TSAN_TESTS ?= Threads|Cancel|Pool|Interrupt

# libFuzzer targets (clang: clang-14 cannot compile libstdc++ 12's <expected>, clang-19 can).
FUZZ_BUILD ?= build-fuzz
FUZZ_CC ?= clang-19
FUZZ_CXX ?= clang++-19
FUZZ_SECONDS ?= 60
FUZZ_ARGS ?=
FUZZERS := wire_fuzz elf_fuzz exit_fuzz snapshot_metadata_fuzz
FUZZ_RUNS := $(addprefix fuzz-,$(FUZZERS))
FUZZ_ENV := ASAN_OPTIONS=abort_on_error=1:print_stacktrace=1:detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1

.PHONY: all deps configure build run test bench clean test-asan test-tsan fuzz-deps fuzz-build fuzz \
	fuzz-corpus $(FUZZ_RUNS)

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -G Ninja -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) > /dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# The main job: a host program that creates a sandbox from the demo guest and calls into it.
run: build
	@$(BUILD)/examples/host/mote_demo $(BUILD)/guests/demo_guest

test: build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

bench: build
	@$(BUILD)/bench/mote_bench $(BENCH_ARGS)

# All tests under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps
	@cmake -G Ninja -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
		-DMOTE_SANITIZE=address,undefined > /dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@$(ASAN_ENV) ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# The multi-threaded tests under ThreadSanitizer.
test-tsan: deps
	@cmake -G Ninja -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
		-DMOTE_SANITIZE=thread > /dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS)
	@$(TSAN_ENV) ctest --test-dir $(TSAN_BUILD) --output-on-failure -j $(JOBS) -R '$(TSAN_TESTS)'

fuzz-deps:
	@scripts/install-deps.sh fuzz

# Only the fuzz targets (and the library they link) are built: guests are never compiled here.
fuzz-build: fuzz-deps
	@cmake -G Ninja -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
		-DCMAKE_C_COMPILER=$(FUZZ_CC) -DCMAKE_CXX_COMPILER=$(FUZZ_CXX) \
		-DMOTE_FUZZ=ON -DMOTE_SANITIZE=address,undefined -DMOTE_BUILD_TESTS=OFF > /dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target mote_fuzzers

# Runs every fuzzer for FUZZ_SECONDS (`make -j2 fuzz` runs two at a time). New inputs go to
# $(FUZZ_BUILD)/corpus/<target>, crashes to $(FUZZ_BUILD)/artifacts/; fuzz/corpus is only read.
fuzz: $(FUZZ_RUNS)

$(FUZZ_RUNS): fuzz-%: fuzz-build
	@mkdir -p $(FUZZ_BUILD)/corpus/$* $(FUZZ_BUILD)/artifacts
	@echo "fuzz: $* for $(FUZZ_SECONDS) s"
	@$(FUZZ_ENV) $(FUZZ_BUILD)/fuzz/$* -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
		-rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/$*- \
		$(FUZZ_ARGS) $(FUZZ_BUILD)/corpus/$* fuzz/corpus/$* 2> $(FUZZ_BUILD)/$*.log \
		|| { tail -n 60 $(FUZZ_BUILD)/$*.log; echo "fuzz: $* FAILED (log: $(FUZZ_BUILD)/$*.log)"; exit 1; }
	@echo "fuzz: $* passed: $$(grep -E '^Done' $(FUZZ_BUILD)/$*.log), $$(grep -oE 'cov: [0-9]+' \
		$(FUZZ_BUILD)/$*.log | tail -n 1), $$(grep -E '^stat::new_units_added' $(FUZZ_BUILD)/$*.log \
		| awk '{print $$2}') new inputs"

# Regenerates the seed corpus in fuzz/corpus (checked in) from the library's encoders and a
# stripped empty_guest of the normal build.
fuzz-corpus: build fuzz-build
	@cmake --build $(FUZZ_BUILD) --target mote_fuzz_corpus
	@$(FUZZ_BUILD)/fuzz/mote_fuzz_corpus fuzz/corpus
	@objcopy --strip-all $(BUILD)/guests/empty_guest fuzz/corpus/elf_fuzz/empty_guest

clean:
	@rm -rf $(BUILD)
