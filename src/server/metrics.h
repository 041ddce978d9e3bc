// Metrics: the server's counters and latency histograms, rendered for GET /metrics in the
// Prometheus text exposition format 0.0.4 (doc/operations.md lists every series).
//
// The request path only does relaxed atomic adds into arrays sized at construction: no lock, no
// allocation, no lookup by name. Labels form a fixed, bounded set: the rows of the route table
// (their patterns, never raw paths) plus two pseudo routes, and HTTP status codes 100..599.
// Figures that are cheap only to read when asked (open connections, live-viewer lag, store size,
// free disk) come from a sampler the server installs, called once per scrape.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace wanllmdb {

// What a scrape reads at that moment (the sampler fills what it knows; unset is left out).
struct MetricsSample {
  int64_t open_connections = 0;  // HTTP and WebSocket, as ConnectionLimits counts them
  int64_t live_viewers = 0;
  int64_t live_lag_max_lines = 0;  // the furthest behind viewer: lines known but not yet sent
  std::optional<int64_t> store_bytes;
  std::optional<int64_t> disk_free_bytes, disk_total_bytes, disk_min_free_bytes;
  // What this node's retention sweep removed since it started (counters).
  int64_t retention_lines = 0, retention_bytes = 0, retention_runs = 0;
};

// Thread-safety: thread-safe. Record* and the gauge updates may be called from any thread at
// once; Render too (it reads the atomics one by one: a scrape is not a snapshot across series,
// but every counter is monotonic, and a histogram's count is the sum of the buckets it printed).
class Metrics {
 public:
  // `routes`: (method, pattern) of every row of the route table, in table order; the route index
  // of a request is its row. Two pseudo routes follow: Static() and Unmatched().
  explicit Metrics(std::vector<std::pair<std::string, std::string>> routes,
                   std::string version = "");
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  int Static() const { return static_cast<int>(routes_.size()); }         // the web UI's files
  int Unmatched() const { return static_cast<int>(routes_.size()) + 1; }  // no route matched
  // The index of (method, pattern), or Unmatched(). Not for the hot path (a linear search).
  int RouteIndex(std::string_view method, std::string_view pattern) const;

  // One answered HTTP request: its route index (out of range: Unmatched()), status, time from
  // the request being read to the response being ready.
  void RecordRequest(int route, int status, int64_t duration_us);
  // A connection refused at accept (over a connection limit: 503 before any request).
  void RecordRefusedConnection();
  // One ingest request that stored: lines stored, lines skipped as duplicates, body bytes.
  void RecordIngest(int64_t lines, int64_t duplicates, int64_t body_bytes);
  void WebSocketOpened() { websockets_.fetch_add(1, std::memory_order_relaxed); }
  void WebSocketClosed() { websockets_.fetch_sub(1, std::memory_order_relaxed); }

  // Called by Render on the scraping thread; may block briefly (a store query).
  void SetSampler(std::function<MetricsSample()> sampler);

  std::string Render() const;

  // Upper bounds of the latency buckets, in seconds (+Inf is implicit).
  static constexpr std::array<double, 13> kBucketsSeconds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};

 private:
  struct RouteStats {
    std::array<std::atomic<uint64_t>, kBucketsSeconds.size() + 1> buckets{};  // not cumulative
    std::atomic<uint64_t> sum_us{0};
  };
  static constexpr int kMinStatus = 100, kMaxStatus = 599;

  const std::vector<std::pair<std::string, std::string>> routes_;
  const std::string version_;
  const int64_t started_unix_s_;
  std::unique_ptr<RouteStats[]> stats_;  // routes_.size() + 2 entries
  std::array<std::atomic<uint64_t>, kMaxStatus - kMinStatus + 1> by_status_{};
  std::atomic<uint64_t> refused_connections_{0};
  std::atomic<uint64_t> ingest_lines_{0}, ingest_duplicates_{0}, ingest_batches_{0},
      ingest_bytes_{0};
  std::atomic<int64_t> websockets_{0};
  // Set once while the server starts, before any scrape (not guarded: set-before-use).
  std::function<MetricsSample()> sampler_;
};

}  // namespace wanllmdb
