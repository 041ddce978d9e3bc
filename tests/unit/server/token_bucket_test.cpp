// TokenBucket and IngestQuotas on a simulated clock: refill, burst, debt, the wait a refusal
// states, and that a refused batch charges no quota.
#include "server/token_bucket.h"

#include <gtest/gtest.h>

#include "server/ingest_quota.h"

namespace wanllmdb {
namespace {

constexpr int64_t kSecond = 1000000;

TEST(TokenBucketTest, StartsFullAndRefillsAtItsRate) {
  TokenBucket b(10, 10, 0);
  EXPECT_TRUE(b.Full(0));
  EXPECT_TRUE(b.CanTake(10, 0));
  b.Take(10, 0);
  EXPECT_FALSE(b.CanTake(1, 0));
  EXPECT_EQ(b.WaitUs(1, 0), kSecond / 10);
  EXPECT_FALSE(b.CanTake(5, kSecond / 10 * 4));  // 4 tokens back
  EXPECT_TRUE(b.CanTake(5, kSecond / 2));        // 5 tokens back
  EXPECT_TRUE(b.Full(5 * kSecond));              // never above the burst
  b.Take(10, 5 * kSecond);
  EXPECT_FALSE(b.CanTake(1, 5 * kSecond));
}

TEST(TokenBucketTest, ACostAboveTheBurstPassesOnAFullBucketAndLeavesDebt) {
  TokenBucket b(2, 2, 0);
  EXPECT_TRUE(b.CanTake(8, 0));        // never refused for ever
  b.Take(8, 0);                        // -6
  EXPECT_EQ(b.WaitUs(1, 0), 3500000);  // back to 1 token: 7 tokens at 2/s
  EXPECT_FALSE(b.CanTake(1, 3 * kSecond));
  EXPECT_TRUE(b.CanTake(1, 3500000));
  EXPECT_FALSE(b.CanTake(8, 3500000));  // a big one waits for a full bucket
  EXPECT_EQ(b.WaitUs(8, 3500000), 500000);
  EXPECT_TRUE(b.CanTake(8, 4 * kSecond));
}

TEST(TokenBucketTest, AClockGoingBackAddsNothing) {
  TokenBucket b(1, 1, 10 * kSecond);
  b.Take(1, 10 * kSecond);
  EXPECT_FALSE(b.CanTake(1, 0));
  EXPECT_FALSE(b.CanTake(1, 10 * kSecond));
  EXPECT_TRUE(b.CanTake(1, 11 * kSecond));
}

TEST(IngestQuotasTest, RunQuotasAreSeparateAndARefusalChargesNothing) {
  QuotaLimits l;
  l.run_lines_per_s = 10;
  l.run_bytes_per_s = 100;
  IngestQuotas q(l);
  int retry = 0;
  EXPECT_TRUE(q.Admit("a", "", 10, 50, 0, &retry).ok());
  Status refused = q.Admit("a", "", 1, 1, 0, &retry);
  EXPECT_EQ(refused.code(), Code::kTooManyRequests);
  EXPECT_NE(refused.message().find("--quota-run-lines-per-s"), std::string::npos);
  EXPECT_EQ(retry, 1);
  EXPECT_TRUE(q.Admit("b", "", 10, 50, 0, &retry).ok());  // another run has its own
  // The bytes quota refuses alone; its refusal leaves the lines quota of run a as it was (one
  // line left, which the next batch takes).
  EXPECT_TRUE(q.Admit("a", "", 4, 50, kSecond / 2, &retry).ok());
  Status bytes = q.Admit("a", "", 1, 60, kSecond / 2, &retry);
  EXPECT_EQ(bytes.code(), Code::kTooManyRequests);
  EXPECT_NE(bytes.message().find("--quota-run-bytes-per-s"), std::string::npos);
  EXPECT_TRUE(q.Admit("a", "", 1, 1, kSecond / 2, &retry).ok());
  EXPECT_EQ(q.Admit("a", "", 1, 1, kSecond / 2, &retry).code(), Code::kTooManyRequests);
}

TEST(IngestQuotasTest, AProjectQuotaCoversAllItsRunsAndStatesTheLongestWait) {
  QuotaLimits l;
  l.project_bytes_per_s = 100;
  l.run_lines_per_s = 1000;
  IngestQuotas q(l);
  int retry = 0;
  EXPECT_TRUE(q.Admit("r1", "p", 1, 100, 0, &retry).ok());
  Status s = q.Admit("r2", "p", 1, 100, 0, &retry);
  EXPECT_EQ(s.code(), Code::kTooManyRequests);
  EXPECT_NE(s.message().find("project 'p'"), std::string::npos);
  EXPECT_EQ(retry, 1);
  EXPECT_TRUE(q.Admit("r3", "other", 1, 100, 0, &retry).ok());
  // 300 bytes later: a 3 s wait for the full bucket it needs (cost above the burst).
  EXPECT_TRUE(q.Admit("r1", "p", 1, 300, kSecond, &retry).ok());  // full: passes, debt -200
  EXPECT_EQ(q.Admit("r2", "p", 1, 100, kSecond, &retry).code(), Code::kTooManyRequests);
  EXPECT_EQ(retry, 3);
  EXPECT_TRUE(q.Admit("r2", "p", 1, 100, 4 * kSecond, &retry).ok());
}

TEST(IngestQuotasTest, ARequestOverSeveralRunsIsAdmittedWholeOrChargesNone) {
  QuotaLimits l;
  l.run_lines_per_s = 10;
  l.project_lines_per_s = 15;
  IngestQuotas q(l);
  int retry = 0;
  // Two writers of run a and one of run b, all of project p: p's 16 lines are over its 15.
  std::vector<QuotaCharge> request = {{"a", "p", 6, 0}, {"b", "p", 5, 0}, {"a", "p", 5, 0}};
  EXPECT_TRUE(q.AdmitAll({{"c", "p", 15, 0}}, 0, &retry).ok());  // p is empty now
  Status s = q.AdmitAll(request, 0, &retry);
  EXPECT_EQ(s.code(), Code::kTooManyRequests);
  EXPECT_NE(s.message().find("project 'p'"), std::string::npos);
  EXPECT_NE(s.message().find("this batch of 16 lines"), std::string::npos);
  // Nothing was charged: runs a and b still have their full 10.
  EXPECT_TRUE(q.Admit("a", "", 10, 0, 0, &retry).ok());
  EXPECT_TRUE(q.Admit("b", "", 10, 0, 0, &retry).ok());
  // Summed per run: 11 lines of run a in one request are over its 10 (on a full bucket a cost
  // above the burst passes, so the bucket must not be full: half of it refilled).
  IngestQuotas fresh(l);
  EXPECT_TRUE(fresh.Admit("a", "", 10, 0, 0, &retry).ok());
  Status run = fresh.AdmitAll({{"a", "", 3, 0}, {"a", "", 3, 0}}, kSecond / 2, &retry);
  EXPECT_EQ(run.code(), Code::kTooManyRequests);
  EXPECT_NE(run.message().find("run a may store 10 lines/s"), std::string::npos);
  EXPECT_TRUE(fresh.AdmitAll({{"a", "", 3, 0}, {"a", "", 2, 0}}, kSecond / 2, &retry).ok());
}

TEST(IngestQuotasTest, RemembersProjects) {
  IngestQuotas q(QuotaLimits{});
  EXPECT_FALSE(q.ProjectOf("r").has_value());
  q.RememberProject("r", "p");
  EXPECT_EQ(q.ProjectOf("r").value_or(""), "p");
}

}  // namespace
}  // namespace wanllmdb
