// --min-free-disk values: what each form means, and that nonsense is refused.
#include "server/disk_guard.h"

#include <gtest/gtest.h>

namespace wanllmdb {
namespace {

TEST(DiskLimitTest, ParsesSizesSharesAndAuto) {
  constexpr int64_t kGiB = int64_t{1} << 30;
  auto bytes = [](const char* s) {
    auto l = ParseDiskLimit(s);
    EXPECT_TRUE(l.ok()) << s;
    EXPECT_EQ(l->kind, DiskLimit::Kind::kBytes) << s;
    return l->bytes;
  };
  EXPECT_EQ(bytes("0"), 0);
  EXPECT_EQ(bytes("1048576"), 1 << 20);
  EXPECT_EQ(bytes("512M"), 512 << 20);
  EXPECT_EQ(bytes("512mb"), 512 << 20);
  EXPECT_EQ(bytes("2G"), 2 * kGiB);
  EXPECT_EQ(bytes("2GiB"), 2 * kGiB);
  EXPECT_EQ(bytes("1.5G"), 3 * kGiB / 2);
  EXPECT_EQ(bytes("1T"), 1024 * kGiB);
  auto pct = ParseDiskLimit("5%");
  ASSERT_TRUE(pct.ok());
  EXPECT_EQ(pct->MinFreeBytes(100 * kGiB), 5 * kGiB);
  auto aut = ParseDiskLimit("auto");
  ASSERT_TRUE(aut.ok());
  EXPECT_EQ(aut->MinFreeBytes(100 * kGiB), kGiB);           // 5% would be 5 GiB: 1 GiB is smaller
  EXPECT_EQ(aut->MinFreeBytes(10 * kGiB), 10 * kGiB / 20);  // a small disk: 5%
}

TEST(DiskLimitTest, RefusesNonsense) {
  for (const char* s : {"", "G", "-1G", "12X", "101%", "1e99G", "1..5G", "9999999999999T", "5 %"})
    EXPECT_FALSE(ParseDiskLimit(s).ok()) << s;
}

TEST(DiskGuardTest, NoDirectoryChecksNothing) {
  DiskGuard none("");
  EXPECT_FALSE(none.Space().has_value());
  EXPECT_TRUE(none.Check().ok());
}

TEST(DiskGuardTest, ALimitAboveTheFreeSpaceRefuses) {
  auto all = ParseDiskLimit("100%");
  ASSERT_TRUE(all.ok());
  DiskGuard guard("/", *all);
  ASSERT_TRUE(guard.Space().has_value());
  Status s = guard.Check();
  EXPECT_EQ(s.code(), Code::kInsufficientStorage);
  EXPECT_NE(s.message().find("--min-free-disk"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace wanllmdb
