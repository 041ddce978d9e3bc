// What every session needs from the server, owned by Server and outliving every session.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

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
class QueryEngine;
class StaticFiles;

// One line per HTTP request on stderr. Thread-safety: thread-safe.
class AccessLog {
 public:
  explicit AccessLog(bool enabled) : enabled_(enabled) {}
  void Write(const std::string& line) {
    if (!enabled_) return;
    std::lock_guard lock(mu_);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fputc('\n', stderr);
  }

 private:
  const bool enabled_;
  std::mutex mu_;
};

struct ServerContext {
  Api* api = nullptr;
  LiveHub* hub = nullptr;
  LogStore* store = nullptr;
  QueryEngine* engine = nullptr;
  StaticFiles* files = nullptr;
  boost::asio::thread_pool* workers = nullptr;  // blocking work: store reads and writes
  AccessLog* access_log = nullptr;
  std::atomic<int> in_flight{0};  // HTTP requests being handled, for a graceful stop
  // A connection that sends nothing for this long is closed (idle keep-alive, half-open peers).
  std::chrono::seconds idle_timeout{60};
  // A request's read budget (--query-timeout); zero: none.
  std::chrono::steady_clock::duration query_timeout{std::chrono::seconds(30)};
  HostPolicy hosts;  // Host headers answered (DNS rebinding)
  TrustedProxies proxies;  // whose X-Forwarded-* headers count (--trust-proxy)
  ConnectionLimits* connections = nullptr;
  boost::asio::ssl::context* tls = nullptr;  // set: every connection is TLS (--tls-cert)
};

}  // namespace wanllmdb
