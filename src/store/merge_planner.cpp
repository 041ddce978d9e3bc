#include "store/merge_planner.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/chunk_codec.h"
#include "core/text_filter.h"

namespace wanllmdb {

bool WorthMerging(const std::vector<MergeCandidate>& group, size_t taken) {
  return taken >= 2 || (taken == 1 && !group[0].packed);
}

MergePlanner::Outcome MergePlanner::Plan(const std::vector<MergeCandidate>& page,
                                         std::vector<MergeCandidate>* group) {
  group->clear();
  std::vector<MergeCandidate> cur;
  int64_t lines = 0, bytes = 0;
  auto close_group = [&] {
    if (WorthMerging(cur, cur.size())) *group = cur;
    cur.clear();
    lines = bytes = 0;
  };
  const int rows = static_cast<int>(page.size());
  for (const MergeCandidate& c : page) {
    if (!cur.empty() &&
        (c.run_id != cur.back().run_id || c.first_line != cur.back().last_line + 1 ||
         lines + c.n_lines > static_cast<int64_t>(kMergeChunkLines) ||
         bytes + c.raw_bytes > static_cast<int64_t>(kMergeChunkBytes))) {
      close_group();
      if (!group->empty()) break;
    }
    lines += c.n_lines;
    bytes += c.raw_bytes;
    cur.push_back(c);
  }
  // A group cut by the page end may continue on the next page: only take it at the end.
  if (group->empty() && (rows < kMergePageRows || cur.size() == page.size())) close_group();
  if (!group->empty()) {
    cursor_run_ = group->back().run_id;
    cursor_line_ = group->back().first_line;
    ++groups_planned_;
    return Outcome::kGroup;
  }
  if (rows == kMergePageRows) {
    // Nothing worth merging on this page: resume at the start of its open tail.
    if (!cur.empty()) {
      cursor_run_ = cur.front().run_id;
      cursor_line_ = cur.front().first_line - 1;
    }
    return Outcome::kNextPage;
  }
  bool was_at_start = cursor_run_.empty();
  cursor_run_.clear();  // wrap around for the next call
  cursor_line_ = 0;
  return was_at_start ? Outcome::kIdle : Outcome::kNextPage;
}

void MergePlanner::ResumeAfter(const MergeCandidate& last_taken) {
  cursor_run_ = last_taken.run_id;
  cursor_line_ = last_taken.first_line;
}

Result<MergedChunk> BuildMerge(const std::vector<std::string>& payloads,
                               const std::vector<uint64_t>& writer_masks, int zstd_level) {
  MergedChunk m;
  std::vector<std::string> writers;  // distinct writers of the lines taken so far
  DecodedChunk d;
  for (size_t k = 0; k < payloads.size(); ++k) {
    Status s = DecodeChunk(payloads[k], &d);
    if (!s.ok()) return s;
    std::vector<std::string> added;
    for (const std::string& w : d.writers) {
      if (std::find(writers.begin(), writers.end(), w) == writers.end()) added.push_back(w);
    }
    // The format's writer limit closes the group here; the rest merges in a later group.
    if (k > 0 && writers.size() + added.size() > kMaxChunkWriters) break;
    writers.insert(writers.end(), added.begin(), added.end());
    m.writer_mask |= writer_masks[k];
    for (size_t i = 0; i < d.n; ++i) m.lines.push_back(d.line(i));
    m.chunks_taken = k + 1;
  }
  auto payload = EncodeChunk(m.lines.data(), m.lines.size(), zstd_level, &m.text_filter);
  if (!payload.ok()) return payload.status();
  m.payload = std::move(*payload);
  return m;
}

void MergeWakeups::Post() {
  {
    std::lock_guard lock(mu_);
    ++posted_;
  }
  cv_.notify_all();
}

void MergeWakeups::Wait() {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(1), [&] { return posted_ != seen_; });
  seen_ = posted_;
}

void RunMergerLoop(MergeWakeups& wakeups, const std::function<MergerState()>& state,
                   const std::function<MergeStep()>& merge_once) {
  constexpr int kGroupsPerRound = 64;
  bool backlog = false;
  while (true) {
    if (!backlog) {
      wakeups.Wait();
      if (state() == MergerState::kStop) return;
      // Let ingest bursts settle first: merging competes with them for the writer.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    backlog = false;
    bool merged = false;
    for (int i = 0; i < kGroupsPerRound; ++i) {
      const MergerState s = state();
      if (s == MergerState::kStop) return;
      if (s == MergerState::kIngestBusy) break;  // come back at the next wakeup
      const MergeStep step = merge_once();
      if (step == MergeStep::kIdle) break;
      merged |= step == MergeStep::kGroup;
      backlog = merged && i + 1 == kGroupsPerRound;
    }
  }
}

}  // namespace wanllmdb
