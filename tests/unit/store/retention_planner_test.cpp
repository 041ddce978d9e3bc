#include "store/retention_planner.h"

#include <gtest/gtest.h>

namespace wanllmdb {
namespace {

constexpr int64_t kDay = 86400LL * 1000000;

RetentionRun MakeRun(std::string id, std::string project, RunState state, int64_t total,
                 int64_t bytes, std::optional<int64_t> finished = std::nullopt) {
  RetentionRun r;
  r.id = std::move(id);
  r.project = std::move(project);
  r.state = state;
  r.total = total;
  r.bytes = bytes;
  r.finished_at_us = finished;
  return r;
}

RetentionChunk Chunk(int64_t first, int64_t n, int64_t msg_bytes, uint64_t writer_mask = 1) {
  RetentionChunk c;
  c.first_line = first;
  c.last_line = first + n - 1;
  c.n_lines = n;
  c.raw_bytes = msg_bytes + n;
  c.level_counts = {0, n, 0, 0, 0};
  c.source_counts = std::array<int64_t, kSourceCount>{n, 0, 0, 0, 0};
  c.writer_mask = writer_mask;
  return c;
}

const ChunkLines kNoDecode = [](int64_t) -> Result<std::vector<LogLine>> {
  ADD_FAILURE() << "decoded a chunk whose metadata has its counts";
  return Status(Code::kInternal, "no");
};

TEST(RetentionPolicy, ProjectFieldsOverrideTheDefaultAndNothingMeansKeepEverything) {
  RetentionPolicy d;
  d.max_lines_per_run = 100;
  d.max_age_us = kDay;
  RetentionPolicy p;
  p.max_lines_per_run = RetentionPolicy::kNoLimit;
  p.max_bytes_per_run = 5;
  RetentionPolicy r = ResolveRetention(p, d);
  EXPECT_EQ(r.max_lines_per_run, RetentionPolicy::kNoLimit);
  EXPECT_EQ(r.max_bytes_per_run, 5);
  EXPECT_EQ(r.max_age_us, kDay);
  EXPECT_EQ(r.age_action, AgeAction::kDeleteLogs);
  EXPECT_FALSE(RemovesAnything(ResolveRetention({}, {})));
}

TEST(RetentionPlanner, KeepsEverythingWithoutAPolicy) {
  std::vector<RetentionRun> runs = {MakeRun("a", "p", RunState::kFinished, 1000000, 99, 0)};
  EXPECT_TRUE(PlanRetention({}, {}, runs, 100 * kDay).empty());
}

TEST(RetentionPlanner, MaxAgeTakesFinishedRunsOnlyAndSaysWhetherTheRunGoes) {
  RetentionPolicy p;
  p.max_age_us = 2 * kDay;
  p.age_action = AgeAction::kDeleteRun;
  std::vector<RetentionRun> runs = {
      MakeRun("old", "p", RunState::kFailed, 10, 10, 1 * kDay),
      MakeRun("young", "p", RunState::kFinished, 10, 10, 9 * kDay),
      MakeRun("running", "p", RunState::kRunning, 10, 10),
      MakeRun("empty-old", "p", RunState::kFinished, 0, 0, 0),
  };
  auto tasks = PlanRetention({{"p", p}}, {}, runs, 10 * kDay);
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].run_id, "old");
  EXPECT_TRUE(tasks[0].all && tasks[0].delete_run);
  EXPECT_EQ(tasks[1].run_id, "empty-old");  // no lines, but the run itself goes
  p.age_action = AgeAction::kDeleteLogs;
  tasks = PlanRetention({{"p", p}}, {}, runs, 10 * kDay);
  ASSERT_EQ(tasks.size(), 1u);  // an empty run has no logs to remove
  EXPECT_FALSE(tasks[0].delete_run);
}

TEST(RetentionPlanner, RotationAsksForTheExcessOfEitherLimit) {
  RetentionPolicy p;
  p.max_lines_per_run = 1000;
  p.max_bytes_per_run = 50000;
  std::vector<RetentionRun> runs = {MakeRun("lines", "p", RunState::kRunning, 1500, 10000),
                                    MakeRun("bytes", "p", RunState::kRunning, 800, 80000),
                                    MakeRun("within", "p", RunState::kRunning, 1000, 50000)};
  auto tasks = PlanRetention({{"p", p}}, {}, runs, 0);
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].reason, RetentionReason::kMaxLinesPerRun);
  EXPECT_EQ(tasks[0].lines, 500);
  EXPECT_EQ(tasks[0].bytes, 0);
  EXPECT_EQ(tasks[1].reason, RetentionReason::kMaxBytesPerRun);
  EXPECT_EQ(tasks[1].bytes, 30000);
}

TEST(RetentionPlanner, ProjectCapTakesOldestFinishedRunsFirstAndNeverRunningOnes) {
  RetentionPolicy p;
  p.max_bytes_per_project = 250;
  std::vector<RetentionRun> runs = {
      MakeRun("newest", "p", RunState::kFinished, 10, 100, 30),
      MakeRun("live", "p", RunState::kRunning, 10, 100),
      MakeRun("oldest", "p", RunState::kFinished, 10, 100, 10),
      MakeRun("middle", "p", RunState::kCrashed, 10, 100, 20),
      MakeRun("elsewhere", "q", RunState::kFinished, 10, 1000, 0),
  };
  auto tasks = PlanRetention({{"p", p}}, {}, runs, 0);
  ASSERT_EQ(tasks.size(), 2u);  // 400 - 250 = 150: all of the oldest, half of the next
  EXPECT_EQ(tasks[0].run_id, "oldest");
  EXPECT_EQ(tasks[0].bytes, 100);
  EXPECT_EQ(tasks[1].run_id, "middle");
  EXPECT_EQ(tasks[1].bytes, 50);
}

TEST(RetentionPlanner, ProjectCapCountsWhatRotationRemovesAlready) {
  RetentionPolicy p;
  p.max_bytes_per_project = 300;
  p.max_bytes_per_run = 150;
  std::vector<RetentionRun> runs = {MakeRun("a", "p", RunState::kFinished, 10, 200, 1),
                                    MakeRun("b", "p", RunState::kFinished, 10, 150, 2)};
  auto tasks = PlanRetention({{"p", p}}, {}, runs, 0);
  ASSERT_EQ(tasks.size(), 1u);  // a rotates to 150: 300 in all, within the cap
  EXPECT_EQ(tasks[0].reason, RetentionReason::kMaxBytesPerRun);
}

TEST(RetentionCutPlan, TakesWholeOldestChunksUntilTheExcessIsGone) {
  RetentionTask t;
  t.run_id = "r";
  t.lines = 1500;
  RetentionView v;
  v.writers = {{"main", 0, -1, 4000}};
  for (int i = 0; i < 4; ++i) v.chunks.push_back(Chunk(1 + i * 1000, 1000, 10000));
  RetentionCut cut;
  auto more = PlanCut(t, v, 0, 0, 64, kNoDecode, &cut);
  ASSERT_TRUE(more.ok());
  EXPECT_TRUE(*more);
  EXPECT_EQ(cut.chunks, 2);  // 1000 is not enough: a second whole chunk
  EXPECT_EQ(cut.first_line, 1);
  EXPECT_EQ(cut.last_first_line, 1001);
  EXPECT_EQ(cut.last_line, 2000);
  EXPECT_EQ(cut.removed.total, 2000);
  EXPECT_EQ(cut.removed.bytes, 20000);
  EXPECT_EQ(cut.removed.level_counts[1], 2000);
  EXPECT_EQ(cut.removed.source_counts[0], 2000);
  EXPECT_EQ(cut.by_writer.at(0), 2000);
  // Done once enough went.
  more = PlanCut(t, v, 2000, 20000, 64, kNoDecode, &cut);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
}

TEST(RetentionCutPlan, StepsAreBoundedAndAllMeansEveryChunk) {
  RetentionTask t;
  t.all = true;
  RetentionView v;
  for (int i = 0; i < 10; ++i) v.chunks.push_back(Chunk(1 + i * 10, 10, 100));
  RetentionCut cut;
  auto more = PlanCut(t, v, 0, 0, 4, kNoDecode, &cut);
  ASSERT_TRUE(more.ok() && *more);
  EXPECT_EQ(cut.chunks, 4);
  EXPECT_EQ(cut.last_line, 40);
  v.chunks.clear();
  more = PlanCut(t, v, 40, 0, 4, kNoDecode, &cut);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
}

TEST(RetentionCutPlan, DecodesChunksWithoutSourceCountsOrWithSeveralWriters) {
  RetentionTask t;
  t.all = true;
  RetentionView v;
  v.writers = {{"rank-0", 0, -1, 0}, {"rank-1", 1, -1, 0}};
  RetentionChunk legacy = Chunk(1, 2, 10, 1);
  legacy.source_counts.reset();
  v.chunks.push_back(legacy);
  v.chunks.push_back(Chunk(3, 2, 10, 0b11));
  int decoded = 0;
  ChunkLines decode = [&](int64_t first) -> Result<std::vector<LogLine>> {
    ++decoded;
    std::vector<LogLine> lines(2);
    lines[0].writer = "rank-0";
    lines[0].source = Source::kStderr;
    lines[0].level = Level::kError;
    lines[1].writer = first == 1 ? "rank-0" : "rank-1";
    return lines;
  };
  RetentionCut cut;
  auto more = PlanCut(t, v, 0, 0, 64, decode, &cut);
  ASSERT_TRUE(more.ok() && *more);
  EXPECT_EQ(decoded, 2);
  EXPECT_EQ(cut.removed.source_counts[1], 2);
  EXPECT_EQ(cut.removed.source_counts[0], 2);
  EXPECT_EQ(cut.removed.level_counts[3], 2);
  EXPECT_EQ(cut.by_writer.at(0), 3);
  EXPECT_EQ(cut.by_writer.at(1), 1);
}

TEST(RetentionCutPlan, AChunkThatChangedWhileReadIsAConflict) {
  RetentionTask t;
  t.all = true;
  RetentionView v;
  RetentionChunk c = Chunk(1, 5, 10);
  c.source_counts.reset();
  v.chunks.push_back(c);
  ChunkLines short_read = [](int64_t) -> Result<std::vector<LogLine>> {
    return std::vector<LogLine>(3);
  };
  RetentionCut cut;
  EXPECT_EQ(PlanCut(t, v, 0, 0, 64, short_read, &cut).status().code(), Code::kConflict);
}

TEST(RetentionSubtract, NeverGoesBelowZero) {
  RunCounters run;
  run.total = 5;
  run.bytes = 50;
  run.level_counts = {5, 0, 0, 0, 0};
  RunCounters removed;
  removed.total = 7;
  removed.bytes = 20;
  removed.level_counts = {7, 0, 0, 0, 0};
  SubtractRemoved(removed, &run);
  EXPECT_EQ(run.total, 0);
  EXPECT_EQ(run.bytes, 30);
  EXPECT_EQ(run.level_counts[0], 0);
}

}  // namespace
}  // namespace wanllmdb
