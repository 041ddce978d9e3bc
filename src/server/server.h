// Server: wires the store, the hub, the API and the network together and runs until SIGINT or
// SIGTERM, then stops accepting, lets in-flight requests finish and closes the store cleanly —
// within a hard deadline: a handler stuck in the store never keeps the process alive (every
// acknowledged batch is already committed, so exiting then loses nothing that was promised).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"

namespace wanllmdb {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string data_dir = "./data";
  std::string store_url;  // default: sqlite:<data_dir>/logs.db
  std::string web_dir;
  std::string api_key;
  int io_threads = 0;      // 0: number of cores
  int worker_threads = 0;  // 0: 4 × cores (they mostly wait on the store)
  bool access_log = true;
  int idle_timeout_s = 60;  // idle HTTP connections; WebSocket viewers are pinged at half of it
  // After SIGINT/SIGTERM: how long in-flight requests may take before the process exits anyway.
  int shutdown_timeout_s = 10;
};

// Blocks until stopped. `on_ready` gets the bound port (useful with --listen HOST:0).
Status RunServer(const ServerOptions& options, const std::function<void(uint16_t)>& on_ready);

}  // namespace wanllmdb
