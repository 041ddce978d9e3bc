// TokenBucket: a rate limit with a burst. Tokens flow in at `rate` per second up to `burst`;
// a request takes as many as it costs. A request costing more than the burst passes on a full
// bucket and leaves it in debt (negative), so a big batch is slowed, never refused for ever.
// Time is passed in (microseconds, any monotonic origin), so tests need no clock.
#pragma once

#include <cstdint>

namespace wanllmdb {

// Thread-safety: not thread-safe (IngestQuotas guards its buckets).
class TokenBucket {
 public:
  // Starts full. rate > 0, burst > 0.
  TokenBucket(double rate_per_s, double burst, int64_t now_us);

  // Whether `cost` may be taken at `now_us`: the bucket holds that much, or it is full.
  bool CanTake(double cost, int64_t now_us);
  // Takes `cost` (call after CanTake said yes; the bucket may go into debt).
  void Take(double cost, int64_t now_us);
  // Microseconds from `now_us` until CanTake(cost) holds; 0 when it holds now.
  int64_t WaitUs(double cost, int64_t now_us);
  // Full again: the bucket remembers nothing a fresh one would not (it may be dropped).
  bool Full(int64_t now_us);

 private:
  void Refill(int64_t now_us);

  const double rate_, burst_;
  double tokens_;
  int64_t last_us_;
};

}  // namespace wanllmdb
