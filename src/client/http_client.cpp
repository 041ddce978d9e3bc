#include "client/http_client.h"

#include <simdjson.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <limits>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace wanllmdb {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;

Status NetError(const ServerUrl& s, const beast::error_code& ec) {
  return Status(Code::kUnavailable,
                "cannot reach the server at http://" + s.host + ":" + s.port + ": " + ec.message());
}

// Resolves the server and connects `socket` to it: the first step of every call here.
Status Connect(net::io_context& ioc, const ServerUrl& server, tcp::socket& socket) {
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto results = resolver.resolve(server.host, server.port, ec);
  if (!ec) net::connect(socket, results, ec);
  if (ec) return NetError(server, ec);
  return Status::Ok();
}

}  // namespace

Result<ServerUrl> ParseServerUrl(const std::string& url) {
  std::string rest = url;
  if (rest.rfind("https://", 0) == 0) {
    return Status(Code::kInvalidValue,
                  "https is not supported by this client; put a proxy in "
                  "front or use http://");
  }
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  rest = rest.substr(0, rest.find('/'));
  if (rest.empty()) return Status(Code::kInvalidValue, "empty server URL");
  ServerUrl s;
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos) {
    s.host = rest;
    s.port = "80";
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
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  if (Status c = Connect(ioc, server_, stream.socket()); !c.ok()) return c;
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
  HttpReply reply;
  reply.status = static_cast<int>(parser.get().result_int());
  reply.body = std::move(parser.get().body());
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  return reply;
}

Status HttpClient::Download(const std::string& target,
                            const std::function<void(std::string_view)>& sink) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  if (Status c = Connect(ioc, server_, stream.socket()); !c.ok()) return c;
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
  net::io_context ioc;
  websocket::stream<tcp::socket> ws(ioc);
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
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
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
  impl_->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
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
    auto* impl = new Impl;
    if (Status c = Connect(impl->ioc, server_, impl->stream.socket()); !c.ok()) {
      delete impl;
      return c;
    }
    timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
    int fd = impl->stream.socket().native_handle();
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    impl->stream.socket().set_option(tcp::no_delay(true), ec);
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
  http::write(impl_->stream, req, ec);
  if (ec) {
    Close();
    return NetError(server_, ec);
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ULL << 32);
  http::read(impl_->stream, impl_->buffer, parser, ec);
  if (ec) {
    Close();
    return NetError(server_, ec);
  }
  HttpReply reply;
  reply.status = static_cast<int>(parser.get().result_int());
  reply.body = std::move(parser.get().body());
  if (!parser.get().keep_alive()) Close();
  return reply;
}

}  // namespace wanllmdb
