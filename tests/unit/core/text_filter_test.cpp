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

}  // namespace
}  // namespace wanllmdb
