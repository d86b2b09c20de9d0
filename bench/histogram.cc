// Bucket arithmetic and percentile walk of LatencyHistogram (see histogram.h for the layout).
#include "bench/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace trellis::bench {

namespace {
constexpr uint64_t kExactLimit = uint64_t{1} << LatencyHistogram::kSubBucketBits;
constexpr int kHalf = 1 << (LatencyHistogram::kSubBucketBits - 1);
}  // namespace

LatencyHistogram::LatencyHistogram() { counts_.fill(0); }

int LatencyHistogram::bucketIndex(uint64_t valueNs) {
  if (valueNs < kExactLimit) return static_cast<int>(valueNs);
  if (valueNs > kHighestTrackable) valueNs = kHighestTrackable;
  // m is the position of the highest set bit: valueNs is in [2^m, 2^(m+1)).
  const int m = 63 - std::countl_zero(valueNs);
  const int shift = m - kSubBucketBits + 1;
  // The top kSubBucketBits bits of the value lie in [kHalf, 2*kHalf).
  const int sub = static_cast<int>(valueNs >> shift) - kHalf;
  return static_cast<int>(kExactLimit) + (m - kSubBucketBits) * kHalf + sub;
}

uint64_t LatencyHistogram::bucketLowest(int index) {
  if (index < static_cast<int>(kExactLimit)) return static_cast<uint64_t>(index);
  const int rel = index - static_cast<int>(kExactLimit);
  const int m = kSubBucketBits + rel / kHalf;
  const int shift = m - kSubBucketBits + 1;
  const uint64_t top = static_cast<uint64_t>(kHalf + rel % kHalf);
  return top << shift;
}

uint64_t LatencyHistogram::bucketHighest(int index) {
  if (index + 1 >= kBucketCount) return kHighestTrackable;
  return bucketLowest(index + 1) - 1;
}

void LatencyHistogram::recordCount(uint64_t valueNs, uint64_t count) {
  if (count == 0) return;
  if (valueNs > kHighestTrackable) clamped_ += count;
  counts_[bucketIndex(valueNs)] += count;
  count_ += count;
  min_ = std::min(min_, valueNs);
  max_ = std::max(max_, valueNs);
  sum_ += static_cast<double>(valueNs) * static_cast<double>(count);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  clamped_ += other.clamped_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void LatencyHistogram::reset() { *this = LatencyHistogram(); }

double LatencyHistogram::mean() const {
  return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_);
}

uint64_t LatencyHistogram::valueAtPercentile(double percentile) const {
  if (count_ == 0) return 0;
  percentile = std::clamp(percentile, 0.0, 100.0);
  // Rank of the wanted sample, 1-based: ceil(p/100 * count), at least 1. The product is nudged
  // down by a relative 1e-12 so that 99.9% of 10000 is rank 9990, not 9991 by rounding noise.
  const double exactRank = percentile / 100.0 * static_cast<double>(count_);
  uint64_t rank = static_cast<uint64_t>(std::ceil(exactRank * (1.0 - 1e-12)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (int i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(bucketHighest(i), min(), max_);
  }
  return max_;
}

}  // namespace trellis::bench
