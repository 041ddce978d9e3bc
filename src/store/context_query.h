// Matches with context (grep -C N, Grafana's "show context"): the lines around each text match,
// up to N before and N after, counted among the lines that pass the filter's other parts (level,
// source, writer, time). The rows of such a view are a fixed subset of the run, so paging by
// after_line/before_line and `locate` work on them as on any filtered view.
#pragma once

#include <cstdint>
#include <string>

#include "store/query_engine.h"

namespace wanllmdb {

inline constexpr int kMaxContext = 100;

// Thread-safety: stateless; like QueryEngine.
class ContextQuery {
 public:
  // `full` holds the text filter; `meta` is the same filter without it.
  ContextQuery(QueryEngine& engine, const LineMatcher& full, const LineMatcher& meta, int context)
      : engine_(engine), full_(full), meta_(meta), context_(context) {}

  // Like QueryEngine::List; result.context[i] is 1 for a context line, 0 for a match.
  Result<ListResult> List(const std::string& run_id, const ListRequest& request);
  // Like QueryEngine::Locate over the rows of this view.
  Status Locate(const std::string& run_id, int64_t line, int64_t* index, int64_t* total);

 private:
  // Feeds rows in scan order; calls `emit(line, is_context)` for each row of the view.
  class Window;

  QueryEngine& engine_;
  const LineMatcher& full_;
  const LineMatcher& meta_;
  const int context_;
};

}  // namespace wanllmdb
