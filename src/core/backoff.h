// Backoff: capped exponential delays with jitter — the one retry pacing rule for everything that
// waits on something failing (the capture uploader, `wanllmdb sync`, the server's accept loop).
// A server's Retry-After (429, 503, 507) is a minimum, not a suggestion: the delay is at least
// that, up to kMaxRetryAfterS (a server asking for an hour must not park a run's upload that
// long) — the rule the Python SDK's backoff.py follows too.
#pragma once

#include <algorithm>
#include <optional>
#include <random>

namespace wanllmdb {

inline constexpr double kMaxRetryAfterS = 60;

// Thread-safety: one thread at a time.
class Backoff {
 public:
  Backoff(double initial_s, double max_s) : initial_(initial_s), max_(max_s), next_(initial_s) {}
  // The next delay in seconds: uniformly in [next/2, next], then next doubles up to the cap.
  double Next() {
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    double d = next_ * jitter(rng_);
    next_ = std::min(next_ * 2, max_);
    return d;
  }
  // The same, but at least `retry_after_s` (capped at kMaxRetryAfterS) when the server gave one.
  double Next(std::optional<double> retry_after_s) {
    double d = Next();
    if (retry_after_s) d = std::max(d, std::min(*retry_after_s, kMaxRetryAfterS));
    return d;
  }
  // After a success: start again from the initial delay.
  void Reset() { next_ = initial_; }

 private:
  double initial_, max_, next_;
  std::mt19937 rng_{std::random_device{}()};
};

}  // namespace wanllmdb
