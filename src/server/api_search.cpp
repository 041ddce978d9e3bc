// GET /projects/{project}/search: a text search over every run of a project (ProjectSearch),
// streamed as NDJSON, one line per run with matches as soon as its scan ends, then a last line
// that says the search is complete and where the next page starts; progress lines in between
// while runs without matches are scanned. A viewer sees the first runs
// while later ones are still being scanned; a response that ends without the last line was cut
// short (an error, or the query budget).
#include <chrono>

#include "server/api.h"
#include "server/http_util.h"
#include "server/json_out.h"
#include "store/project_search.h"

namespace wanllmdb {
namespace {

constexpr int64_t kMaxRunsPerPage = 200;
constexpr int64_t kMaxPreview = 20;
// A progress line after this many runs without matches, or this long without a line.
constexpr int64_t kProgressRuns = 16;
constexpr auto kProgressEvery = std::chrono::seconds(1);

}  // namespace

ApiResponse Api::SearchProject(const std::string& project, const ApiRequest& req) {
  // `q` is the search box's name for the substring; `search` (as on a run's logs) works too.
  std::map<std::string, std::string> query = req.query;
  if (auto q = query.find("q"); q != query.end()) {
    if (query.count("search") && !query["search"].empty() && !q->second.empty() &&
        query["search"] != q->second) {
      return ErrorResponse(Status(Code::kInvalidValue, "give q or search, not both"));
    }
    if (!q->second.empty()) query["search"] = q->second;
  }
  auto filter = FilterFromQuery(query);
  if (!filter.ok()) return ErrorResponse(filter.status());
  if (filter->text_free()) {
    return ErrorResponse(
        Status(Code::kInvalidValue, "a project search needs q (a substring) or regex (RE2)"));
  }
  auto matcher = LineMatcher::Compile(*filter);
  if (!matcher.ok()) return ErrorResponse(matcher.status());
  auto limit = IntParam(req.query, "limit", 20, 1, kMaxRunsPerPage);
  if (!limit.ok()) return ErrorResponse(limit.status());
  auto preview = IntParam(req.query, "preview", 3, 0, kMaxPreview);
  if (!preview.ok()) return ErrorResponse(preview.status());
  ProjectSearchRequest sr;
  sr.project = project;
  sr.matcher = *matcher;
  sr.max_runs = static_cast<int>(*limit);
  sr.preview = static_cast<int>(*preview);
  if (auto c = req.query.find("cursor"); c != req.query.end() && !c->second.empty()) {
    auto cursor = ParseSearchCursor(c->second);
    if (!cursor.ok()) return ErrorResponse(cursor.status());
    sr.after = *cursor;
  }
  auto projects = store_.ListProjects();
  if (!projects.ok()) return ErrorResponse(projects.status());
  bool known = false;
  for (const ProjectInfo& p : *projects) known = known || p.name == project;
  if (!known) return ErrorResponse(Status(Code::kNotFound, "no such project: " + project));

  auto search = std::make_shared<ProjectSearch>(store_, engine_, std::move(sr));
  ApiResponse r;
  r.content_type = "application/x-ndjson";
  r.headers.emplace_back("Cache-Control", "no-store");
  // One piece per run scanned, so each piece is bounded by the query budget like any read and
  // the client sees runs as they come. Runs without matches write nothing, but a progress line
  // goes out after every kProgressRuns of them or a second without output: a search through
  // many runs without the text still shows it is alive (proxies, the UI's counter).
  struct Progress {
    int64_t silent_runs = 0;
    std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
  };
  auto progress = std::make_shared<Progress>();
  r.stream = [search, progress](std::string* out, bool* done) -> Status {
    out->clear();
    auto next = search->Step();
    if (!next.ok()) return next.status();
    JsonOut j;
    const auto now = std::chrono::steady_clock::now();
    if (!*next && !search->done()) {
      if (++progress->silent_runs < kProgressRuns && now - progress->last_write < kProgressEvery)
        return Status::Ok();
      j.BeginObject().Key("type").String("progress");
      j.Key("runs_scanned").Int(search->runs_scanned()).EndObject();
    } else if (*next) {
      const RunMatches& m = **next;
      j.BeginObject().Key("type").String("run").Key("run").Run(m.run, /*with_config=*/false);
      j.Key("matches").Int(m.matches).Key("lines").BeginArray();
      for (const LogLine& l : m.lines) j.Line(m.run.id, l);
      j.EndArray().EndObject();
    } else {
      j.BeginObject().Key("type").String("end");
      j.Key("runs_scanned").Int(search->runs_scanned());
      j.Key("runs_matched").Int(search->runs_matched());
      j.Key("next_cursor");
      if (auto c = search->next_cursor()) {
        j.String(FormatSearchCursor(*c));
      } else {
        j.Null();
      }
      j.EndObject();
      *done = true;
    }
    progress->silent_runs = 0;
    progress->last_write = now;
    out->append(j.data(), j.size()).push_back('\n');
    return Status::Ok();
  };
  return r;
}

}  // namespace wanllmdb
