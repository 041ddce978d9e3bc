#include "core/chunk_codec.h"

#include "core/text_filter.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <cstdint>

namespace wanllmdb {
namespace {

std::vector<LogLine> Sample(size_t n) {
  std::vector<LogLine> v;
  for (size_t i = 0; i < n; ++i) {
    LogLine l;
    l.timestamp_us = 1731751200000000 + static_cast<int64_t>(i) * 1234 - (i % 3 ? 0 : 500);
    l.level = static_cast<Level>(i % kLevelCount);
    l.source = static_cast<Source>(i % kSourceCount);
    l.writer = i % 4 == 0 ? "rank-1" : "main";
    l.message = "epoch " + std::to_string(i / 100) + " step " + std::to_string(i) + " loss 0." +
                std::to_string(1000 + i * 7 % 9000);
    if (i == 5) l.message = "";
    if (i == 6) l.message = "caf\xC3\xA9 \x1b[31mred\x1b[0m";
    v.push_back(std::move(l));
  }
  return v;
}

TEST(ChunkCodec, RoundTripsEveryColumn) {
  auto lines = Sample(1000);
  std::string payload = *EncodeChunk(lines.data(), lines.size(), 3);
  DecodedChunk d;
  ASSERT_TRUE(DecodeChunk(payload, &d).ok());
  ASSERT_EQ(d.n, lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(d.timestamps[i], lines[i].timestamp_us) << i;
    EXPECT_EQ(d.levels[i], static_cast<uint8_t>(lines[i].level)) << i;
    EXPECT_EQ(d.sources[i], static_cast<uint8_t>(lines[i].source)) << i;
    EXPECT_EQ(d.writers[d.writer_index[i]], lines[i].writer) << i;
    EXPECT_EQ(d.message(i), lines[i].message) << i;
  }
  // Columnar + zstd: similar training lines compress far below their raw size.
  size_t raw = 0;
  for (auto& l : lines) raw += l.message.size();
  EXPECT_LT(payload.size() * 4, raw);
}

TEST(ChunkCodec, SingleWriterOmitsIndexColumn) {
  std::vector<LogLine> lines(3);
  for (auto& l : lines) l.writer = "main";
  lines[1].message = "x";
  DecodedChunk d;
  ASSERT_TRUE(DecodeChunk(*EncodeChunk(lines.data(), 3, 1), &d).ok());
  EXPECT_EQ(d.writers.size(), 1u);
  EXPECT_EQ(d.message(1), "x");
  EXPECT_EQ(d.message(0), "");
}

TEST(ChunkCodec, RejectsCorruptPayloads) {
  DecodedChunk d;
  EXPECT_FALSE(DecodeChunk("not zstd at all", &d).ok());
  auto lines = Sample(10);
  std::string payload = *EncodeChunk(lines.data(), lines.size(), 1);
  payload[payload.size() / 2] ^= 0x55;
  payload.resize(payload.size() - 3);
  EXPECT_FALSE(DecodeChunk(payload, &d).ok());
}

TEST(ChunkCodec, EncodingFailsPastTheWriterLimit) {
  std::vector<LogLine> lines(kMaxChunkWriters + 1);
  for (size_t i = 0; i < lines.size(); ++i) lines[i].writer = "rank-" + std::to_string(i);
  auto over = EncodeChunk(lines.data(), lines.size(), 1);
  EXPECT_EQ(over.status().code(), Code::kInvalidValue);
  auto at_limit = EncodeChunk(lines.data(), kMaxChunkWriters, 1);
  ASSERT_TRUE(at_limit.ok());
  DecodedChunk d;
  ASSERT_TRUE(DecodeChunk(*at_limit, &d).ok());
  EXPECT_EQ(d.writers.size(), kMaxChunkWriters);
  EXPECT_FALSE(EncodeChunk(lines.data(), 0, 1).ok());
}

// Found by tests/fuzz/chunk_codec_fuzz: deltas between extreme timestamps overflowed int64
// (undefined behaviour; UBSan aborts in the asan and fuzz presets).
TEST(ChunkCodec, ExtremeTimestampsRoundTrip) {
  std::vector<LogLine> lines(4);
  lines[0].timestamp_us = INT64_MIN;
  lines[1].timestamp_us = INT64_MAX;
  lines[2].timestamp_us = INT64_MIN;
  lines[3].timestamp_us = 0;
  for (auto& l : lines) l.writer = "main";
  DecodedChunk d;
  auto encoded = EncodeChunk(lines.data(), lines.size(), 1);
  ASSERT_TRUE(encoded.ok());
  ASSERT_TRUE(DecodeChunk(*encoded, &d).ok());
  for (size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(d.timestamps[i], lines[i].timestamp_us) << i;
}

// Found by tests/fuzz/chunk_codec_fuzz: bytes after the last line's '\n' were accepted, text that
// belongs to no line (a search match there maps to line n, one past the end).
TEST(ChunkCodec, RejectsTextAfterTheLastLine) {
  // n=1, one writer "m", timestamp 0, INFO, stdout, "x\n", then "tail".
  const std::string raw = std::string("\x01\x01\x01m\x00\x01\x00", 7) + "x\ntail";
  std::string payload(ZSTD_compressBound(raw.size()), '\0');
  payload.resize(ZSTD_compress(payload.data(), payload.size(), raw.data(), raw.size(), 1));
  DecodedChunk d;
  EXPECT_FALSE(DecodeChunk(payload, &d).ok());
  const std::string exact = raw.substr(0, raw.size() - 4);
  payload.assign(ZSTD_compressBound(exact.size()), '\0');
  payload.resize(ZSTD_compress(payload.data(), payload.size(), exact.data(), exact.size(), 1));
  ASSERT_TRUE(DecodeChunk(payload, &d).ok());
  EXPECT_EQ(d.n, 1u);
  EXPECT_EQ(d.message(0), "x");
}

// Layout 2: level names and fields ride along; a chunk without them is layout 1, byte for byte.
TEST(ChunkCodec, LevelNamesAndFieldsRoundTrip) {
  auto lines = Sample(300);
  // One block's worth: a layout-1 zstd frame (more lines are layout 3, tested below).
  auto plain = *EncodeChunk(lines.data(), kChunkBlockLines, 3);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i % 3 == 0) lines[i].level_name = i % 2 ? "SUCCESS" : "TRACE";
    if (i % 5 == 0) lines[i].fields = "{\"loss\":" + std::to_string(i) + ",\"rank\":\"r\"}";
  }
  DecodedChunk d;
  ASSERT_TRUE(DecodeChunk(*EncodeChunk(lines.data(), lines.size(), 3), &d).ok());
  ASSERT_EQ(d.n, lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(d.level_name(i), lines[i].level_name) << i;
    EXPECT_EQ(d.line_fields(i), lines[i].fields) << i;
    EXPECT_EQ(d.message(i), lines[i].message) << i;
    LogLine back = d.line(i);
    EXPECT_EQ(back.fields, lines[i].fields);
    EXPECT_EQ(back.level_name, lines[i].level_name);
    EXPECT_EQ(back.writer, lines[i].writer);
  }
  // The text column is still the messages alone: a search never sees field bytes.
  EXPECT_EQ(d.text.find("rank"), std::string_view::npos);

  DecodedChunk p;
  ASSERT_TRUE(DecodeChunk(plain, &p).ok());
  EXPECT_FALSE(p.has_fields());
  EXPECT_TRUE(p.level_names.empty());
  EXPECT_EQ(p.level_name(0), "");
  // Layout 1 starts with n (a varint >= 1), layout 2 with a zero byte.
  std::string raw(ZSTD_getFrameContentSize(plain.data(), plain.size()), '\0');
  ZSTD_decompress(raw.data(), raw.size(), plain.data(), plain.size());
  EXPECT_NE(raw[0], '\0');
}

TEST(ChunkCodec, OnlyFieldsOrOnlyNames) {
  std::vector<LogLine> lines(3);
  for (auto& l : lines) l.writer = "main";
  lines[1].fields = "{\"a\":1}";
  DecodedChunk d;
  ASSERT_TRUE(DecodeChunk(*EncodeChunk(lines.data(), 3, 1), &d).ok());
  EXPECT_TRUE(d.has_fields());
  EXPECT_TRUE(d.level_names.empty());
  EXPECT_EQ(d.line_fields(0), "");
  EXPECT_EQ(d.line_fields(1), "{\"a\":1}");
  lines[1].fields.clear();
  lines[2].level_name = "NOTICE";
  ASSERT_TRUE(DecodeChunk(*EncodeChunk(lines.data(), 3, 1), &d).ok());
  EXPECT_FALSE(d.has_fields());
  EXPECT_EQ(d.level_name(2), "NOTICE");
  EXPECT_EQ(d.level_name(1), "");
}

// More than 255 distinct names (a hostile writer): the chunk is still written; the extra names
// fall back to their canonical level.
TEST(ChunkCodec, TooManyLevelNamesAreDropped) {
  std::vector<LogLine> lines(300);
  for (size_t i = 0; i < lines.size(); ++i) {
    lines[i].writer = "main";
    lines[i].level_name = "L" + std::to_string(i);
  }
  DecodedChunk d;
  auto encoded = EncodeChunk(lines.data(), lines.size(), 1);
  ASSERT_TRUE(encoded.ok());
  ASSERT_TRUE(DecodeChunk(*encoded, &d).ok());
  EXPECT_EQ(d.level_name(254), "L254");
  EXPECT_EQ(d.level_name(255), "");
  EXPECT_EQ(d.level_names.size(), kMaxChunkLevelNames);
}

TEST(ChunkCodec, RejectsBadLayout2) {
  auto make = [](const std::string& raw) {
    std::string payload(ZSTD_compressBound(raw.size()), '\0');
    payload.resize(ZSTD_compress(payload.data(), payload.size(), raw.data(), raw.size(), 1));
    return payload;
  };
  DecodedChunk d;
  const std::string body = std::string("\x01\x01\x01m\x00\x01\x00", 7);
  EXPECT_FALSE(DecodeChunk(make(std::string("\0\0", 2) + body + "x\n"), &d).ok());    // no flags
  EXPECT_FALSE(DecodeChunk(make(std::string("\0\x08", 2) + body + "x\n"), &d).ok());  // unknown
  // Fields flag with a length past the end.
  EXPECT_FALSE(DecodeChunk(make(std::string("\0\x02", 2) + body + "\x7f" + "x\n"), &d).ok());
  // Level name index past the names.
  EXPECT_FALSE(
      DecodeChunk(make(std::string("\0\x01", 2) + body + "\x01\x01N\x02" + "x\n"), &d).ok());
  ASSERT_TRUE(
      DecodeChunk(make(std::string("\0\x01", 2) + body + "\x01\x01N\x01" + "x\n"), &d).ok());
  EXPECT_EQ(d.level_name(0), "N");
  ASSERT_TRUE(DecodeChunk(make(std::string("\0\x02", 2) + body + "\x02{}" + "x\n"), &d).ok());
  EXPECT_EQ(d.line_fields(0), "{}");
}

// Layout 3: more lines than a block holds are cut into blocks (doc/chunk_format.md); every
// column, level name, field and writer survives, and a small chunk stays a plain zstd frame.
std::vector<LogLine> Mixed(size_t n) {
  auto lines = Sample(n);
  for (size_t i = 0; i < n; ++i) {
    if (i % 7 == 3) lines[i].level_name = "NOTICE" + std::to_string(i % 3);
    if (i % 11 == 0) lines[i].fields = "{\"step\":" + std::to_string(i) + "}";
    if (i >= 600) lines[i].writer = "rank-" + std::to_string(i % 5);
  }
  return lines;
}

void ExpectSameLines(const DecodedChunk& d, const std::vector<LogLine>& lines) {
  ASSERT_EQ(d.n, lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    LogLine l = d.line(i);
    EXPECT_EQ(l.timestamp_us, lines[i].timestamp_us) << i;
    EXPECT_EQ(l.level, lines[i].level) << i;
    EXPECT_EQ(l.source, lines[i].source) << i;
    EXPECT_EQ(l.writer, lines[i].writer) << i;
    EXPECT_EQ(l.message, lines[i].message) << i;
    EXPECT_EQ(l.level_name, lines[i].level_name) << i;
    EXPECT_EQ(l.fields, lines[i].fields) << i;
  }
}

TEST(ChunkCodecLayout3, BlocksRoundTripEveryColumn) {
  auto lines = Mixed(1000);
  auto ends = ChunkBlockEnds(lines.data(), lines.size());
  ASSERT_EQ(ends.size(), 8u);  // 128 lines a block
  EXPECT_EQ(ends[0], kChunkBlockLines);
  EXPECT_EQ(ends.back(), lines.size());
  std::string payload = *EncodeChunk(lines.data(), lines.size(), 3);
  EXPECT_EQ(payload[0], '\x03');
  DecodedChunk d;
  ASSERT_TRUE(DecodeChunk(payload, &d).ok());
  ExpectSameLines(d, lines);
  EXPECT_EQ(d.blocks_skipped, 0u);
  // Plain lines too (no names, no fields, one writer), and a chunk that fits a block stays a
  // zstd frame: byte for byte what layout 1 always was.
  auto plain = Sample(300);
  for (auto& l : plain) l.writer = "main";
  ASSERT_TRUE(DecodeChunk(*EncodeChunk(plain.data(), plain.size(), 1), &d).ok());
  ExpectSameLines(d, plain);
  std::string small = *EncodeChunk(plain.data(), kChunkBlockLines, 1);
  EXPECT_EQ(static_cast<uint8_t>(small[0]), 0x28);  // zstd's magic number
}

TEST(ChunkCodecLayout3, BlocksAreCutByBytesToo) {
  std::vector<LogLine> lines(40);
  for (auto& l : lines) l.message.assign(3000, 'x');
  auto ends = ChunkBlockEnds(lines.data(), lines.size());
  ASSERT_GT(ends.size(), 1u);
  EXPECT_EQ(ends[0], kChunkBlockBytes / 3001);
  DecodedChunk d;
  ASSERT_TRUE(DecodeChunk(*EncodeChunk(lines.data(), lines.size(), 1), &d).ok());
  ExpectSameLines(d, lines);
  // One line longer than a block is a block of its own.
  std::vector<LogLine> big(2);
  big[0].message.assign(kChunkBlockBytes + 10, 'y');
  big[1].message = "z";
  EXPECT_EQ(ChunkBlockEnds(big.data(), 2), (std::vector<size_t>{1, 2}));
}

TEST(ChunkCodecLayout3, SkippedBlocksReadAsEmptyLines) {
  auto lines = Mixed(1000);
  std::string payload = *EncodeChunk(lines.data(), lines.size(), 3);
  DecodedChunk d;
  int block = 0;
  std::vector<std::string_view> filters;
  ASSERT_TRUE(DecodeChunk(payload, &d, [&](std::string_view f) {
                filters.push_back(f);
                return block++ % 3 == 1;  // blocks 1, 4, 7
              }).ok());
  ASSERT_EQ(filters.size(), 8u);
  for (auto f : filters) EXPECT_LE(f.size(), kChunkBlockLines);  // a byte a line
  EXPECT_EQ(filters[0].size(), kChunkBlockLines);
  EXPECT_EQ(d.blocks_skipped, 5u);
  ASSERT_EQ(d.n, lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    size_t b = i / kChunkBlockLines;
    if (b % 3 == 1) {
      EXPECT_EQ(d.message(i), lines[i].message) << i;
      EXPECT_EQ(d.level_name(i), lines[i].level_name) << i;
      EXPECT_EQ(d.line_fields(i), lines[i].fields) << i;
      EXPECT_EQ(d.writers[d.writer_index[i]], lines[i].writer) << i;
      EXPECT_EQ(d.timestamps[i], lines[i].timestamp_us) << i;
    } else {
      EXPECT_EQ(d.message(i), "") << i;
      EXPECT_EQ(d.level_name(i), "") << i;
      EXPECT_EQ(d.line_fields(i), "") << i;
    }
  }
  // The same DecodedChunk decodes the whole chunk next (as Scan reuses them).
  ASSERT_TRUE(DecodeChunk(payload, &d).ok());
  ExpectSameLines(d, lines);
}

// A 1,000-line layout-3 payload whose eight blocks have no filter, holding `lines`.
void ExpectEightBlocksWithoutFilters(const std::string& payload,
                                     const std::vector<LogLine>& lines) {
  DecodedChunk d;
  size_t asked = 0;
  ASSERT_TRUE(DecodeChunk(payload, &d, [&](std::string_view f) {
                EXPECT_TRUE(f.empty());
                ++asked;
                return true;
              }).ok());
  EXPECT_EQ(asked, 8u);
  ExpectSameLines(d, lines);
}

TEST(ChunkCodecLayout3, ChunkFilterComesWithThePayload) {
  auto lines = Mixed(1000);
  std::string filter;
  std::string payload = *EncodeChunk(lines.data(), lines.size(), 1, &filter);
  EXPECT_EQ(filter, BuildTextFilter(lines.data(), lines.size()));
  std::string small_filter;
  (void)*EncodeChunk(lines.data(), 10, 1, &small_filter);
  EXPECT_EQ(small_filter, BuildTextFilter(lines.data(), 10));
  // Filters off (server --no-text-filters): no chunk filter, no block filters, same lines.
  SetTextFiltersEnabled(false);
  std::string none = "x";
  std::string plain = *EncodeChunk(lines.data(), lines.size(), 1, &none);
  SetTextFiltersEnabled(true);
  EXPECT_EQ(none, "");
  EXPECT_EQ(plain[1], '\0');  // flags: no block filters
  EXPECT_LT(plain.size(), payload.size());
  ExpectEightBlocksWithoutFilters(plain, lines);
}

// Ingest's chunks (FilterBuild::kSkip): the same lines, no filter of either kind, whatever the
// process-wide switch says; the merger builds them later.
TEST(ChunkCodecLayout3, IngestChunksSkipEveryFilter) {
  auto lines = Mixed(1000);
  std::string filter = "x";
  std::string payload = *EncodeChunk(lines.data(), lines.size(), 1, &filter, FilterBuild::kSkip);
  EXPECT_EQ(filter, "");
  EXPECT_EQ(payload[1], '\0');  // flags: no block filters
  ExpectEightBlocksWithoutFilters(payload, lines);
  std::string small = "x";
  ASSERT_TRUE(EncodeChunk(lines.data(), 10, 1, &small, FilterBuild::kSkip).ok());
  EXPECT_EQ(small, "");  // a one-frame chunk too
}

TEST(ChunkCodecLayout3, RejectsCorruptPayloads) {
  auto lines = Mixed(400);
  std::string payload = *EncodeChunk(lines.data(), lines.size(), 1);
  DecodedChunk d;
  // Every truncation fails; so does anything appended.
  for (size_t len = 0; len < payload.size(); ++len)
    EXPECT_FALSE(DecodeChunk(payload.substr(0, len), &d).ok()) << len;
  EXPECT_FALSE(DecodeChunk(payload + "x", &d).ok());
  // Any byte of the header and block table changed decodes to a Status (and whatever decodes is
  // well-formed), never a crash.
  for (size_t at = 1; at < 64; ++at) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = payload;
      bad[at] = static_cast<char>(bad[at] ^ (1 << bit));
      if (DecodeChunk(bad, &d).ok()) {
        EXPECT_EQ(d.offsets.size(), d.n + 1);
        EXPECT_EQ(d.timestamps.size(), d.n);
      }
    }
  }
  // A block table claiming more lines than its frame could hold (no allocation for them).
  const std::string hostile = std::string("\x03\x00\xff\xff\x7f\x01\x04", 7) + "main" +
                              std::string("\x01\xff\xff\x7f\x01", 5) + "x";
  EXPECT_FALSE(DecodeChunk(hostile, &d, [](std::string_view) { return false; }).ok());
}

}  // namespace
}  // namespace wanllmdb
