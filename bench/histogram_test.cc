// Tests of LatencyHistogram: bucket layout, 1% precision over 1 µs..60 s, percentiles, merge.
#include "bench/histogram.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace trellis::bench {
namespace {

constexpr uint64_t kMicro = 1000;
constexpr uint64_t kSecond = 1000 * 1000 * 1000;

TEST(LatencyHistogramTest, BucketsTileTheRangeWithoutGapsOrOverlap) {
  EXPECT_EQ(LatencyHistogram::bucketLowest(0), 0u);
  for (int i = 0; i + 1 < LatencyHistogram::kBucketCount; ++i) {
    ASSERT_EQ(LatencyHistogram::bucketHighest(i) + 1, LatencyHistogram::bucketLowest(i + 1)) << i;
    ASSERT_EQ(LatencyHistogram::bucketIndex(LatencyHistogram::bucketLowest(i)), i);
    ASSERT_EQ(LatencyHistogram::bucketIndex(LatencyHistogram::bucketHighest(i)), i);
  }
  EXPECT_EQ(LatencyHistogram::bucketIndex(LatencyHistogram::kHighestTrackable),
            LatencyHistogram::kBucketCount - 1);
}

TEST(LatencyHistogramTest, BucketWidthIsUnderOnePercentFrom1UsTo60s) {
  for (uint64_t v = kMicro; v <= 60 * kSecond; v = v + v / 7 + 1) {
    const int index = LatencyHistogram::bucketIndex(v);
    const uint64_t lo = LatencyHistogram::bucketLowest(index);
    const uint64_t hi = LatencyHistogram::bucketHighest(index);
    ASSERT_LE(lo, v);
    ASSERT_GE(hi, v);
    ASSERT_LT(static_cast<double>(hi - lo), 0.01 * static_cast<double>(lo)) << v;
  }
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.valueAtPercentile(50), 50u);
  EXPECT_EQ(h.valueAtPercentile(99), 99u);
  EXPECT_EQ(h.valueAtPercentile(100), 100u);
  EXPECT_EQ(h.valueAtPercentile(0), 1u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 100u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(LatencyHistogramTest, EmptyHistogramReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.valueAtPercentile(99), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}

// Percentiles of a skewed random sample agree with the exact order statistics within 1%.
TEST(LatencyHistogramTest, PercentilesMatchSortedSampleWithinOnePercent) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(std::log(200e3), 1.5);  // median 200 µs, long tail
  std::vector<uint64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 200000; ++i) {
    const uint64_t v = std::clamp<uint64_t>(static_cast<uint64_t>(dist(rng)), kMicro, 60 * kSecond);
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    const size_t rank = std::max<size_t>(
        1, static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size()))));
    const double exact = static_cast<double>(values[rank - 1]);
    const double got = static_cast<double>(h.valueAtPercentile(p));
    EXPECT_NEAR(got, exact, exact * 0.01) << "p" << p;
  }
  EXPECT_EQ(h.max(), values.back());
  EXPECT_EQ(h.min(), values.front());
}

TEST(LatencyHistogramTest, TailIsNotHiddenByTheBulk) {
  LatencyHistogram h;
  h.recordCount(100 * kMicro, 9990);
  h.recordCount(2 * kSecond, 10);  // 0.1% of samples stalled for two seconds
  EXPECT_NEAR(static_cast<double>(h.valueAtPercentile(99.0)), 100e3, 1e3);
  EXPECT_NEAR(static_cast<double>(h.valueAtPercentile(99.9)), 100e3, 1e3);
  EXPECT_NEAR(static_cast<double>(h.valueAtPercentile(99.91)), 2e9, 2e7);
  EXPECT_EQ(h.max(), 2 * kSecond);
}

TEST(LatencyHistogramTest, MergeEqualsRecordingEverythingInOne) {
  LatencyHistogram a, b, all;
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<uint64_t> dist(kMicro, kSecond);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t v = dist(rng);
    (i % 3 == 0 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    EXPECT_EQ(a.valueAtPercentile(p), all.valueAtPercentile(p)) << p;
  }
}

TEST(LatencyHistogramTest, HugeValuesAreClampedButMaxIsExact) {
  LatencyHistogram h;
  const uint64_t huge = LatencyHistogram::kHighestTrackable * 4;
  h.record(huge);
  h.record(1);
  EXPECT_EQ(h.clampedCount(), 1u);
  EXPECT_EQ(h.max(), huge);
  EXPECT_EQ(h.valueAtPercentile(100), LatencyHistogram::kHighestTrackable);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.clampedCount(), 0u);
}

}  // namespace
}  // namespace trellis::bench
