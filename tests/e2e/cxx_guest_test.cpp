// End to end: a C++ guest (global constructors, typed registration, typed host calls).
#include <gtest/gtest.h>

#include "test_sandbox.hpp"

namespace mote::test {
namespace {

class CxxGuest : public ::testing::Test {
 protected:
  Sandbox sandbox = make_sandbox("cxx_guest");
};

TEST_F(CxxGuest, GlobalConstructorsRanBeforeInit) {
  auto r = sandbox.call<std::int32_t>("init_value");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, 42);
}

TEST_F(CxxGuest, TypedFunctions) {
  auto m = sandbox.call<std::int64_t>("multiply", std::int64_t{-6}, std::int64_t{7});
  ASSERT_TRUE(m) << m.error().to_string();
  EXPECT_EQ(*m, -42);
  auto g = sandbox.call<std::string>("greet", std::string("mote"));
  ASSERT_TRUE(g) << g.error().to_string();
  EXPECT_EQ(*g, "Hello, mote!");
  EXPECT_EQ(sandbox.find_function("multiply")->to_string(), "multiply(i64, i64) -> i64");
}

TEST_F(CxxGuest, TypedHostCall) {
  auto r = sandbox.call<std::int32_t>("host_add_via_cxx", 30, 12);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, 42);
}

TEST_F(CxxGuest, ReturnedError) {
  auto ok = sandbox.call<std::int32_t>("divide", 84, 2);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(*ok, 42);
  auto r = sandbox.call<std::int32_t>("divide", 1, 0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), ErrorKind::GuestError);
  EXPECT_EQ(r.error().guest_code(), 300u);
  EXPECT_EQ(r.error().message(), "division by zero");
}

}  // namespace
}  // namespace mote::test
