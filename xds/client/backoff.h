// Reconnect delays: jittered exponential backoff, 0.5 s doubling up to 30 s ("full jitter":
// each delay is uniform in [base/2, base] so a fleet of proxies does not reconnect in step).
// Reset after a message arrives on the stream.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace trellis::xds::client {

class Backoff {
 public:
  using Ms = std::chrono::milliseconds;
  explicit Backoff(Ms initial = Ms(500), Ms max = Ms(30000), uint64_t seed = std::random_device{}())
      : initial_(initial), max_(max), base_(initial), rng_(seed) {}

  Ms next() {
    Ms base = base_;
    base_ = std::min(max_, base_ * 2);
    std::uniform_int_distribution<int64_t> d(base.count() / 2, base.count());
    return Ms(d(rng_));
  }
  void reset() { base_ = initial_; }

 private:
  Ms initial_;
  Ms max_;
  Ms base_;
  std::mt19937_64 rng_;
};

}  // namespace trellis::xds::client
