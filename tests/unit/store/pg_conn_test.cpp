// PgConn against the real PostgreSQL the test runner started (WANLLMDB_TEST_PG; skipped
// without it): statements are prepared once per session, and a session that lost them (as
// behind a transaction-mode pooler) falls back to unprepared statements instead of failing on.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "store/pg_conn.h"

namespace wanllmdb {
namespace {

class PgConnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* v = std::getenv("WANLLMDB_TEST_PG");
    if (!v || !*v) GTEST_SKIP() << "WANLLMDB_TEST_PG is not set (make test starts a PostgreSQL)";
    conn_ = std::make_unique<PgConn>(v);
    ASSERT_TRUE(conn_->Ensure().ok());
  }
  int64_t PreparedCount() {
    auto r = conn_->Query("SELECT count(*) FROM pg_prepared_statements");
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->Int(0, 0) : -1;
  }
  std::unique_ptr<PgConn> conn_;
};

TEST_F(PgConnTest, RepeatedStatementIsPreparedOnceAndReturnsEachCallsParameters) {
  for (int64_t i = 0; i < 3; ++i) {
    auto r = conn_->Query("SELECT $1::bigint + 1", PgParams().Int(i));
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->Int(0, 0), i + 1);
  }
  // That statement and the count query itself.
  EXPECT_EQ(PreparedCount(), 2);
}

TEST_F(PgConnTest, ForgottenStatementsSwitchTheSessionToUnprepared) {
  ASSERT_TRUE(conn_->Query("SELECT $1::bigint", PgParams().Int(7)).ok());
  ASSERT_TRUE(conn_->ExecScript("DEALLOCATE ALL").ok());  // what a pooler's new session looks like
  auto lost = conn_->Query("SELECT $1::bigint", PgParams().Int(7));
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), Code::kUnavailable);  // the caller's retry then succeeds
  auto again = conn_->Query("SELECT $1::bigint", PgParams().Int(8));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->Int(0, 0), 8);
  EXPECT_EQ(PreparedCount(), 0);
}

TEST_F(PgConnTest, AFailedPrepareReportsTheStatementsError) {
  auto r = conn_->Query("SELECT no_such_column FROM pg_class WHERE oid = $1", PgParams().Int(1));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no_such_column"), std::string::npos) << r.status().message();
  EXPECT_TRUE(conn_->Query("SELECT 1").ok());  // the session is still usable
}

TEST_F(PgConnTest, LiteralQuotesForAScript) {
  auto lit = conn_->Literal("it's");
  ASSERT_TRUE(lit.ok());
  auto r = conn_->Query("SELECT " + *lit + " = $1", PgParams().Text("it's"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->Int(0, 0), 1);
}

}  // namespace
}  // namespace wanllmdb
