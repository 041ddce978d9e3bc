#include "server/token_bucket.h"

#include <algorithm>
#include <cmath>

namespace wanllmdb {

TokenBucket::TokenBucket(double rate_per_s, double burst, int64_t now_us)
    : rate_(rate_per_s), burst_(burst), tokens_(burst), last_us_(now_us) {}

void TokenBucket::Refill(int64_t now_us) {
  if (now_us <= last_us_) return;  // a clock that steps back adds nothing
  tokens_ = std::min(burst_, tokens_ + rate_ * static_cast<double>(now_us - last_us_) / 1e6);
  last_us_ = now_us;
}

bool TokenBucket::CanTake(double cost, int64_t now_us) {
  Refill(now_us);
  return tokens_ >= std::min(cost, burst_);
}

void TokenBucket::Take(double cost, int64_t now_us) {
  Refill(now_us);
  tokens_ -= cost;
}

int64_t TokenBucket::WaitUs(double cost, int64_t now_us) {
  Refill(now_us);
  const double missing = std::min(cost, burst_) - tokens_;
  if (missing <= 0) return 0;
  return static_cast<int64_t>(std::ceil(missing / rate_ * 1e6));
}

bool TokenBucket::Full(int64_t now_us) {
  Refill(now_us);
  return tokens_ >= burst_;
}

}  // namespace wanllmdb
