#include "store/chunk_map_cache.h"

#include <gtest/gtest.h>

namespace wanllmdb {
namespace {

// Ten chunks of 100 lines: chunk k holds lines 100k+1..100k+100 at times 100k..100k+99, level
// bit k % 3 and source bit k % 2.
std::shared_ptr<ChunkMap> TenChunks(int64_t version = 1) {
  auto m = std::make_shared<ChunkMap>();
  m->version = version;
  for (int k = 0; k < 10; ++k) {
    StoredChunk c;
    c.first_line = 100 * k + 1;
    c.last_line = 100 * k + 100;
    c.ts_min = 100 * k;
    c.ts_max = 100 * k + 99;
    c.level_mask = 1u << (k % 3);
    c.source_mask = 1u << (k % 2);
    m->chunks.push_back(c);
    m->tokens.push_back(1000 + k);
  }
  return m;
}

std::vector<size_t> Select(const ChunkQuery& q, size_t limit = SIZE_MAX) {
  return SelectChunks(*TenChunks(), q, limit);
}

TEST(SelectChunks, LineRangeInBothOrders) {
  ChunkQuery q;
  q.from_line = 150;  // inside chunk 1
  q.to_line = 401;    // the first line of chunk 4
  EXPECT_EQ(Select(q), (std::vector<size_t>{1, 2, 3, 4}));
  q.descending = true;
  EXPECT_EQ(Select(q), (std::vector<size_t>{4, 3, 2, 1}));
  EXPECT_EQ(Select(q, 2), (std::vector<size_t>{4, 3}));
  q.from_line = 1001;  // past the end
  q.to_line = INT64_MAX;
  EXPECT_TRUE(Select(q).empty());
  q.from_line = 1;
  q.to_line = 0;
  EXPECT_TRUE(Select(q).empty());
}

TEST(SelectChunks, TimeAndMasksAsTheStoresSql) {
  ChunkQuery q;
  q.since_us = 250;  // chunk 2 ends at 299
  q.until_us = 500;  // chunk 5 starts at 500
  EXPECT_EQ(Select(q), (std::vector<size_t>{2, 3, 4, 5}));
  q = ChunkQuery();
  q.level_mask = 0b100;  // k % 3 == 2
  EXPECT_EQ(Select(q), (std::vector<size_t>{2, 5, 8}));
  q.source_mask = 0b10;  // and k odd
  EXPECT_EQ(Select(q), (std::vector<size_t>{5}));
  q.level_mask = 0b101;
  q.source_mask = 0;
  EXPECT_EQ(Select(q, 3), (std::vector<size_t>{0, 2, 3}));
}

// A map answers only for its version, and is loaded only for a version seen twice in a row.
TEST(ChunkMapCache, AnswersOnlyItsVersionAndLoadsForAVersionSeenTwice) {
  ChunkMapCache c;
  EXPECT_FALSE(c.Knows("run-a"));
  EXPECT_FALSE(c.Observe("run-a", 5));
  EXPECT_TRUE(c.Knows("run-a"));
  EXPECT_FALSE(c.Observe("run-a", 6));  // the run changed between the two reads
  EXPECT_TRUE(c.Observe("run-a", 6));
  c.Insert("run-a", TenChunks(6));
  ASSERT_TRUE(c.Find("run-a", 6));
  EXPECT_EQ(c.Find("run-a", 6)->chunks.size(), 10u);
  EXPECT_FALSE(c.Find("run-a", 7));
  EXPECT_FALSE(c.Find("run-b", 6));
  c.Insert("run-a", TenChunks(7));  // a newer map replaces it
  EXPECT_FALSE(c.Find("run-a", 6));
  EXPECT_TRUE(c.Find("run-a", 7));
  c.DropRun("run-a");
  EXPECT_FALSE(c.Knows("run-a"));
  EXPECT_EQ(c.bytes(), 0u);
}

TEST(ChunkMapCache, LeastRecentlyUsedRunsLeaveAndOversizedMapsAreNotKept) {
  const size_t one = [] {
    ChunkMapCache probe;
    probe.Insert("x", TenChunks());
    return probe.bytes();
  }();
  ChunkMapCache c(one * 2 + one / 2);
  c.Insert("run-a", TenChunks());
  c.Insert("run-b", TenChunks());
  EXPECT_TRUE(c.Find("run-a", 1));  // run-a is now the most recently used
  c.Insert("run-c", TenChunks());
  EXPECT_TRUE(c.Find("run-a", 1));
  EXPECT_FALSE(c.Find("run-b", 1));
  EXPECT_TRUE(c.Find("run-c", 1));
  EXPECT_LE(c.bytes(), one * 2 + one / 2);

  ChunkMapCache small(one / 2);
  small.Insert("run-a", TenChunks());
  EXPECT_FALSE(small.Find("run-a", 1));
}

}  // namespace
}  // namespace wanllmdb
