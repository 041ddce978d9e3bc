#include "store/log_query.h"

#include <gtest/gtest.h>

namespace wanllmdb {
namespace {

DecodedChunk Chunk(const std::vector<std::string>& messages) {
  std::vector<LogLine> lines;
  for (size_t i = 0; i < messages.size(); ++i) {
    LogLine l;
    l.message = messages[i];
    l.timestamp_us = static_cast<int64_t>(i) * 1000;
    l.level = i % 2 ? Level::kError : Level::kInfo;
    l.source = i % 2 ? Source::kStderr : Source::kStdout;
    l.writer = i % 3 == 0 ? "rank-1" : "main";
    lines.push_back(l);
  }
  DecodedChunk d;
  EXPECT_TRUE(DecodeChunk(*EncodeChunk(lines.data(), lines.size(), 1), &d).ok());
  return d;
}

std::vector<uint8_t> TextHits(const LogFilter& f, const DecodedChunk& c) {
  auto m = LineMatcher::Compile(f);
  EXPECT_TRUE(m.ok());
  std::vector<uint8_t> hits;
  (*m)->MatchText(c, &hits);
  return hits;
}

TEST(LineMatcher, SearchIsCaseInsensitiveAndPerLine) {
  auto c = Chunk({"Loss is NaN", "all good", "nan again", "banana", "x"});
  LogFilter f;
  f.search = "NAN";
  EXPECT_EQ(TextHits(f, c), (std::vector<uint8_t>{1, 0, 1, 1, 0}));
  f.search = "good\nnan";  // never across lines
  EXPECT_EQ(TextHits(f, c), (std::vector<uint8_t>{0, 0, 0, 0, 0}));
}

// Found by tests/fuzz/matcher_fuzz: the chunk scan folded Unicode case ("k" found the Kelvin
// sign U+212A) while MatchMessage folds ASCII only, so a line matched in a list but not in the
// live tail. Both now fold ASCII only.
TEST(LineMatcher, SearchFoldsAsciiCaseOnlyInBothPaths) {
  auto c = Chunk({"\xE2\x84\xAA", "K", "\xC5\xBF", "S", "caf\xC3\xA9", "CAF\xC3\x89"});
  LogFilter f;
  for (auto [needle, want] : std::vector<std::pair<std::string, std::vector<uint8_t>>>{
           {"k", {0, 1, 0, 0, 0, 0}},
           {"s", {0, 0, 0, 1, 0, 0}},
           {"caf\xC3\xA9", {0, 0, 0, 0, 1, 0}},
           {"CAF\xC3\x89", {0, 0, 0, 0, 0, 1}}}) {
    f.search = needle;
    EXPECT_EQ(TextHits(f, c), want) << needle;
    auto m = LineMatcher::Compile(f);
    ASSERT_TRUE(m.ok());
    for (size_t i = 0; i < c.n; ++i) EXPECT_EQ((*m)->MatchMessage(c.message(i)), want[i]) << i;
  }
}

TEST(LineMatcher, RegexAnchorsAreLineAnchors) {
  auto c = Chunk({"epoch 1 loss 0.5", "step 2", "epoch 10", "xepoch"});
  LogFilter f;
  f.regex = "^epoch \\d+$";
  EXPECT_EQ(TextHits(f, c), (std::vector<uint8_t>{0, 0, 1, 0}));
  f.regex = "loss\\s+0";
  EXPECT_EQ(TextHits(f, c), (std::vector<uint8_t>{1, 0, 0, 0}));
  // \s could cross the line separator in a multi-line scan: it must not match across lines.
  f.regex = "0\\.5\\s+step";
  EXPECT_EQ(TextHits(f, c), (std::vector<uint8_t>{0, 0, 0, 0}));
}

TEST(LineMatcher, SearchAndRegexCombine) {
  auto c = Chunk({"a1", "A2", "b1"});
  LogFilter f;
  f.search = "a";
  f.regex = "1";
  EXPECT_EQ(TextHits(f, c), (std::vector<uint8_t>{1, 0, 0}));
}

TEST(LineMatcher, BadRegexIsInvalidValue) {
  LogFilter f;
  f.regex = "(unclosed";
  auto m = LineMatcher::Compile(f);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Code::kInvalidValue);
  EXPECT_NE(m.status().message().find("missing )"), std::string::npos) << m.status().message();
}

TEST(LineMatcher, MetadataFilters) {
  auto c = Chunk({"a", "b", "c", "d"});
  LogFilter f;
  f.level_mask = 1u << static_cast<int>(Level::kError);
  f.writers = {"main"};
  auto m = LineMatcher::Compile(f);
  ASSERT_TRUE(m.ok());
  std::vector<bool> got;
  for (size_t i = 0; i < c.n; ++i) got.push_back((*m)->MatchMeta(c, i));
  // errors are odd lines; rank-1 wrote lines 0 and 3
  EXPECT_EQ(got, (std::vector<bool>{false, true, false, false}));
  f = {};
  f.since_us = 1000;
  f.until_us = 2000;
  m = LineMatcher::Compile(f);
  got.clear();
  for (size_t i = 0; i < c.n; ++i) got.push_back((*m)->MatchMeta(c, i));
  EXPECT_EQ(got, (std::vector<bool>{false, true, true, false}));
}

}  // namespace
}  // namespace wanllmdb

namespace wanllmdb {
namespace {

// Once, an empty match after the chunk's last '\n' mapped to line n (one past the end): a write
// out of bounds (glibc abort) or a scan that never ended. Every pattern must agree, chunk-wide,
// with the same pattern tested line by line.
TEST(LineMatcher, EmptyMatchesAtTheChunkEndAgreeWithLineByLine) {
  std::vector<std::string> messages;
  for (int i = 0; i < 2000; ++i) messages.push_back(i % 7 == 0 ? "" : "step " + std::to_string(i));
  auto c = Chunk(messages);
  for (const char* pattern : {"^$", "(?m)^$", "^\\d*$", "\\B", "(?-m)$", "(?s-m:^)", "$", "\\b",
                              "(?i-m)^step", "x*", "\\z", "\\A"}) {
    LogFilter f;
    f.regex = pattern;
    auto m = LineMatcher::Compile(f);
    ASSERT_TRUE(m.ok()) << pattern;
    std::vector<uint8_t> hits;
    (*m)->MatchText(c, &hits);
    ASSERT_EQ(hits.size(), messages.size()) << pattern;
    for (size_t i = 0; i < messages.size(); ++i)
      ASSERT_EQ(hits[i] != 0, (*m)->MatchMessage(messages[i])) << pattern << " line " << i;
  }
}

}  // namespace
}  // namespace wanllmdb

namespace wanllmdb {
namespace {

// Search, regex and single-message matching see the visible text, never the escape codes.
TEST(LineMatcher, MatchesVisibleTextNotEscapeCodes) {
  auto c =
      Chunk({"\x1b[32mLoading\x1b[0m dataset from /data", "Load\x1b[1mi\x1b[0mng dataset from x",
             "plain [32m text", "\x1b[32m green \x1b[0m"});
  LogFilter f;
  f.search = "Loading dataset from";
  EXPECT_EQ(TextHits(f, c), (std::vector<uint8_t>{1, 1, 0, 0}));
  f.search = "[32m";  // bytes nobody sees match only where they are visible
  EXPECT_EQ(TextHits(f, c), (std::vector<uint8_t>{0, 0, 1, 0}));
  f.search.clear();
  f.regex = "^Loading dataset from /";
  EXPECT_EQ(TextHits(f, c), (std::vector<uint8_t>{1, 0, 0, 0}));
  f.regex = "^ green $";
  EXPECT_EQ(TextHits(f, c), (std::vector<uint8_t>{0, 0, 0, 1}));
  auto m = LineMatcher::Compile(f);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE((*m)->MatchMessage("\x1b[32m green \x1b[0m"));
  LogFilter s;
  s.search = "[0m";
  auto ms = LineMatcher::Compile(s);
  ASSERT_TRUE(ms.ok());
  EXPECT_FALSE((*ms)->MatchMessage("\x1b[32m green \x1b[0m"));
  EXPECT_TRUE((*ms)->MatchMessage("literal [0m"));
}

TEST(LogFilter, KeyTellsEveryMemberApart) {
  auto with_field = [](const char* expr) {
    LogFilter f;
    f.fields.push_back(*FieldPredicate::Parse(expr));
    return f;
  };
  std::vector<LogFilter> filters(12);
  filters[1].level_mask = 1u << 3;
  filters[2].source_mask = 1u << 1;
  filters[3].writers = {"rank-1"};
  filters[4].writers = {"rank-1", "rank-2"};
  filters[5].search = "loss";
  filters[6].regex = "loss";
  filters[7].since_us = 5;
  filters[8].until_us = 5;
  filters[9] = with_field("loss>1.5");
  filters[10] = with_field("loss>=1.2");
  // A value that ends like the next member begins must not pose as it.
  filters[11].search = "2:ab";
  for (size_t i = 0; i < filters.size(); ++i) {
    for (size_t j = i + 1; j < filters.size(); ++j)
      EXPECT_NE(filters[i].Key(), filters[j].Key()) << i << " vs " << j;
  }
  LogFilter same = with_field("loss>1.5");
  EXPECT_EQ(same.Key(), filters[9].Key());
}

}  // namespace
}  // namespace wanllmdb
