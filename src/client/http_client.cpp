#include "client/http_client.h"

#include <cctype>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <simdjson.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "net/flex_stream.h"

namespace wanllmdb {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;

namespace ssl = net::ssl;

Status NetError(const ServerUrl& s, const beast::error_code& ec) {
  return Status(Code::kUnavailable, "cannot reach the server at " + s.Base() + ": " + ec.message());
}

// For https: `*tls` is made once per client (loading the CA bundle costs milliseconds). The
// server's certificate must chain to `ca_file` or a system CA; TLS 1.2 at least.
Status EnsureTls(const ServerUrl& server, std::shared_ptr<ssl::context>* tls) {
  if (!server.tls || *tls) return Status::Ok();
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->set_verify_mode(ssl::verify_peer);
  beast::error_code ec;
  if (!server.ca_file.empty()) {
    std::FILE* f = std::fopen(server.ca_file.c_str(), "rb");
    if (!f) {
      return Status(Code::kInvalidValue,
                    "cannot read the CA file " + server.ca_file + ": " + std::strerror(errno));
    }
    std::fclose(f);
    ctx->load_verify_file(server.ca_file, ec);
  } else {
    ctx->set_default_verify_paths(ec);
  }
  if (ec) {
    ERR_clear_error();
    return Status(Code::kInvalidValue,
                  "cannot load the CA certificates " +
                      (server.ca_file.empty() ? std::string("of the system") : server.ca_file) +
                      ": " + ec.message() + " (want PEM certificates)");
  }
  *tls = std::move(ctx);
  return Status::Ok();
}

// Runs the asynchronous operation that `start` begins on `stream` until it completes or
// `timeout_ms` (> 0) passes; then the socket is closed and the result is `timeout`. Why async:
// Beast's synchronous calls have no deadline, and SO_RCVTIMEO does not give one either (on
// EAGAIN asio's synchronous read polls again without a limit), so a server that accepts and
// then says nothing would hold the capture uploader forever.
template <class Start>
beast::error_code RunBounded(net::io_context& ioc, FlexStream& stream, int timeout_ms,
                             Start&& start) {
  beast::error_code result = net::error::would_block;
  auto& lowest = beast::get_lowest_layer(stream);
  if (timeout_ms > 0) {
    lowest.expires_after(std::chrono::milliseconds(timeout_ms));
  } else {
    lowest.expires_never();
  }
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

// Resolves the server and connects `stream` to it — for https also the TLS handshake, checking
// the certificate's chain and its name (or IP address) against the URL's host: the first step of
// every call here. `timeout_ms` > 0 bounds the connect and the handshake together.
Status Connect(net::io_context& ioc, const ServerUrl& server, FlexStream& stream,
               int timeout_ms = 0) {
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto results = resolver.resolve(server.host, server.port, ec);
  auto& lowest = beast::get_lowest_layer(stream);
  if (!ec) {
    ec = RunBounded(ioc, stream, timeout_ms,
                    [&](auto handler) { lowest.async_connect(results, std::move(handler)); });
  }
  if (ec) return NetError(server, ec);
  if (!stream.is_tls()) return Status::Ok();
  SSL* ssl_handle = stream.tls().native_handle();
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
  beast::error_code not_ip;
  net::ip::make_address(server.host, not_ip);
  if (!not_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(param, server.host.c_str());
  } else {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    X509_VERIFY_PARAM_set1_host(param, server.host.c_str(), 0);
    SSL_set_tlsext_host_name(ssl_handle, server.host.c_str());  // SNI: names only, not IPs
  }
  ec = RunBounded(ioc, stream, timeout_ms, [&](auto handler) {
    stream.tls().async_handshake(ssl::stream_base::client, std::move(handler));
  });
  lowest.expires_never();
  if (ec) {
    long verify = SSL_get_verify_result(ssl_handle);
    std::string why = ec.message();
    if (verify != X509_V_OK) {
      why = std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify) +
            " (trust the server's CA with --ca-file or $WANLLMDB_CA_FILE)";
    }
    ERR_clear_error();
    return Status(Code::kUnavailable, "TLS handshake with " + server.Base() + " failed: " + why);
  }
  return Status::Ok();
}

// Status, body and Retry-After of a response (a negative or non-numeric value is ignored).
HttpReply ReplyOf(http::response<http::string_body>& res) {
  HttpReply reply;
  reply.status = static_cast<int>(res.result_int());
  reply.body = std::move(res.body());
  auto it = res.find(http::field::retry_after);
  if (it != res.end()) {
    std::string v(it->value());
    char* end = nullptr;
    double s = std::strtod(v.c_str(), &end);
    if (end != v.c_str() && *end == '\0' && s >= 0 && std::isfinite(s)) reply.retry_after_s = s;
  }
  return reply;
}

}  // namespace

Result<ServerUrl> ParseServerUrl(const std::string& url, const std::string& ca_file) {
  std::string rest = url;
  ServerUrl s;
  if (rest.rfind("https://", 0) == 0) {
    s.tls = true;
    rest = rest.substr(8);
  } else if (rest.rfind("http://", 0) == 0) {
    rest = rest.substr(7);
  }
  rest = rest.substr(0, rest.find('/'));
  if (rest.empty()) return Status(Code::kInvalidValue, "empty server URL");
  s.ca_file = ca_file;
  if (s.ca_file.empty()) {
    if (const char* env = std::getenv("WANLLMDB_CA_FILE"); env && *env) s.ca_file = env;
  }
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos) {
    s.host = rest;
    s.port = s.tls ? "443" : "80";
  } else {
    s.host = rest.substr(0, colon);
    s.port = rest.substr(colon + 1);
  }
  return s;
}

std::string ErrorMessageOf(const std::string& body) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (!p.parse(body).get(doc)) {
    std::string_view m;
    if (!doc.at_pointer("/error/message").get(m)) return std::string(m);
  }
  return body;
}

Result<HttpReply> HttpClient::Request(const std::string& method, const std::string& target,
                                      const std::string& body) {
  if (Status t = EnsureTls(server_, &tls_); !t.ok()) return t;
  net::io_context ioc;
  FlexStream stream(ioc, tls_.get());
  if (Status c = Connect(ioc, server_, stream); !c.ok()) return c;
  beast::error_code ec;
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, server_.host);
  req.set(http::field::user_agent, "wanllmdb-cli");
  if (!api_key_.empty()) req.set(http::field::authorization, "Bearer " + api_key_);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  http::write(stream, req, ec);
  if (ec) return NetError(server_, ec);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ULL << 32);
  http::read(stream, buffer, parser, ec);
  if (ec) return NetError(server_, ec);
  HttpReply reply = ReplyOf(parser.get());
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
  return reply;
}

Status HttpClient::Download(const std::string& target,
                            const std::function<void(std::string_view)>& sink) {
  if (Status t = EnsureTls(server_, &tls_); !t.ok()) return t;
  net::io_context ioc;
  FlexStream stream(ioc, tls_.get());
  if (Status c = Connect(ioc, server_, stream); !c.ok()) return c;
  beast::error_code ec;
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, server_.host);
  if (!api_key_.empty()) req.set(http::field::authorization, "Bearer " + api_key_);
  http::write(stream, req, ec);
  if (ec) return NetError(server_, ec);
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  http::read_header(stream, buffer, parser, ec);
  if (ec) return NetError(server_, ec);
  int status = static_cast<int>(parser.get().result_int());
  std::string error_body;
  char buf[64 * 1024];
  while (!parser.is_done()) {
    parser.get().body().data = buf;
    parser.get().body().size = sizeof buf;
    http::read(stream, buffer, parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return Status(Code::kUnavailable, "download interrupted: " + ec.message());
    size_t n = sizeof buf - parser.get().body().size;
    if (status >= 300) {
      error_body.append(buf, n);
    } else if (n) {
      sink(std::string_view(buf, n));
    }
  }
  if (status >= 300) {
    return Status(status == 404 ? Code::kNotFound : Code::kBadRequest,
                  "server answered " + std::to_string(status) + ": " + ErrorMessageOf(error_body));
  }
  return Status::Ok();
}

Status HttpClient::Stream(const std::string& target,
                          const std::function<bool(std::string_view)>& on_frame) {
  if (Status t = EnsureTls(server_, &tls_); !t.ok()) return t;
  net::io_context ioc;
  websocket::stream<FlexStream> ws(ioc, tls_.get());
  if (Status c = Connect(ioc, server_, ws.next_layer()); !c.ok()) return c;
  beast::error_code ec;
  ws.set_option(websocket::stream_base::decorator([&](websocket::request_type& req) {
    if (!api_key_.empty()) req.set(http::field::authorization, "Bearer " + api_key_);
  }));
  websocket::response_type res;
  ws.handshake(res, server_.host + ":" + server_.port, target, ec);
  if (ec) {
    if (res.result_int() >= 300) {
      return Status(res.result_int() == 404 ? Code::kNotFound : Code::kBadRequest,
                    "server answered " + std::to_string(res.result_int()) + ": " +
                        ErrorMessageOf(res.body()));
    }
    return NetError(server_, ec);
  }
  beast::flat_buffer buffer;
  while (true) {
    ws.read(buffer, ec);
    if (ec == websocket::error::closed) return Status::Ok();
    if (ec) return Status(Code::kUnavailable, "live stream ended: " + ec.message());
    std::string frame = beast::buffers_to_string(buffer.data());
    buffer.consume(buffer.size());
    if (!on_frame(frame)) break;
  }
  ws.close(websocket::close_code::normal, ec);
  return Status::Ok();
}

struct HttpConnection::Impl {
  explicit Impl(ssl::context* tls) : stream(ioc, tls) {}
  net::io_context ioc;
  FlexStream stream;
  beast::flat_buffer buffer;
};

HttpConnection::HttpConnection(ServerUrl server, std::string api_key, int timeout_ms)
    : server_(std::move(server)), api_key_(std::move(api_key)), timeout_ms_(timeout_ms) {}

HttpConnection::~HttpConnection() {
  Close();
}

void HttpConnection::Close() {
  if (!impl_) return;
  beast::error_code ec;
  beast::get_lowest_layer(impl_->stream).socket().shutdown(tcp::socket::shutdown_both, ec);
  delete impl_;
  impl_ = nullptr;
}

Result<HttpReply> HttpConnection::Request(const std::string& method, const std::string& target,
                                          const std::string& body) {
  bool reused = false;
  auto reply = Attempt(method, target, body, &reused);
  if (!reply.ok() && reused) reply = Attempt(method, target, body, &reused);
  return reply;
}

Result<HttpReply> HttpConnection::Attempt(const std::string& method, const std::string& target,
                                          const std::string& body, bool* reused) {
  beast::error_code ec;
  *reused = impl_ != nullptr;
  if (!impl_) {
    if (Status t = EnsureTls(server_, &tls_); !t.ok()) return t;
    auto* impl = new Impl(tls_.get());
    if (Status c = Connect(impl->ioc, server_, impl->stream, timeout_ms_); !c.ok()) {
      delete impl;
      return c;
    }
    beast::get_lowest_layer(impl->stream).socket().set_option(tcp::no_delay(true), ec);
    impl_ = impl;
  }
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, server_.host);
  req.set(http::field::user_agent, "wanllmdb-capture");
  req.keep_alive(true);
  if (!api_key_.empty()) req.set(http::field::authorization, "Bearer " + api_key_);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  ec = RunBounded(impl_->ioc, impl_->stream, timeout_ms_,
                  [&](auto handler) { http::async_write(impl_->stream, req, std::move(handler)); });
  if (ec) {
    Close();
    return NetError(server_, ec);
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ULL << 32);
  ec = RunBounded(impl_->ioc, impl_->stream, timeout_ms_, [&](auto handler) {
    http::async_read(impl_->stream, impl_->buffer, parser, std::move(handler));
  });
  if (ec) {
    Close();
    return NetError(server_, ec);
  }
  HttpReply reply = ReplyOf(parser.get());
  if (!parser.get().keep_alive()) Close();
  return reply;
}

std::string QueryEscape(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ',') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

}  // namespace wanllmdb
