// The four balancing policies against hand-built clusters and health views: their traffic
// shares, that unusable hosts never get traffic, panic routing, and Peak EWMA's reaction to a
// slow host, all with a fixed seed and fake time.
#include "proxy/upstream/load_balancer.h"

#include <cmath>
#include <queue>
#include <tuple>

#include <gtest/gtest.h>

#include "proxy/router/router.h"

namespace trellis::proxy {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using TimePoint = LoadBalancer::Clock::time_point;

Cluster makeCluster(const std::vector<uint32_t>& weights, LbPolicy policy) {
  Cluster c;
  c.name = "backend";
  c.lb_policy = policy;
  for (size_t i = 0; i < weights.size(); ++i) {
    Endpoint e;
    e.address = {boost::asio::ip::address_v4::loopback(), static_cast<uint16_t>(9000 + i)};
    e.weight = weights[i];
    c.endpoints.push_back(e);
  }
  c.schedule = buildSchedule(weights);
  return c;
}

ClusterHealth allHealthy(size_t n) {
  ClusterHealth h;
  h.flags.assign(n, 0);
  h.healthy = static_cast<uint32_t>(n);
  return h;
}

// How many of `picks` picks went to each host; nullopt picks are counted in `none`.
struct Tally {
  std::vector<int> hits;
  int none = 0;
  double share(uint32_t host) const {
    int total = none;
    for (int h : hits) total += h;
    return static_cast<double>(hits[host]) / total;
  }
};

Tally tally(LoadBalancer& lb, const ClusterHealth& health, FastRandom& random, size_t hosts,
            int picks) {
  Tally t{std::vector<int>(hosts, 0), 0};
  for (int i = 0; i < picks; ++i) {
    auto host = lb.pick(health, random);
    if (host) {
      ++t.hits[*host];
    } else {
      ++t.none;
    }
  }
  return t;
}

constexpr LbPolicy kAllPolicies[] = {LbPolicy::RoundRobin, LbPolicy::LeastRequest, LbPolicy::Random,
                                     LbPolicy::PeakEwma};

// --- RoundRobin ---

TEST(RoundRobinTest, FollowsTheScheduleExactly) {
  Cluster c = makeCluster({1, 3}, LbPolicy::RoundRobin);
  LoadBalancer lb(c);
  FastRandom random(1);
  ClusterHealth health = allHealthy(2);
  // Two laps: the same order as the schedule, twice.
  for (int lap = 0; lap < 2; ++lap) {
    for (uint32_t expected : c.schedule) EXPECT_EQ(lb.pick(health, random), expected);
  }
  Tally t = tally(lb, health, random, 2, 400);
  EXPECT_EQ(t.hits[0], 100);
  EXPECT_EQ(t.hits[1], 300);
}

TEST(RoundRobinTest, SkipsUnusableHosts) {
  Cluster c = makeCluster({1, 1, 1}, LbPolicy::RoundRobin);
  LoadBalancer lb(c);
  FastRandom random(1);
  ClusterHealth health = allHealthy(3);
  health.flags[1] = kFailedOutlierCheck;
  health.healthy = 2;
  Tally t = tally(lb, health, random, 3, 300);
  EXPECT_EQ(t.hits[1], 0);
  EXPECT_EQ(t.hits[0] + t.hits[2], 300);
  EXPECT_NEAR(t.hits[0], 150, 50);
}

TEST(RoundRobinTest, NoEndpointsOrAllUnusableGivesNothing) {
  Cluster empty = makeCluster({}, LbPolicy::RoundRobin);
  LoadBalancer none(empty);
  FastRandom random(1);
  EXPECT_EQ(none.pick(ClusterHealth{}, random), std::nullopt);

  Cluster c = makeCluster({2, 1}, LbPolicy::RoundRobin);
  LoadBalancer lb(c);
  ClusterHealth health = allHealthy(2);
  health.flags = {kFailedActiveHc, kFailedEdsHealth};
  health.healthy = 0;
  EXPECT_EQ(lb.pick(health, random), std::nullopt);
  // And it comes back when a host does.
  health.flags[1] = 0;
  EXPECT_EQ(lb.pick(health, random), 1u);
}

// --- Random ---

TEST(RandomTest, FollowsTheWeights) {
  Cluster c = makeCluster({1, 3}, LbPolicy::Random);
  LoadBalancer lb(c);
  FastRandom random(42);
  Tally t = tally(lb, allHealthy(2), random, 2, 100000);
  EXPECT_NEAR(t.share(0), 0.25, 0.03);
  EXPECT_NEAR(t.share(1), 0.75, 0.03);
}

TEST(RandomTest, UnusableHostsShareNothingAndTheOthersKeepTheirRatio) {
  Cluster c = makeCluster({1, 1, 2}, LbPolicy::Random);
  LoadBalancer lb(c);
  FastRandom random(7);
  ClusterHealth health = allHealthy(3);
  health.flags[2] = kFailedActiveHc;
  health.healthy = 2;
  Tally t = tally(lb, health, random, 3, 20000);
  EXPECT_EQ(t.hits[2], 0);
  EXPECT_EQ(t.none, 0);
  EXPECT_NEAR(t.share(0), 0.5, 0.03);
}

TEST(RandomTest, MostlyUnusableClusterStillFollowsTheWeightsOfTheUsable) {
  // 100 hosts, two usable with weights 1 and 3: almost every fast draw misses, so this runs the
  // exact linear scan.
  std::vector<uint32_t> weights(100, 1);
  weights[10] = 1;
  weights[70] = 3;
  Cluster c = makeCluster(weights, LbPolicy::Random);
  LoadBalancer lb(c);
  FastRandom random(3);
  ClusterHealth health = allHealthy(100);
  for (auto& f : health.flags) f = kFailedActiveHc;
  health.flags[10] = 0;
  health.flags[70] = 0;
  health.healthy = 2;
  Tally t = tally(lb, health, random, 100, 20000);
  EXPECT_EQ(t.hits[10] + t.hits[70], 20000);
  EXPECT_NEAR(t.share(10), 0.25, 0.03);
}

TEST(RandomTest, ZeroWeightHostIsNeverPicked) {
  Cluster c = makeCluster({0, 5}, LbPolicy::Random);
  LoadBalancer lb(c);
  FastRandom random(5);
  Tally t = tally(lb, allHealthy(2), random, 2, 1000);
  EXPECT_EQ(t.hits[0], 0);
  ClusterHealth only_zero = allHealthy(2);
  only_zero.flags[1] = kFailedActiveHc;
  EXPECT_EQ(lb.pick(only_zero, random), std::nullopt);
}

// --- Every policy ---

TEST(AllPoliciesTest, PanicUsesFailedHostsButNeverPendingOnes) {
  for (LbPolicy policy : kAllPolicies) {
    SCOPED_TRACE(static_cast<int>(policy));
    Cluster c = makeCluster({1, 1, 1, 1}, policy);
    LoadBalancer lb(c);
    FastRandom random(11);
    ClusterHealth health = allHealthy(4);
    health.flags = {kFailedActiveHc, kPendingActiveHc, kFailedOutlierCheck,
                    kFailedEdsHealth | kFailedActiveHc};
    health.healthy = 0;
    EXPECT_EQ(lb.pick(health, random), std::nullopt);

    health.panic = true;
    Tally t = tally(lb, health, random, 4, 4000);
    EXPECT_EQ(t.none, 0);
    EXPECT_EQ(t.hits[1], 0);
    EXPECT_GT(t.hits[0], 500);
    EXPECT_GT(t.hits[2], 500);
    EXPECT_GT(t.hits[3], 500);
  }
}

TEST(AllPoliciesTest, OnlyPendingHostsInPanicGivesNothing) {
  for (LbPolicy policy : kAllPolicies) {
    SCOPED_TRACE(static_cast<int>(policy));
    Cluster c = makeCluster({1, 2, 3}, policy);
    LoadBalancer lb(c);
    FastRandom random(13);
    ClusterHealth health = allHealthy(3);
    health.flags = {kPendingActiveHc, kPendingActiveHc, kPendingActiveHc | kFailedEdsHealth};
    health.healthy = 0;
    health.panic = true;
    for (int i = 0; i < 100; ++i) EXPECT_EQ(lb.pick(health, random), std::nullopt);
  }
}

TEST(AllPoliciesTest, NeverPicksAnUnusableHost) {
  for (LbPolicy policy : kAllPolicies) {
    SCOPED_TRACE(static_cast<int>(policy));
    Cluster c = makeCluster({5, 1, 1, 5, 1}, policy);
    LoadBalancer lb(c);
    FastRandom random(17);
    ClusterHealth health = allHealthy(5);
    health.flags[0] = kFailedOutlierCheck;
    health.flags[3] = kFailedActiveHc;
    health.healthy = 3;
    Tally t = tally(lb, health, random, 5, 3000);
    EXPECT_EQ(t.hits[0], 0);
    EXPECT_EQ(t.hits[3], 0);
    EXPECT_EQ(t.none, 0);
  }
}

// --- LeastRequest ---

TEST(LeastRequestTest, ActiveRequestsCountAndNeverUnderflow) {
  Cluster c = makeCluster({1, 1}, LbPolicy::LeastRequest);
  LoadBalancer lb(c);
  lb.onRequestStart(0);
  lb.onRequestStart(0);
  EXPECT_EQ(lb.activeRequests(0), 2u);
  lb.onRequestEnd(0, milliseconds(1), TimePoint{});
  lb.onRequestEnd(0, milliseconds(1), TimePoint{});
  lb.onRequestEnd(0, milliseconds(1), TimePoint{});
  EXPECT_EQ(lb.activeRequests(0), 0u);
  lb.onRequestEnd(1, milliseconds(1), TimePoint{});
  EXPECT_EQ(lb.activeRequests(1), 0u);
}

TEST(LeastRequestTest, PrefersTheHostWithFewerActiveRequests) {
  Cluster c = makeCluster({1, 1}, LbPolicy::LeastRequest);
  LoadBalancer lb(c);
  FastRandom random(19);
  for (int i = 0; i < 5; ++i) lb.onRequestStart(0);
  // Two independent draws: host 0 wins only when it is drawn twice (1/4).
  Tally t = tally(lb, allHealthy(2), random, 2, 20000);
  EXPECT_NEAR(t.share(1), 0.75, 0.03);

  // More choices: host 1 is almost always among them.
  c.least_request_choice_count = 5;
  Tally t5 = tally(lb, allHealthy(2), random, 2, 20000);
  EXPECT_GT(t5.share(1), 0.95);
}

TEST(LeastRequestTest, ComparesActiveRelativeToWeight) {
  // Host 0: 2 active at weight 1 (2 per weight); host 1: 4 active at weight 4 (1 per weight).
  Cluster c = makeCluster({1, 4}, LbPolicy::LeastRequest);
  c.least_request_choice_count = 8;
  LoadBalancer lb(c);
  FastRandom random(23);
  for (int i = 0; i < 2; ++i) lb.onRequestStart(0);
  for (int i = 0; i < 4; ++i) lb.onRequestStart(1);
  Tally t = tally(lb, allHealthy(2), random, 2, 5000);
  EXPECT_GT(t.share(1), 0.99);
}

TEST(LeastRequestTest, IdleHostsFollowTheWeights) {
  // No active requests anywhere: every comparison ties and the first draw wins.
  Cluster c = makeCluster({1, 3}, LbPolicy::LeastRequest);
  LoadBalancer lb(c);
  FastRandom random(29);
  Tally t = tally(lb, allHealthy(2), random, 2, 50000);
  EXPECT_NEAR(t.share(0), 0.25, 0.03);
}

// --- PeakEwma ---

TEST(PeakEwmaTest, PeakThenDecay) {
  Cluster c = makeCluster({1}, LbPolicy::PeakEwma);
  c.ewma_decay = milliseconds(100);
  LoadBalancer lb(c);
  const TimePoint t0{};
  EXPECT_EQ(lb.ewmaNanos(0), 0.0);
  lb.onRequestEnd(0, milliseconds(2), t0);
  EXPECT_DOUBLE_EQ(lb.ewmaNanos(0), 2e6);
  // Slower: taken at once.
  lb.onRequestEnd(0, milliseconds(8), t0 + milliseconds(1));
  EXPECT_DOUBLE_EQ(lb.ewmaNanos(0), 8e6);
  // Faster, one time constant later: weight e^-1 on the old value.
  lb.onRequestEnd(0, milliseconds(1), t0 + milliseconds(101));
  const double w = std::exp(-1.0);
  EXPECT_NEAR(lb.ewmaNanos(0), 8e6 * w + 1e6 * (1 - w), 1.0);
  // Faster, at the same instant: no time has passed, so no change.
  const double before = lb.ewmaNanos(0);
  lb.onRequestEnd(0, milliseconds(1), t0 + milliseconds(101));
  EXPECT_DOUBLE_EQ(lb.ewmaNanos(0), before);
}

TEST(PeakEwmaTest, OtherPoliciesKeepNoAverage) {
  Cluster c = makeCluster({1}, LbPolicy::RoundRobin);
  LoadBalancer lb(c);
  lb.onRequestEnd(0, milliseconds(5), TimePoint{});
  EXPECT_EQ(lb.ewmaNanos(0), 0.0);
}

TEST(PeakEwmaTest, UnsampledHostCostsTheLowestKnownAverage) {
  Cluster c = makeCluster({1, 1, 1}, LbPolicy::PeakEwma);
  LoadBalancer lb(c);
  FastRandom random(31);
  lb.onRequestEnd(0, milliseconds(2), TimePoint{});
  lb.onRequestEnd(1, milliseconds(8), TimePoint{});
  // Host 2 costs 2 ms like host 0; host 1 (8 ms) loses to either.
  Tally t = tally(lb, allHealthy(3), random, 3, 3000);
  EXPECT_EQ(t.hits[1], 0);
  EXPECT_GT(t.share(2), 0.3);
  EXPECT_GT(t.share(0), 0.3);
}

// Runs `requests` requests through the balancer with `concurrency` in flight, host h answering
// after latency[h]; returns how many each host served.
class PeakEwmaSim {
 public:
  PeakEwmaSim(LoadBalancer& lb, size_t hosts) : lb_(lb), health_(allHealthy(hosts)) {}

  std::vector<int> run(int requests, int concurrency, const std::vector<milliseconds>& latency) {
    std::vector<int> served(latency.size(), 0);
    int started = 0;
    while (started < requests || !in_flight_.empty()) {
      if (started < requests && static_cast<int>(in_flight_.size()) < concurrency) {
        const auto host = lb_.pick(health_, random_);
        EXPECT_TRUE(host.has_value());
        if (!host) break;
        lb_.onRequestStart(*host);
        in_flight_.emplace(now_ + latency[*host], *host, latency[*host]);
        ++served[*host];
        ++started;
        continue;
      }
      const auto [done, host, took] = in_flight_.top();
      in_flight_.pop();
      now_ = done;
      lb_.onRequestEnd(host, took, now_);
    }
    return served;
  }

 private:
  using Event = std::tuple<TimePoint, uint32_t, nanoseconds>;
  LoadBalancer& lb_;
  ClusterHealth health_;
  FastRandom random_{37};
  TimePoint now_{};
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> in_flight_;
};

TEST(PeakEwmaTest, SlowHostGetsLessTrafficAndRecovers) {
  Cluster c = makeCluster({1, 1}, LbPolicy::PeakEwma);
  c.ewma_decay = milliseconds(100);
  LoadBalancer lb(c);
  PeakEwmaSim sim(lb, 2);

  // Host 1 is ten times slower.
  auto served = sim.run(5000, 8, {milliseconds(1), milliseconds(10)});
  EXPECT_LT(served[1], 5000 * 25 / 100);
  EXPECT_GT(served[0], served[1] * 3);

  // Now host 0 is the slow one: host 1's average falls with its first fast samples and the
  // traffic moves over.
  sim.run(1000, 8, {milliseconds(10), milliseconds(1)});
  served = sim.run(5000, 8, {milliseconds(10), milliseconds(1)});
  EXPECT_LT(served[0], 5000 * 25 / 100);
  EXPECT_LT(lb.ewmaNanos(1), 2e6);
  EXPECT_GE(lb.ewmaNanos(0), 9e6);
}

TEST(PeakEwmaTest, EqualHostsShareEvenly) {
  Cluster c = makeCluster({1, 1}, LbPolicy::PeakEwma);
  c.ewma_decay = milliseconds(100);
  LoadBalancer lb(c);
  PeakEwmaSim sim(lb, 2);
  auto served = sim.run(10000, 8, {milliseconds(3), milliseconds(3)});
  EXPECT_NEAR(served[0], 5000, 500);
}

}  // namespace
}  // namespace trellis::proxy
