#include "server/static_path.h"

#include <gtest/gtest.h>

namespace wanllmdb {
namespace {

TEST(StaticPath, PlainPathsResolveRelative) {
  EXPECT_EQ(ResolveStaticPath("/"), "index.html");
  EXPECT_EQ(ResolveStaticPath("/index.html"), "index.html");
  EXPECT_EQ(ResolveStaticPath("/assets/app-1a2b.js"), "assets/app-1a2b.js");
  EXPECT_EQ(ResolveStaticPath("/runs/abc%20d"), "runs/abc d");
}

TEST(StaticPath, AbsoluteAndEmptySegmentsAreRefused) {
  // Each of these once read a file outside the web root.
  EXPECT_EQ(ResolveStaticPath("//etc/passwd"), std::nullopt);
  EXPECT_EQ(ResolveStaticPath("/%2Fetc/passwd"), std::nullopt);
  EXPECT_EQ(ResolveStaticPath("/%2fetc/passwd"), std::nullopt);
  EXPECT_EQ(ResolveStaticPath("//proc/self/environ"), std::nullopt);
  EXPECT_EQ(ResolveStaticPath("/assets//x.js"), std::nullopt);
  EXPECT_EQ(ResolveStaticPath("/assets/"), std::nullopt);
  EXPECT_EQ(ResolveStaticPath(""), std::nullopt);
  EXPECT_EQ(ResolveStaticPath("etc/passwd"), std::nullopt);
}

TEST(StaticPath, DotSegmentsAndEncodedSeparatorsAreRefused) {
  EXPECT_EQ(ResolveStaticPath("/../etc/passwd"), std::nullopt);
  EXPECT_EQ(ResolveStaticPath("/assets/../../x"), std::nullopt);
  EXPECT_EQ(ResolveStaticPath("/%2e%2e/x"), std::nullopt);
  EXPECT_EQ(ResolveStaticPath("/./index.html"), std::nullopt);
  EXPECT_EQ(ResolveStaticPath("/a%5c..%5cb"), std::nullopt);
  EXPECT_EQ(ResolveStaticPath("/a%2f..%2fb"), std::nullopt);
  EXPECT_EQ(ResolveStaticPath("/a%00b"), std::nullopt);
  EXPECT_EQ(ResolveStaticPath("/a%0ab"), std::nullopt);
  EXPECT_EQ(ResolveStaticPath("/a%zz"), std::nullopt);
  EXPECT_EQ(ResolveStaticPath("/a%2"), std::nullopt);
  EXPECT_EQ(ResolveStaticPath("/a%"), std::nullopt);
  EXPECT_EQ(ResolveStaticPath("/..."), "...");  // a plain (odd) name, not a dot segment
}

TEST(StaticPath, SizeIsBounded) {
  std::string deep;
  for (int i = 0; i < 33; ++i) deep += "/a";
  EXPECT_EQ(ResolveStaticPath(deep), std::nullopt);
  EXPECT_EQ(ResolveStaticPath("/" + std::string(5000, 'a')), std::nullopt);
}

}  // namespace
}  // namespace wanllmdb
