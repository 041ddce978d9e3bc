// HttpClient: the small blocking HTTP/WebSocket client behind `wanllmdb tail`, `export` and
// the benchmarks. One connection per call; plain http:// only.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace wanllmdb {

struct ServerUrl {
  std::string host = "127.0.0.1";
  std::string port = "8080";
};

// "http://host:port" (path ignored). "https" is refused with a clear message.
Result<ServerUrl> ParseServerUrl(const std::string& url);

struct HttpReply {
  int status = 0;
  std::string body;
};

// Thread-safety: stateless apart from its options; one call per thread at a time.
class HttpClient {
 public:
  HttpClient(ServerUrl server, std::string api_key)
      : server_(std::move(server)), api_key_(std::move(api_key)) {}

  Result<HttpReply> Request(const std::string& method, const std::string& target,
                            const std::string& body = "");
  // GET with the body handed to `sink` piece by piece as it arrives (any size, bounded memory).
  // A non-2xx status is returned as an error with the server's message.
  Status Download(const std::string& target, const std::function<void(std::string_view)>& sink);
  // Opens a WebSocket and hands every text frame to `on_frame` until it returns false or the
  // server closes.
  Status Stream(const std::string& target, const std::function<bool(std::string_view)>& on_frame);

 private:
  ServerUrl server_;
  std::string api_key_;
};

// The "message" of a {"error": {...}} body, or the body itself.
std::string ErrorMessageOf(const std::string& body);

}  // namespace wanllmdb
