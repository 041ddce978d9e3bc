// The C++ LineAssembler against the shared vectors (tests/vectors/line_assembly.json), read at
// test time so the Python and C++ implementations are always checked against the same file.
#include "capture/line_assembler.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

namespace wanllmdb {
namespace {

std::string Base64Decode(std::string_view in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    size_t v = kAlphabet.find(c);
    if (v == std::string::npos) continue;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::string Repeat(std::string_view piece, int64_t n) {
  std::string out;
  out.reserve(piece.size() * static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out.append(piece);
  return out;
}

TEST(LineAssemblerVectors, AllCasesPass) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  auto error = parser.load(WANLLMDB_SOURCE_DIR "/tests/vectors/line_assembly.json").get(root);
  ASSERT_FALSE(error) << simdjson::error_message(error);
  simdjson::dom::array cases;
  ASSERT_FALSE(root["cases"].get(cases));
  int n_cases = 0;
  for (auto c : cases) {
    std::string_view name;
    ASSERT_FALSE(c["name"].get(name));
    SCOPED_TRACE(std::string(name));
    LineAssembler a;
    int64_t rows = 0;
    if (!c["rows"].get(rows)) a.SetRows(static_cast<int>(rows));
    std::vector<std::string> got;
    for (auto chunk : c["chunks"].get_array()) {
      std::string_view op;
      if (!chunk.get(op)) {
        ASSERT_EQ(op, "settle");
        a.Settle(&got);
        continue;
      }
      std::string bytes;
      for (auto piece : chunk.get_array()) {
        std::string_view b64;
        ASSERT_FALSE(piece["b64"].get(b64));
        int64_t repeat = 1;
        if (piece["repeat"].get(repeat)) repeat = 1;
        bytes += Repeat(Base64Decode(b64), repeat);
      }
      a.Feed(bytes, &got);
    }
    size_t before_flush = got.size();
    a.Flush(&got);
    EXPECT_FALSE(a.HasPartial());
    std::vector<std::string> want;
    for (auto line : c["expected"].get_array()) {
      std::string_view s;
      if (!line.get(s)) {
        want.emplace_back(s);
        continue;
      }
      std::string text;
      for (auto piece : line.get_array()) {
        std::string_view t;
        ASSERT_FALSE(piece["text"].get(t));
        int64_t repeat = 1;
        if (piece["repeat"].get(repeat)) repeat = 1;
        text += Repeat(t, repeat);
      }
      want.push_back(std::move(text));
    }
    int64_t want_before = 0;
    ASSERT_FALSE(c["expected_before_flush"].get(want_before));
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << "line " << i;
    EXPECT_EQ(static_cast<int64_t>(before_flush), want_before);
    ++n_cases;
  }
  EXPECT_GE(n_cases, 60);
}

TEST(LineAssembler, ByteAtATimeMatchesWholeChunk) {
  std::string input =
      "a\rbb\r\nccc\x1b[2K\x1b[31mred\x1b[0m\n\xff\xfe ok\n\x1b[?25lx\ny\r\x1b[2K\x1b[1A\x1b[2K"
      "\x1b[?25h\x1b]8;;u\x1b\\l\x1b]8;;\x07\n\router\n\rinner\x1b[A\xe2\x82";
  LineAssembler whole, bytewise;
  std::vector<std::string> w, b;
  whole.Feed(input, &w);
  whole.Flush(&w);
  for (char c : input) bytewise.Feed(std::string_view(&c, 1), &b);
  bytewise.Flush(&b);
  EXPECT_EQ(w, b);
  ASSERT_EQ(w.size(), 6u);
  EXPECT_EQ(w[0], "bb");
  EXPECT_EQ(w[1], "   \x1b[31mred\x1b[0m");  // ESC[2K erased "ccc", the cursor stayed
  EXPECT_EQ(w[3], "l");                      // the erased live region left nothing
  EXPECT_EQ(w[4], "outer\xef\xbf\xbd");      // the nested bar, still on screen at the end
  EXPECT_EQ(w[5], "inner");
}

TEST(LineAssembler, LiveTextShowsEveryRowOfALiveDisplay) {
  LineAssembler a;
  std::vector<std::string> out;
  a.Feed("\router 1/3\n\rinner 5/10\x1b[A", &out);
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(a.HasLive());
  EXPECT_EQ(a.LiveText(), "outer 1/3\ninner 5/10");
  EXPECT_FALSE(a.NeedsSettle());  // it moved the cursor up: a live region
  a.Feed("\router 3/3\n\r          \r\x1b[A\n\nnext\n", &out);
  EXPECT_EQ(out, (std::vector<std::string>{"outer 3/3", "", "next"}));
  EXPECT_FALSE(a.HasLive());
  EXPECT_FALSE(a.HasPartial());
}

TEST(LineAssembler, PlainLinesNeverHold) {
  LineAssembler a;
  std::vector<std::string> out;
  a.Feed("one\n\x1b[32mtwo\x1b[0m\nthr", &out);
  EXPECT_EQ(out, (std::vector<std::string>{"one", "\x1b[32mtwo\x1b[0m"}));
  EXPECT_FALSE(a.HasLive());
  EXPECT_FALSE(a.NeedsSettle());
}

}  // namespace
}  // namespace wanllmdb
