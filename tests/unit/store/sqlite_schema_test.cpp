#include "store/sqlite_schema.h"

#include <gtest/gtest.h>

#include "store/sqlite_db.h"

namespace wanllmdb {
namespace {

// Listing a run's chunks with their metadata and row ids (what SqliteStore::ReadChunks asks
// before a search tests the chunks' filters) reads one index, not the table's rows.
TEST(SqliteSchema, ChunkListingIsCoveredByAnIndex) {
  SqliteDb db;
  ASSERT_TRUE(db.Open(":memory:", false).ok());
  ASSERT_TRUE(MigrateSqlite(db).ok());
  SqliteStmt plan(db,
                  "EXPLAIN QUERY PLAN SELECT c.first_line, c.last_line, c.ts_min, c.ts_max, "
                  "c.level_mask, c.source_mask, c.level_counts, c.codec, c.rowid FROM log_chunks c"
                  " WHERE c.run_id = ?1 AND c.first_line <= ?3 AND c.last_line >= ?2"
                  " AND c.first_line >= 0 AND c.ts_max >= ?4 AND c.ts_min <= ?5"
                  " ORDER BY c.first_line ASC LIMIT ?8");
  std::string steps;
  while (plan.Step()) steps += std::string(plan.Text(3)) + "\n";
  ASSERT_TRUE(plan.status().ok());
  EXPECT_NE(steps.find("COVERING INDEX log_chunks_meta"), std::string::npos) << steps;
}

}  // namespace
}  // namespace wanllmdb
