// LiveHub: who is watching which run, and the recent lines of those runs (DESIGN §4).
//
// Notify and pull: after each commit the hub tells a run's subscribers "lines up to N exist";
// each subscriber pulls from its own cursor when it is ready to write. Nothing is queued per
// subscriber, so a stalled viewer costs nothing but its cursor and catches up later.
// Recent lines are kept per watched run (bounded), each batch rendered to JSON once, lazily,
// and shared by every subscriber that wants it.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/log_store.h"

namespace wanllmdb {

// Implemented by WebSocket sessions. Called from any thread: implementations only post.
class LiveSubscriber {
 public:
  virtual ~LiveSubscriber() = default;
  virtual void OnLinesAvailable(int64_t last_line) = 0;
  virtual void OnRunState(RunState state, std::optional<int64_t> exit_code) = 0;
  virtual void OnCleared() = 0;
  // A line still being written (a progress bar between its \r's): shown, never stored.
  virtual void OnProgress(const std::shared_ptr<const LogLine>& partial) = 0;
  // How many lines known to exist this subscriber has not sent yet (for GET /metrics). Any
  // thread; an estimate.
  virtual int64_t LagLines() const { return 0; }
};

// One committed batch of one run, rendered once. Thread-safety: immutable except for the
// lazily built JSON, which is guarded by once_.
class CachedBatch {
 public:
  CachedBatch(std::string run_id, std::shared_ptr<const std::vector<LogLine>> lines);
  int64_t first_line() const { return lines_->front().line_number; }
  int64_t last_line() const { return lines_->back().line_number; }
  const std::vector<LogLine>& lines() const { return *lines_; }
  // JSON of line i (an object), rendered on first use.
  std::string_view LineJson(size_t i) const;
  // The JSON of lines [i, end) joined by commas, for unfiltered viewers.
  std::string_view JsonFrom(size_t i) const;
  // The whole batch as one {"type":"logs"} frame, built once and shared by every unfiltered
  // viewer whose cursor sits right before it: 1,000 viewers cost one encoding, not 1,000.
  std::shared_ptr<const std::string> Frame() const;
  size_t bytes() const;

 private:
  void Render() const;

  std::string run_id_;
  std::shared_ptr<const std::vector<LogLine>> lines_;
  mutable std::once_flag once_;
  mutable std::string json_;               // objects joined by ','
  mutable std::vector<uint32_t> offsets_;  // start of each object; one past the end last
  mutable std::once_flag frame_once_;
  mutable std::shared_ptr<const std::string> frame_;
};

// Thread-safety: every method is thread-safe (one mutex; callbacks run outside it).
class LiveHub {
 public:
  struct Pull {
    bool complete = true;  // false: lines after the cursor are older than the cache
    int64_t last_line = 0;
    std::vector<std::shared_ptr<const CachedBatch>> batches;
  };

  void Subscribe(const std::string& run_id, const std::shared_ptr<LiveSubscriber>& s);
  void Unsubscribe(const std::string& run_id, const LiveSubscriber* s);
  // Lines committed (numbered), from the live bus. Batches usually arrive in line order; one
  // that is not contiguous with the cache (another node's lines) restarts the cache.
  void OnCommit(const CommitEvent& event);
  // Lines up to `last_line` exist but are not at hand (another node committed them): viewers
  // read them from the store from their cursors.
  void OnLinesAvailable(const std::string& run_id, int64_t last_line);
  // The highest line the hub knows of for a watched run; nullopt when nobody watches it.
  std::optional<int64_t> KnownLastLine(const std::string& run_id) const;
  std::vector<std::string> WatchedRuns() const;
  size_t ViewersOf(const std::string& run_id) const;
  void PublishRunState(const std::string& run_id, RunState state, std::optional<int64_t> exit_code);
  // The run's lines were cleared; `clears` is its RunInfo::clears after that (0: not known).
  void PublishCleared(const std::string& run_id, int64_t clears);
  // A viewer's backlog was read when the run had been cleared `clears` times.
  void NoteClears(const std::string& run_id, int64_t clears);
  // After the bus lost messages: when the run has been cleared more often than its viewers
  // were told, tells them now. Returns whether it did.
  bool PublishMissedClear(const std::string& run_id, int64_t clears);
  // Returns how many viewers were told.
  size_t PublishProgress(const std::string& run_id, const std::shared_ptr<const LogLine>& partial);
  // Cached batches holding lines after `cursor`.
  Pull PullAfter(const std::string& run_id, int64_t cursor);
  size_t subscriber_count() const;
  // The largest LagLines() of any subscriber (a scrape: walks every subscriber).
  int64_t MaxLagLines() const;

  // Per watched run: at most this many lines or bytes stay cached.
  static constexpr size_t kMaxCachedLines = 50000;
  static constexpr size_t kMaxCachedBytes = 32 << 20;

 private:
  struct RunEntry {
    std::vector<std::weak_ptr<LiveSubscriber>> subscribers;
    std::vector<std::shared_ptr<const CachedBatch>> batches;  // ascending
    size_t cached_lines = 0, cached_bytes = 0;
    int64_t last_line = 0;
    int64_t clears = -1;  // the highest RunInfo::clears its viewers know of; -1: none read yet
  };
  std::vector<std::shared_ptr<LiveSubscriber>> Live(RunEntry& e);

  mutable std::mutex mu_;
  std::unordered_map<std::string, RunEntry> runs_;  // Guarded by mu_
};

}  // namespace wanllmdb
