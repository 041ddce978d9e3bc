// Whole-view reads (server/run_views.h): GET .../logs/folds, and sort=time on the list and locate
// endpoints — the interleave-by-time view, paged by position instead of by line number.
#include <algorithm>

#include "server/api.h"
#include "server/http_util.h"
#include "server/json_out.h"

namespace wanllmdb {
namespace {

// Reads lines by number, whatever filters chose them: no text test needed again.
const LineMatcher& AllLines() {
  static const std::shared_ptr<const LineMatcher> all = *LineMatcher::Compile(LogFilter{});
  return *all;
}

// Parameters that have no meaning with sort=time; naming them is a 422, not silently ignored.
Status RejectWithTimeOrder(const ApiRequest& req, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (req.query.count(n)) {
      return Status(Code::kInvalidValue,
                    std::string(n) +
                        ": not with sort=time (page by offset; positions are in time "
                        "order)");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<bool> Api::TimeOrderParam(const ApiRequest& req) {
  auto it = req.query.find("sort");
  if (it == req.query.end() || it->second.empty() || it->second == "line") return false;
  if (it->second == "time") return true;
  return Status(Code::kInvalidValue, "sort: want line or time, got '" + it->second + "'");
}

Result<std::shared_ptr<const RunView>> Api::ViewFor(const std::string& id, const ApiRequest& req,
                                                    const LineMatcher& matcher, bool time_order) {
  auto run = store_.GetRun(id);  // 404 for an unknown run
  if (!run.ok()) return run.status();
  auto up_to = LineParam(req.query, "up_to_line");
  if (!up_to.ok()) return up_to.status();
  // A client paging a view of a live run names the line its view ends at, so every page comes
  // from the same view; later lines reach it by the live tail.
  int64_t last = run->last_line;
  if (*up_to) last = std::min(last, **up_to);
  return views_.Get(id, matcher, matcher.filter().Key() + "\x1f" + LinesGeneration(*run),
                    time_order, last);
}

std::string Api::LinesGeneration(const RunInfo& run) {
  return std::to_string(run.clears) + "\x1f" + std::to_string(run.removed.to_line);
}

ApiResponse Api::Folds(const std::string& id, const ApiRequest& req) {
  auto time_order = TimeOrderParam(req);
  if (!time_order.ok()) return ErrorResponse(time_order.status());
  if (req.query.count("context")) {
    return ErrorResponse(
        Status(Code::kInvalidValue, "context: folds are of a view without context lines"));
  }
  auto filter = FilterFromQuery(req.query);
  if (!filter.ok()) return ErrorResponse(filter.status());
  auto m = LineMatcher::Compile(*filter);
  if (!m.ok()) return ErrorResponse(m.status());
  auto view = ViewFor(id, req, **m, *time_order);
  if (!view.ok()) return ErrorResponse(view.status());
  const RunView& v = **view;
  JsonOut j;
  j.BeginObject();
  j.Key("total").Int(v.total);
  j.Key("up_to_line").Int(v.up_to_line);
  j.Key("sort").String(v.time_order ? "time" : "line");
  j.Key("start").BeginArray();
  for (const Fold& f : v.folds) j.Int(f.start);
  j.EndArray();
  j.Key("length").BeginArray();
  for (const Fold& f : v.folds) j.Int(f.length);
  j.EndArray();
  std::string kinds;
  kinds.reserve(v.folds.size());
  for (const Fold& f : v.folds) kinds.push_back(FoldKindLetter(f.kind));
  j.Key("kind").String(kinds);
  // Holes: positions inside a fold's span holding other writers' lines, as (fold, position)
  // pairs; most views have none.
  j.Key("holes").BeginObject();
  j.Key("fold").BeginArray();
  for (size_t i = 0; i < v.folds.size(); ++i) {
    for (uint32_t k = 0; k < v.folds[i].holes; ++k) j.Int(static_cast<int64_t>(i));
  }
  j.EndArray();
  j.Key("at").BeginArray();
  for (int64_t h : v.holes) j.Int(h);
  j.EndArray();
  j.EndObject();
  j.EndObject();
  return JsonResponse(200, j.Take());
}

ApiResponse Api::ListByTime(const std::string& id, const ApiRequest& req,
                            const LineMatcher& matcher) {
  if (Status s = RejectWithTimeOrder(req, {"after_line", "before_line", "order", "context"});
      !s.ok())
    return ErrorResponse(s);
  auto limit = IntParam(req.query, "limit", 500, 1, 10000);
  if (!limit.ok()) return ErrorResponse(limit.status());
  auto offset = IntParam(req.query, "offset", 0, 0, kMaxLineParam);
  if (!offset.ok()) return ErrorResponse(offset.status());
  auto view = ViewFor(id, req, matcher, true);
  if (!view.ok()) return ErrorResponse(view.status());
  const RunView& v = **view;
  const int64_t begin = std::min(*offset, v.total);
  const int64_t end = std::min(v.total, begin + *limit);
  // The lines of these positions, read in line order in clusters: batches of ranks interleave
  // over a few thousand lines, so a page is a few short scans, not one from the earliest line.
  std::vector<int64_t> wanted;
  wanted.reserve(static_cast<size_t>(end - begin));
  for (int64_t p = begin; p < end; ++p) wanted.push_back(v.LineAt(p));
  std::vector<int64_t> sorted = wanted;
  std::sort(sorted.begin(), sorted.end());
  std::unordered_map<int64_t, LogLine> found;
  constexpr int64_t kClusterGap = 4096;
  for (size_t i = 0; i < sorted.size();) {
    size_t k = i;
    while (k + 1 < sorted.size() && sorted[k + 1] - sorted[k] <= kClusterGap) ++k;
    Status s = engine_.Scan(id, AllLines(), sorted[i], sorted[k], false, [&](const LineView& l) {
      if (std::binary_search(sorted.begin() + static_cast<std::ptrdiff_t>(i),
                             sorted.begin() + static_cast<std::ptrdiff_t>(k) + 1, l.line_number))
        found.emplace(l.line_number, ToLogLine(l));
      return true;
    });
    if (!s.ok()) return ErrorResponse(s);
    i = k + 1;
  }
  JsonOut j;
  j.BeginObject().Key("logs").BeginArray();
  for (int64_t line : wanted) {
    // A line gone since the view was built (a clear, retention) leaves no row.
    if (auto it = found.find(line); it != found.end()) j.Line(id, it->second);
  }
  j.EndArray();
  j.Key("has_more").Bool(end < v.total);
  j.Key("offset").Int(begin);
  j.Key("total").Int(v.total);
  j.Key("up_to_line").Int(v.up_to_line);
  j.EndObject();
  return JsonResponse(200, j.Take());
}

ApiResponse Api::LocateByTime(const std::string& id, const ApiRequest& req,
                              const LineMatcher& matcher, int64_t line) {
  if (Status s = RejectWithTimeOrder(req, {"context"}); !s.ok()) return ErrorResponse(s);
  auto view = ViewFor(id, req, matcher, true);
  if (!view.ok()) return ErrorResponse(view.status());
  const RunView& v = **view;
  JsonOut j;
  j.BeginObject();
  j.Key("index").Int(v.PositionOf(line));
  j.Key("total").Int(v.total);
  j.Key("up_to_line").Int(v.up_to_line);
  j.EndObject();
  return JsonResponse(200, j.Take());
}

}  // namespace wanllmdb
