// MatchLocator against QueryEngine::Locate (a full count each time) on a real SQLite store: the
// kept counts must give the same answers as the run grows, as merges join ranges the index holds
// with new ones, and when the caller says the lines were cleared.
#include "server/match_locator.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/uuid.h"
#include "store/query_budget.h"
#include "store/sqlite_store.h"

namespace wanllmdb {
namespace {

class MatchLocatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("wanllmdb-test-" + NewUuid());
    std::filesystem::create_directories(dir_);
    SqliteStoreOptions o;
    o.background_merge = false;  // merges happen where the test says (CompactNow)
    auto s = OpenSqliteStore((dir_ / "logs.db").string(), o);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
    engine_ = std::make_unique<QueryEngine>(*store_);
    locator_ = std::make_unique<MatchLocator>(*store_, *engine_);
    NewRun r;
    r.id = NewUuid();
    r.project = "p";
    auto run = store_->CreateRun(r, nullptr);
    ASSERT_TRUE(run.ok()) << run.status().message();
    run_id_ = run->id;
  }
  void TearDown() override {
    locator_.reset();
    engine_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Lines `from`.. of a training loop: every 3rd has "loss=", every 10th is an ERROR, every 4th
  // has a "rank" field.
  void Append(int from, int n) {
    IngestBatch b;
    b.run_id = run_id_;
    b.writer = "main";
    for (int i = from; i < from + n; ++i) {
      LogLine l;
      l.timestamp_us = 1000000LL * i;
      l.level = i % 10 == 0 ? Level::kError : Level::kInfo;
      l.message = "step " + std::to_string(i) + (i % 3 == 0 ? " loss=0.5" : " ok");
      if (i % 4 == 0) l.fields = "{\"rank\":" + std::to_string(i % 8) + "}";
      b.lines.push_back(l);
      b.seqs.push_back(i);
    }
    ASSERT_TRUE(store_->Append(b).ok());
  }
  std::shared_ptr<const LineMatcher> Matcher(LogFilter f) { return *LineMatcher::Compile(f); }
  // Locates `line` with the locator and with a full count; both must agree.
  void ExpectAsAFullCount(const LineMatcher& m, int64_t line, const std::string& generation) {
    int64_t index = -1, total = -1, want_index = -1, want_total = -1;
    ASSERT_TRUE(locator_->Locate(run_id_, generation, m, line, &index, &total).ok());
    ASSERT_TRUE(engine_->Locate(run_id_, m, line, &want_index, &want_total).ok());
    EXPECT_EQ(index, want_index) << "line " << line << " filter " << m.filter().Key();
    EXPECT_EQ(total, want_total) << "line " << line << " filter " << m.filter().Key();
  }
  std::vector<std::shared_ptr<const LineMatcher>> Filters() {
    LogFilter search, regex, level, field, both;
    search.search = "LOSS=";
    regex.regex = "step \\d*7 ";
    level.level_mask = 1u << static_cast<int>(Level::kError);
    field.fields.push_back(*FieldPredicate::Parse("rank=4"));
    both.search = "loss";
    both.level_mask = level.level_mask;
    return {Matcher(search), Matcher(regex), Matcher(level), Matcher(field), Matcher(both)};
  }

  std::filesystem::path dir_;
  std::unique_ptr<LogStore> store_;
  std::unique_ptr<QueryEngine> engine_;
  std::unique_ptr<MatchLocator> locator_;
  std::string run_id_;
};

TEST_F(MatchLocatorTest, AnswersAsAFullCountWhileTheRunGrowsAndMerges) {
  auto filters = Filters();
  int next = 0;
  for (int round = 0; round < 12; ++round) {
    // Small batches: many small chunks, which the merge below joins, also with chunks the
    // indexes already hold.
    for (int b = 0; b < 5; ++b, next += 37) Append(next, 37);
    // A merge before the locates joins the ranges the indexes end with to the new chunks.
    if (round % 3 == 1) {
      ASSERT_TRUE(store_->CompactNow().ok());
    }
    for (const auto& m : filters) {
      for (int64_t line : {int64_t{1}, int64_t{2}, int64_t{next / 2}, int64_t{next - 3},
                           int64_t{next}, int64_t{next + 1}, int64_t{next + 50}}) {
        ASSERT_NO_FATAL_FAILURE(ExpectAsAFullCount(*m, line, "g"));
      }
    }
    // One after them: the merged chunks are all indexed already.
    if (round % 3 == 2) {
      ASSERT_TRUE(store_->CompactNow().ok());
    }
  }
}

TEST_F(MatchLocatorTest, KeepsCountsUntilTheGenerationChanges) {
  Append(0, 500);
  LogFilter f;
  f.search = "loss";
  auto m = Matcher(f);
  int64_t index = 0, total = 0;
  ASSERT_TRUE(locator_->Locate(run_id_, "g1", *m, 1000, &index, &total).ok());
  EXPECT_EQ(total, 167);  // 0, 3, ..., 498
  // The lines are cleared behind its back: under the same generation it still answers from
  // the counts it keeps (what makes a jump cheap), under a new one it counts again.
  ASSERT_TRUE(store_->ClearLogs(run_id_).ok());
  Append(500, 30);
  ASSERT_TRUE(locator_->Locate(run_id_, "g1", *m, 1000, &index, &total).ok());
  EXPECT_EQ(total, 167 + 10);  // the kept counts plus the new lines 501, 504, ..., 528
  ASSERT_NO_FATAL_FAILURE(ExpectAsAFullCount(*m, 1000, "g2"));
  ASSERT_NO_FATAL_FAILURE(ExpectAsAFullCount(*m, 510, "g2"));
  // Forget drops what it kept, whatever the generation.
  locator_->Forget(run_id_);
  ASSERT_TRUE(locator_->Locate(run_id_, "g1", *m, 1000, &index, &total).ok());
  EXPECT_EQ(total, 10);
}

TEST_F(MatchLocatorTest, KeepsWhatItCountedWhenTheBudgetRunsOut) {
  for (int b = 0; b < 40; ++b) Append(b * 10, 10);  // 40 chunks, counted 4 per step below
  locator_ = std::make_unique<MatchLocator>(*store_, *engine_, /*keys_per_read=*/4);
  LogFilter f;
  f.search = "loss";
  auto m = Matcher(f);
  int64_t index = 0, total = 0;
  // How many budget checks a count from nothing takes.
  int checks = 0;
  {
    MatchLocator fresh(*store_, *engine_, 4);
    QueryBudget budget(std::chrono::seconds(0), [&] { return ++checks, false; });
    QueryBudget::Scope scope(&budget);
    ASSERT_TRUE(fresh.Locate(run_id_, "g", *m, 200, &index, &total).ok());
  }
  ASSERT_GT(checks, 4);
  // The client leaves halfway through: the locate fails...
  int seen = 0;
  {
    QueryBudget budget(std::chrono::seconds(0), [&] { return ++seen > checks / 2; });
    QueryBudget::Scope scope(&budget);
    EXPECT_EQ(locator_->Locate(run_id_, "g", *m, 200, &index, &total).code(), Code::kUnavailable);
  }
  // ...but the next goes on from what it counted, and answers as a full count.
  int more = 0;
  {
    QueryBudget budget(std::chrono::seconds(0), [&] { return ++more, false; });
    QueryBudget::Scope scope(&budget);
    ASSERT_TRUE(locator_->Locate(run_id_, "g", *m, 200, &index, &total).ok());
  }
  EXPECT_LT(more, checks);
  ASSERT_NO_FATAL_FAILURE(ExpectAsAFullCount(*m, 200, "g"));
  ASSERT_NO_FATAL_FAILURE(ExpectAsAFullCount(*m, 399, "g"));
}

}  // namespace
}  // namespace wanllmdb
