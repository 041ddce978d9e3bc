#include "store/filter_cache.h"

#include <gtest/gtest.h>

namespace wanllmdb {
namespace {

FilterCache::Filter F(std::string s) {
  return std::make_shared<const std::string>(std::move(s));
}

// An entry answers only for its exact key: same first line, last line and token.
TEST(FilterCache, AnswersOnlyTheExactKey) {
  FilterCache c;
  c.Insert("run-a", {1, 1000, 7}, F("abc"));
  c.Insert("run-a", {1001, 2000, 8}, F(""));  // a chunk without a filter is cached too
  std::vector<FilterCache::Filter> got;
  c.FindAll("run-a", {{1, 1000, 7}, {1, 1000, 9}, {1, 999, 7}, {1001, 2000, 8}, {5, 6, 7}}, &got);
  ASSERT_EQ(got.size(), 5u);
  ASSERT_TRUE(got[0]);
  EXPECT_EQ(*got[0], "abc");
  EXPECT_FALSE(got[1]);  // another token: the row was written again
  EXPECT_FALSE(got[2]);  // another range
  ASSERT_TRUE(got[3]);
  EXPECT_EQ(*got[3], "");
  EXPECT_FALSE(got[4]);
  c.FindAll("run-b", {{1, 1000, 7}}, &got);
  EXPECT_FALSE(got[0]);
  // A newer row at the same first line replaces the entry.
  c.Insert("run-a", {1, 1000, 10}, F("xyz"));
  c.FindAll("run-a", {{1, 1000, 10}, {1, 1000, 7}}, &got);
  ASSERT_TRUE(got[0]);
  EXPECT_EQ(*got[0], "xyz");
  EXPECT_FALSE(got[1]);
}

TEST(FilterCache, DropRunForgetsItsEntries) {
  FilterCache c;
  c.Insert("run-a", {1, 10, 1}, F("a"));
  c.Insert("run-b", {1, 10, 1}, F("b"));
  c.DropRun("run-a");
  std::vector<FilterCache::Filter> got;
  c.FindAll("run-a", {{1, 10, 1}}, &got);
  EXPECT_FALSE(got[0]);
  c.FindAll("run-b", {{1, 10, 1}}, &got);
  ASSERT_TRUE(got[0]);
  EXPECT_EQ(*got[0], "b");
  c.DropRun("run-b");
  EXPECT_EQ(c.bytes(), 0u);
}

// Bounded: the least recently used runs leave first; one run over the bound keeps what fits.
TEST(FilterCache, StaysWithinItsBound) {
  FilterCache c(64 * 1024);
  const std::string kb(1024, 'x');
  for (int r = 0; r < 10; ++r) {
    for (int k = 0; k < 10; ++k)
      c.Insert("run-" + std::to_string(r), {k * 10 + 1, k * 10 + 10, 0}, F(kb));
    EXPECT_LE(c.bytes(), 64u * 1024);
  }
  std::vector<FilterCache::Filter> got;
  c.FindAll("run-9", {{1, 10, 0}}, &got);
  EXPECT_TRUE(got[0]);
  c.FindAll("run-0", {{1, 10, 0}}, &got);
  EXPECT_FALSE(got[0]);
  for (int k = 0; k < 200; ++k) c.Insert("big", {k * 10 + 1, k * 10 + 10, 0}, F(kb));
  EXPECT_LE(c.bytes(), 64u * 1024);
  EXPECT_GT(c.bytes(), 32u * 1024);
}

}  // namespace
}  // namespace wanllmdb
