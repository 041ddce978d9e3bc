// AccessLog: the server's log on stderr — one line per HTTP request, and the server's own events
// (started, stopping, stopped). Two formats (--log-format): `text`, for people
// ("GET /api/v1/runs?limit=5 200 812B 0.4ms"), and `json`, one JSON object per line for log
// shippers. Neither carries a secret: targets go through RedactTarget (credential-like query
// values become "***"), and headers (Authorization, Cookie) are never logged.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace wanllmdb {

enum class LogFormat { kText, kJson };

// What is logged of one request.
struct RequestRecord {
  std::string_view method;  // "GET", … ("WS" is not used: upgrades are GET with websocket=true)
  std::string_view route;   // the route table's pattern, "static" or "unmatched"
  std::string_view target;  // the raw request target (redacted here)
  std::string_view client;  // the peer's address
  int status = 0;
  int64_t bytes = 0;  // response body bytes
  int64_t duration_us = 0;
  bool websocket = false;  // an upgrade handed to the live tail (status 101)
};

// Thread-safety: thread-safe (one mutex around each write, so lines never interleave).
class AccessLog {
 public:
  // `requests`: log a line per request (--no-access-log turns it off; events are always logged).
  AccessLog(bool requests, LogFormat format) : requests_(requests), format_(format) {}

  void Request(const RequestRecord& r);
  // A server event: `message` as is in text, {"time","level","msg"} in JSON.
  void Event(std::string_view level, std::string_view message);

 private:
  void WriteLine(const std::string& line);

  const bool requests_;
  const LogFormat format_;
  std::mutex mu_;
};

}  // namespace wanllmdb
