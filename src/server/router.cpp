// The route table of doc/api.md: every endpoint, the scope it needs, and its handler, in one
// place. Paths are matched segment by segment; {run_id} and {key_id} segments are captured into
// req.params. Authorization happens here, before any handler runs, so a handler can never be
// reached without the scope its row names (tests/unit/server/route_auth_test.cpp walks the
// table to check exactly that).
#include <string_view>
#include <vector>

#include "server/api.h"
#include "server/http_util.h"
#include "server/openapi.h"
#include "server/run_activity.h"
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

// Whether `pattern` ("/runs/{run_id}/logs") matches `seg`; captures the {…} segments.
bool MatchPattern(std::string_view pattern, const std::vector<std::string_view>& seg,
                  std::vector<std::string>* params) {
  auto pat = Segments(pattern);
  if (pat.size() != seg.size()) return false;
  std::vector<std::string> captured;
  for (size_t i = 0; i < pat.size(); ++i) {
    if (pat[i].front() == '{') {
      captured.emplace_back(seg[i]);
    } else if (pat[i] != seg[i]) {
      return false;
    }
  }
  if (params) *params = std::move(captured);
  return true;
}

}  // namespace

const std::vector<Route>& Api::Routes() {
  // Scopes: ingest = what a training job needs (create runs, append, progress, finish);
  // read = look; admin = destroy and manage keys. kScopeNone rows are public.
  static const std::vector<Route> kRoutes = {
      {"GET", "/health", kScopeNone, [](Api& a, ApiRequest&) { return a.Health(0); }},
      // Readiness for load balancers and orchestrators, which send no key: says only whether
      // the store answers and the disk has room (details go to the server log).
      {"GET", "/ready", kScopeNone, [](Api& a, ApiRequest&) { return a.Ready(); }},
      {"GET", "/auth/whoami", kScopeNone, [](Api& a, ApiRequest& r) { return a.WhoAmI(r); }},
      {"POST", "/auth/session", kScopeNone, [](Api& a, ApiRequest& r) { return a.SignIn(r); }},
      {"DELETE", "/auth/session", kScopeNone, [](Api& a, ApiRequest& r) { return a.SignOut(r); }},
      {"POST", "/keys", kScopeAdmin, [](Api& a, ApiRequest& r) { return a.CreateKey(r); }},
      {"GET", "/keys", kScopeAdmin, [](Api& a, ApiRequest&) { return a.ListKeys(); }},
      {"DELETE", "/keys/{key_id}", kScopeAdmin,
       [](Api& a, ApiRequest& r) { return a.RevokeKey(r.params[0]); }},
      {"POST", "/projects", kScopeIngest, [](Api& a, ApiRequest& r) { return a.CreateProject(r); }},
      {"GET", "/projects", kScopeRead, [](Api& a, ApiRequest& r) { return a.ListProjects(r); }},
      {"GET", "/projects/{project}/search", kScopeRead,
       [](Api& a, ApiRequest& r) { return a.SearchProject(r.params[0], r); }},
      {"GET", "/projects/{project}/problems", kScopeRead,
       [](Api& a, ApiRequest& r) { return a.ProjectProblems(r.params[0], r); }},
      {"GET", "/projects/{project}/problem-settings", kScopeRead,
       [](Api& a, ApiRequest& r) { return a.GetProblemSettings(r.params[0]); }},
      // A project's rules run at every ingest of its runs: changing them is an admin's.
      {"PUT", "/projects/{project}/problem-settings", kScopeAdmin,
       [](Api& a, ApiRequest& r) { return a.PutProblemSettings(r.params[0], r); }},
      {"POST", "/projects/{project}/problem-rules", kScopeAdmin,
       [](Api& a, ApiRequest& r) { return a.AddProblemRule(r.params[0], r); }},
      {"DELETE", "/projects/{project}/problem-rules/{rule}", kScopeAdmin,
       [](Api& a, ApiRequest& r) { return a.DeleteProblemRule(r.params[0], r.params[1]); }},
      // Webhook URLs may carry secrets (Slack's do): only admins see and change them.
      {"GET", "/projects/{project}/webhooks", kScopeAdmin,
       [](Api& a, ApiRequest& r) { return a.ListWebhooks(r.params[0]); }},
      {"POST", "/projects/{project}/webhooks", kScopeAdmin,
       [](Api& a, ApiRequest& r) { return a.AddWebhook(r.params[0], r); }},
      {"DELETE", "/projects/{project}/webhooks/{webhook}", kScopeAdmin,
       [](Api& a, ApiRequest& r) { return a.DeleteWebhook(r.params[0], r.params[1]); }},
      // Anyone who may read a project sees its retention policy; changing it destroys data.
      {"GET", "/projects/{project}/retention", kScopeRead,
       [](Api& a, ApiRequest& r) { return a.GetRetention(r.params[0]); }},
      {"PUT", "/projects/{project}/retention", kScopeAdmin,
       [](Api& a, ApiRequest& r) { return a.PutRetention(r.params[0], r); }},
      {"POST", "/runs", kScopeIngest, [](Api& a, ApiRequest& r) { return a.CreateRun(r); }},
      {"GET", "/runs", kScopeRead, [](Api& a, ApiRequest& r) { return a.ListRuns(r); }},
      {"GET", "/runs/{run_id}", kScopeRead,
       [](Api& a, ApiRequest& r) { return a.GetRun(r.params[0]); }},
      {"PATCH", "/runs/{run_id}", kScopeIngest,
       [](Api& a, ApiRequest& r) { return a.PatchRun(r.params[0], r); }},
      {"DELETE", "/runs/{run_id}", kScopeAdmin,
       [](Api& a, ApiRequest& r) { return a.DeleteRun(r.params[0]); }},
      {"POST", "/runs/{run_id}/logs", kScopeIngest,
       [](Api& a, ApiRequest& r) { return a.PostLog(r.params[0], r); }},
      {"GET", "/runs/{run_id}/logs", kScopeRead,
       [](Api& a, ApiRequest& r) { return a.ListLogs(r.params[0], r); }},
      {"DELETE", "/runs/{run_id}/logs", kScopeAdmin,
       [](Api& a, ApiRequest& r) { return a.ClearLogs(r.params[0]); }},
      {"POST", "/runs/{run_id}/logs/batch", kScopeIngest,
       [](Api& a, ApiRequest& r) { return a.PostBatch(r.params[0], r); }},
      {"POST", "/runs/{run_id}/logs/progress", kScopeIngest,
       [](Api& a, ApiRequest& r) { return a.PostProgress(r.params[0], r); }},
      {"GET", "/runs/{run_id}/logs/latest", kScopeRead,
       [](Api& a, ApiRequest& r) { return a.Latest(r.params[0], r); }},
      {"GET", "/runs/{run_id}/logs/summary", kScopeRead,
       [](Api& a, ApiRequest& r) { return a.Summary(r.params[0]); }},
      {"GET", "/runs/{run_id}/logs/histogram", kScopeRead,
       [](Api& a, ApiRequest& r) { return a.HistogramOf(r.params[0], r); }},
      {"GET", "/runs/{run_id}/logs/locate", kScopeRead,
       [](Api& a, ApiRequest& r) { return a.Locate(r.params[0], r); }},
      {"GET", "/runs/{run_id}/logs/folds", kScopeRead,
       [](Api& a, ApiRequest& r) { return a.Folds(r.params[0], r); }},
      {"GET", "/runs/{run_id}/problems", kScopeRead,
       [](Api& a, ApiRequest& r) { return a.RunProblems(r.params[0]); }},
      {"GET", "/runs/{run_id}/logs/download", kScopeRead,
       [](Api& a, ApiRequest& r) { return a.Download(r.params[0], r); }},
      // Bookmarks are a reader's notes (they never change the logs): a read key may add them.
      {"GET", "/runs/{run_id}/bookmarks", kScopeRead,
       [](Api& a, ApiRequest& r) { return a.ListBookmarks(r.params[0]); }},
      {"POST", "/runs/{run_id}/bookmarks", kScopeRead,
       [](Api& a, ApiRequest& r) { return a.AddBookmark(r.params[0], r); }},
      {"DELETE", "/runs/{run_id}/bookmarks/{bookmark_id}", kScopeRead,
       [](Api& a, ApiRequest& r) { return a.DeleteBookmark(r.params[0], r.params[1]); }},
      // The WebSocket upgrade: authorized here like any route, served by WebSocketSession.
      {"WS", "/runs/{run_id}/logs/stream", kScopeRead, nullptr},
      // Prometheus scrapes /metrics at the server root. It reveals traffic, not data: a read
      // key, or nothing at all with --public-metrics (for scrapers that cannot send a key).
      {"GET", "/metrics", kScopeRead, [](Api& a, ApiRequest&) { return a.MetricsText(); },
       /*root=*/true, /*public_when_allowed=*/true},
      {"GET", "/openapi.json", kScopeRead,
       [](Api&, ApiRequest&) { return JsonResponse(200, std::string(OpenApiJson())); }},
      // The other ingest protocols, at the paths their clients know (from the server root).
      {"POST", "/v1/logs", kScopeIngest, [](Api& a, ApiRequest& r) { return a.PostOtlpLogs(r); },
       true},
      {"POST", "/loki/api/v1/push", kScopeIngest,
       [](Api& a, ApiRequest& r) { return a.PostLokiPush(r); }, true},
  };
  return kRoutes;
}

void Api::Heard(const std::string& run_id) {
  if (options_.activity != nullptr) options_.activity->Touch(run_id);
}

int Api::RouteIndex(std::string_view method, std::string_view pattern) {
  const auto& routes = Routes();
  for (size_t i = 0; i < routes.size(); ++i)
    if (routes[i].method == method && routes[i].pattern == pattern) return static_cast<int>(i);
  return -1;
}

bool Api::ScansLogs(const std::string& method, std::string_view path, bool root) {
  if (method != "GET" || root) return false;
  auto seg = Segments(path);
  for (const Route& r : Routes()) {
    if (r.root || r.method != method || !MatchPattern(r.pattern, seg, nullptr)) continue;
    std::string_view p = r.pattern;
    return p.find("/logs") != std::string_view::npos || p.find("/search") != std::string_view::npos;
  }
  return false;
}

const Route* Api::FindRoute(const std::string& method, std::string_view path,
                            std::vector<std::string>* params, bool* path_known, bool root) {
  auto seg = Segments(path);
  *path_known = false;
  for (const Route& r : Routes()) {
    if (r.root != root || !MatchPattern(r.pattern, seg, nullptr)) continue;
    *path_known = true;
    if (r.method == method) {
      MatchPattern(r.pattern, seg, params);
      return &r;
    }
  }
  return nullptr;
}

Status Api::Authorize(const Route& route, ApiRequest& req, int* retry_after_s) {
  // Every request is authenticated, also on public routes (whoami says who you are), but only
  // a route with a scope can fail here.
  auto who = auth_.Authenticate(req.authorization, req.cookie, req.client_address, retry_after_s);
  const bool waived = route.public_when_allowed && options_.public_metrics;
  if (!who.ok()) {
    if ((route.scope == kScopeNone || waived) && who.status().code() != Code::kTooManyRequests)
      return Status::Ok();
    return who.status();
  }
  req.principal = std::move(*who);
  // A browser's write on the strength of a cookie (or of an open server) must come from our own
  // pages: browsers send Origin on every cross-site non-GET request, so a foreign one is CSRF.
  if (req.principal.via_cookie && req.method != "GET" && req.method != "HEAD" &&
      !OriginAllowed(req)) {
    return Status(Code::kForbidden, "cross-site request refused (Origin " + req.origin + ")");
  }
  if (route.scope == kScopeNone || waived) return Status::Ok();
  if (!ScopeAllows(req.principal.scopes, route.scope)) {
    return Status(Code::kForbidden, "this key lacks the '" + std::string(ScopeName(route.scope)) +
                                        "' scope (it has '" + FormatScopes(req.principal.scopes) +
                                        "')");
  }
  const bool has_run = std::string_view(route.pattern).find("{run_id}") != std::string_view::npos;
  if (has_run) {
    // A unique prefix (>= 8 hex digits) names a run too; ambiguous → 409. Resolved only once the
    // caller is known, so an anonymous probe learns nothing about which runs exist.
    auto id = ResolveRunId(store_, req.params[0]);
    if (!id.ok()) return id.status();
    req.params[0] = std::move(*id);
  }
  // A route on a project ({project}, the first parameter): names may hold any character but
  // '/', so the segment is percent-decoded; and it is checked against the key's projects.
  if (std::string_view(route.pattern).find("{project}") != std::string_view::npos) {
    req.params[0] = UrlDecode(req.params[0], /*plus_is_space=*/false);
    if (!req.principal.projects.empty() && !req.principal.AllowsProject(req.params[0]))
      return Status(Code::kForbidden, "this key is not allowed in project '" + req.params[0] + "'");
  }
  if (!req.principal.projects.empty() && has_run) {
    auto project = ProjectOfRun(req.params[0]);
    if (!project.ok()) return project.status();
    if (!req.principal.AllowsProject(*project))
      return Status(Code::kForbidden, "this key is not allowed in project '" + *project + "'");
  }
  return Status::Ok();
}

bool Api::OriginAllowed(const ApiRequest& req) const {
  if (req.origin.empty()) return true;  // not a browser, or a same-origin GET
  if (req.origin == (req.tls ? "https://" : "http://") + req.host) return true;
  for (const auto& o : options_.allowed_origins)
    if (o == req.origin) return true;
  return false;
}

ApiResponse Api::Handle(ApiRequest& req) {
  bool path_known = false;
  const Route* route = FindRoute(req.method, req.path, &req.params, &path_known, req.root_path);
  const std::string shown = (req.root_path ? "" : "/api/v1") + req.path;
  if (!route || !route->handler) {
    if (path_known) {
      return ErrorResponse(
          Status(Code::kMethodNotAllowed, req.method + " is not allowed on " + shown));
    }
    return ErrorResponse(Status(Code::kNotFound, "no such endpoint: " + req.method + " " + shown));
  }
  req.route = static_cast<int>(route - Routes().data());
  int retry_after_s = 0;
  if (Status a = Authorize(*route, req, &retry_after_s); !a.ok()) {
    // An OTLP exporter reads a google.rpc.Status, not our JSON error.
    if (route->root && req.path == "/v1/logs") return OtlpError(req, a);
    return retry_after_s > 0 ? RetryLaterResponse(a, retry_after_s) : ErrorResponse(a);
  }
  return route->handler(*this, req);
}

Status Api::AuthorizeStream(ApiRequest& req, int* retry_after_s) {
  bool path_known = false;
  const Route* route = FindRoute("WS", req.path, &req.params, &path_known, false);
  if (!route) return Status(Code::kNotFound, "no WebSocket at /api/v1" + req.path);
  // Cross-site WebSocket hijacking: browsers send Origin on every upgrade; only our own pages
  // (or a configured origin) may open one. "null" (sandboxed frames, files) never matches.
  if (!OriginAllowed(req)) {
    return Status(Code::kForbidden, "WebSocket from a foreign origin refused (" + req.origin + ")");
  }
  return Authorize(*route, req, retry_after_s);
}

}  // namespace wanllmdb
