#include "server/gzip_stream.h"

#include <gtest/gtest.h>
#include <zlib.h>

namespace wanllmdb {
namespace {

std::string Gunzip(const std::string& gz) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

TEST(GzipStream, PiecesMakeOneGzipFileAndEveryPieceYieldsBytes) {
  GzipStream g;
  std::string out, all;
  std::string text;
  for (int k = 0; k < 3; ++k) {
    std::string piece(100000, static_cast<char>('a' + k));
    text += piece;
    out.clear();
    ASSERT_TRUE(g.Write(piece, false, &out).ok());
    EXPECT_FALSE(out.empty());
    all += out;
  }
  out.clear();
  ASSERT_TRUE(g.Write("", true, &out).ok());
  EXPECT_FALSE(out.empty());  // the trailer
  all += out;
  EXPECT_EQ(Gunzip(all), text);
  EXPECT_FALSE(g.Write("late", false, &out).ok());
}

TEST(GzipStream, AcceptEncoding) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("br, GZIP;q=0.8"));
  EXPECT_TRUE(AcceptsGzip("deflate, *"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip; q=0.000, br"));
  EXPECT_FALSE(AcceptsGzip("br, deflate"));
  EXPECT_FALSE(AcceptsGzip(""));
}

}  // namespace
}  // namespace wanllmdb
