// core/rate_limit: a bandwidth limit shared by threads (dxfer --bwlimit).
//
// Each take(n) reserves the next n / rate seconds of the link and sleeps until
// its turn begins, so the bytes of all callers together never run ahead of
// `bytes_per_second` (beyond the one request in flight per thread).
// Thread-safe.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>

#include "core/cancel.hpp"
#include "core/status.hpp"

namespace sciflow {

class RateLimiter {
 public:
  // 0 or less: no limit.
  explicit RateLimiter(double bytes_per_second = 0) : rate_(bytes_per_second) {}

  Status take(int64_t bytes) {
    if (rate_ <= 0 || bytes <= 0) return Status::ok();
    using clock = std::chrono::steady_clock;
    clock::time_point start;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto now = clock::now();
      start = std::max(now, next_);
      next_ = start + std::chrono::duration_cast<clock::duration>(
                          std::chrono::duration<double>(static_cast<double>(bytes) / rate_));
    }
    while (clock::now() < start) {
      RETURN_IF_ERROR(cancel::check_cancelled());
      std::this_thread::sleep_for(std::min<clock::duration>(start - clock::now(), std::chrono::milliseconds(50)));
    }
    return Status::ok();
  }

 private:
  double rate_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point next_{};
};

}  // namespace sciflow
