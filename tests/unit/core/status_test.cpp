#include "core/status.h"

#include <gtest/gtest.h>

#include <string>

namespace wanllmdb {
namespace {

TEST(Result, HoldsAValueOrAFailure) {
  Result<std::string> v = std::string("x");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, "x");
  Result<std::string> f = Status(Code::kNotFound, "gone");
  EXPECT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), Code::kNotFound);
  EXPECT_EQ(f.status().message(), "gone");
}

// A Result made from an OK status has no value: it must not say ok().
TEST(Result, FromAnOkStatusIsAnInternalError) {
  Result<std::string> r = Status::Ok();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInternal);
}

}  // namespace
}  // namespace wanllmdb
