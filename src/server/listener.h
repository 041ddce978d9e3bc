// Listener: accepts TCP connections and starts an HttpSession for each; always re-arms.
#pragma once

#include <memory>

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

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  ServerContext& ctx_;
};

}  // namespace wanllmdb
