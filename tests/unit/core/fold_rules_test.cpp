// The fold rules (core/fold_rules.h) on the shapes of output they are for.
#include "core/fold_rules.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wanllmdb {
namespace {

struct In {
  std::string text;
  uint32_t writer = 0;
  int64_t ts = 0;
  uint8_t source = 0;
};

// Folds as "start+length kind" strings, e.g. "2+5t", with their holes: "0+5t-1,3".
std::vector<std::string> FoldsOf(const std::vector<In>& lines) {
  std::vector<std::string> out;
  FoldBuilder b([&](const Fold& f, std::span<const int64_t> holes) {
    EXPECT_EQ(f.holes, holes.size());
    std::string s =
        std::to_string(f.start) + "+" + std::to_string(f.length) + FoldKindLetter(f.kind);
    for (size_t i = 0; i < holes.size(); ++i) s += (i ? "," : "-") + std::to_string(holes[i]);
    out.push_back(s);
  });
  for (const In& l : lines) b.Add(MakeFoldLine(l.text, l.writer, l.source, l.ts));
  b.Finish();
  return out;
}

std::vector<In> Texts(const std::vector<std::string>& t, int64_t step_us = 5000) {
  std::vector<In> out;
  for (size_t i = 0; i < t.size(); ++i) out.push_back({t[i], 0, static_cast<int64_t>(i) * step_us});
  return out;
}

using V = std::vector<std::string>;

TEST(FoldRules, TracebackIsOneFoldToItsExceptionLine) {
  auto f = FoldsOf(Texts(
      {"epoch 1", "Traceback (most recent call last):", "  File \"train.py\", line 3, in <module>",
       "    main()", "ValueError: bad", "epoch 2"}));
  EXPECT_EQ(f, V({"1+4t"}));
}

TEST(FoldRules, ChainedTracebacksStayOneFold) {
  auto f = FoldsOf(
      Texts({"Traceback (most recent call last):", "  File \"a.py\", line 1", "KeyError: 'x'", "",
             "During handling of the above exception, another exception occurred:", "",
             "Traceback (most recent call last):", "  File \"a.py\", line 3", "RuntimeError: y", "",
             "next"}));
  // The blank line after the last exception line is not part of it.
  EXPECT_EQ(f, V({"0+9t"}));
}

TEST(FoldRules, WarningWithItsSourceLine) {
  auto f = FoldsOf(
      Texts({"train.py:12: UserWarning: deprecated", "  warnings.warn(\"deprecated\")", "step 1"}));
  EXPECT_EQ(f, V({"0+2r"}));
}

TEST(FoldRules, LoggingRecordContinuesOnLinesOfTheSameWrite) {
  std::vector<In> in = {{"2024-05-01 12:00:00,001 INFO config:", 0, 100},
                        {"lr=0.1", 0, 100},
                        {"bs=32", 0, 150},
                        {"plain print later", 0, 900000},
                        {"2024-05-01 12:00:01,000 INFO next", 0, 1000000}};
  EXPECT_EQ(FoldsOf(in), V({"0+3r"}));
}

TEST(FoldRules, AnotherWritersLinesAreHolesOfARecord) {
  std::vector<In> in = {{"Traceback (most recent call last):", 1, 0},
                        {"step 7", 2, 0},
                        {"  File \"a.py\", line 1", 1, 0},
                        {"ValueError: x", 1, 0},
                        {"step 8", 2, 0}};
  // Writer 2's line sits inside writer 1's traceback, which folds around it.
  EXPECT_EQ(FoldsOf(in), V({"0+4t-1"}));
}

TEST(FoldRules, RanksFailingAtOnceEachFoldTheirTraceback) {
  // Two ranks print the same traceback at the same moment, line by line interleaved.
  std::vector<In> in;
  for (const char* t : {"Traceback (most recent call last):", "  File \"train.py\", line 9",
                        "    loss.backward()", "RuntimeError: NCCL timeout"}) {
    in.push_back({std::string("[rank0]: ") + t, 0, 0});
    in.push_back({std::string("[rank1]: ") + t, 1, 0});
  }
  in.push_back({"[rank0]: next", 0, 0});
  EXPECT_EQ(FoldsOf(in), V({"0+7t-1,3,5", "1+7t-2,4,6"}));
}

TEST(FoldRules, StderrTracebackFoldsAroundStdoutLines) {
  std::vector<In> in = {{"Traceback (most recent call last):", 0, 0, 1},
                        {"epoch 3 done", 0, 0, 0},
                        {"  File \"a.py\", line 1", 0, 0, 1},
                        {"KeyError: 'k'", 0, 0, 1}};
  EXPECT_EQ(FoldsOf(in), V({"0+4t-1"}));
}

TEST(FoldRules, ARecordDoesNotReachAcrossALongGap) {
  std::vector<In> in = {{"Traceback (most recent call last):", 1, 0}};
  for (int64_t i = 0; i < FoldBuilder::kMaxGap; ++i)
    in.push_back({"other " + std::to_string(i), 2, 0});
  in.push_back({"  File \"a.py\", line 1", 1, 0});  // kMaxGap positions after: still joins
  for (int64_t i = 0; i <= FoldBuilder::kMaxGap; ++i)
    in.push_back({"more " + std::to_string(i), 2, 0});
  in.push_back({"  File \"b.py\", line 2", 1, 0});  // one more: too far, a line of its own
  auto f = FoldsOf(in);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].substr(0, f[0].find('-')), "0+" + std::to_string(FoldBuilder::kMaxGap + 2) + "t");
}

TEST(FoldRules, FoldsComeOutInStartOrderWhateverClosesFirst) {
  // Writer 1's record starts first but is decided last; repeats between stay in order.
  std::vector<In> in = {{"Traceback (most recent call last):", 1, 0},
                        {"tick", 2, 0},
                        {"tick", 2, 0},
                        {"train.py:3: UserWarning: w", 3, 0},
                        {"  warnings.warn(\"w\")", 3, 0},
                        {"  File \"a.py\", line 1", 1, 0},
                        {"ValueError: x", 1, 0},
                        {"done", 2, 0}};
  EXPECT_EQ(FoldsOf(in), V({"0+7t-1,2,3,4", "1+2x", "3+2r"}));
}

TEST(FoldRules, MoreWritersAtOnceThanRecordsKeptOpen) {
  // One writer more than records kept open: the quietest (the first) is decided to make room;
  // every other traceback folds, and the first writer's next line is a line of its own.
  std::vector<In> in;
  const auto writers = static_cast<uint32_t>(FoldBuilder::kMaxOpen) + 1;
  for (uint32_t w = 0; w < writers; ++w) in.push_back({"Traceback (most recent call last):", w, 0});
  for (uint32_t w = 0; w < writers; ++w) in.push_back({"  File \"a.py\"", w, 0});
  auto f = FoldsOf(in);
  ASSERT_EQ(f.size(), FoldBuilder::kMaxOpen);
  EXPECT_EQ(f.front().substr(0, f.front().find('-')), "1+" + std::to_string(writers + 1) + "t");
}

TEST(FoldRules, IdenticalLinesCollapseAcrossWriters) {
  std::vector<In> in = {{"a", 0, 0},
                        {"warning: slow", 0, 1},
                        {"warning: slow", 1, 2},
                        {"warning: slow", 2, 3},
                        {"b", 0, 4},
                        {"b", 0, 5}};
  EXPECT_EQ(FoldsOf(in), V({"1+3x", "4+2x"}));
}

TEST(FoldRules, RepeatsAndRecordsInterleave) {
  auto f = FoldsOf(Texts(
      {"x", "x", "Traceback (most recent call last):", "  File \"a\"", "E: e", "x", "x", "x"}));
  EXPECT_EQ(f, V({"0+2x", "2+3t", "5+3x"}));
}

TEST(FoldRules, RankPrefixesAreLookedThrough) {
  auto f = FoldsOf(Texts({"[rank1]: Traceback (most recent call last):",
                          "[rank1]:   File \"a.py\", line 1, in f", "[rank1]: OSError: disk"}));
  EXPECT_EQ(f, V({"0+3t"}));
}

TEST(FoldRules, PlainLinesDoNotFold) {
  // An indented line continues the line before it; a record never starts with one.
  EXPECT_EQ(FoldsOf(Texts({"a", "b", "  b's detail", "c"})), V({"1+2r"}));
  EXPECT_TRUE(FoldsOf(Texts({"  a", "  b"})).empty());
  EXPECT_TRUE(FoldsOf({}).empty());
}

TEST(FoldRules, Classify) {
  EXPECT_EQ(ClassifyFoldLine(""), kFoldBlank);
  EXPECT_EQ(ClassifyFoldLine("   "), kFoldBlank);
  EXPECT_EQ(ClassifyFoldLine("  x"), kFoldIndented);
  EXPECT_TRUE(ClassifyFoldLine("INFO:root:hi") & kFoldRecordPrefix);
  EXPECT_TRUE(ClassifyFoldLine("[2024-05-01 10:00:00] x") & kFoldRecordPrefix);
  EXPECT_TRUE(ClassifyFoldLine("I0501 12:00:00.1 x") & kFoldRecordPrefix);
  EXPECT_FALSE(ClassifyFoldLine("INFORMATION") & kFoldRecordPrefix);
}

}  // namespace
}  // namespace wanllmdb
