#include "core/chunk_codec.h"

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

}  // namespace
}  // namespace wanllmdb
