// ConnectionLimits: how many connections the server holds open, in total and per client address.
// Over a limit a new connection gets 503 + Retry-After and is closed, so one client (or a flood)
// cannot take every file descriptor.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace wanllmdb {

class ConnectionLimits;

// Held by a session for its lifetime (HTTP, then WebSocket); frees the place when destroyed.
class ConnectionSlot {
 public:
  ConnectionSlot(ConnectionLimits* limits, std::string client)
      : limits_(limits), client_(std::move(client)) {}
  ~ConnectionSlot();
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

 private:
  ConnectionLimits* limits_;
  std::string client_;
};

// Thread-safety: thread-safe.
class ConnectionLimits {
 public:
  ConnectionLimits(int max_total, int max_per_client)
      : max_total_(max_total), max_per_client_(max_per_client) {}
  // A place for one more connection from `client`, or null when a limit is reached.
  std::shared_ptr<ConnectionSlot> Acquire(const std::string& client);
  int open() const { return open_.load(); }

 private:
  friend class ConnectionSlot;
  void Release(const std::string& client);

  const int max_total_, max_per_client_;
  std::atomic<int> open_{0};
  std::mutex mu_;
  std::unordered_map<std::string, int> per_client_;  // Guarded by mu_
};

}  // namespace wanllmdb
