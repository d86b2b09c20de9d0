// Bucket placement, merging and quantiles of the fixed-bound histograms.
#include "proxy/stats/histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace trellis::proxy {

namespace {

// The bounds in microseconds, so placement compares integers.
constexpr std::array<uint64_t, kHistogramBoundsMs.size()> boundsUs() {
  std::array<uint64_t, kHistogramBoundsMs.size()> out{};
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint64_t>(kHistogramBoundsMs[i] * 1000);
  return out;
}
constexpr auto kBoundsUs = boundsUs();

}  // namespace

size_t histogramBucket(uint64_t us) {
  // Latencies are mostly small: a forward scan ends after a few compares.
  size_t i = 0;
  while (i < kBoundsUs.size() && us > kBoundsUs[i]) ++i;
  return i;
}

void HistogramCounts::add(const HistogramShard& shard) {
  for (size_t i = 0; i < kHistogramBuckets; ++i) buckets[i] += shard.buckets[i].load(std::memory_order_relaxed);
  count += shard.count.load(std::memory_order_relaxed);
  sum_us += shard.sum_us.load(std::memory_order_relaxed);
}

HistogramCounts HistogramCounts::since(const HistogramCounts& earlier) const {
  HistogramCounts out;
  for (size_t i = 0; i < kHistogramBuckets; ++i) out.buckets[i] = buckets[i] - earlier.buckets[i];
  out.count = count - earlier.count;
  out.sum_us = sum_us - earlier.sum_us;
  return out;
}

double HistogramCounts::quantileMs(double q) const {
  // The shards are read one word at a time while workers write, so `count` may be a little
  // ahead of or behind the buckets: the buckets' own total is the one used.
  uint64_t total = 0;
  for (uint64_t b : buckets) total += b;
  if (total == 0) return std::numeric_limits<double>::quiet_NaN();
  const double rank = q * static_cast<double>(total);
  uint64_t below = 0;
  for (size_t i = 0; i < kHistogramBuckets; ++i) {
    if (buckets[i] == 0) continue;
    const double upto = static_cast<double>(below + buckets[i]);
    if (rank <= upto || i + 1 == kHistogramBuckets) {
      if (i == kHistogramBoundsMs.size()) return kHistogramBoundsMs.back();
      const double lo = i == 0 ? 0.0 : kHistogramBoundsMs[i - 1];
      const double hi = kHistogramBoundsMs[i];
      const double within = (rank - static_cast<double>(below)) / static_cast<double>(buckets[i]);
      return lo + (hi - lo) * std::clamp(within, 0.0, 1.0);
    }
    below += buckets[i];
  }
  return kHistogramBoundsMs.back();
}

}  // namespace trellis::proxy
