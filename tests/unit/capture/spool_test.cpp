// Spool round trip: what the C++ writer appends, the reader (sync) gets back in seq order, and
// torn or invalid segment lines are skipped (doc/spool_format.md).
#include "capture/spool.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <filesystem>

#include "capture/batch_json.h"

namespace wanllmdb {
namespace {
namespace fs = std::filesystem;

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("wanllmdb-spool-test-" + std::to_string(::getpid()));
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

std::string Record(const std::string& writer, int64_t first, int n) {
  std::string r = BatchPrefix(writer);
  for (int i = 0; i < n; ++i) {
    if (i) r += ",";
    AppendLineJson(first + i, 1700000000123456 + i, Source::kStdout, "",
                   "line " + std::to_string(first + i) + " \"quoted\" \x1b[31m", &r);
  }
  return r + std::string(kBatchSuffix);
}

TEST_F(SpoolTest, RoundTripInSeqOrder) {
  const std::string id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  auto w = SpoolWriter::Open(root_, id, "{\"project\":\"p\",\"id\":\"" + id + "\"}", "main");
  ASSERT_TRUE(w.ok()) << w.status().message();
  // Out of order on disk: readers must sort by seq.
  auto r2 = (*w)->Append(Record("main", 3, 2));
  auto r1 = (*w)->Append(Record("main", 0, 3));
  ASSERT_TRUE(r1.ok() && r2.ok());
  auto back = (*w)->Read(*r1);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, Record("main", 0, 3));

  fs::path run_dir = root_ / id;
  ASSERT_EQ(FindRunDirs(root_), std::vector<fs::path>{run_dir});
  fs::path wdir = run_dir / "writers" / "main";
  EXPECT_EQ(ReadAcked(wdir), -1);
  auto lines = ReadWriterLines(wdir, -1);
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ((*lines)[i].seq, i);
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_FALSE(p.parse((*lines)[0].json).get(doc));
  std::string_view msg;
  double ts = 0;
  ASSERT_FALSE(doc["message"].get(msg));
  ASSERT_FALSE(doc["timestamp"].get(ts));
  EXPECT_EQ(msg, "line 0 \"quoted\" \x1b[31m");
  EXPECT_NEAR(ts, 1700000000.123456, 1e-5);

  ASSERT_TRUE((*w)->SetAcked(2).ok());
  EXPECT_EQ(ReadAcked(wdir), 2);
  lines = ReadWriterLines(wdir, ReadAcked(wdir));
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ((*lines)[0].seq, 3);

  // A torn last line (a crash mid-write) is skipped, the lines before it are kept.
  int fd = ::open((wdir / "000001.jsonl").c_str(), O_WRONLY | O_APPEND);
  std::string torn = Record("main", 5, 1);
  ASSERT_EQ(::write(fd, torn.data(), torn.size() - 3), static_cast<ssize_t>(torn.size() - 3));
  ::close(fd);
  lines = ReadWriterLines(wdir, -1);
  ASSERT_EQ(lines->size(), 5u);

  ASSERT_TRUE((*w)->WriteFinal("crashed", 137, false).ok());
  auto final_text = ReadWholeFile(run_dir / "final.json");
  ASSERT_TRUE(final_text.ok());
  EXPECT_EQ(*final_text, "{\"state\":\"crashed\",\"exit_code\":137,\"applied\":false}");

  (*w)->Remove();
  EXPECT_FALSE(fs::exists(run_dir));
}

TEST_F(SpoolTest, SecondProcessStartsTheNextSegment) {
  const std::string id = "1f8fad5b-d9cb-469f-a165-70867728950e";
  {
    auto w = SpoolWriter::Open(root_, id, "{}", "rank-0");
    ASSERT_TRUE((*w)->Append(Record("rank-0", 0, 1)).ok());
  }
  auto w = SpoolWriter::Open(root_, id, "{}", "rank-0");
  auto ref = (*w)->Append(Record("rank-0", 1, 1));
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->segment, 2);
  auto lines = ReadWriterLines(root_ / id / "writers" / "rank-0", -1);
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_FALSE(SpoolWriter::Open(root_, id, "{}", "../x").ok());
}

}  // namespace
}  // namespace wanllmdb
