// Bucket placement against known values (on, just above and below the bounds), merging across
// shards, the interval since the previous mark, and quantiles.
#include "proxy/stats/histogram.h"

#include <cmath>

#include <gtest/gtest.h>

#include "proxy/stats/stats.h"

namespace trellis::proxy {
namespace {

TEST(HistogramTest, BucketsAreEnvoysDefaultsAndIncludeTheirBound) {
  EXPECT_EQ(kHistogramBoundsMs.front(), 0.5);
  EXPECT_EQ(kHistogramBoundsMs.back(), 3600000);
  EXPECT_EQ(histogramBucket(0), 0u);
  EXPECT_EQ(histogramBucket(500), 0u);    // exactly 0.5 ms: le="0.5"
  EXPECT_EQ(histogramBucket(501), 1u);
  EXPECT_EQ(histogramBucket(1000), 1u);   // 1 ms
  EXPECT_EQ(histogramBucket(30000), 5u);  // 30 ms lies in (25, 50]
  EXPECT_EQ(histogramBucket(25000), 4u);  // exactly 25 ms: le="25"
  EXPECT_EQ(histogramBucket(50000), 5u);
  EXPECT_EQ(histogramBucket(3600000ull * 1000), 18u);
  EXPECT_EQ(histogramBucket(3600000ull * 1000 + 1), 19u);  // the overflow bucket
}

TEST(HistogramTest, RecordsCountAndSumInTheRightBucket) {
  HistogramShard h;
  record(h, std::chrono::milliseconds(30));
  record(h, std::chrono::microseconds(700));
  EXPECT_EQ(h.buckets[5].load(), 1u);
  EXPECT_EQ(h.buckets[1].load(), 1u);
  EXPECT_EQ(h.count.load(), 2u);
  EXPECT_EQ(h.sum_us.load(), 30700u);
}

TEST(HistogramTest, MergesShardsOnlyWhenCollected) {
  StatsStore store(3);
  ClusterStats* c = store.cluster("backend");
  record(c->shard(0).upstream_rq_time, std::chrono::milliseconds(3));
  record(c->shard(1).upstream_rq_time, std::chrono::milliseconds(3));
  record(c->shard(2).upstream_rq_time, std::chrono::milliseconds(40));
  auto hs = store.collectHistograms(false);
  const HistogramValue* rq = nullptr;
  for (const auto& h : hs) {
    if (h.name == "cluster.backend.upstream_rq_time") rq = &h;
  }
  ASSERT_NE(rq, nullptr);
  EXPECT_EQ(rq->family, "cluster");
  EXPECT_EQ(rq->scope, "backend");
  EXPECT_EQ(rq->cumulative.count, 3u);
  EXPECT_EQ(rq->cumulative.buckets[2], 2u);  // (1, 5]
  EXPECT_EQ(rq->cumulative.buckets[5], 1u);  // (25, 50]
  EXPECT_DOUBLE_EQ(rq->cumulative.sumMs(), 46.0);
}

TEST(HistogramTest, IntervalStartsAtThePreviousMark) {
  StatsStore store(1);
  HttpStats* h = store.http("ingress");
  record(h->shard(0).downstream_rq_time, std::chrono::milliseconds(2));
  auto first = store.collectHistograms(true);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].interval.count, 1u);
  record(h->shard(0).downstream_rq_time, std::chrono::milliseconds(200));
  auto peek = store.collectHistograms(false);
  EXPECT_EQ(peek[0].interval.count, 1u);  // only the 200 ms value
  EXPECT_EQ(peek[0].interval.buckets[7], 1u);
  auto second = store.collectHistograms(true);
  EXPECT_EQ(second[0].interval.count, 1u);
  EXPECT_EQ(second[0].cumulative.count, 2u);
  EXPECT_EQ(store.collectHistograms(true)[0].interval.count, 0u);
}

TEST(HistogramTest, QuantilesInterpolateWithinTheBucket) {
  HistogramCounts empty;
  EXPECT_TRUE(std::isnan(empty.quantileMs(0.5)));

  HistogramCounts c;
  c.buckets[5] = 4;  // four values in (25, 50]
  EXPECT_DOUBLE_EQ(c.quantileMs(0), 25);
  EXPECT_DOUBLE_EQ(c.quantileMs(0.5), 37.5);
  EXPECT_DOUBLE_EQ(c.quantileMs(1), 50);

  HistogramCounts mixed;
  mixed.buckets[0] = 90;  // (0, 0.5]
  mixed.buckets[6] = 10;  // (50, 100]
  EXPECT_LE(mixed.quantileMs(0.5), 0.5);
  EXPECT_GT(mixed.quantileMs(0.95), 50);
  EXPECT_LE(mixed.quantileMs(0.95), 100);
  EXPECT_DOUBLE_EQ(mixed.quantileMs(0.95), 75);

  HistogramCounts overflow;
  overflow.buckets[kHistogramBuckets - 1] = 1;
  EXPECT_DOUBLE_EQ(overflow.quantileMs(0.99), 3600000);
}

}  // namespace
}  // namespace trellis::proxy
