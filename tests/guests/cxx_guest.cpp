// cxx_guest: the C++ guest of the e2e tests: constructors, typed registration, host calls.
#include <mote/guest.hpp>

namespace {

// Proves that global constructors ran before mote_main: value is 42 only if this one did.
struct Initialised {
  Initialised() {
    volatile std::int32_t answer = 42;  // volatile: keep the compiler from constant-initialising
    value = answer;
  }
  std::int32_t value = 0;
};
Initialised initialised;

std::int32_t init_value() { return initialised.value; }

std::int64_t multiply(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) *
                                   static_cast<std::uint64_t>(b));  // wraps
}

mote::String greet(mote::StringView name) { return mote::String("Hello, ") + name + '!'; }

mote::Expected<std::int32_t> host_add_via_cxx(std::int32_t a, std::int32_t b) {
  return mote::call_host<std::int32_t>("host_add", a, b);  // an error is passed on unchanged
}

mote::Expected<std::int32_t> divide(std::int32_t a, std::int32_t b) {
  if (b == 0) return mote::Error(300, "division by zero");
  if (a == INT32_MIN && b == -1) return mote::Error(301, "division overflows i32");
  return a / b;
}

}  // namespace

// Keeps allocating with new until the heap is exhausted: new aborts (no exceptions in guests).
void exhaust_heap_with_new() {
  struct Node {
    Node* next;
    char payload[65536 - sizeof(Node*)];
  };
  static Node* volatile head = nullptr;  // volatile: the allocations are observable, not elided
  for (;;) head = new Node{head, {}};
}

// A panic-style failure: taking the value of an Expected that holds an error.
std::int32_t panic() { return divide(1, 0).value(); }

int mote_main() {
  int rc = 0;
  rc |= mote::register_function("init_value", init_value);
  rc |= mote::register_function("multiply", multiply);
  rc |= mote::register_function("greet", greet);
  rc |= mote::register_function("host_add_via_cxx", host_add_via_cxx);
  rc |= mote::register_function("divide", divide);
  rc |= mote::register_function("exhaust_heap_with_new", exhaust_heap_with_new);
  rc |= mote::register_function("panic", panic);
  return rc;
}
