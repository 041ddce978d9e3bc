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
};

// Folds as "start+length kind" strings, e.g. "2+5t".
std::vector<std::string> FoldsOf(const std::vector<In>& lines) {
  std::vector<std::string> out;
  FoldBuilder b([&](const Fold& f) {
    out.push_back(std::to_string(f.start) + "+" + std::to_string(f.length) +
                  FoldKindLetter(f.kind));
  });
  for (const In& l : lines) b.Add(MakeFoldLine(l.text, l.writer, 0, l.ts));
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

TEST(FoldRules, ALineOfAnotherWriterEndsARecord) {
  std::vector<In> in = {{"Traceback (most recent call last):", 1, 0},
                        {"  File \"b.py\", line 7", 2, 0},
                        {"  File \"a.py\", line 1", 1, 0},
                        {"ValueError: x", 1, 0}};
  // Writer 2's line breaks writer 1's traceback: nothing folds (it reads right in time order or
  // with a writer filter, where the traceback is adjacent again).
  EXPECT_TRUE(FoldsOf(in).empty());
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
