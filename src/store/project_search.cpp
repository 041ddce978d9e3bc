#include "store/project_search.h"

#include <charconv>

#include "core/uuid.h"

namespace wanllmdb {
namespace {

// Runs read from the store at a time: the listing is cheap next to the scans.
constexpr int kRunPage = 64;
// Chunk keys read first per run (QueryEngine::Scan): a 100k-line run in one read.
constexpr int kRunScanFirstPage = 1024;

}  // namespace

std::string FormatSearchCursor(const SearchCursor& c) {
  return std::to_string(c.created_at_us) + "." + c.run_id;
}

Result<SearchCursor> ParseSearchCursor(std::string_view text) {
  const Status bad(Code::kInvalidValue, "cursor: not a cursor this server gave out");
  size_t dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0 || text.size() > 80) return bad;
  SearchCursor c;
  auto [end, ec] = std::from_chars(text.data(), text.data() + dot, c.created_at_us);
  if (ec != std::errc() || end != text.data() + dot || c.created_at_us < 0) return bad;
  c.run_id = std::string(text.substr(dot + 1));
  if (!IsUuid(c.run_id) || CanonicalUuid(c.run_id) != c.run_id) return bad;
  return c;
}

ProjectSearch::ProjectSearch(LogStore& store, QueryEngine& engine, ProjectSearchRequest request)
    : store_(store), engine_(engine), request_(std::move(request)), last_(request_.after) {}

Status ProjectSearch::FetchRuns() {
  RunQuery q;
  q.project = request_.project;
  q.sort = RunSort::kCreatedAt;
  q.descending = true;
  q.limit = kRunPage;
  if (last_) {
    q.after_key = last_->created_at_us;
    q.after_id = last_->run_id;
  }
  auto page = store_.ListRuns(q);
  if (!page.ok()) return page.status();
  runs_ = std::move(page->runs);
  keys_ = std::move(page->keys);
  next_ = 0;
  more_runs_ = page->has_more;
  return Status::Ok();
}

Result<std::optional<RunMatches>> ProjectSearch::Step() {
  while (!done_) {
    if (runs_matched_ >= request_.max_runs) {
      done_ = true;
      break;
    }
    if (next_ == runs_.size()) {
      if (!more_runs_) {
        done_ = true;
        break;
      }
      if (Status s = FetchRuns(); !s.ok()) return s;
      if (runs_.empty()) {
        done_ = true;
        break;
      }
    }
    const RunInfo& run = runs_[next_];
    last_ = SearchCursor{keys_[next_], run.id};
    ++next_;
    ++runs_scanned_;
    if (run.line_count == 0) continue;
    RunMatches m;
    m.run = run;
    // Every match is counted: the scan reads big pages from the start (a run's chunk keys in
    // one store read, filters from the cache), so a run without the needle costs one read. It
    // ends at the run's last line as listed, which saves the read that would find nothing
    // after it; lines appended since the listing are not searched (the run is searched as
    // it was when listed).
    Status s = engine_.Scan(
        run.id, *request_.matcher, 1, run.last_line, false,
        [&](const LineView& v) {
          if (static_cast<int>(m.lines.size()) < request_.preview) m.lines.push_back(ToLogLine(v));
          ++m.matches;
          return true;
        },
        kRunScanFirstPage);
    // A run deleted while the search ran is simply not in the result.
    if (s.code() == Code::kNotFound) continue;
    if (!s.ok()) return s;
    if (m.matches == 0) return std::optional<RunMatches>();
    ++runs_matched_;
    return std::optional<RunMatches>(std::move(m));
  }
  return std::optional<RunMatches>();
}

std::optional<SearchCursor> ProjectSearch::next_cursor() const {
  if (next_ == runs_.size() && !more_runs_) return std::nullopt;  // every run examined
  return last_;
}

}  // namespace wanllmdb
