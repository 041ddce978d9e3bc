// Reads for the API: list pages, streamed scans, histograms, positions — all from chunks
// through the LogStore interface, so every backend gets them for free (DESIGN §3 "Reading").
// Chunks are skipped by key range, time range and level/source masks in the store; the rest
// are decoded and tested column-wise by a LineMatcher.
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/log_line.h"
#include "store/log_query.h"
#include "store/log_store.h"

namespace wanllmdb {

// A line inside a decoded chunk; valid only during the callback.
struct LineView {
  int64_t line_number;
  int64_t timestamp_us;
  Level level;
  Source source;
  std::string_view writer;
  std::string_view message;
  std::string_view level_name = {};  // empty: LevelName(level)
  std::string_view fields = {};      // a JSON object, or empty

  static LineView Of(const LogLine& l) {
    return {l.line_number, l.timestamp_us, l.level,      l.source,
            l.writer,      l.message,      l.level_name, l.fields};
  }
};

struct ListRequest {
  std::optional<int64_t> after_line, before_line;  // exclusive bounds
  int limit = 500;
  bool descending = false;
};

struct ListResult {
  std::vector<LogLine> lines;
  bool has_more = false;
  std::vector<uint8_t> context;  // per line, 1 = a context line (ContextQuery); empty otherwise
};

struct HistogramBucket {
  int64_t start_us = 0, end_us = 0;
  std::optional<int64_t> first_line;
  std::array<int64_t, kLevelCount> counts{};
};

struct Histogram {
  std::vector<HistogramBucket> buckets;
  std::optional<int64_t> since_us, until_us;
  bool exact = true;  // false when counted from chunk metadata (no text filter, big run)
};

// Thread-safety: stateless; every function may run on many threads at once.
class QueryEngine {
 public:
  // Scan's first_page for a caller that visits every line of a range (a count): big, as later
  // pages are, so the count takes few store reads.
  static constexpr int kWholeRangeFirstPage = 256;
  // Scan's first_page by default: small, so a "latest 500" answers fast. A caller that asks
  // for more says it visits much of the range, and Scan reads ahead sooner for it.
  static constexpr int kDefaultFirstPage = 2;

  explicit QueryEngine(LogStore& store) : store_(store) {}

  // Visits matching lines with from_line <= line_number <= to_line in order; stops when `fn`
  // returns false. `first_page`: chunks read first (small: a "latest 500" answers fast; a caller
  // that visits every line, as a count does, asks for more and saves store reads).
  Status Scan(const std::string& run_id, const LineMatcher& matcher, int64_t from_line,
              int64_t to_line, bool descending, const std::function<bool(const LineView&)>& fn,
              int first_page = kDefaultFirstPage);

  Result<ListResult> List(const std::string& run_id, const LineMatcher& matcher,
                          const ListRequest& request);
  // The newest `limit` matching lines at or before `up_to_line`, ascending.
  Result<std::vector<LogLine>> Latest(const std::string& run_id, const LineMatcher& matcher,
                                      int limit, int64_t up_to_line = INT64_MAX);
  Result<Histogram> MakeHistogram(const std::string& run_id, const LineMatcher& matcher,
                                  int buckets);
  // How many matching lines come before `line`, and how many match in all.
  Status Locate(const std::string& run_id, const LineMatcher& matcher, int64_t line, int64_t* index,
                int64_t* total);

 private:
  LogStore& store_;
};

LogLine ToLogLine(const LineView& v);

}  // namespace wanllmdb
