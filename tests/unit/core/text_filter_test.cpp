#include "core/text_filter.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/ansi.h"
#include "core/text.h"

namespace wanllmdb {
namespace {

std::vector<uint32_t> Trigrams(std::string_view needle) {
  std::vector<uint32_t> out;
  AppendQueryTrigrams(AsciiLower(needle), &out);
  return out;
}

bool MayHold(const std::string& filter, std::string_view needle) {
  auto t = Trigrams(needle);
  return TextFilterMayHoldAll(filter, t.data(), t.size());
}

// No false negatives: every substring of every line's visible text passes, in any ASCII case.
TEST(TextFilter, EverySubstringOfVisibleTextMayMatch) {
  std::mt19937 rng(7);
  const std::string alphabet = "abcXYZ019 -_=.:\x1b[m\xc3\xa9";
  std::vector<LogLine> lines(300);
  for (auto& l : lines) {
    int len = 5 + static_cast<int>(rng() % 60);
    for (int i = 0; i < len; ++i) l.message += alphabet[rng() % alphabet.size()];
  }
  std::string filter = BuildTextFilter(lines.data(), lines.size());
  ASSERT_GE(filter.size(), 10u);
  for (const auto& l : lines) {
    std::string v = VisibleText(l.message);
    for (size_t i = 0; i + 3 <= v.size(); i += 2) {
      std::string sub = v.substr(i, 3 + rng() % 8);
      for (char& c : sub) c = (rng() % 2) ? static_cast<char>(std::toupper(c)) : c;
      EXPECT_TRUE(MayHold(filter, sub)) << sub;
    }
  }
}

TEST(TextFilter, AbsentTrigramsAreRuledOut) {
  std::vector<LogLine> lines(1000);
  for (size_t i = 0; i < lines.size(); ++i)
    lines[i].message = "epoch 1 step " + std::to_string(i) + " loss=0.25";
  std::string filter = BuildTextFilter(lines.data(), lines.size());
  EXPECT_LE(filter.size(), 2 + lines.size() * 3);  // the budget: 3 bytes a line
  EXPECT_TRUE(MayHold(filter, "STEP 99"));
  EXPECT_FALSE(MayHold(filter, "CUDA out of memory"));
}

TEST(TextFilter, KelvinSignAndLongSAreIndexedAsTheirLetters) {
  std::vector<LogLine> lines(1);
  lines[0].message =
      "\xe2\x84\xaa"
      "elvin cla\xc5\xbf"
      "s";  // KELVIN SIGN, LONG S
  std::string filter = BuildTextFilter(lines.data(), 1);
  EXPECT_TRUE(MayHold(filter, "kelvin"));
  EXPECT_TRUE(MayHold(filter, "class"));
}

TEST(TextFilter, UnreadableFiltersMayHoldAnything) {
  auto t = Trigrams("anything");
  EXPECT_TRUE(TextFilterMayHoldAll("", t.data(), t.size()));
  EXPECT_TRUE(TextFilterMayHoldAll(std::string("\x09\x0e", 2), t.data(), t.size()));
  EXPECT_TRUE(TextFilterMayHoldAll(std::string("\x01\x0e"
                                               "abc",
                                               5),
                                   t.data(), t.size()));
}

// Block filters (layout 3): the same trigrams, 12 bits a line, no false negatives.
TEST(TextFilter, BlockFiltersHoldEveryTrigramOfTheirLines) {
  std::mt19937 rng(11);
  const std::string alphabet = "abcXYZ019 -_=.:\x1b[m\xc3\xa9";
  for (size_t n : {1u, 7u, 128u}) {
    std::vector<LogLine> lines(n);
    for (auto& l : lines) {
      int len = 5 + static_cast<int>(rng() % 60);
      for (int i = 0; i < len; ++i) l.message += alphabet[rng() % alphabet.size()];
    }
    std::string filter = BuildBlockFilter(lines.data(), n);
    EXPECT_EQ(filter.size() % 8, 0u);
    EXPECT_LE(filter.size(), std::max<size_t>(8, n * 12 / 8 + 8));
    for (const auto& l : lines) {
      std::string v = VisibleText(l.message);
      for (size_t i = 0; i + 3 <= v.size(); ++i) {
        std::string sub = v.substr(i, 3 + rng() % 8);
        for (char& c : sub) c = (rng() % 2) ? static_cast<char>(std::toupper(c)) : c;
        auto t = Trigrams(sub);
        EXPECT_TRUE(BlockFilterMayHoldAll(filter, t.data(), t.size())) << sub;
      }
    }
  }
  std::vector<LogLine> steps(128);
  for (size_t i = 0; i < steps.size(); ++i)
    steps[i].message = "epoch 1 step " + std::to_string(i) + " loss=0.25";
  std::string filter = BuildBlockFilter(steps.data(), steps.size());
  auto t = Trigrams("CUDA out of memory");
  EXPECT_FALSE(BlockFilterMayHoldAll(filter, t.data(), t.size()));
  EXPECT_TRUE(BlockFilterMayHoldAll("", t.data(), t.size()));  // none: may hold anything
}

// The one-pass builder (ingest, merges) writes exactly what the separate builders would.
TEST(TextFilter, OnePassBuildsTheSameFilters) {
  std::vector<LogLine> lines(1000);
  for (size_t i = 0; i < lines.size(); ++i)
    lines[i].message =
        "\x1b[32mstep " + std::to_string(i) + "\x1b[0m loss=0." + std::to_string(i * 7);
  const std::vector<size_t> ends = {128, 256, 300, 1000};
  std::string chunk;
  std::vector<std::string> blocks;
  BuildTextFilters(lines.data(), lines.size(), ends, &chunk, &blocks);
  EXPECT_EQ(chunk, BuildTextFilter(lines.data(), lines.size()));
  ASSERT_EQ(blocks.size(), ends.size());
  size_t begin = 0;
  for (size_t b = 0; b < ends.size(); ++b) {
    EXPECT_EQ(blocks[b], BuildBlockFilter(lines.data() + begin, ends[b] - begin)) << b;
    begin = ends[b];
  }
}

}  // namespace
}  // namespace wanllmdb
