// Server: wires the store, the hub, the API and the network together and runs until SIGINT or
// SIGTERM, then stops accepting, lets in-flight requests finish and closes the store cleanly —
// within a hard deadline: a handler stuck in the store never keeps the process alive (every
// acknowledged batch is already committed, so exiting then loses nothing that was promised).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "server/access_log.h"
#include "server/disk_guard.h"
#include "server/ingest_quota.h"
#include "store/log_store.h"
#include "store/retention.h"

namespace wanllmdb {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string data_dir = "./data";
  std::string store_url;  // default: sqlite:<data_dir>/logs.db
  SyncMode sync = SyncMode::kNormal;
  std::string web_dir;
  std::string api_key;             // legacy: one admin key outside the key store
  bool api_key_on_argv = false;    // it was given as --api-key (visible in ps): warn
  bool allow_anonymous = false;    // a non-loopback address without keys may start
  bool require_auth = false;       // no key yet: create an admin key and print it once
  std::string bootstrap_key_file;  // no key yet: install the wlk_ key in this file as admin
  std::vector<std::string> allowed_hosts, allowed_origins;
  // Reverse proxies (exact IP addresses) whose X-Forwarded-For/-Proto are believed (forwarded.h).
  std::vector<std::string> trusted_proxies;
  int io_threads = 0;      // 0: number of cores
  int worker_threads = 0;  // 0: 4 × cores (they mostly wait on the store)
  int reader_threads = 0;  // 0: 2 × cores, at least 2 (scans: mostly CPU)
  bool access_log = true;
  LogFormat log_format = LogFormat::kText;  // of the access log and the server's events
  int idle_timeout_s = 60;  // idle HTTP connections; WebSocket viewers are pinged at half of it
  // After SIGINT/SIGTERM: how long in-flight requests may take before the process exits anyway.
  int shutdown_timeout_s = 10;
  // How long one request's reads may run (QueryBudget); 0: no limit. Downloads are bounded per
  // piece; all requests are cancelled when their client disconnects.
  double query_timeout_s = 30;
  // New chunks get a text filter that lets searches skip them (core/text_filter.h).
  bool text_filters = true;
  bool parse_fields = true;               // structured lines' fields parsed at ingest
  int max_connections = 10000;            // open HTTP + WebSocket connections in all
  int max_connections_per_client = 1000;  // from one client address
  // A running run no writer was heard from for this long is marked crashed (run_activity.h).
  // 0: never.
  double crash_after_s = 600;
  // Problems found at ingest (doc/problems.md); off only to measure what detection costs.
  bool problem_detection = true;
  // How often running runs are checked for a stall (no new line for their project's stall
  // time); 0: never. Small values are for tests.
  double stall_sweep_s = 15;
  // Webhook deliveries (doc/alerts.md): the first retry's delay (doubling up to 60 s, with
  // jitter) and how many attempts a delivery gets.
  double webhook_retry_s = 1;
  int webhook_attempts = 10;
  // Both set: serve HTTPS and WSS only (PEM certificate chain and private key).
  std::string tls_cert, tls_key;
  // GET /metrics needs no key even when keys exist (scrapers that cannot send one).
  bool public_metrics = false;
  // Below this much free space on the SQLite store's file system ingest answers 507 and
  // GET /api/v1/ready 503 (default: the smaller of 1 GiB and 5%).
  DiskLimit min_free_disk;
  // Ingest quotas per run and per project (lines/s, message bytes/s; 0: none): over them
  // ingest answers 429 with Retry-After (server/ingest_quota.h).
  QuotaLimits quotas;
  // The retention default of every project that does not set its own (--retention-*; all
  // kInherit: keep everything), and how often the sweep enforces the policies.
  RetentionPolicy retention_defaults;
  double retention_interval_s = 600;
};

// Blocks until stopped. `on_ready` gets the bound port (useful with --listen HOST:0).
Status RunServer(const ServerOptions& options, const std::function<void(uint16_t)>& on_ready);

}  // namespace wanllmdb
