// Listener: accepts TCP connections and starts an HttpSession for each; always re-arms. When
// accept fails (out of file descriptors) it waits with a capped backoff before trying again and
// logs once per interval, instead of spinning; a connection over ConnectionLimits gets a 503.
#pragma once

#include <chrono>
#include <memory>

#include "core/backoff.h"

#include "core/status.h"
#include "server/net.h"
#include "server/server_context.h"

namespace wanllmdb {

// Thread-safety: runs on its own strand.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& ioc, ServerContext& ctx);
  Status Open(const tcp::endpoint& endpoint);
  void Run();
  void Stop();
  tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

 private:
  void DoAccept();
  void OnAcceptError(const beast::error_code& ec);
  void RefuseOverLimit(tcp::socket socket);

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  ServerContext& ctx_;
  // Touched on the acceptor's strand only.
  net::steady_timer retry_timer_;
  Backoff backoff_{0.005, 1.0};
  std::chrono::steady_clock::time_point last_error_log_{};
  int suppressed_errors_ = 0;
};

}  // namespace wanllmdb
