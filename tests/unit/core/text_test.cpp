#include "core/text.h"

#include <gtest/gtest.h>

#include <random>

namespace wanllmdb {
namespace {

std::vector<std::string> Split(std::string_view s, size_t max) {
  std::vector<std::string_view> v;
  SplitIntoLines(s, max, &v);
  return {v.begin(), v.end()};
}

TEST(Utf8, ValidAndInvalid) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("bad \xFF byte"));
  EXPECT_FALSE(IsValidUtf8("overlong \xC0\xAF"));
  EXPECT_FALSE(IsValidUtf8("surrogate \xED\xA0\x80"));
  EXPECT_FALSE(IsValidUtf8("truncated \xE2\x82"));
}

TEST(Utf8, SanitizeReplacesEachBadSubpart) {
  EXPECT_EQ(SanitizeUtf8("a\xFF"
                         "b"),
            "a\xEF\xBF\xBD"
            "b");
  // A truncated 3-byte sequence is one maximal subpart: one replacement.
  EXPECT_EQ(SanitizeUtf8("a\xE2\x82"
                         "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(SanitizeUtf8("\xC3\xA9"), "\xC3\xA9");
  EXPECT_TRUE(IsValidUtf8(SanitizeUtf8("\xF0\x9F\x98")));
}

TEST(SplitIntoLines, NewlinesAndCrLf) {
  EXPECT_EQ(Split("a\nb\r\nc", 100), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Split("a\n", 100), (std::vector<std::string>{"a"}));
  EXPECT_EQ(Split("", 100), (std::vector<std::string>{""}));
  EXPECT_EQ(Split("a\n\nb", 100), (std::vector<std::string>{"a", "", "b"}));
}

TEST(SplitIntoLines, LongLinesSplitAtCodePointBoundary) {
  std::string s =
      "ab\xC3\xA9"
      "cd";  // é is 2 bytes at offset 2
  auto v = Split(s, 3);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0], "ab");
  EXPECT_EQ(v[1],
            "\xC3\xA9"
            "c");
  EXPECT_EQ(v[2], "d");
  std::string big(200 * 1024, 'x');
  auto w = Split(big, 64 * 1024);
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w[0].size(), 65536u);
  EXPECT_EQ(w[3].size(), 200u * 1024 - 3 * 65536);
}

TEST(AsciiLower, LeavesUtf8Alone) {
  EXPECT_EQ(AsciiLower("HeLLo \xC3\x89"), "hello \xC3\x89");
}

// The same answers as lower-casing a copy and std::string::find, at every offset, for needles
// of every length (the SIMD loop, its tail and the scalar path), in text with UTF-8 and bytes
// next to the ASCII letters ('@', '[', '`', '{') that a careless fold would confuse with them.
TEST(FindAsciiCaseless, AgreesWithLowerCasedFind) {
  std::mt19937 rng(5);
  const std::string alphabet = "aAbBzZ@[`{ 0\xc3\xa9\xe2\x84\xaa\n";
  for (int round = 0; round < 400; ++round) {
    std::string hay;
    size_t len = rng() % 90;
    for (size_t i = 0; i < len; ++i) hay += alphabet[rng() % alphabet.size()];
    std::string needle;
    size_t nlen = 1 + rng() % 6;
    if (!hay.empty() && rng() % 2) {
      size_t at = rng() % hay.size();
      needle = hay.substr(at, nlen);
    } else {
      for (size_t i = 0; i < nlen; ++i) needle += alphabet[rng() % alphabet.size()];
    }
    const std::string lower_hay = AsciiLower(hay), nd = AsciiLower(needle);
    for (size_t from = 0; from <= hay.size(); ++from) {
      EXPECT_EQ(FindAsciiCaseless(hay, nd, from), lower_hay.find(nd, from))
          << "hay=" << hay << " needle=" << nd << " from=" << from;
    }
  }
  EXPECT_EQ(FindAsciiCaseless("abc", "", 1), 1u);
  EXPECT_EQ(FindAsciiCaseless("abc", "", 4), std::string_view::npos);
  EXPECT_EQ(FindAsciiCaseless("CUDA Out Of Memory at step 9", "out of memory"), 5u);
}

}  // namespace
}  // namespace wanllmdb
