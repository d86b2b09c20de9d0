// Latency histograms with Envoy's default bucket bounds, sharded like the counters.
//
// A HistogramShard is a fixed array of per-bucket counts plus a count and a sum, written by
// one thread only (its worker) with relaxed loads and stores, so recording is a short linear
// scan over the bounds and three plain stores: no lock, no allocation, no shared cache line.
// Readers (the admin endpoint, at scrape time) sum the shards into HistogramCounts and compute
// quantiles from those; nothing is merged between scrapes.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

namespace trellis::proxy {

// Envoy's default bucket upper bounds in milliseconds (HistogramSettingsImpl::defaultBuckets).
// A bucket counts the values <= its bound and above the previous one (Prometheus' `le`); one
// more bucket holds what lies above the last bound.
inline constexpr std::array<double, 19> kHistogramBoundsMs = {
    0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000};
inline constexpr size_t kHistogramBuckets = kHistogramBoundsMs.size() + 1;

// Envoy's supported quantiles, as fractions (Envoy prints them as P0, P25, ... P100).
inline constexpr std::array<double, 10> kHistogramQuantiles = {0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1};

// The bucket a value of `us` microseconds falls in (0 .. kHistogramBuckets - 1).
size_t histogramBucket(uint64_t us);

// Values are recorded in microseconds (Envoy records whole milliseconds; a finer unit only
// moves sub-millisecond values into the 0.5 and 1 ms buckets where they belong) and exposed in
// milliseconds.
struct HistogramShard {
  std::array<std::atomic<uint64_t>, kHistogramBuckets> buckets{};
  std::atomic<uint64_t> count{0};
  std::atomic<uint64_t> sum_us{0};
};

inline void bump(std::atomic<uint64_t>& a, uint64_t d) {
  a.store(a.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
}

// Only the shard's owning thread calls this.
inline void record(HistogramShard& h, uint64_t us) {
  bump(h.buckets[histogramBucket(us)], 1);
  bump(h.count, 1);
  bump(h.sum_us, us);
}

template <class Rep, class Period>
inline void record(HistogramShard& h, std::chrono::duration<Rep, Period> d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  record(h, static_cast<uint64_t>(us < 0 ? 0 : us));
}

// Summed values of one histogram (over shards, or the difference of two sums).
struct HistogramCounts {
  std::array<uint64_t, kHistogramBuckets> buckets{};  // per bucket, not cumulative
  uint64_t count = 0;
  uint64_t sum_us = 0;

  void add(const HistogramShard& shard);
  // What was recorded since `earlier` (an older sum of the same histogram).
  HistogramCounts since(const HistogramCounts& earlier) const;
  double sumMs() const { return static_cast<double>(sum_us) / 1000.0; }
  // The q-quantile (0..1) in milliseconds, NaN when empty. Approximate: the value is placed
  // linearly within its bucket (between the previous bound, or 0, and its own bound); a value
  // in the overflow bucket is reported as the last bound.
  double quantileMs(double q) const;
};

}  // namespace trellis::proxy
