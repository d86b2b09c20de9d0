// LatencyHistogram: fixed-memory latency recording for trellis-load.
//
// A load generator records one value per response, hundreds of thousands per second, and must
// report tail percentiles (p99.9, max) without keeping every sample. The histogram is
// log-linear: values below 2^kSubBucketBits nanoseconds are counted exactly; above that, each
// power-of-two range [2^m, 2^(m+1)) is split into 2^(kSubBucketBits-1) equal buckets, so a
// bucket is never wider than 2^(1-kSubBucketBits) of its lower bound (0.78% with 8 bits).
// Memory is fixed at construction (about 35 KB); recording is a shift, a count-leading-zeros
// and an increment.
#pragma once

#include <array>
#include <cstdint>

namespace trellis::bench {

class LatencyHistogram {
 public:
  // Values are nanoseconds. 2^40 ns is about 18 minutes; larger values are clamped into the
  // last bucket (and counted in clampedCount()), the exact maximum is still kept.
  static constexpr int kSubBucketBits = 8;
  static constexpr int kMaxValueBits = 40;
  static constexpr uint64_t kHighestTrackable = (uint64_t{1} << kMaxValueBits) - 1;

  LatencyHistogram();

  void record(uint64_t valueNs) { recordCount(valueNs, 1); }
  void recordCount(uint64_t valueNs, uint64_t count);
  // Adds every sample of `other` to this histogram.
  void merge(const LatencyHistogram& other);
  void reset();

  uint64_t count() const { return count_; }
  uint64_t clampedCount() const { return clamped_; }
  // Exact extremes and mean (kept beside the buckets); 0 when empty.
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const;
  // The value at or below which `percentile` percent of the samples fall, within one bucket
  // width: the highest value of the bucket that holds the sample of that rank, capped at
  // max(). percentile is in [0, 100]; 0 when empty.
  uint64_t valueAtPercentile(double percentile) const;

  // Bucket arithmetic, public for tests.
  static int bucketIndex(uint64_t valueNs);
  static uint64_t bucketLowest(int index);
  static uint64_t bucketHighest(int index);
  static constexpr int kBucketCount =
      (1 << kSubBucketBits) + (kMaxValueBits - kSubBucketBits) * (1 << (kSubBucketBits - 1));

 private:
  std::array<uint64_t, kBucketCount> counts_;
  uint64_t count_ = 0;
  uint64_t clamped_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  // Sum in nanoseconds as a double: exact enough for a mean and never overflows.
  double sum_ = 0;
};

}  // namespace trellis::bench
