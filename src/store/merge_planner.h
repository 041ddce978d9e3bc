// MergePlanner: which small chunks the background merger packs together, the same for every
// backend (DESIGN §3). The merger walks the work list (chunks not yet recompressed, or small
// enough that neighbours may join them) in key order from a cursor, one page at a time, so
// chunks that cannot be merged (a finished run's small last chunk) never starve the rest.
// A group is consecutive chunks of one run, up to ~1,000 lines / 128 KiB, and never more
// distinct writers than the chunk format holds: BuildMerge closes the group there.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
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
  // How many times Plan answered kGroup so far (RunMergerLoop tells merging from paging).
  int64_t groups_planned() const { return groups_planned_; }

 private:
  std::string cursor_run_;
  int64_t cursor_line_ = 0;
  int64_t groups_planned_ = 0;
};

// The merged replacement of a prefix of a group.
struct MergedChunk {
  size_t chunks_taken = 0;  // group[0, chunks_taken) are replaced
  std::vector<LogLine> lines;
  uint64_t writer_mask = 0;
  std::string payload;
  std::string text_filter;  // core/text_filter.h
};

// Decodes the group's payloads (parallel to the group), keeps the longest prefix whose lines
// hold at most kMaxChunkWriters distinct writers, and encodes it as one chunk. Outcomes: OK, or
// kInternal for a payload that does not decode.
// Thread-safety: a pure function.
Result<MergedChunk> BuildMerge(const std::vector<std::string>& payloads,
                               const std::vector<uint64_t>& writer_masks, int zstd_level);

// Worth swapping in: two or more chunks become one, or one chunk gets recompressed.
bool WorthMerging(const std::vector<MergeCandidate>& group, size_t taken);

// What a store tells its merger before each step, and what one step did (RunMergerLoop below).
enum class MergerState { kQuiet, kIngestBusy, kStop };
enum class MergeStep { kGroup, kPaged, kIdle };

// What wakes a merger: commits (there may be new chunks) and Close.
// Thread-safety: thread-safe.
class MergeWakeups {
 public:
  void Post();
  // Until a Post since the last Wait returned, or one second.
  void Wait();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t posted_ = 0;  // Guarded by mu_
  int64_t seen_ = 0;    // Guarded by mu_
};

// The merger thread's pacing, the same for every backend. Each round waits for a wakeup (an
// append) or a second, lets an ingest burst settle for 200 ms, then takes up to 64 steps of
// `merge_once` (one group merged, or one page of the work list read past) while it finds work
// and `state` says ingest is quiet. A round that used its whole budget and merged something
// starts the next at once: a backlog (the merger yields the CPU to ingest,
// core/thread_priority.h) is worked off at full speed once ingest pauses, not 64 groups a
// second; a round that only paged past unmergeable chunks waits, so a store of many finished
// runs is not walked over and over. Returns when `state` says stop.
void RunMergerLoop(MergeWakeups& wakeups, const std::function<MergerState()>& state,
                   const std::function<MergeStep()>& merge_once);

}  // namespace wanllmdb
