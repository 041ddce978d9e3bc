// ProjectSearch: one text search over every run of a project, newest runs first — "which of my
// runs printed `CUDA out of memory`?". For each run it counts every matching line and keeps the
// first few as a preview; runs without a match are passed over. Each run is an ordinary
// QueryEngine scan, so chunk skipping (text filters, time and level ranges), the query budget
// and cancellation on disconnect hold here as for one run.
//
// Pages: a search stops after `max_runs` runs with matches; its cursor is the (created_at, id)
// of the last run it examined, and the next page starts after it (runs created meanwhile are
// newer and so never shift a page).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/log_query.h"
#include "store/log_store.h"
#include "store/query_engine.h"

namespace wanllmdb {

struct SearchCursor {
  int64_t created_at_us = 0;
  std::string run_id;
};

// "<created_at_us>.<run id>" (opaque to clients).
std::string FormatSearchCursor(const SearchCursor& c);
// kInvalidValue for anything FormatSearchCursor would not have written.
Result<SearchCursor> ParseSearchCursor(std::string_view text);

struct ProjectSearchRequest {
  std::string project;
  std::shared_ptr<const LineMatcher> matcher;  // must have a text filter
  int max_runs = 20;                           // runs with matches in one page
  int preview = 3;                             // first matching lines kept per run
  std::optional<SearchCursor> after;
};

struct RunMatches {
  RunInfo run;
  int64_t matches = 0;
  std::vector<LogLine> lines;  // the first `preview` matches, ascending
};

// Thread-safety: one per request; calls must not overlap (successive calls may come from
// different threads, as the pieces of a streamed response do).
class ProjectSearch {
 public:
  ProjectSearch(LogStore& store, QueryEngine& engine, ProjectSearchRequest request);

  // Examines runs up to the next one that is scanned (runs without lines are passed over) and
  // returns its matches, or none when it had none or the search is done (done() is then true).
  // One scan a call, so a caller bounds each call by the query budget and can tell a client
  // that the search goes on, however many runs lack the text.
  Result<std::optional<RunMatches>> Step();

  bool done() const { return done_; }
  int64_t runs_scanned() const { return runs_scanned_; }
  int64_t runs_matched() const { return runs_matched_; }
  // Where the next page starts; none when every run has been examined.
  std::optional<SearchCursor> next_cursor() const;

 private:
  Status FetchRuns();

  LogStore& store_;
  QueryEngine& engine_;
  ProjectSearchRequest request_;
  std::vector<RunInfo> runs_;  // the current page of the project's runs, newest first
  std::vector<int64_t> keys_;
  size_t next_ = 0;
  bool more_runs_ = true;  // the store has runs after runs_
  bool done_ = false;
  std::optional<SearchCursor> last_;  // the last run examined
  int64_t runs_scanned_ = 0, runs_matched_ = 0;
};

}  // namespace wanllmdb
