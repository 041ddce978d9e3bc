// Api: every /api/v1 endpoint of doc/api.md as a plain function of ApiRequest → ApiResponse.
// Handlers block (store reads, group commit), so the HTTP layer runs them on a worker pool, never
// on the network threads.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/authenticator.h"
#include "server/api_types.h"
#include "server/ingest.h"
#include "server/live_hub.h"
#include "server/match_locator.h"
#include "server/run_views.h"
#include "store/live_bus.h"
#include "store/log_store.h"
#include "store/query_engine.h"
#include "store/retention.h"

namespace wanllmdb {

class Alerts;
class DiskGuard;
class ProblemRuleSet;
class ProblemSettingsCache;
class StallWatch;
struct ProblemSettings;
struct ForeignIngestResult;
class IngestQuotas;
struct QuotaCharge;
struct ForeignRecord;
struct ForeignIngestResult;
class Metrics;
class RunActivity;

struct ApiOptions {
  std::string version = "0.1.0";
  RunActivity* activity = nullptr;  // told about every write to a run (run_activity.h)
  // Origins besides the server's own that browsers may write from and open WebSockets from.
  std::vector<std::string> allowed_origins;
  Metrics* metrics = nullptr;   // counts ingest; rendered by GET /metrics (null: 503 there)
  bool public_metrics = false;  // GET /metrics needs no key (--public-metrics)
  // Below its free-space limit ingest answers 507 and GET /ready 503 (null: no limit).
  const DiskGuard* disk = nullptr;
  // Per-run and per-project ingest quotas: over them ingest answers 429 (null: none).
  IngestQuotas* quotas = nullptr;
  // Fields of JSON / Python-dict / logfmt lines parsed at ingest (--no-field-parsing: off, for
  // comparisons; explicit fields are stored either way).
  bool parse_fields = true;
  // Problem detection at ingest with each project's rules (null: off, --no-problem-detection).
  ProblemSettingsCache* problems = nullptr;
  StallWatch* stalls = nullptr;  // told when a run stores lines (null: no stall detection)
  Alerts* alerts = nullptr;      // webhooks (null: none)
  // The server-wide retention default (--retention-* flags): what GET .../retention reports and
  // the sweep applies where a project sets nothing.
  RetentionPolicy retention_defaults;
  // Folds and time orders of whole views (server/run_views.h) kept in memory, at most this.
  size_t view_cache_bytes = size_t{256} << 20;
};

class Api;

// One row of the route table (router.cpp). `pattern` is relative to /api/v1; method "WS" is the
// WebSocket upgrade (no handler: WebSocketSession serves it).
struct Route {
  std::string method;
  const char* pattern;
  Scope scope;
  ApiResponse (*handler)(Api&, ApiRequest&);
  bool root = false;  // `pattern` is from the server root, not under /api/v1
  // The scope is waived when the operator asked for it (--public-metrics): scrapers that cannot
  // send a key. Without keys in the store every route is open anyway.
  bool public_when_allowed = false;
};

// An OTLP/HTTP error reply (a google.rpc.Status in the request's encoding, doc/api.md).
ApiResponse OtlpError(const ApiRequest& req, const Status& status);

// Thread-safety: thread-safe; Handle runs on many worker threads at once.
class Api {
 public:
  // Viewers hear of state changes, clears and progress through `bus`, never from here directly.
  Api(LogStore& store, LiveHub& hub, LiveBus& bus, Authenticator& auth, ApiOptions options);

  // `req.path` starts after "/api/v1" (from the root when req.root_path).
  ApiResponse Handle(ApiRequest& req);
  // Whether `method path` is a read that scans chunks (ServerContext::readers runs those): a
  // GET of a run's logs (list, latest, histogram, locate, download) or a project search.
  static bool ScansLogs(const std::string& method, std::string_view path, bool root);
  // For a WebSocket upgrade at `req.path`: route, Origin, credentials and scope.
  Status AuthorizeStream(ApiRequest& req, int* retry_after_s);

  // Every route, for the router and for tests that walk it.
  static const std::vector<Route>& Routes();
  // The index in Routes() of (method, pattern); -1 when there is none.
  static int RouteIndex(std::string_view method, std::string_view pattern);

  // GET /health. Touches nothing but its argument, so the HTTP layer answers it on the network
  // thread: a probe never waits behind queries on the worker pool.
  ApiResponse Health(int requests_in_flight) const;

  LogStore& store() { return store_; }
  LiveHub& hub() { return hub_; }

 private:
  const Route* FindRoute(const std::string& method, std::string_view path,
                         std::vector<std::string>* params, bool* path_known, bool root);
  // Authenticates `req` (sets req.principal) and checks the route's scope and project.
  Status Authorize(const Route& route, ApiRequest& req, int* retry_after_s);
  bool OriginAllowed(const ApiRequest& req) const;
  // The project of a run, cached (a run never changes project).
  Result<std::string> ProjectOfRun(const std::string& run_id);

  ApiResponse WhoAmI(const ApiRequest& req);
  ApiResponse SignIn(ApiRequest& req);
  ApiResponse SignOut(const ApiRequest& req);
  ApiResponse CreateKey(ApiRequest& req);
  ApiResponse ListKeys();
  ApiResponse RevokeKey(const std::string& id);

  ApiResponse CreateProject(ApiRequest& req);
  ApiResponse ListProjects(const ApiRequest& req);
  ApiResponse CreateRun(ApiRequest& req);
  ApiResponse ListRuns(const ApiRequest& req);
  ApiResponse GetRun(const std::string& id);
  ApiResponse PatchRun(const std::string& id, ApiRequest& req);
  ApiResponse DeleteRun(const std::string& id);

  ApiResponse PostLog(const std::string& id, ApiRequest& req);
  ApiResponse PostBatch(const std::string& id, ApiRequest& req);
  ApiResponse PostProgress(const std::string& id, ApiRequest& req);
  ApiResponse ListLogs(const std::string& id, const ApiRequest& req);
  ApiResponse Latest(const std::string& id, const ApiRequest& req);
  ApiResponse Summary(const std::string& id);
  ApiResponse HistogramOf(const std::string& id, const ApiRequest& req);
  ApiResponse Locate(const std::string& id, const ApiRequest& req);
  // Whole views (api_views.cpp): folds, and sort=time on list and locate.
  ApiResponse Folds(const std::string& id, const ApiRequest& req);
  ApiResponse ListByTime(const std::string& id, const ApiRequest& req, const LineMatcher& matcher);
  ApiResponse LocateByTime(const std::string& id, const ApiRequest& req, const LineMatcher& matcher,
                           int64_t line);
  // `sort`: line (default) or time; anything else is a 422.
  static Result<bool> TimeOrderParam(const ApiRequest& req);
  Result<std::shared_ptr<const RunView>> ViewFor(const std::string& id, const ApiRequest& req,
                                                 const LineMatcher& matcher, bool time_order);
  // Which lines of the run exist below its last line: a clear or a retention cut (on any node)
  // changes it, so what was computed from the lines before must not be served after it (the
  // cached views, the level locator's index).
  static std::string LinesGeneration(const RunInfo& run);
  ApiResponse Download(const std::string& id, const ApiRequest& req);
  ApiResponse ClearLogs(const std::string& id);
  ApiResponse ListBookmarks(const std::string& id);
  ApiResponse AddBookmark(const std::string& id, ApiRequest& req);
  ApiResponse DeleteBookmark(const std::string& id, const std::string& bookmark_id);
  // GET /projects/{project}/search (api_search.cpp).
  ApiResponse SearchProject(const std::string& project, const ApiRequest& req);
  // GET/PUT /projects/{project}/retention (api_retention.cpp).
  ApiResponse GetRetention(const std::string& project);
  ApiResponse PutRetention(const std::string& project, ApiRequest& req);

  // Problems (api_problems.cpp, doc/problems.md).
  ApiResponse RunProblems(const std::string& id);
  ApiResponse ProjectProblems(const std::string& project, const ApiRequest& req);
  ApiResponse GetProblemSettings(const std::string& project);
  ApiResponse PutProblemSettings(const std::string& project, ApiRequest& req);
  ApiResponse AddProblemRule(const std::string& project, ApiRequest& req);
  ApiResponse DeleteProblemRule(const std::string& project, const std::string& name);
  Result<ProblemSettings> LoadProblemSettings(const std::string& project);
  Status SaveProblemSettings(const std::string& project, const ProblemSettings& s);
  // The rules a batch of the run is scanned with (null: detection is off).
  std::shared_ptr<const ProblemRuleSet> ProblemRulesFor(const std::string& run_id);
  void StoredOutput(const std::string& run_id, int64_t accepted);
  // After a batch is stored: the stall watch hears of it, alerts of its new problem kinds.
  void AfterAppend(const std::string& run_id, const IngestResult& r);
  // The same for an OTLP or Loki request (every run it wrote to).
  void AfterForeignAppend(const ForeignIngestResult& stored);
  void ProblemsFound(const std::string& run_id, const std::vector<std::string>& new_kinds);
  // Webhooks (api_alerts.cpp, doc/alerts.md).
  ApiResponse ListWebhooks(const std::string& project);
  ApiResponse AddWebhook(const std::string& project, ApiRequest& req);
  ApiResponse DeleteWebhook(const std::string& project, const std::string& id);

  ApiResponse MetricsText();  // GET /metrics
  ApiResponse Ready();        // GET /ready
  // kInsufficientStorage while free disk is below --min-free-disk.
  Status CheckDiskForIngest() const;
  // kTooManyRequests (with *retry_after_s) when the batch is over an ingest quota; it is then
  // charged to none. Before Append, so a refused batch stores nothing.
  Status CheckQuotas(const std::string& run_id, const IngestBatch& batch, int* retry_after_s);
  // The same for a request that writes to several runs (OTLP, Loki): all admitted or none.
  Status CheckQuotas(const std::vector<QuotaCharge>& charges, int* retry_after_s);
  // The store of a decoded OTLP or Loki request with this request's key, rules and quotas; on
  // kTooManyRequests *retry_after_s says when to come back.
  Result<ForeignIngestResult> StoreForeign(ApiRequest& req, std::vector<ForeignRecord> records,
                                           int* retry_after_s);
  ApiResponse PostOtlpLogs(ApiRequest& req);  // POST /v1/logs
  ApiResponse PostLokiPush(ApiRequest& req);  // POST /loki/api/v1/push

  LogStore& store_;
  LiveHub& hub_;  // read only: how many viewers this node has
  LiveBus& bus_;
  Authenticator& auth_;
  void PublishRunState(const std::string& id, RunState state, std::optional<int64_t> exit_code);
  // `clears`: the run's RunInfo::clears after it; 0 when not known (a deleted run).
  void PublishCleared(const std::string& id, int64_t clears);
  QueryEngine engine_;
  IngestParser ingest_;
  const ApiOptions options_;
  RunViews views_;        // after engine_ and options_, which it is built from
  MatchLocator locator_;  // after engine_

  void Heard(const std::string& run_id);

  // PATCHes with "merge" (state and exit code) are applied one at a time: read, combine, write.
  std::mutex state_mu_;
  std::mutex problem_settings_mu_;  // settings changes: read, change, write, one at a time

  // When each (run, writer, source) last had a progress update passed on: at most 4 a second.
  std::mutex progress_mu_;
  std::unordered_map<std::string, int64_t> progress_last_us_;  // Guarded by progress_mu_

  std::mutex run_project_mu_;
  std::unordered_map<std::string, std::string> run_project_;  // Guarded by run_project_mu_
};

}  // namespace wanllmdb
