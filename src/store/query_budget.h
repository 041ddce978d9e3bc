// QueryBudget: how long one request's reads may run, and whether its client is still there.
//
// A scan over a large run with a rare match can take seconds; without a budget a few such
// requests hold every worker, and a client that gave up keeps its scan running to the end. The
// API sets a budget around each request it runs on the worker pool (QueryBudget::Scope), and
// QueryEngine::Scan checks it between pages of chunks — one place, so every read (list, latest,
// histogram, locate, context, download pieces) is bounded without passing it through each call.
#pragma once

#include <chrono>
#include <functional>

#include "core/status.h"

namespace wanllmdb {

// Thread-safety: belongs to the one worker thread running its request (Scope installs it in a
// thread-local); not shared.
class QueryBudget {
 public:
  using Clock = std::chrono::steady_clock;

  // `limit` zero or less: no time limit. `client_gone`, if set, is asked now and then (it polls
  // the socket) whether the client has closed its connection.
  QueryBudget(Clock::duration limit, std::function<bool()> client_gone);

  // Ok while time is left and the client is there; otherwise kUnavailable with a message that
  // says which, and cancelled() tells the two apart.
  [[nodiscard]] Status Check();
  bool cancelled() const { return cancelled_; }

  // The budget of the request running on this thread, or null (no limit).
  static QueryBudget* Current();

  // Installs a budget for the current thread for the scope's lifetime.
  class Scope {
   public:
    explicit Scope(QueryBudget* budget);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    QueryBudget* previous_;
  };

 private:
  Clock::time_point deadline_;
  bool limited_;
  Clock::duration limit_;
  std::function<bool()> client_gone_;
  bool cancelled_ = false;
};

// Checks the current thread's budget, if any (QueryEngine calls this between pages).
[[nodiscard]] Status CheckQueryBudget();

}  // namespace wanllmdb
