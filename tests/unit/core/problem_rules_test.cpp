// The problem rule table (core/problem_rules.h) against its own examples and the corpus of real
// failure output in tests/vectors/problems/ (see its README.md for the .expect format).
#include "core/problem_rules.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/level_detector.h"

namespace wanllmdb {
namespace {

std::vector<LogLine> Lines(const std::vector<std::string>& text, Source source = Source::kStdout) {
  std::vector<LogLine> out;
  for (size_t i = 0; i < text.size(); ++i) {
    LogLine l;
    l.message = text[i];
    l.source = source;
    l.timestamp_us = 1000 + static_cast<int64_t>(i);
    out.push_back(l);
  }
  return out;
}

std::vector<ProblemHit> Scan(const std::vector<std::string>& text) {
  return ScanProblems(*ProblemRuleSet::Builtin(), Lines(text), 0);
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> out;
  std::string line;
  std::istringstream in(s);
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

struct Expected {
  std::string kind;
  size_t first = 0, last = 0;
  std::string title_prefix;
};

std::vector<Expected> ReadExpect(const std::filesystem::path& p) {
  std::vector<Expected> out;
  for (const std::string& l : SplitLines(ReadFile(p))) {
    if (l.empty()) continue;
    std::istringstream in(l);
    Expected e;
    in >> e.kind >> e.first >> e.last;
    std::getline(in, e.title_prefix);
    if (!e.title_prefix.empty() && e.title_prefix[0] == ' ') e.title_prefix.erase(0, 1);
    out.push_back(e);
  }
  return out;
}

const std::filesystem::path kCorpus =
    std::filesystem::path(WANLLMDB_SOURCE_DIR) / "tests" / "vectors" / "problems";

TEST(ProblemRules, BuiltinTableCompilesAndEveryExampleMatchesItsRule) {
  auto rules = ProblemRuleSet::Builtin();
  ASSERT_TRUE(rules);
  for (const BuiltinRule& r : BuiltinProblemRules()) {
    auto hits = Scan({std::string(r.example)});
    ASSERT_EQ(hits.size(), 1u) << r.name << ": " << r.example;
    EXPECT_EQ(hits[0].rule, r.name);
    EXPECT_EQ(hits[0].kind, r.kind);
    EXPECT_TRUE(IsProblemKind(hits[0].kind));
  }
}

// The exit-status forms the anchor filter must let through to their regexes ("xit " and
// "xited", not "xit" alone, which "perplexity" holds).
TEST(ProblemRules, ExitStatusFormsAreFoundInAnyCase) {
  for (const char* line : {"Process exited with code 137", "worker: exit code: 137",
                           "EXIT STATUS 137", "Exited with status 137", "job exitcode : -9"}) {
    auto hits = Scan({line});
    ASSERT_EQ(hits.size(), 1u) << line;
    EXPECT_EQ(hits[0].rule, "killed") << line;
  }
  for (const char* line : {"child exited with code 139", "EXITED WITH CODE 139"}) {
    auto hits = Scan({line});
    ASSERT_EQ(hits.size(), 1u) << line;
    EXPECT_EQ(hits[0].kind, "segfault") << line;
  }
  EXPECT_TRUE(Scan({"INFO [eval] epoch 1 step 3 val_loss=0.3836 perplexity=1.962"}).empty());
}

TEST(ProblemRules, OrdinaryLinesAreNotProblems) {
  for (const char* line :
       {"step 100 loss 0.4312 lr 3e-4", "INFO: reading /data/error_logs/x.json",
        "Loaded 1370 examples in 13.7 s", "epoch 1: 100%|###| 137/137 [00:41<00:00, loss=0.2]",
        "info: loss 0.42 inference done", "kill_switch disabled", "Use NCCL_DEBUG=INFO",
        "assertions are on", "memory: 3.2 GiB used", "Traceback support loaded", "nan_policy=omit",
        "2024-04-16 -4.5 -6 -7 -8"}) {
    EXPECT_TRUE(Scan({line}).empty()) << line;
  }
}

TEST(ProblemRules, Corpus) {
  size_t cases = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kCorpus)) {
    if (entry.path().extension() != ".txt") continue;
    ++cases;
    SCOPED_TRACE(entry.path().filename().string());
    auto text = SplitLines(ReadFile(entry.path()));
    auto expected = ReadExpect(std::filesystem::path(entry.path()).replace_extension(".expect"));
    auto hits = Scan(text);
    ASSERT_EQ(hits.size(), expected.size());
    for (size_t i = 0; i < hits.size(); ++i) {
      EXPECT_EQ(hits[i].kind, expected[i].kind);
      EXPECT_EQ(hits[i].first + 1, expected[i].first);
      EXPECT_EQ(hits[i].last + 1, expected[i].last);
      EXPECT_EQ(hits[i].title.substr(0, expected[i].title_prefix.size()), expected[i].title_prefix)
          << hits[i].title;
    }
  }
  EXPECT_GE(cases, 20u);
}

// Each line its own batch, the traceback state carried as the store carries it (the level
// detector's mask in run_writers.traceback): every event still ends where it ends, with its kind.
TEST(ProblemRules, CorpusOneLinePerBatch) {
  for (const auto& entry : std::filesystem::directory_iterator(kCorpus)) {
    if (entry.path().extension() != ".txt") continue;
    const std::string name = entry.path().stem().string();
    if (name == "keyboard_interrupt") continue;  // "^CTraceback": level detection sees no header
    SCOPED_TRACE(name);
    auto text = SplitLines(ReadFile(entry.path()));
    auto expected = ReadExpect(std::filesystem::path(entry.path()).replace_extension(".expect"));
    LevelDetector det;
    std::vector<std::pair<std::string, size_t>> found;  // kind, last line (1-based)
    for (size_t i = 0; i < text.size(); ++i) {
      uint32_t mask = det.in_traceback() ? 1u : 0u;
      (void)det.Detect(text[i]);
      for (const auto& h : ScanProblems(*ProblemRuleSet::Builtin(), Lines({text[i]}), mask))
        found.emplace_back(h.kind, i + 1);
    }
    for (const Expected& e : expected) {
      EXPECT_NE(std::find(found.begin(), found.end(), std::make_pair(e.kind, e.last)), found.end())
          << e.kind << " ending at line " << e.last;
    }
  }
}

TEST(ProblemRules, TracebackEventHasInnermostFrameAndChainedCause) {
  auto hits = Scan(SplitLines(ReadFile(kCorpus / "chained.txt")));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].signature, "traceback:FileNotFoundError");
  EXPECT_NE(hits[0].detail.find("File \"/app/data.py\", line 42, in load"), std::string::npos)
      << hits[0].detail;
  EXPECT_NE(hits[0].detail.find("after: KeyError: 'shard-0007'"), std::string::npos);
}

TEST(ProblemRules, StreamsOfOneWriterAreFollowedApart) {
  std::vector<LogLine> lines = Lines({"Traceback (most recent call last):", "step 5",
                                      "  File \"a.py\", line 1, in <module>", "ValueError: x"});
  lines[1].source = Source::kStdout;
  for (size_t i : {0u, 2u, 3u}) lines[i].source = Source::kStderr;
  auto hits = ScanProblems(*ProblemRuleSet::Builtin(), lines, 0);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].first, 0u);
  EXPECT_EQ(hits[0].last, 3u);
}

TEST(ProblemRules, RepeatsFoldIntoOneHitWithOccurrences) {
  std::vector<std::string> text;
  for (int i = 0; i < 1000; ++i) text.push_back("step " + std::to_string(i) + " loss=nan");
  auto hits = Scan(text);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].occurrences, 1000);
  EXPECT_EQ(hits[0].first, 0u);
  EXPECT_EQ(hits[0].last_seen, 999u);
}

TEST(ProblemRules, AtMostSoManyDistinctProblemsABatch) {
  std::vector<std::string> text;
  for (int i = 0; i < 500; ++i) {
    text.push_back("Traceback (most recent call last):");
    text.push_back("  File \"a.py\", line 1, in <module>");
    text.push_back("Error" + std::to_string(i) + ": x");
  }
  EXPECT_EQ(Scan(text).size(), ProblemScanner::kMaxHitsPerBatch);
}

TEST(ProblemRules, ProjectRules) {
  auto set = ProblemRuleSet::Build(
      {{"loader-timeout", "DataLoader worker \\(pid \\d+\\) exited", Level::kWarning}});
  ASSERT_TRUE(set.ok()) << set.status().message();
  auto hits = ScanProblems(
      **set, Lines({"ok", "RuntimeError: DataLoader worker (pid 4242) exited unexpectedly"}), 0);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].kind, "custom");
  EXPECT_EQ(hits[0].rule, "loader-timeout");
  EXPECT_EQ(hits[0].level, Level::kWarning);
  EXPECT_EQ(hits[0].signature, "custom:loader-timeout");
}

TEST(ProblemRules, HostileProjectRulesAreRefused) {
  EXPECT_EQ(ValidateProjectRule({"x", "(unclosed", Level::kError}).code(), Code::kInvalidValue);
  EXPECT_EQ(ValidateProjectRule({"x", "", Level::kError}).code(), Code::kInvalidValue);
  EXPECT_EQ(
      ValidateProjectRule({"x", std::string(kMaxRuleRegexBytes + 1, 'a'), Level::kError}).code(),
      Code::kInvalidValue);
  EXPECT_EQ(ValidateProjectRule({"bad name", "a", Level::kError}).code(), Code::kInvalidValue);
  EXPECT_EQ(ValidateProjectRule({"cuda_oom", "a", Level::kError}).code(), Code::kInvalidValue);
  // Needs more than the rules' memory budget: refused, not built.
  EXPECT_EQ(ValidateProjectRule({"x", "((a{100}){100}){100}", Level::kError}).code(),
            Code::kInvalidValue);
  // Backtracking bombs for other engines run in linear time under RE2.
  auto set = ProblemRuleSet::Build({{"bomb", "(a+)+$", Level::kError}});
  ASSERT_TRUE(set.ok());
  auto hits = ScanProblems(**set, Lines({std::string(60000, 'a') + "!"}), 0);
  EXPECT_TRUE(hits.empty());
  std::vector<ProjectRule> many(kMaxProjectRules + 1, {"r", "a", Level::kError});
  for (size_t i = 0; i < many.size(); ++i) many[i].name = "r" + std::to_string(i);
  EXPECT_EQ(ProblemRuleSet::Build(many).status().code(), Code::kInvalidValue);
}

TEST(ProblemRules, KindRanks) {
  EXPECT_LT(ProblemKindRank("cuda_oom"), ProblemKindRank("traceback"));
  EXPECT_LT(ProblemKindRank("traceback"), ProblemKindRank("stalled"));
  EXPECT_EQ(ProblemKindRank("nope"), static_cast<int>(std::size(kProblemKinds)));
}

}  // namespace
}  // namespace wanllmdb
