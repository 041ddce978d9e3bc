// What every session needs from the server, owned by Server and outliving every session.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

#include "server/access_log.h"
#include "server/forwarded.h"
#include "server/request_guard.h"

namespace boost::asio {
class thread_pool;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace wanllmdb {

class Api;
class ConnectionLimits;
class LiveHub;
class LogStore;
class Metrics;
class QueryEngine;
class StaticFiles;

struct ServerContext {
  Api* api = nullptr;
  LiveHub* hub = nullptr;
  LogStore* store = nullptr;
  QueryEngine* engine = nullptr;
  StaticFiles* files = nullptr;
  boost::asio::thread_pool* workers = nullptr;  // blocking work: ingest, run updates, cheap reads
  // Reads that scan chunks (log lists, searches, histograms, downloads, WebSocket backlogs): a
  // bounded pool of their own at a lower CPU priority, so a crowd of searches queues here and
  // never takes the workers (or the cores) that ingest needs.
  boost::asio::thread_pool* readers = nullptr;
  AccessLog* access_log = nullptr;
  std::atomic<int> in_flight{0};  // HTTP requests being handled, for a graceful stop
  // A connection that sends nothing for this long is closed (idle keep-alive, half-open peers).
  std::chrono::seconds idle_timeout{60};
  // A request's read budget (--query-timeout); zero: none.
  std::chrono::steady_clock::duration query_timeout{std::chrono::seconds(30)};
  HostPolicy hosts;        // Host headers answered (DNS rebinding)
  TrustedProxies proxies;  // whose X-Forwarded-* headers count (--trust-proxy)
  ConnectionLimits* connections = nullptr;
  boost::asio::ssl::context* tls = nullptr;  // set: every connection is TLS (--tls-cert)
  Metrics* metrics = nullptr;                // never null while sessions run
};

}  // namespace wanllmdb
