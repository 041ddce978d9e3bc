// Api: every /api/v1 endpoint of doc/api.md as a plain function of ApiRequest → ApiResponse.
// Handlers block (store reads, group commit), so the HTTP layer runs them on a worker pool, never
// on the network threads.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "server/api_types.h"
#include "server/ingest.h"
#include "server/live_hub.h"
#include "store/log_store.h"
#include "store/query_engine.h"

namespace wanllmdb {

struct ApiOptions {
  std::string api_key;  // empty: no authentication
  std::string version = "0.1.0";
};

// Thread-safety: thread-safe; Handle runs on many worker threads at once.
class Api {
 public:
  Api(LogStore& store, LiveHub& hub, ApiOptions options);

  // `req.path` starts after "/api/v1".
  ApiResponse Handle(ApiRequest& req);
  // Checks the key of a request (header or ?api_key=); OK when no key is configured.
  Status Authorize(const ApiRequest& req) const;

  // GET /health. Touches nothing but its argument, so the HTTP layer answers it on the network
  // thread: a probe never waits behind queries on the worker pool.
  ApiResponse Health(int requests_in_flight) const;

  LogStore& store() { return store_; }
  LiveHub& hub() { return hub_; }

 private:
  ApiResponse CreateProject(ApiRequest& req);
  ApiResponse ListProjects();
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
  ApiResponse Download(const std::string& id, const ApiRequest& req);
  ApiResponse ClearLogs(const std::string& id);

  LogStore& store_;
  LiveHub& hub_;
  QueryEngine engine_;
  IngestParser ingest_;
  const ApiOptions options_;

  // When each (run, writer, source) last had a progress update passed on: at most 4 a second.
  std::mutex progress_mu_;
  std::unordered_map<std::string, int64_t> progress_last_us_;  // Guarded by progress_mu_
};

}  // namespace wanllmdb
