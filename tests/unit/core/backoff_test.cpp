// Backoff: the jittered doubling, the cap, and a server's Retry-After as a lower bound (capped).
#include "core/backoff.h"

#include <gtest/gtest.h>

namespace wanllmdb {
namespace {

TEST(BackoffTest, DoublesWithJitterUpToTheCapAndResets) {
  Backoff b(1, 4);
  for (double ceiling : {1.0, 2.0, 4.0, 4.0}) {
    double d = b.Next();
    EXPECT_GE(d, ceiling / 2);
    EXPECT_LE(d, ceiling);
  }
  b.Reset();
  EXPECT_LE(b.Next(), 1.0);
}

TEST(BackoffTest, RetryAfterIsAMinimumCappedAtSixtySeconds) {
  Backoff b(0.1, 2);
  EXPECT_GE(b.Next(5.0), 5.0);
  EXPECT_LE(b.Next(5.0), 5.0);  // not more than asked once above the curve
  EXPECT_EQ(b.Next(3600.0), kMaxRetryAfterS);
  const double d = b.Next(0.0);  // a zero Retry-After leaves the curve (now at 0.8 s) as it is
  EXPECT_GE(d, 0.4);
  EXPECT_LE(d, 0.8);
  EXPECT_LE(b.Next(std::nullopt), 1.6);
}

}  // namespace
}  // namespace wanllmdb
