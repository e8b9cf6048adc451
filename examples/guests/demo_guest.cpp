// demo_guest: the guest of the product demo (`make run`); start here to see what a mote guest is.
//
// A guest is a plain C++ program without main(): mote_main() registers the functions the host may
// call, and mote works out each one's signature from its C++ type. Globals keep their values from
// one call to the next, until the host restores a snapshot.
#include <mote/guest.hpp>

namespace {

// greet("Ada") -> "Hello, Ada!"
mote::String greet(mote::StringView name) { return mote::String("Hello, ") + name + '!'; }

// The number of whitespace-separated words in `text`.
std::uint32_t word_count(mote::StringView text) {
  std::uint32_t words = 0;
  bool in_word = false;
  for (char c : text) {
    bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

// The n-th Fibonacci number (fibonacci(0) = 0). An error, not a crash, when it does not fit a u64:
// the host gets code 400 and the message, and the sandbox stays usable.
mote::Expected<std::uint64_t> fibonacci(std::uint32_t n) {
  if (n > 93) return mote::Error(400, "fibonacci(n) does not fit in a u64 for n > 93");
  std::uint64_t a = 0, b = 1;
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint64_t next = a + b;
    a = b;
    b = next;
  }
  return a;
}

// Running totals, kept in guest memory across calls.
std::uint64_t total_words = 0;
std::uint32_t tally_calls = 0;

// Adds the words of `text` to the running total, reports it to the host through the host function
// host_log_line(string), and returns the same line. A host failure is passed on unchanged.
mote::Expected<mote::String> tally(mote::StringView text) {
  std::uint32_t words = word_count(text);
  total_words += words;
  ++tally_calls;
  mote::String line = mote::format("tally #%u: +%u words, %llu in total", tally_calls, words,
                                   static_cast<unsigned long long>(total_words));
  if (auto sent = mote::call_host<void>("host_log_line", line); !sent) return sent.error();
  return line;
}

}  // namespace

int mote_main() {
  int failed = 0;
  failed |= mote::register_function("greet", greet);            // string(string)
  failed |= mote::register_function("word_count", word_count);  // u32(string)
  failed |= mote::register_function("fibonacci", fibonacci);    // u64(u32)
  failed |= mote::register_function("tally", tally);            // string(string)
  mote::log(MOTE_LOG_DEBUG, "demo guest: functions registered");
  return failed;
}
