#include "store/sqlite_db.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

namespace wanllmdb {
namespace {

// The statements prepared on a connection, idle or not.
int Statements(SqliteDb& db) {
  int n = 0;
  for (sqlite3_stmt* s = sqlite3_next_stmt(db.handle(), nullptr); s;
       s = sqlite3_next_stmt(db.handle(), s))
    ++n;
  return n;
}

// A statement's SQL run again is not compiled again: the connection keeps one prepared
// statement per text, however often it runs.
TEST(SqliteDb, KeepsStatementsForTheirSqlText) {
  SqliteDb db;
  ASSERT_TRUE(db.Open(":memory:", false).ok());
  ASSERT_TRUE(db.Exec("CREATE TABLE t(a INTEGER)").ok());
  const int before = Statements(db);
  for (int i = 0; i < 50; ++i) {
    SqliteStmt ins(db, "INSERT INTO t(a) VALUES (?1)");
    ins.Bind(1, i);
    ASSERT_TRUE(ins.Run().ok());
  }
  EXPECT_EQ(Statements(db), before + 1);
  // Exec of one statement too (a script of several is run by sqlite3_exec, as before).
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(db.Exec("BEGIN").ok());
    ASSERT_TRUE(db.Exec("COMMIT").ok());
  }
  EXPECT_EQ(Statements(db), before + 3);
  EXPECT_EQ(db.Exec("SELECT nope FROM t").code(), Code::kInternal);
  ASSERT_TRUE(db.Exec("INSERT INTO t(a) VALUES (50); INSERT INTO t(a) VALUES (51)").ok());
  SqliteStmt count(db, "SELECT count(*) FROM t");
  ASSERT_TRUE(count.Step());
  EXPECT_EQ(count.Int(0), 52);
}

// A kept statement comes back reset, without the last user's bindings; two of one text at once
// are two statements.
TEST(SqliteDb, KeptStatementsStartAfresh) {
  SqliteDb db;
  ASSERT_TRUE(db.Open(":memory:", false).ok());
  ASSERT_TRUE(db.Exec("CREATE TABLE t(a INTEGER); INSERT INTO t VALUES (1), (2), (3)").ok());
  const char* sql = "SELECT a FROM t WHERE ?1 IS NULL OR a >= ?1 ORDER BY a";
  {
    SqliteStmt q(db, sql);
    q.Bind(1, 2);
    ASSERT_TRUE(q.Step());  // left in the middle of its rows
    EXPECT_EQ(q.Int(0), 2);
  }
  SqliteStmt again(db, sql);  // unbound: every row, from the first
  SqliteStmt nested(db, sql);
  nested.Bind(1, 3);
  ASSERT_TRUE(again.Step());
  EXPECT_EQ(again.Int(0), 1);
  ASSERT_TRUE(nested.Step());
  EXPECT_EQ(nested.Int(0), 3);
  EXPECT_FALSE(nested.Step());
  ASSERT_TRUE(again.Step());
  EXPECT_EQ(again.Int(0), 2);
}

}  // namespace
}  // namespace wanllmdb
