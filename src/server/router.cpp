// The route table of doc/api.md. Paths are matched segment by segment; {run_id} segments are
// captured into req.params.
#include <string_view>
#include <vector>

#include "server/api.h"
#include "store/run_lookup.h"

namespace wanllmdb {
namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

ApiResponse MethodNotAllowed(const ApiRequest& req) {
  ApiResponse r =
      ErrorResponse(Status(Code::kNotFound, req.method + " is not allowed on " + req.path));
  r.status = 405;
  r.body.replace(r.body.find("not_found"), 9, "method_not_allowed");
  return r;
}

}  // namespace

Api::Api(LogStore& store, LiveHub& hub, ApiOptions options)
    : store_(store), hub_(hub), engine_(store), options_(std::move(options)) {}

Status Api::Authorize(const ApiRequest& req) const {
  if (options_.api_key.empty()) return Status::Ok();
  std::string given;
  constexpr std::string_view kBearer = "Bearer ";
  if (req.authorization.rfind(kBearer, 0) == 0) {
    given = req.authorization.substr(kBearer.size());
  } else if (auto it = req.query.find("api_key"); it != req.query.end()) {
    given = it->second;
  } else {
    return Status(Code::kUnauthorized,
                  "this server needs an API key: send 'Authorization: Bearer KEY'");
  }
  if (given != options_.api_key) return Status(Code::kForbidden, "wrong API key");
  return Status::Ok();
}

ApiResponse Api::Handle(ApiRequest& req) {
  auto seg = Segments(req.path);
  const std::string& m = req.method;
  if (seg.size() == 1 && seg[0] == "health") {
    if (m != "GET") return MethodNotAllowed(req);
    return Health(0);  // never behind the key: load balancers probe it
  }
  if (Status a = Authorize(req); !a.ok()) return ErrorResponse(a);
  if (seg.size() == 1 && seg[0] == "projects") {
    if (m == "POST") return CreateProject(req);
    if (m == "GET") return ListProjects();
    return MethodNotAllowed(req);
  }
  if (!seg.empty() && seg[0] == "runs") {
    if (seg.size() == 1) {
      if (m == "POST") return CreateRun(req);
      if (m == "GET") return ListRuns(req);
      return MethodNotAllowed(req);
    }
    // A unique prefix (>= 8 hex digits) names a run too; ambiguous → 409.
    auto resolved = ResolveRunId(store_, seg[1]);
    if (!resolved.ok()) return ErrorResponse(resolved.status());
    std::string id = std::move(*resolved);
    if (seg.size() == 2) {
      if (m == "GET") return GetRun(id);
      if (m == "PATCH") return PatchRun(id, req);
      if (m == "DELETE") return DeleteRun(id);
      return MethodNotAllowed(req);
    }
    if (seg[2] == "logs") {
      if (seg.size() == 3) {
        if (m == "POST") return PostLog(id, req);
        if (m == "GET") return ListLogs(id, req);
        if (m == "DELETE") return ClearLogs(id);
        return MethodNotAllowed(req);
      }
      if (seg.size() == 4) {
        std::string_view what = seg[3];
        if (what == "batch") return m == "POST" ? PostBatch(id, req) : MethodNotAllowed(req);
        if (what == "progress") return m == "POST" ? PostProgress(id, req) : MethodNotAllowed(req);
        if (m != "GET") return MethodNotAllowed(req);
        if (what == "latest") return Latest(id, req);
        if (what == "summary") return Summary(id);
        if (what == "histogram") return HistogramOf(id, req);
        if (what == "locate") return Locate(id, req);
        if (what == "download") return Download(id, req);
      }
    }
  }
  return ErrorResponse(Status(Code::kNotFound, "no such endpoint: " + m + " /api/v1" + req.path));
}

}  // namespace wanllmdb
