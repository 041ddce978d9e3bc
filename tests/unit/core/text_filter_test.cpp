#include "core/text_filter.h"

#include <gtest/gtest.h>

#include <cctype>
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

// The filter is exactly the documented one (doc/chunk_format.md "Text filter"): filters stored
// by earlier versions must keep answering the trigrams queries ask for now. A naive fold and
// hash, written from the documentation, gives the same bits for random text with escapes,
// non-ASCII bytes, the Kelvin sign and the long s (also cut short at the end of a line).
TEST(TextFilter, BitsAreThoseOfTheDocumentedFold) {
  std::mt19937 rng(3);
  const std::vector<std::string> pieces = {
      "a",        "Z",        "k",    " ",        "0",       "-",   "\xc3\xa9", "\xe2\x84\xaa",
      "\xc5\xbf", "\xe2\x84", "\xc5", "\x1b[31m", "\x1b[0m", "\xe2"};
  for (int round = 0; round < 50; ++round) {
    std::vector<LogLine> lines(1 + rng() % 40);
    for (auto& l : lines) {
      size_t len = rng() % 30;
      for (size_t i = 0; i < len; ++i) l.message += pieces[rng() % pieces.size()];
    }
    std::string filter = BuildTextFilter(lines.data(), lines.size());
    ASSERT_GE(filter.size(), 2u);
    const int k = static_cast<uint8_t>(filter[1]);
    std::string want(filter.size(), '\0');
    want[0] = filter[0];
    want[1] = filter[1];
    for (const auto& l : lines) {
      std::string v = VisibleText(l.message), f;
      for (size_t i = 0; i < v.size(); ++i) {
        if (v.compare(i, 3, "\xe2\x84\xaa") == 0) {
          f += 'k';
          i += 2;
        } else if (v.compare(i, 2, "\xc5\xbf") == 0) {
          f += 's';
          i += 1;
        } else {
          f += static_cast<char>(std::tolower(static_cast<unsigned char>(v[i])));
        }
      }
      for (size_t i = 0; i + 2 < f.size(); ++i) {
        auto a = static_cast<uint8_t>(f[i]), b = static_cast<uint8_t>(f[i + 1]),
             c = static_cast<uint8_t>(f[i + 2]);
        if ((a | b | c) & 0x80) continue;
        uint32_t h = (((uint32_t{a} << 16) | (uint32_t{b} << 8) | c) + 0x2545F491u) * 0x9E3779B1u;
        uint32_t bit = h >> (32 - k);
        want[2 + bit / 8] = static_cast<char>(want[2 + bit / 8] | (1 << (bit % 8)));
      }
    }
    EXPECT_EQ(filter, want) << round;
  }
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
