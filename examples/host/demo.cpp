// The product demo (`make run`): a host program that runs the demo guest in a mote sandbox.
//
//   mote_demo [path/to/demo_guest]
//
// Every step below is a few lines of the public API (#include <mote/mote.hpp>). The demo checks
// each result and exits with status 1 at the first thing that does not work as described.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "mote/mote.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Stops the demo with a message naming what failed.
[[noreturn]] void fail_demo(std::string_view what, std::string_view why) {
  fmt::print(stderr, "\nDEMO FAILED: {}: {}\n", what, why);
  std::exit(1);
}

// Unwraps the result of a call, or stops the demo with its error.
template <class T>
T expect(mote::Result<T> result, std::string_view what) {
  if (!result) fail_demo(what, result.error().to_string());
  if constexpr (!std::is_void_v<T>) return std::move(result).value();
}

void check(bool ok, std::string_view what) {
  if (!ok) fail_demo(what, "unexpected result");
}

double milliseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string guest_path = argc > 1 ? argv[1] : MOTE_DEMO_GUEST;
  fmt::print("mote demo: untrusted code in a KVM micro-VM, called like a library\n\n");

  // --- 1. Host functions: what the guest may call back into. The signature (string -> void) is
  // deduced from the lambda. The guest has no other way out of its VM.
  std::vector<std::string> host_log;  // every line the guest sent us
  mote::HostFunctions host;
  host.add("host_log_line", [&host_log](std::string_view line) {
    fmt::print("      host_log_line <- \"{}\"\n", line);
    host_log.emplace_back(line);
  });

  // --- 2. The sandbox: loads the guest binary, builds its VM and runs its initialisation.
  const auto created = Clock::now();
  mote::Sandbox sandbox =
      expect(mote::Sandbox::create_from_file(guest_path, std::move(host)), "creating the sandbox");
  fmt::print("[1] Sandbox created from {} in {:.1f} ms (guest ABI {})\n", guest_path,
             milliseconds_since(created), sandbox.guest_abi_version());

  // --- 3. The guest declares its functions and their types at initialisation.
  fmt::print("[2] The guest exports {} functions:\n", sandbox.functions().size());
  for (const mote::FunctionSignature& f : sandbox.functions()) fmt::print("      {}\n", f.to_string());

  // --- 4. Typed calls: argument and result types are checked against those signatures.
  fmt::print("[3] Typed calls with call<R>(name, args...):\n");
  const auto greeting = expect(sandbox.call<std::string>("greet", "mote"), "greet");
  fmt::print("      greet(\"mote\")                    = \"{}\"\n", greeting);
  check(greeting == "Hello, mote!", "greet");
  const auto words = expect(sandbox.call<std::uint32_t>("word_count", "to be or not to be"),
                            "word_count");
  fmt::print("      word_count(\"to be or not to be\") = {}\n", words);
  check(words == 6, "word_count");
  const auto fib = expect(sandbox.call<std::uint64_t>("fibonacci", std::uint32_t{90}), "fibonacci");
  fmt::print("      fibonacci(90)                    = {}\n", fib);
  check(fib == 2880067194370816120ull, "fibonacci(90)");

  // --- 5. A host callback round trip: tally() runs in the guest, calls host_log_line (the lambda
  // above, run here in the host), then returns to us.
  fmt::print("[4] Host callback: the guest's tally() calls host_log_line, a lambda in this "
             "program\n");
  const auto line = expect(sandbox.call<std::string>("tally", "hello from the host"), "tally");
  fmt::print("      tally(\"hello from the host\") returned \"{}\"\n", line);
  check(host_log.size() == 1 && host_log.back() == line, "the host callback");

  // --- 6. State: guest globals live on between calls, in the sandbox's own memory.
  fmt::print("[5] State persists in guest memory between calls:\n");
  expect(sandbox.call<std::string>("tally", "three more words"), "tally");
  const auto last = expect(sandbox.call<std::string>("tally", "and two"), "tally");
  check(last == "tally #3: +2 words, 9 in total", "the running total");

  // --- 7. Errors are values. A guest-reported error keeps its code and message, and the sandbox
  // stays usable; a type mismatch is refused before the guest runs at all.
  fmt::print("[6] Errors are values, and the sandbox stays usable:\n");
  const auto too_big = sandbox.call<std::uint64_t>("fibonacci", std::uint32_t{100});
  check(!too_big && too_big.error().kind() == mote::ErrorKind::GuestError &&
            too_big.error().guest_code() == 400,
        "fibonacci(100) should fail with guest code 400");
  fmt::print("      fibonacci(100) failed: {} (guest code {})\n", too_big.error().to_string(),
             too_big.error().guest_code());
  const auto wrong_type = sandbox.call<std::string>("fibonacci", std::uint32_t{10});
  check(!wrong_type && wrong_type.error().kind() == mote::ErrorKind::ReturnType,
        "call<std::string>(\"fibonacci\") should be refused");
  fmt::print("      call<std::string>(\"fibonacci\", 10u) refused: {}\n",
             wrong_type.error().to_string());
  const auto after = expect(sandbox.call<std::uint64_t>("fibonacci", std::uint32_t{10}), "fibonacci");
  fmt::print("      fibonacci(10) = {} afterwards (poisoned: {})\n", after, sandbox.poisoned());
  check(after == 55 && !sandbox.poisoned(), "the sandbox after an error");

  // --- 8. Each call is a VM entry and exit; time a batch to see what one costs.
  constexpr int kCalls = 1000;
  const auto batch = Clock::now();
  for (int i = 0; i < kCalls; ++i) {
    expect(sandbox.call<std::uint32_t>("word_count", "the quick brown fox"), "word_count");
  }
  const double total_ms = milliseconds_since(batch);
  fmt::print("[7] {} calls of word_count in {:.1f} ms: {:.1f} µs per call on average "
             "(informational)\n",
             kCalls, total_ms, total_ms * 1000.0 / kCalls);

  fmt::print("\nDemo finished: every step worked.\n");
  return 0;
}
