#include "server/listener.h"

#include <cstdio>

#include "server/http_session.h"
#include "server/metrics.h"

namespace wanllmdb {

Listener::Listener(net::io_context& ioc, ServerContext& ctx)
    : ioc_(ioc),
      acceptor_(net::make_strand(ioc)),
      ctx_(ctx),
      retry_timer_(acceptor_.get_executor()) {}

Status Listener::Open(const tcp::endpoint& endpoint) {
  beast::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(Code::kUnavailable, "cannot listen on " + endpoint.address().to_string() + ":" +
                                          std::to_string(endpoint.port()) + ": " + ec.message());
  }
  return Status::Ok();
}

void Listener::Run() {
  DoAccept();
}

void Listener::Stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    beast::error_code ec;
    self->acceptor_.close(ec);
  });
}

void Listener::DoAccept() {
  acceptor_.async_accept(net::make_strand(ioc_), [self = shared_from_this()](beast::error_code ec,
                                                                             tcp::socket socket) {
    if (ec == net::error::operation_aborted || !self->acceptor_.is_open()) return;
    if (ec) return self->OnAcceptError(ec);
    self->backoff_.Reset();
    socket.set_option(tcp::no_delay(true), ec);
    auto peer = socket.remote_endpoint(ec);
    std::string client = ec ? "" : peer.address().to_string();
    if (auto slot = self->ctx_.connections->Acquire(client)) {
      std::make_shared<HttpSession>(std::move(socket), self->ctx_, std::move(slot))->Run();
    } else {
      self->ctx_.metrics->RecordRefusedConnection();
      self->RefuseOverLimit(std::move(socket));
    }
    self->DoAccept();
  });
}

void Listener::OnAcceptError(const beast::error_code& ec) {
  // Typically EMFILE: every descriptor is in use. Retrying at once would spin (and log) a million
  // times a second; wait, and say so once per interval.
  auto now = std::chrono::steady_clock::now();
  if (now - last_error_log_ >= std::chrono::seconds(5)) {
    std::fprintf(stderr, "accept: %s%s; retrying with backoff\n", ec.message().c_str(),
                 suppressed_errors_ ? (" (" + std::to_string(suppressed_errors_) +
                                       " more since the last message)")
                                          .c_str()
                                    : "");
    last_error_log_ = now;
    suppressed_errors_ = 0;
  } else {
    ++suppressed_errors_;
  }
  retry_timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(backoff_.Next())));
  retry_timer_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
    if (wait_ec || !self->acceptor_.is_open()) return;
    self->DoAccept();
  });
}

void Listener::RefuseOverLimit(tcp::socket socket) {
  // A short answer in one non-blocking write: if the peer's window is full, it just sees a close.
  static constexpr std::string_view kBusy =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
      "Retry-After: 1\r\nConnection: close\r\nContent-Length: 85\r\n\r\n"
      "{\"error\":{\"code\":\"unavailable\",\"message\":\"too many connections; retry in a "
      "second\"}}\n";
  beast::error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(net::buffer(kBusy.data(), kBusy.size()), ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

}  // namespace wanllmdb
