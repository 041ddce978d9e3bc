// The disk spool (doc/spool_format.md), shared with the Python SDK:
//   <root>/<run-id>/run.json, final.json, writers/<writer>/NNNNNN.jsonl,
//   writers/<writer>/acked.json
// SpoolWriter is the write side of one writer of one run; the free functions are the read side
// used by `wanllmdb sync`. The C++ capture spools every batch before it is uploaded (a write-ahead
// log), so whatever the capture read survives the capture process itself being killed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace wanllmdb {

inline constexpr uint64_t kSegmentMaxBytes = 64ull * 1024 * 1024;

// Where one record (a batch line, without its LF) lives.
struct SpoolRef {
  int segment = 0;  // number of the segment file (000001.jsonl = 1)
  uint64_t offset = 0;
  uint64_t length = 0;
};

// Thread-safety: none; the owner (the uploader, under its lock) serializes calls.
class SpoolWriter {
 public:
  // Creates <root>/<run_id>/ with run.json (`run_body` is the POST /runs body) and the writer's
  // directory; the first Append() starts a new segment (the next free number).
  static Result<std::unique_ptr<SpoolWriter>> Open(const std::filesystem::path& root,
                                                   const std::string& run_id,
                                                   const std::string& run_body,
                                                   const std::string& writer);
  ~SpoolWriter();

  // Appends `record` + LF with one write(2): once it returns, a crash of this process loses
  // nothing (the kernel has the bytes); fsync happens in Sync().
  Result<SpoolRef> Append(std::string_view record);
  Result<std::string> Read(const SpoolRef& ref) const;
  Status SetAcked(int64_t seq);
  Status WriteFinal(std::string_view state, std::optional<int64_t> exit_code, bool applied);
  void Sync();
  // Deletes this writer's files; then run.json/final.json and the run directory when no other
  // writer is left (they may belong to other processes of the run); and the spool root if empty.
  void Remove();

  const std::filesystem::path& run_dir() const { return run_dir_; }

 private:
  SpoolWriter() = default;
  std::filesystem::path SegmentPath(int n) const;

  std::filesystem::path run_dir_, writer_dir_;
  int segment_ = 0;  // current segment number; 0 = none open
  int fd_ = -1;
  uint64_t size_ = 0;
};

bool ValidWriterName(std::string_view name);
// Replaces a small file atomically: <name>.tmp.<pid>, fsync, rename.
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view content);
Result<std::string> ReadWholeFile(const std::filesystem::path& path);

// A run directory itself, or every run directory (one with run.json) below a spool directory.
std::vector<std::filesystem::path> FindRunDirs(const std::filesystem::path& path);
// -1 when absent or unreadable.
int64_t ReadAcked(const std::filesystem::path& writer_dir);

struct SpooledLine {
  int64_t seq = 0;
  std::string json;  // the line object, minified
};
// Every line of a writer with seq > `acked`, in seq order, each seq once. Torn or invalid
// segment lines (a crash mid-write) are skipped.
Result<std::vector<SpooledLine>> ReadWriterLines(const std::filesystem::path& writer_dir,
                                                 int64_t acked);
// The two steps of ReadWriterLines, apart so that they can be fuzzed without files: the lines of
// one segment's text with seq > `acked`, appended in file order; then seq order, first of each seq.
void ParseSegment(std::string_view text, int64_t acked, std::vector<SpooledLine>* out);
void SortBySeqUnique(std::vector<SpooledLine>* lines);

}  // namespace wanllmdb
