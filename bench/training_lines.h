// Realistic training-log lines (~110 bytes): step lines with loss/acc/lr, eval lines, the odd
// warning and a rare "nan". Deterministic per seed, so runs compare.
#pragma once

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/log_line.h"

namespace wanllmdb {

class TrainingLines {
 public:
  explicit TrainingLines(uint32_t seed) : rng_(seed) {}

  std::vector<LogLine> Batch(int n, int64_t t0_us) {
    std::vector<LogLine> out;
    out.reserve(n);
    for (int i = 0; i < n; ++i)
      out.push_back(Next(t0_us + i * 1000 + static_cast<int>(rng_() % 500)));
    return out;
  }

  LogLine Next(int64_t ts) {
    LogLine l;
    l.timestamp_us = ts;
    char buf[256];
    ++step_;
    // Python logging's default asctime layout, as most trainers print.
    char prefix[40];
    int64_t secs = ts / 1000000;
    std::snprintf(prefix, sizeof prefix, "2024-11-16 %02d:%02d:%02d,%03d ",
                  static_cast<int>(secs / 3600 % 24), static_cast<int>(secs / 60 % 60),
                  static_cast<int>(secs % 60), static_cast<int>(ts / 1000 % 1000));
    int r = static_cast<int>(rng_() % 1000);
    std::uniform_real_distribution<double> u(0, 1);
    if (r < 6) {
      std::snprintf(
          buf, sizeof buf,
          "%sWARNING trainer: gradient overflow at step %lld, loss scale %d -> %d, skipping "
          "update",
          prefix, static_cast<long long>(step_), 65536 >> (r % 4), 32768 >> (r % 4));
      l.level = Level::kWarning;
    } else if (r < 7) {
      std::snprintf(buf, sizeof buf,
                    "%sINFO epoch %d step %lld loss=nan acc=%.4f lr=%.2e (skipping batch)", prefix,
                    epoch_, static_cast<long long>(step_), u(rng_), lr_);
    } else if (r < 40) {
      std::snprintf(buf, sizeof buf,
                    "%sINFO [eval] epoch %d step %lld val_loss=%.4f val_acc=%.4f perplexity=%.3f "
                    "samples=%d",
                    prefix, epoch_, static_cast<long long>(step_), 0.3 + u(rng_) * 0.1,
                    0.8 + u(rng_) * 0.1, 1.2 + u(rng_), 10000);
    } else {
      loss_ = loss_ * 0.9999 + 0.0001 * (0.1 + u(rng_) * 0.4);
      std::snprintf(buf, sizeof buf,
                    "%sINFO epoch %d step %lld/%d loss=%.4f acc=%.4f lr=%.2e grad_norm=%.3f "
                    "tokens/s=%d",
                    prefix, epoch_, static_cast<long long>(step_), 50000, loss_,
                    0.85 + u(rng_) * 0.1, lr_, 0.5 + u(rng_) * 2,
                    12000 + static_cast<int>(rng_() % 2000));
    }
    if (step_ % 50000 == 0) ++epoch_;
    l.message = buf;
    return l;
  }

 private:
  std::mt19937 rng_;
  int64_t step_ = 0;
  int epoch_ = 1;
  double loss_ = 0.9, lr_ = 1e-4;
};

}  // namespace wanllmdb
