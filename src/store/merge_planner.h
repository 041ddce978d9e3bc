// MergePlanner: which small chunks the background merger packs together, the same for every
// backend (DESIGN §3). The merger walks the work list (chunks not yet recompressed, or small
// enough that neighbours may join them) in key order from a cursor, one page at a time, so
// chunks that cannot be merged (a finished run's small last chunk) never starve the rest.
// A group is consecutive chunks of one run, up to ~1,000 lines / 128 KiB, and never more
// distinct writers than the chunk format holds: BuildMerge closes the group there.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/chunk_writer.h"

namespace wanllmdb {

inline constexpr int kMergePageRows = 256;
// Chunks under this many lines stay on the work list after packing (neighbours may join).
inline constexpr int64_t kMergeSmallLines = 500;

// One work-list row.
struct MergeCandidate {
  std::string run_id;
  int64_t first_line = 0, last_line = 0, n_lines = 0, raw_bytes = 0;
  bool packed = false;
};

// Thread-safety: not thread-safe; owned by one merger.
class MergePlanner {
 public:
  enum class Outcome {
    kGroup,     // merge `group`
    kNextPage,  // nothing on this page: read the next one (from the new cursor) and plan again
    kIdle,      // a whole pass found nothing to merge
  };
  // Read the next page as rows with (run_id, first_line) > cursor, in key order,
  // at most kMergePageRows.
  const std::string& cursor_run() const { return cursor_run_; }
  int64_t cursor_line() const { return cursor_line_; }

  Outcome Plan(const std::vector<MergeCandidate>& page, std::vector<MergeCandidate>* group);
  // After a group was cut short (writer limit): resume right after `last_taken`.
  void ResumeAfter(const MergeCandidate& last_taken);

 private:
  std::string cursor_run_;
  int64_t cursor_line_ = 0;
};

// The merged replacement of a prefix of a group.
struct MergedChunk {
  size_t chunks_taken = 0;  // group[0, chunks_taken) are replaced
  std::vector<LogLine> lines;
  uint64_t writer_mask = 0;
  std::string payload;
};

// Decodes the group's payloads (parallel to the group), keeps the longest prefix whose lines
// hold at most kMaxChunkWriters distinct writers, and encodes it as one chunk. Outcomes: OK, or
// kInternal for a payload that does not decode.
// Thread-safety: a pure function.
Result<MergedChunk> BuildMerge(const std::vector<std::string>& payloads,
                               const std::vector<uint64_t>& writer_masks, int zstd_level);

// Worth swapping in: two or more chunks become one, or one chunk gets recompressed.
bool WorthMerging(const std::vector<MergeCandidate>& group, size_t taken);

}  // namespace wanllmdb
