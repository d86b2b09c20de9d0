// HealthRegistry over hand-built snapshots: EDS health, active-HC states, ejection, panic, and
// state kept across snapshots.
#include "proxy/upstream/health_registry.h"

#include <gtest/gtest.h>

namespace trellis::proxy {
namespace {

namespace ip = boost::asio::ip;

ip::tcp::endpoint addr(uint16_t port) { return {ip::make_address("10.0.0.1"), port}; }

struct Fixture {
  ClusterStats stats{"backend", 2};

  std::shared_ptr<Cluster> cluster(const std::string& name, std::vector<Endpoint> endpoints, bool health_checked,
                                   double panic = 50.0) {
    auto c = std::make_shared<Cluster>();
    c->name = name;
    c->endpoints = std::move(endpoints);
    c->healthy_panic_threshold = panic;
    if (health_checked) c->health_checks.push_back(HealthCheckConfig{});
    c->stats = &stats;
    return c;
  }
  Snapshot snapshot(std::vector<std::shared_ptr<Cluster>> clusters) {
    Snapshot s;
    for (size_t i = 0; i < clusters.size(); ++i) {
      clusters[i]->index = static_cast<uint32_t>(i);
      s.clusters.push_back(clusters[i]);
    }
    return s;
  }
};

Endpoint ep(uint16_t port, EdsHealth h = EdsHealth::Unknown) {
  Endpoint e;
  e.address = addr(port);
  e.eds_health = h;
  return e;
}

TEST(HealthRegistryTest, EdsHealthWithoutActiveChecks) {
  Fixture f;
  auto snap = f.snapshot({f.cluster("backend",
                                    {ep(1, EdsHealth::Unknown), ep(2, EdsHealth::Healthy), ep(3, EdsHealth::Degraded),
                                     ep(4, EdsHealth::Unhealthy), ep(5, EdsHealth::Draining), ep(6, EdsHealth::Timeout)},
                                    false, 0.0)});
  HealthRegistry reg;
  auto view = reg.build(snap, 1);
  ASSERT_EQ(view->snapshot, &snap);
  ASSERT_EQ(view->clusters.size(), 1u);
  const auto& ch = view->clusters[0];
  EXPECT_EQ(ch.flags, (std::vector<uint8_t>{0, 0, 0, kFailedEdsHealth, kFailedEdsHealth, kFailedEdsHealth}));
  EXPECT_EQ(ch.healthy, 3u);
  EXPECT_FALSE(ch.panic);
  EXPECT_FALSE(ch.usable(3));
  EXPECT_EQ(f.stats.shard(1).membership_total.load(), 6);
  EXPECT_EQ(f.stats.shard(1).membership_healthy.load(), 3);
  EXPECT_EQ(f.stats.shard(0).membership_total.load(), 0);  // only the given shard is written
}

TEST(HealthRegistryTest, HostsWithoutARecordArePendingWhenTheClusterIsChecked) {
  Fixture f;
  auto snap = f.snapshot({f.cluster("backend", {ep(1), ep(2)}, true)});
  HealthRegistry reg;
  EXPECT_TRUE(reg.setActiveHealth("backend", addr(1), 0));
  auto view = reg.build(snap, 0);
  const auto& ch = view->clusters[0];
  EXPECT_EQ(ch.flags[0], 0);
  EXPECT_EQ(ch.flags[1], kFailedActiveHc | kPendingActiveHc);
  EXPECT_EQ(ch.healthy, 1u);
  EXPECT_FALSE(ch.panic);  // 50% is not below 50%
}

TEST(HealthRegistryTest, ActiveFlagsAreIgnoredWhenTheClusterHasNoHealthChecks) {
  Fixture f;
  auto snap = f.snapshot({f.cluster("backend", {ep(1)}, false)});
  HealthRegistry reg;
  reg.setActiveHealth("backend", addr(1), kFailedActiveHc);
  EXPECT_EQ(reg.build(snap, 0)->clusters[0].flags[0], 0);
}

TEST(HealthRegistryTest, SetReportsWhetherAnythingChanged) {
  HealthRegistry reg;
  EXPECT_TRUE(reg.setActiveHealth("c", addr(1), kFailedActiveHc | kPendingActiveHc));
  EXPECT_FALSE(reg.setActiveHealth("c", addr(1), kFailedActiveHc | kPendingActiveHc));
  EXPECT_TRUE(reg.setActiveHealth("c", addr(1), 0));
  EXPECT_FALSE(reg.setActiveHealth("c", addr(1), kFailedOutlierCheck));  // non-HC bits are dropped
  EXPECT_FALSE(reg.setEjected("c", addr(1), false));
  EXPECT_TRUE(reg.setEjected("c", addr(1), true));
  EXPECT_FALSE(reg.setEjected("c", addr(1), true));
  EXPECT_TRUE(reg.setActiveHealth("other", addr(1), 0));  // keyed by cluster too
}

TEST(HealthRegistryTest, EjectionAddsItsFlag) {
  Fixture f;
  auto snap = f.snapshot({f.cluster("backend", {ep(1), ep(2)}, true, 0.0)});
  HealthRegistry reg;
  reg.setActiveHealth("backend", addr(1), 0);
  reg.setActiveHealth("backend", addr(2), 0);
  reg.setEjected("backend", addr(2), true);
  auto view = reg.build(snap, 0);
  EXPECT_EQ(view->clusters[0].flags[0], 0);
  EXPECT_EQ(view->clusters[0].flags[1], kFailedOutlierCheck);
  EXPECT_EQ(view->clusters[0].healthy, 1u);
  reg.setEjected("backend", addr(2), false);
  EXPECT_EQ(reg.build(snap, 0)->clusters[0].flags[1], 0);
}

TEST(HealthRegistryTest, FlagsCombine) {
  Fixture f;
  auto snap = f.snapshot({f.cluster("backend", {ep(1, EdsHealth::Draining)}, true)});
  HealthRegistry reg;
  reg.setActiveHealth("backend", addr(1), kFailedActiveHc);
  reg.setEjected("backend", addr(1), true);
  EXPECT_EQ(reg.build(snap, 0)->clusters[0].flags[0], kFailedEdsHealth | kFailedActiveHc | kFailedOutlierCheck);
}

TEST(HealthRegistryTest, PanicBelowThreshold) {
  Fixture f;
  auto snap = f.snapshot({f.cluster("backend", {ep(1), ep(2), ep(3)}, true)});
  HealthRegistry reg;
  reg.setActiveHealth("backend", addr(1), 0);
  reg.setActiveHealth("backend", addr(2), kFailedActiveHc);
  auto view = reg.build(snap, 0);
  const auto& ch = view->clusters[0];
  EXPECT_EQ(ch.healthy, 1u);
  EXPECT_TRUE(ch.panic);  // 33% < 50%
  EXPECT_TRUE(ch.usable(0));
  EXPECT_TRUE(ch.usable(1));   // failed, but panic routing takes it
  EXPECT_FALSE(ch.usable(2));  // pending hosts stay out even in panic
  EXPECT_EQ(f.stats.shard(0).membership_healthy.load(), 1);
  EXPECT_EQ(f.stats.shard(0).membership_total.load(), 3);

  reg.setActiveHealth("backend", addr(2), 0);
  EXPECT_FALSE(reg.build(snap, 0)->clusters[0].panic);  // 67%
}

TEST(HealthRegistryTest, ThresholdZeroDisablesPanic) {
  Fixture f;
  auto snap = f.snapshot({f.cluster("backend", {ep(1), ep(2)}, true, 0.0)});
  HealthRegistry reg;
  reg.setActiveHealth("backend", addr(1), kFailedActiveHc);
  reg.setActiveHealth("backend", addr(2), kFailedActiveHc);
  auto view = reg.build(snap, 0);
  EXPECT_EQ(view->clusters[0].healthy, 0u);
  EXPECT_FALSE(view->clusters[0].panic);
}

TEST(HealthRegistryTest, EmptyClusterIsNotInPanic) {
  Fixture f;
  auto snap = f.snapshot({f.cluster("backend", {}, true)});
  HealthRegistry reg;
  auto view = reg.build(snap, 0);
  EXPECT_FALSE(view->clusters[0].panic);
  EXPECT_EQ(view->clusters[0].healthy, 0u);
}

TEST(HealthRegistryTest, IndexedLikeTheSnapshotAcrossClusters) {
  Fixture f;
  ClusterStats other_stats{"other", 1};
  auto a = f.cluster("a", {ep(1)}, true);
  auto b = f.cluster("b", {ep(1), ep(2)}, true);
  b->stats = &other_stats;
  auto snap = f.snapshot({a, b});
  HealthRegistry reg;
  reg.setActiveHealth("b", addr(2), 0);  // the same address in another cluster is another host
  auto view = reg.build(snap, 0);
  ASSERT_EQ(view->clusters.size(), 2u);
  EXPECT_EQ(view->clusters[0].flags, (std::vector<uint8_t>{kFailedActiveHc | kPendingActiveHc}));
  EXPECT_EQ(view->clusters[1].flags, (std::vector<uint8_t>{kFailedActiveHc | kPendingActiveHc, 0}));
  EXPECT_EQ(other_stats.shard(0).membership_total.load(), 2);
}

TEST(HealthRegistryTest, StateSurvivesANewSnapshotWithTheSameHosts) {
  Fixture f;
  HealthRegistry reg;
  auto first = f.snapshot({f.cluster("backend", {ep(1), ep(2)}, true)});
  reg.setActiveHealth("backend", addr(1), 0);
  reg.setActiveHealth("backend", addr(2), kFailedActiveHc);
  reg.setEjected("backend", addr(2), true);

  // A new snapshot: the same hosts in another order, one new.
  auto second = f.snapshot({f.cluster("backend", {ep(3), ep(2), ep(1)}, true)});
  reg.retain(second);
  auto view = reg.build(second, 0);
  EXPECT_EQ(view->snapshot, &second);
  EXPECT_EQ(view->clusters[0].flags,
            (std::vector<uint8_t>{kFailedActiveHc | kPendingActiveHc, kFailedActiveHc | kFailedOutlierCheck, 0}));
}

TEST(HealthRegistryTest, RetainDropsRemovedHostsAndClusters) {
  Fixture f;
  HealthRegistry reg;
  reg.setActiveHealth("backend", addr(1), 0);
  reg.setActiveHealth("backend", addr(2), 0);
  reg.setEjected("backend", addr(2), true);
  reg.setActiveHealth("gone", addr(1), 0);

  reg.retain(f.snapshot({f.cluster("backend", {ep(1)}, true)}));
  // Host 2 comes back: it starts over (pending, not ejected).
  auto back = f.snapshot({f.cluster("backend", {ep(1), ep(2)}, true), f.cluster("gone", {ep(1)}, true)});
  auto view = reg.build(back, 0);
  EXPECT_EQ(view->clusters[0].flags, (std::vector<uint8_t>{0, kFailedActiveHc | kPendingActiveHc}));
  EXPECT_EQ(view->clusters[1].flags, (std::vector<uint8_t>{kFailedActiveHc | kPendingActiveHc}));
  // And a set after retain reports a change again.
  EXPECT_TRUE(reg.setActiveHealth("gone", addr(1), 0));
}

}  // namespace
}  // namespace trellis::proxy
