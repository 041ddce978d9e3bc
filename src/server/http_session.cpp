#include "server/http_session.h"

#include <poll.h>

#include <cstdio>
#include <functional>

#include "server/api.h"
#include "server/http_util.h"
#include "server/json_in.h"
#include "server/metrics.h"
#include "server/request_guard.h"
#include "server/static_files.h"
#include "server/websocket_session.h"
#include "store/query_budget.h"

namespace wanllmdb {
namespace {

constexpr size_t kMaxBodyBytes = 16 * 1024 * 1024;
// Read buffer capacity of a connection that sends bodies (see DoRead): beast reads at most
// 64 KiB at a time, whatever the buffer holds.
constexpr size_t kReadBufferBytes = 64 * 1024;
// A body over this marks the connection as one that sends bodies.
constexpr size_t kBigBodyBytes = 16 * 1024;
constexpr auto kWriteTimeout = std::chrono::seconds(60);
constexpr std::string_view kApiPrefix = "/api/v1";
// nginx's code for "the client closed the connection before the answer": access log only.
constexpr int kClientClosedRequest = 499;
// How much of a streamed body one reader task produces before the session writes it.
constexpr size_t kStreamBatchBytes = 64 * 1024;
constexpr auto kStreamBatchTime = std::chrono::milliseconds(50);

// Whether the peer of `fd` has closed its side (or the connection failed): a zero-timeout poll,
// safe from a worker thread while no operation runs on the socket (the session waits for the
// handler). Data pipelined by a live client only sets POLLIN, which is not "gone".
std::function<bool()> ClientGoneProbe(int fd) {
  return [fd] {
    pollfd p{fd, POLLRDHUP, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
  };
}

// A header by name ("" when absent); repeated headers: the first.
std::string header_text(const http::request<http::string_body>& req, std::string_view name) {
  auto it = req.find(name);
  return it == req.end() ? std::string() : std::string(it->value());
}

// Routes served from the server root rather than under /api/v1: where their clients look
// (Prometheus, OTLP exporters, Loki clients).
bool IsRootApiPath(std::string_view path) {
  return path == "/metrics" || path == "/v1/logs" || path == "/loki/api/v1/push";
}

// "/api/v1/runs/{id}/logs/stream" → the id, or "".
std::string StreamRunId(std::string_view path) {
  constexpr std::string_view kRuns = "/api/v1/runs/";
  constexpr std::string_view kTail = "/logs/stream";
  if (path.rfind(kRuns, 0) != 0 || path.size() <= kRuns.size() + kTail.size()) return "";
  if (path.substr(path.size() - kTail.size()) != kTail) return "";
  std::string_view id = path.substr(kRuns.size(), path.size() - kRuns.size() - kTail.size());
  if (id.find('/') != std::string_view::npos) return "";
  return std::string(id);
}

}  // namespace

HttpSession::HttpSession(tcp::socket&& socket, ServerContext& ctx,
                         std::shared_ptr<ConnectionSlot> slot)
    : stream_(std::move(socket), ctx.tls), slot_(std::move(slot)), ctx_(ctx) {}

void HttpSession::Run() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    if (self->stream_.is_tls()) return self->Handshake();
    self->DoRead();
  });
}

void HttpSession::Handshake() {
  beast::get_lowest_layer(stream_).expires_after(kHandshakeTimeout);
  stream_.tls().async_handshake(net::ssl::stream_base::server,
                                [self = shared_from_this()](beast::error_code ec) {
                                  // Plain HTTP, a port scanner, an untrusting client: nothing
                                  // to report, nothing to answer.
                                  if (ec) return self->Close();
                                  self->DoRead();
                                });
}

void HttpSession::DoRead() {
  parser_.emplace();
  parser_->body_limit(kMaxBodyBytes);
  parser_->header_limit(64 * 1024);
  // beast reads at most the buffer's free capacity, and at least 512 bytes: a default buffer
  // stays at 512 and read a 145 KiB ingest batch in ~280 recvmsg calls, each with its epoll
  // round, timer re-armed and handler dispatched (a third of the server's CPU under
  // `wanllmdb run`). A connection that has sent a big body (an uploader) reads 64 KiB at a
  // time from then on; one that only asks (a viewer) keeps the small default while it idles.
  if (sends_bodies_) buffer_.reserve(kReadBufferBytes);
  // Idle keep-alive and half-open connections end here.
  beast::get_lowest_layer(stream_).expires_after(ctx_.idle_timeout);
  http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t n) { self->OnRead(ec, n); });
}

void HttpSession::OnRead(beast::error_code ec, size_t) {
  if (ec == http::error::end_of_stream) return Close();
  route_ = ctx_.metrics->Unmatched();
  if (ec == http::error::body_limit) {
    method_ = std::string(parser_->get().method_string());
    target_ = std::string(parser_->get().target());
    version_ = parser_->get().version();
    keep_alive_ = false;  // the rest of the body is still on the wire
    drain_after_write_ = true;
    started_ = std::chrono::steady_clock::now();
    return Send(ErrorResponse(Status(Code::kTooLarge,
                                     "the request body is over 16 MiB; send "
                                     "smaller batches")));
  }
  if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
      ec != http::error::partial_message) {
    // Framing abuse (CL+TE, duplicate Content-Length, bad chunk sizes, header floods) gets the
    // status HTTP prescribes, then the connection ends: what follows cannot be framed.
    const bool headers = ec == http::error::header_limit;
    ApiResponse r = ErrorResponse(
        headers ? Status(Code::kTooLarge, "the request headers are over 64 KiB")
                : Status(Code::kBadRequest, "malformed HTTP request: " + ec.message()));
    if (headers) r.status = 431;
    method_ = std::string(parser_->get().method_string());
    target_ = std::string(parser_->get().target());
    version_ = 11;
    keep_alive_ = false;
    drain_after_write_ = true;
    started_ = std::chrono::steady_clock::now();
    return Send(std::move(r));
  }
  if (ec) return Fail(ec, "read");
  if (parser_->get().body().size() > kBigBodyBytes) sends_bodies_ = true;
  Dispatch(parser_->release());
}

void HttpSession::Dispatch(http::request<http::string_body> req) {
  started_ = std::chrono::steady_clock::now();
  method_ = std::string(req.method_string());
  target_ = std::string(req.target());
  version_ = req.version();
  keep_alive_ = req.keep_alive();
  std::string_view target = req.target();
  size_t q = target.find('?');
  std::string path = UrlDecode(target.substr(0, q), false);

  auto api_req = std::make_shared<ApiRequest>();
  api_req->method = method_;
  if (q != std::string_view::npos) api_req->query = ParseQuery(target.substr(q + 1));
  auto header = [&req](http::field f) {
    auto it = req.find(f);
    return it == req.end() ? std::string() : std::string(it->value());
  };
  api_req->authorization = header(http::field::authorization);
  api_req->cookie = header(http::field::cookie);
  api_req->origin = header(http::field::origin);
  api_req->host = header(http::field::host);
  api_req->tls = stream_.is_tls();
  beast::error_code peer_ec;
  auto peer = beast::get_lowest_layer(stream_).socket().remote_endpoint(peer_ec);
  if (!peer_ec) api_req->client_address = peer.address().to_string();
  if (!ctx_.proxies.empty()) {
    std::string peer_address = api_req->client_address;
    ctx_.proxies.Apply(peer_address, header_text(req, "X-Forwarded-For"),
                       header_text(req, "X-Forwarded-Proto"), &api_req->client_address,
                       &api_req->tls);
  }
  client_ = api_req->client_address;

  // DNS rebinding: a page on evil.example whose name now resolves to us sends its own Host.
  if (!ctx_.hosts.Allows(api_req->host)) {
    keep_alive_ = false;
    return Send(
        ErrorResponse(Status(Code::kBadRequest, "this server does not answer for host '" +
                                                    api_req->host + "' (see --allowed-host)")));
  }
  if (path == "/api/v1/health" && req.method() == http::verb::get) {
    static const int kHealthRoute = Api::RouteIndex("GET", "/health");
    route_ = kHealthRoute;
    return Send(ctx_.api->Health(ctx_.in_flight.load()));  // never behind the worker pool
  }

  if (websocket::is_upgrade(req)) {
    std::string run_id = StreamRunId(path);
    if (run_id.empty()) {
      return Send(ErrorResponse(Status(Code::kNotFound,
                                       "WebSocket is only served at "
                                       "/api/v1/runs/{run_id}/logs/stream")));
    }
    api_req->method = "WS";
    api_req->path = path.substr(kApiPrefix.size());
    RequestRecord rec;
    rec.method = method_;
    rec.route = "/runs/{run_id}/logs/stream";
    rec.target = target_;
    rec.client = client_;
    rec.websocket = true;
    ctx_.access_log->Request(rec);
    beast::get_lowest_layer(stream_).expires_never();
    auto ws = std::make_shared<WebSocketSession>(std::move(stream_), ctx_, run_id, slot_);
    ws->Run(std::move(req), std::move(api_req));
    return;
  }

  api_req->content_type = header(http::field::content_type);
  api_req->content_encoding = header(http::field::content_encoding);
  if (auto ae = req.find(http::field::accept_encoding); ae != req.end())
    api_req->accept_encoding = std::string(ae->value());
  api_req->root_path = IsRootApiPath(path);
  bool is_api =
      api_req->root_path || path == kApiPrefix || path.rfind(std::string(kApiPrefix) + "/", 0) == 0;
  if (Status s = CheckBodyType(method_, path, header(http::field::content_type), req.body().size());
      !s.ok()) {
    return Send(ErrorResponse(s));
  }
  // Static files get the raw path: only ResolveStaticPath decodes it, segment by segment.
  api_req->path = api_req->root_path ? path
                  : is_api           ? path.substr(kApiPrefix.size())
                                     : std::string(target.substr(0, q));
  api_req->body = std::move(req.body());

  ctx_.in_flight++;
  // Handlers block on the store: run them on the worker pool, answer on this strand.
  // Scans queue on the reader pool, everything else on the workers (ServerContext).
  const bool scan = is_api && Api::ScansLogs(api_req->method, api_req->path, api_req->root_path);
  net::post(scan ? *ctx_.readers : *ctx_.workers, [self = shared_from_this(), api_req, is_api] {
    ApiResponse resp;
    QueryBudget budget(
        self->ctx_.query_timeout,
        ClientGoneProbe(beast::get_lowest_layer(self->stream_).socket().native_handle()));
    QueryBudget::Scope scope(&budget);
    try {
      if (is_api) {
        resp = self->ctx_.api->Handle(*api_req);
      } else if (api_req->method == "GET" || api_req->method == "HEAD") {
        resp = self->ctx_.files->Serve(api_req->path, api_req->method == "HEAD");
      } else {
        resp = ErrorResponse(Status(Code::kNotFound, "no such endpoint: " + api_req->path));
      }
    } catch (const std::exception& e) {
      resp = ErrorResponse(Status(Code::kInternal, e.what()));
    }
    TrimJsonParser();  // a worker keeps no big body's parser memory between requests
    if (budget.cancelled()) {
      resp = ErrorResponse(Status(Code::kUnavailable, "cancelled: the client went away"));
      resp.status = kClientClosedRequest;
      self->keep_alive_ = false;
    }
    const int route = is_api ? api_req->route
                      : api_req->method == "GET" || api_req->method == "HEAD"
                          ? self->ctx_.metrics->Static()
                          : self->ctx_.metrics->Unmatched();
    net::dispatch(self->stream_.get_executor(), [self, route, resp = std::move(resp)]() mutable {
      self->ctx_.in_flight--;
      self->route_ = route;
      if (resp.stream) {
        self->SendStream(std::move(resp));
      } else {
        self->Send(std::move(resp));
      }
    });
  });
}

void HttpSession::Send(ApiResponse r) {
  AddSecurityHeaders(&r);
  auto res = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(r.status), version_);
  res->set(http::field::server, "wanllmdb");
  res->set(http::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers) res->set(k, v);
  res->keep_alive(keep_alive_);
  if (method_ != "HEAD") res->body() = std::move(r.body);
  res->prepare_payload();
  bool close = res->need_eof();
  size_t bytes = res->body().size();
  Log(r.status, bytes);
  response_ = res;
  beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
  http::async_write(stream_, *res,
                    [self = shared_from_this(), close](beast::error_code ec, size_t n) {
                      self->OnWritten(ec, n, close);
                    });
}

void HttpSession::SendStream(ApiResponse r) {
  AddSecurityHeaders(&r);
  stream_header_ = std::make_unique<http::response<http::empty_body>>(
      static_cast<http::status>(r.status), version_);
  stream_header_->set(http::field::server, "wanllmdb");
  stream_header_->set(http::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers) stream_header_->set(k, v);
  stream_header_->keep_alive(keep_alive_);
  stream_header_->chunked(true);
  stream_serializer_ =
      std::make_unique<http::response_serializer<http::empty_body>>(*stream_header_);
  stream_body_ = std::move(r.stream);
  streamed_bytes_ = 0;
  streamed_status_ = r.status;
  beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
  http::async_write_header(stream_, *stream_serializer_,
                           [self = shared_from_this()](beast::error_code ec, size_t) {
                             if (ec) return self->Fail(ec, "write header");
                             self->StreamNext();
                           });
}

void HttpSession::StreamNext() {
  ctx_.in_flight++;
  // Producing a piece scans the store (a download, a search): on the reader pool.
  net::post(*ctx_.readers, [self = shared_from_this()] {
    bool done = false;
    Status s;
    // Small pieces are joined into one write: a project search makes a piece per run, most of
    // them empty, and the hop to the session's executor and back cost more than scanning a run
    // without the text (1,000 runs: 0.36 s of CPU took 0.94 s). Up to kStreamBatchBytes or
    // kStreamBatchTime, so a slow producer still shows progress, and big pieces (downloads)
    // go out one by one as before.
    const auto batch_start = std::chrono::steady_clock::now();
    const int fd = beast::get_lowest_layer(self->stream_).socket().native_handle();
    self->piece_.clear();
    std::string one;
    do {
      // Each piece is bounded by the budget: a download of a huge run is many pieces, each fast.
      QueryBudget budget(self->ctx_.query_timeout, ClientGoneProbe(fd));
      QueryBudget::Scope scope(&budget);
      try {
        s = self->stream_body_(&one, &done);
      } catch (const std::exception& e) {
        s = Status(Code::kInternal, e.what());
      }
      if (!s.ok()) break;
      if (self->piece_.empty()) {
        self->piece_.swap(one);
      } else {
        self->piece_.append(one);
      }
    } while (!done && self->piece_.size() < kStreamBatchBytes &&
             std::chrono::steady_clock::now() - batch_start < kStreamBatchTime);
    net::dispatch(self->stream_.get_executor(), [self, s, done] {
      self->ctx_.in_flight--;
      if (!s.ok()) {
        std::fprintf(stderr, "download of %s failed: %s\n", RedactTarget(self->target_).c_str(),
                     s.message().c_str());
        // No final chunk: the client sees the download is incomplete. The whole pieces made
        // before the error still go out first (a search's runs found so far).
        if (self->piece_.empty()) return self->Close();
        beast::get_lowest_layer(self->stream_).expires_after(kWriteTimeout);
        return net::async_write(self->stream_, http::make_chunk(net::buffer(self->piece_)),
                                [self](beast::error_code, size_t) { self->Close(); });
      }
      self->streamed_bytes_ += self->piece_.size();
      beast::get_lowest_layer(self->stream_).expires_after(kWriteTimeout);
      auto after = [self, done](beast::error_code ec, size_t) {
        if (ec) return self->Fail(ec, "write chunk");
        if (!done) return self->StreamNext();
        beast::get_lowest_layer(self->stream_).expires_after(kWriteTimeout);
        net::async_write(self->stream_, http::make_chunk_last(),
                         [self](beast::error_code ec2, size_t n) {
                           self->Log(self->streamed_status_, self->streamed_bytes_);
                           self->stream_body_ = nullptr;
                           self->OnWritten(ec2, n, !self->keep_alive_);
                         });
      };
      if (self->piece_.empty()) {
        after({}, 0);
      } else {
        net::async_write(self->stream_, http::make_chunk(net::buffer(self->piece_)), after);
      }
    });
  });
}

void HttpSession::OnWritten(beast::error_code ec, size_t, bool close) {
  response_.reset();
  if (ec) return Fail(ec, "write");
  if (drain_after_write_) return Drain(64 * 1024 * 1024);
  if (close) return Close();
  DoRead();
}

void HttpSession::Drain(size_t left) {
  drain_buffer_.resize(64 * 1024);
  beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(10));
  stream_.async_read_some(net::buffer(drain_buffer_),
                          [self = shared_from_this(), left](beast::error_code ec, size_t n) {
                            if (ec || n >= left) return self->Close();
                            self->Drain(left - n);
                          });
}

void HttpSession::Fail(beast::error_code ec, const char* what) {
  // Disconnects and time-outs are normal: a client went away. Nothing to report. (Most TLS
  // clients just close the TCP connection without a close_notify: "stream truncated".)
  if (ec != net::error::operation_aborted && ec != beast::error::timeout &&
      ec != net::error::connection_reset && ec != net::error::broken_pipe &&
      ec != net::error::eof && ec != net::ssl::error::stream_truncated) {
    std::fprintf(stderr, "http %s: %s\n", what, ec.message().c_str());
  }
  Close();
}

void HttpSession::Close() {
  // Under TLS too: no close_notify wait. Every response is length-delimited or chunked, so a
  // client can tell a complete answer from a cut one.
  beast::error_code ec;
  beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
  beast::get_lowest_layer(stream_).close();
}

void HttpSession::Log(int status, size_t bytes) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                  started_)
                .count();
  ctx_.metrics->RecordRequest(route_, status, us);
  const auto& routes = Api::Routes();
  RequestRecord rec;
  rec.method = method_;
  rec.route = route_ >= 0 && route_ < static_cast<int>(routes.size()) ? routes[route_].pattern
              : route_ == ctx_.metrics->Static()                      ? "static"
                                                                      : "unmatched";
  rec.target = target_;
  rec.client = client_;
  rec.status = status;
  rec.bytes = static_cast<int64_t>(bytes);
  rec.duration_us = us;
  ctx_.access_log->Request(rec);
}

}  // namespace wanllmdb
