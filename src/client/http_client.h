// HttpClient: the small blocking HTTP/WebSocket client behind `wanllmdb tail`, `export` and
// the benchmarks. One connection per call. http:// and https:// (FlexStream); https verifies the
// server's certificate and name against the system CAs or ServerUrl::ca_file.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace boost::asio::ssl {
class context;
}

namespace wanllmdb {

struct ServerUrl {
  bool tls = false;  // https://
  std::string host = "127.0.0.1";
  std::string port = "8080";
  // https: a PEM file of CAs to trust instead of the system's (--ca-file, $WANLLMDB_CA_FILE).
  std::string ca_file;
  std::string Base() const { return (tls ? "https://" : "http://") + host + ":" + port; }
};

// "http://host[:port]" or "https://host[:port]" (path ignored). `ca_file` empty: the value of
// $WANLLMDB_CA_FILE, if set; without either, the system CAs (OpenSSL honours $SSL_CERT_FILE).
Result<ServerUrl> ParseServerUrl(const std::string& url, const std::string& ca_file = "");

// Percent-encodes a query parameter's value (or a path segment): everything but unreserved
// characters and ',' (our list separator).
std::string QueryEscape(std::string_view s);

struct HttpReply {
  int status = 0;
  std::string body;
  // The Retry-After header in seconds (delta-seconds; an HTTP date is ignored), if any.
  std::optional<double> retry_after_s;
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
  std::shared_ptr<boost::asio::ssl::context> tls_;  // https: made on first use
};

// One keep-alive connection for a stream of requests (the capture uploader sends a batch every
// 200 ms; a new TCP connection each time would cost more than the batch). Reconnects lazily;
// a request on a reused connection that fails before any reply is retried once on a fresh one
// (the server may have closed the idle connection). Every send/receive is bounded by `timeout_ms`
// (socket options, since Beast's synchronous calls have no deadline of their own).
// Thread-safety: one thread at a time.
class HttpConnection {
 public:
  HttpConnection(ServerUrl server, std::string api_key, int timeout_ms = 30000);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // kUnavailable on a transport error (nothing known about whether the server acted on it).
  Result<HttpReply> Request(const std::string& method, const std::string& target,
                            const std::string& body = "");
  void Close();

 private:
  struct Impl;
  Result<HttpReply> Attempt(const std::string& method, const std::string& target,
                            const std::string& body, bool* reused);

  ServerUrl server_;
  std::string api_key_;
  int timeout_ms_;
  std::shared_ptr<boost::asio::ssl::context> tls_;  // https: made on first connect
  Impl* impl_ = nullptr;                            // the open connection, or null
};

// The "message" of a {"error": {...}} body, or the body itself.
std::string ErrorMessageOf(const std::string& body);

}  // namespace wanllmdb
