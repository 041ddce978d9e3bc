// Backoff: capped exponential delays with jitter — the one retry pacing rule for everything that
// waits on something failing (the capture uploader, the server's accept loop).
#pragma once

#include <algorithm>
#include <random>

namespace wanllmdb {

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
  // After a success: start again from the initial delay.
  void Reset() { next_ = initial_; }

 private:
  double initial_, max_, next_;
  std::mt19937 rng_{std::random_device{}()};
};

}  // namespace wanllmdb
