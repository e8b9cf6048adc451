# The commands a user types: `make run` (the demo), `make test` (everything), `make bench`.
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
BENCH_ARGS ?=
JOBS ?= $(shell nproc)

.PHONY: all deps configure build run test bench clean

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

clean:
	@rm -rf $(BUILD)
