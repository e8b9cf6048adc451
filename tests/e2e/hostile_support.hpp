// Test helper for the hostile-guest tests: dynamic calls and the "host recovers" check.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "test_sandbox.hpp"

namespace mote::test {

// Calls `function` with its declared return type, whatever that is.
inline Result<Value> call_any(Sandbox& s, std::string_view function,
                              const std::vector<Value>& args = {}) {
  const FunctionSignature* sig = s.find_function(function);
  if (sig == nullptr) return fail(ErrorKind::UnknownFunction, std::string(function));
  return s.call_dynamic(function, args, sig->result);
}

// After a hostile call: the sandbox is poisoned exactly when `poisoned`, a restore to `before`
// makes it work again, and a new sandbox of the same guest (which exports ping(i32) -> i32,
// returning its argument + 1) in this process works.
inline void expect_recovers(Sandbox& s, const SnapshotPtr& before, bool poisoned,
                            const std::string& guest) {
  EXPECT_EQ(s.poisoned(), poisoned);
  auto next = s.call<std::int32_t>("ping", 1);
  if (poisoned) {
    ASSERT_FALSE(next);
    EXPECT_EQ(next.error().kind(), ErrorKind::Poisoned);
  } else {
    ASSERT_TRUE(next) << next.error().to_string();
    EXPECT_EQ(*next, 2);
  }
  auto restored = s.restore(before);
  ASSERT_TRUE(restored) << restored.error().to_string();
  EXPECT_FALSE(s.poisoned());
  auto after = s.call<std::int32_t>("ping", 41);
  ASSERT_TRUE(after) << after.error().to_string();
  EXPECT_EQ(*after, 42);
  Sandbox fresh = make_sandbox(guest);
  auto ok = fresh.call<std::int32_t>("ping", 6);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(*ok, 7);
}

}  // namespace mote::test
