#include "server/metrics.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>

namespace wanllmdb {
namespace {

// A label value in the exposition format: backslash, double quote and newline escaped.
std::string LabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Text for a sample value: integers stay integers, others get enough digits to round-trip.
std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string Int(int64_t v) {
  return std::to_string(v);
}

void Family(std::string* out, const char* name, const char* type, const char* help) {
  out->append("# HELP ").append(name).append(" ").append(help).append("\n");
  out->append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void Sample(std::string* out, std::string_view name, std::string_view labels,
            const std::string& value) {
  out->append(name);
  if (!labels.empty()) out->append("{").append(labels).append("}");
  out->append(" ").append(value).append("\n");
}

uint64_t Load(const std::atomic<uint64_t>& a) {
  return a.load(std::memory_order_relaxed);
}

}  // namespace

Metrics::Metrics(std::vector<std::pair<std::string, std::string>> routes, std::string version)
    : routes_(std::move(routes)),
      version_(std::move(version)),
      started_unix_s_(std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count()),
      stats_(new RouteStats[routes_.size() + 2]) {}

int Metrics::RouteIndex(std::string_view method, std::string_view pattern) const {
  for (size_t i = 0; i < routes_.size(); ++i)
    if (routes_[i].first == method && routes_[i].second == pattern) return static_cast<int>(i);
  return Unmatched();
}

void Metrics::RecordRequest(int route, int status, int64_t duration_us) {
  if (route < 0 || route > Unmatched()) route = Unmatched();
  RouteStats& s = stats_[route];
  const double seconds = static_cast<double>(duration_us) / 1e6;
  size_t b = 0;
  while (b < kBucketsSeconds.size() && seconds > kBucketsSeconds[b]) ++b;
  s.buckets[b].fetch_add(1, std::memory_order_relaxed);
  s.sum_us.fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, duration_us)),
                     std::memory_order_relaxed);
  if (status >= kMinStatus && status <= kMaxStatus)
    by_status_[status - kMinStatus].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::RecordRefusedConnection() {
  refused_connections_.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::RecordIngest(int64_t lines, int64_t duplicates, int64_t body_bytes) {
  ingest_batches_.fetch_add(1, std::memory_order_relaxed);
  ingest_lines_.fetch_add(static_cast<uint64_t>(lines), std::memory_order_relaxed);
  ingest_duplicates_.fetch_add(static_cast<uint64_t>(duplicates), std::memory_order_relaxed);
  ingest_bytes_.fetch_add(static_cast<uint64_t>(body_bytes), std::memory_order_relaxed);
}

void Metrics::SetSampler(std::function<MetricsSample()> sampler) {
  sampler_ = std::move(sampler);
}

std::string Metrics::Render() const {
  std::string out;
  out.reserve(64 * 1024);
  MetricsSample g;
  if (sampler_) g = sampler_();

  Family(&out, "wanllmdb_build_info", "gauge", "Always 1; the version is a label.");
  Sample(&out, "wanllmdb_build_info", "version=\"" + LabelValue(version_) + "\"", "1");
  Family(&out, "wanllmdb_start_time_seconds", "gauge", "When the server started (Unix time).");
  Sample(&out, "wanllmdb_start_time_seconds", "", Int(started_unix_s_));

  Family(&out, "wanllmdb_ingest_lines_total", "counter",
         "Log lines stored by ingest requests (duplicates not counted).");
  Sample(&out, "wanllmdb_ingest_lines_total", "", std::to_string(Load(ingest_lines_)));
  Family(&out, "wanllmdb_ingest_duplicates_total", "counter",
         "Lines skipped because their writer had already sent that seq (retries).");
  Sample(&out, "wanllmdb_ingest_duplicates_total", "", std::to_string(Load(ingest_duplicates_)));
  Family(&out, "wanllmdb_ingest_batches_total", "counter",
         "Ingest requests that were stored (POST .../logs and .../logs/batch answered 2xx).");
  Sample(&out, "wanllmdb_ingest_batches_total", "", std::to_string(Load(ingest_batches_)));
  Family(&out, "wanllmdb_ingest_bytes_total", "counter",
         "Request body bytes of the ingest requests that were stored.");
  Sample(&out, "wanllmdb_ingest_bytes_total", "", std::to_string(Load(ingest_bytes_)));

  Family(&out, "wanllmdb_http_rejected_requests_total", "counter",
         "Requests answered with a 4xx or 5xx status, by status (connections refused over a "
         "connection limit count as 503).");
  for (int code = 400; code <= kMaxStatus; ++code) {
    uint64_t n = Load(by_status_[code - kMinStatus]);
    if (code == 503) n += Load(refused_connections_);
    if (n == 0) continue;  // a bounded set: only the statuses that happened
    Sample(&out, "wanllmdb_http_rejected_requests_total", "code=\"" + Int(code) + "\"",
           std::to_string(n));
  }

  Family(&out, "wanllmdb_http_request_duration_seconds", "histogram",
         "Time from a request being read to its response being ready, by route (the route "
         "table's pattern; \"static\" for the web UI's files, \"unmatched\" for unknown paths).");
  const size_t n_routes = routes_.size() + 2;
  for (size_t i = 0; i < n_routes; ++i) {
    std::string method, pattern;
    if (i < routes_.size()) {
      method = routes_[i].first;
      pattern = routes_[i].second;
    } else {
      method = "any";
      pattern = i == routes_.size() ? "static" : "unmatched";
    }
    if (method == "WS") continue;  // upgrades are counted as connections, not requests
    const RouteStats& s = stats_[i];
    const std::string labels =
        "method=\"" + LabelValue(method) + "\",route=\"" + LabelValue(pattern) + "\"";
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= kBucketsSeconds.size(); ++b) {
      cumulative += Load(s.buckets[b]);
      std::string le = b < kBucketsSeconds.size() ? Number(kBucketsSeconds[b]) : "+Inf";
      Sample(&out, "wanllmdb_http_request_duration_seconds_bucket", labels + ",le=\"" + le + "\"",
             std::to_string(cumulative));
    }
    Sample(&out, "wanllmdb_http_request_duration_seconds_sum", labels,
           Number(static_cast<double>(Load(s.sum_us)) / 1e6));
    // The +Inf bucket is the count by definition; reading it from the buckets keeps the two
    // equal within one scrape.
    Sample(&out, "wanllmdb_http_request_duration_seconds_count", labels,
           std::to_string(cumulative));
  }

  const int64_t ws = websockets_.load(std::memory_order_relaxed);
  Family(&out, "wanllmdb_open_connections", "gauge",
         "Open client connections by kind (http: plain HTTP keep-alive connections; websocket: "
         "live-tail viewers).");
  Sample(&out, "wanllmdb_open_connections", "kind=\"http\"",
         Int(std::max<int64_t>(0, g.open_connections - ws)));
  Sample(&out, "wanllmdb_open_connections", "kind=\"websocket\"", Int(ws));
  Family(&out, "wanllmdb_live_viewers", "gauge", "WebSocket viewers subscribed to a run's tail.");
  Sample(&out, "wanllmdb_live_viewers", "", Int(g.live_viewers));
  Family(&out, "wanllmdb_live_lag_lines", "gauge",
         "Lines stored but not yet sent to the furthest-behind live viewer on this node.");
  Sample(&out, "wanllmdb_live_lag_lines", "", Int(g.live_lag_max_lines));

  Family(&out, "wanllmdb_retention_removed_lines_total", "counter",
         "Lines this node's retention sweep removed (rotation, max_age, project caps).");
  Sample(&out, "wanllmdb_retention_removed_lines_total", "", Int(g.retention_lines));
  Family(&out, "wanllmdb_retention_removed_bytes_total", "counter",
         "Message bytes of the lines this node's retention sweep removed.");
  Sample(&out, "wanllmdb_retention_removed_bytes_total", "", Int(g.retention_bytes));
  Family(&out, "wanllmdb_retention_deleted_runs_total", "counter",
         "Runs this node's retention sweep deleted (max_age with delete_run).");
  Sample(&out, "wanllmdb_retention_deleted_runs_total", "", Int(g.retention_runs));

  if (g.store_bytes) {
    Family(&out, "wanllmdb_store_bytes", "gauge",
           "Size of the store (SQLite: the database and its WAL; PostgreSQL: the tables).");
    Sample(&out, "wanllmdb_store_bytes", "", Int(*g.store_bytes));
  }
  if (g.disk_free_bytes) {
    Family(&out, "wanllmdb_disk_free_bytes", "gauge",
           "Free space on the file system of the data directory (available to this process).");
    Sample(&out, "wanllmdb_disk_free_bytes", "", Int(*g.disk_free_bytes));
  }
  if (g.disk_total_bytes) {
    Family(&out, "wanllmdb_disk_size_bytes", "gauge",
           "Size of the file system of the data directory.");
    Sample(&out, "wanllmdb_disk_size_bytes", "", Int(*g.disk_total_bytes));
  }
  if (g.disk_min_free_bytes) {
    Family(&out, "wanllmdb_disk_min_free_bytes", "gauge",
           "Ingest is refused (507) while free space is below this (--min-free-disk).");
    Sample(&out, "wanllmdb_disk_min_free_bytes", "", Int(*g.disk_min_free_bytes));
  }
  return out;
}

}  // namespace wanllmdb
