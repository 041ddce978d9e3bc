#include "core/time_util.h"

#include <gtest/gtest.h>

namespace wanllmdb {
namespace {

TEST(TimeUtil, FormatsWithMicroseconds) {
  EXPECT_EQ(FormatIsoMicros(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatIsoMicros(1731751200123456), "2024-11-16T10:00:00.123456Z");
}

TEST(TimeUtil, ParsesVariants) {
  EXPECT_EQ(ParseIsoMicros("2024-11-16T10:00:00.123456Z"), 1731751200123456);
  EXPECT_EQ(ParseIsoMicros("2024-11-16T10:00:00Z"), 1731751200000000);
  EXPECT_EQ(ParseIsoMicros("2024-11-16 10:00:00"), 1731751200000000);
  EXPECT_EQ(ParseIsoMicros("2024-11-16T12:00:00+02:00"), 1731751200000000);
  EXPECT_EQ(ParseIsoMicros("2024-11-16T10:00:00.5Z"), 1731751200500000);
  EXPECT_EQ(ParseIsoMicros("2024-11-16"), 1731715200000000);
  EXPECT_EQ(ParseIsoMicros("2024-11-16T10:00"), 1731751200000000);
}

TEST(TimeUtil, RejectsGarbage) {
  EXPECT_FALSE(ParseIsoMicros("yesterday"));
  EXPECT_FALSE(ParseIsoMicros("2024-13-01"));
  EXPECT_FALSE(ParseIsoMicros("2024-11-16T25:00:00Z"));
  EXPECT_FALSE(ParseIsoMicros("2024-11-16T10:00:00Zjunk"));
}

TEST(TimeUtil, RoundTrips) {
  for (int64_t t : {int64_t{1}, int64_t{946684799999999}, int64_t{4102444800000000}}) {
    EXPECT_EQ(ParseIsoMicros(FormatIsoMicros(t)), t);
  }
}

}  // namespace
}  // namespace wanllmdb
