// The threshold machine and the check schedule, with no sockets and no clock.
#include "proxy/upstream/health_state.h"

#include <gtest/gtest.h>

namespace trellis::proxy {
namespace {

using Change = HealthState::Change;
using std::chrono::milliseconds;

TEST(HealthStateTest, StartsPendingAndFailed) {
  HealthState s(3, 3);
  EXPECT_FALSE(s.healthy());
  EXPECT_TRUE(s.pending());
  EXPECT_FALSE(s.checked());
  EXPECT_EQ(s.flags(), kFailedActiveHc | kPendingActiveHc);
}

TEST(HealthStateTest, OnePassWhilePendingMakesHealthyWhateverTheThreshold) {
  HealthState s(5, 2);
  EXPECT_EQ(s.observe(true), Change::BecameHealthy);
  EXPECT_TRUE(s.healthy());
  EXPECT_FALSE(s.pending());
  EXPECT_EQ(s.flags(), 0);
}

TEST(HealthStateTest, AFailedFirstCheckEndsPendingAndThenTheThresholdApplies) {
  HealthState s(3, 2);
  EXPECT_TRUE(s.pending());
  EXPECT_EQ(s.flags(), kFailedActiveHc | kPendingActiveHc);
  EXPECT_EQ(s.observe(false), Change::None);
  EXPECT_TRUE(s.checked());
  EXPECT_FALSE(s.pending());  // failed, but no longer pending: panic routing may use it
  EXPECT_EQ(s.flags(), kFailedActiveHc);
  // Only the first check had the one-pass shortcut: now healthy_threshold passes are needed.
  EXPECT_EQ(s.observe(true), Change::None);
  EXPECT_EQ(s.observe(true), Change::None);
  EXPECT_EQ(s.observe(true), Change::BecameHealthy);
}

TEST(HealthStateTest, UnhealthyAfterThresholdConsecutiveFailures) {
  HealthState s(1, 3);
  s.observe(true);
  EXPECT_EQ(s.observe(false), Change::None);
  EXPECT_EQ(s.observe(false), Change::None);
  EXPECT_TRUE(s.healthy());
  EXPECT_EQ(s.observe(false), Change::BecameUnhealthy);
  EXPECT_FALSE(s.healthy());
  EXPECT_FALSE(s.pending());
  EXPECT_EQ(s.flags(), kFailedActiveHc);
  EXPECT_EQ(s.observe(false), Change::None);  // already unhealthy: no second transition
}

TEST(HealthStateTest, ASuccessResetsTheFailureStreak) {
  HealthState s(1, 2);
  s.observe(true);
  EXPECT_EQ(s.observe(false), Change::None);
  EXPECT_EQ(s.observe(true), Change::None);
  EXPECT_EQ(s.observe(false), Change::None);
  EXPECT_TRUE(s.healthy());
  EXPECT_EQ(s.observe(false), Change::BecameUnhealthy);
}

TEST(HealthStateTest, HealthyAgainAfterThresholdConsecutiveSuccesses) {
  HealthState s(3, 1);
  s.observe(true);
  ASSERT_EQ(s.observe(false), Change::BecameUnhealthy);
  EXPECT_EQ(s.observe(true), Change::None);
  EXPECT_EQ(s.observe(true), Change::None);
  EXPECT_FALSE(s.healthy());
  EXPECT_EQ(s.flags(), kFailedActiveHc);  // not pending again: a check has passed before
  EXPECT_EQ(s.observe(true), Change::BecameHealthy);
  EXPECT_EQ(s.flags(), 0);
}

TEST(HealthStateTest, AFailureResetsTheSuccessStreak) {
  HealthState s(2, 1);
  s.observe(true);
  s.observe(false);
  EXPECT_EQ(s.observe(true), Change::None);
  EXPECT_EQ(s.observe(false), Change::None);
  EXPECT_EQ(s.observe(true), Change::None);
  EXPECT_EQ(s.observe(true), Change::BecameHealthy);
}

TEST(HealthStateTest, ImmediateFailureIgnoresTheUnhealthyThreshold) {
  HealthState s(1, 5);
  s.observe(true);
  EXPECT_EQ(s.observeImmediateFailure(), Change::BecameUnhealthy);
  EXPECT_EQ(s.flags(), kFailedActiveHc);
  EXPECT_EQ(s.observeImmediateFailure(), Change::None);
}

TEST(HealthStateTest, ImmediateFailureOfTheFirstCheckEndsPending) {
  HealthState s(2, 5);
  EXPECT_EQ(s.observeImmediateFailure(), Change::None);
  EXPECT_FALSE(s.pending());
  EXPECT_EQ(s.flags(), kFailedActiveHc);
}

TEST(HealthStateTest, ZeroThresholdsActLikeOne) {
  HealthState s(0, 0);
  s.observe(true);
  EXPECT_EQ(s.observe(false), Change::BecameUnhealthy);
  EXPECT_EQ(s.observe(true), Change::BecameHealthy);
}

HealthCheckConfig scheduleConfig() {
  HealthCheckConfig c;
  c.interval = milliseconds(1000);
  c.unhealthy_interval = milliseconds(3000);
  c.unhealthy_edge_interval = milliseconds(500);
  c.healthy_edge_interval = milliseconds(700);
  c.no_traffic_interval = milliseconds(60000);
  return c;
}

HealthState healthyState() {
  HealthState s(1, 1);
  s.observe(true);
  return s;
}

HealthState unhealthyState() {
  HealthState s(1, 1);
  s.observe(true);
  s.observe(false);
  return s;
}

TEST(NextCheckDelayTest, HealthyUsesInterval) {
  EXPECT_EQ(nextCheckDelay(scheduleConfig(), healthyState(), Change::None, true, 0.0), milliseconds(1000));
}

TEST(NextCheckDelayTest, UnhealthyUsesUnhealthyInterval) {
  EXPECT_EQ(nextCheckDelay(scheduleConfig(), unhealthyState(), Change::None, true, 0.0), milliseconds(3000));
}

TEST(NextCheckDelayTest, PendingCountsAsUnhealthy) {
  HealthState pending(1, 1);
  pending.observe(false);
  EXPECT_EQ(nextCheckDelay(scheduleConfig(), pending, Change::None, true, 0.0), milliseconds(3000));
}

TEST(NextCheckDelayTest, EdgeIntervalsRightAfterATransition) {
  auto c = scheduleConfig();
  EXPECT_EQ(nextCheckDelay(c, unhealthyState(), Change::BecameUnhealthy, true, 0.0), milliseconds(500));
  EXPECT_EQ(nextCheckDelay(c, healthyState(), Change::BecameHealthy, true, 0.0), milliseconds(700));
}

TEST(NextCheckDelayTest, Defaults) {
  HealthCheckConfig c;
  c.interval = milliseconds(1000);
  // unhealthy_interval defaults to interval, unhealthy_edge_interval to unhealthy_interval,
  // healthy_edge_interval to interval.
  EXPECT_EQ(nextCheckDelay(c, unhealthyState(), Change::None, true, 0.0), milliseconds(1000));
  EXPECT_EQ(nextCheckDelay(c, unhealthyState(), Change::BecameUnhealthy, true, 0.0), milliseconds(1000));
  EXPECT_EQ(nextCheckDelay(c, healthyState(), Change::BecameHealthy, true, 0.0), milliseconds(1000));
  c.unhealthy_interval = milliseconds(4000);
  EXPECT_EQ(nextCheckDelay(c, unhealthyState(), Change::BecameUnhealthy, true, 0.0), milliseconds(4000));
  EXPECT_EQ(nextCheckDelay(c, healthyState(), Change::BecameHealthy, true, 0.0), milliseconds(1000));
  EXPECT_EQ(c.no_traffic_interval, milliseconds(60000));
}

TEST(NextCheckDelayTest, NoTrafficOverridesEveryOtherInterval) {
  auto c = scheduleConfig();
  EXPECT_EQ(nextCheckDelay(c, healthyState(), Change::None, false, 0.0), milliseconds(60000));
  EXPECT_EQ(nextCheckDelay(c, unhealthyState(), Change::None, false, 0.0), milliseconds(60000));
  EXPECT_EQ(nextCheckDelay(c, unhealthyState(), Change::BecameUnhealthy, false, 0.0), milliseconds(60000));
  EXPECT_EQ(nextCheckDelay(c, healthyState(), Change::BecameHealthy, false, 0.0), milliseconds(60000));
}

TEST(NextCheckDelayTest, AbsoluteJitterStaysBelowItsBound) {
  auto c = scheduleConfig();
  c.interval_jitter = milliseconds(200);
  EXPECT_EQ(nextCheckDelay(c, healthyState(), Change::None, true, 0.0), milliseconds(1000));
  EXPECT_EQ(nextCheckDelay(c, healthyState(), Change::None, true, 0.5), milliseconds(1100));
  EXPECT_EQ(nextCheckDelay(c, healthyState(), Change::None, true, 0.999999), milliseconds(1199));
  // A draw at (or, by a rounding slip of the caller's generator, past) 1 still stays below.
  EXPECT_EQ(nextCheckDelay(c, healthyState(), Change::None, true, 1.0), milliseconds(1199));
  EXPECT_EQ(nextCheckDelay(c, healthyState(), Change::None, true, -0.5), milliseconds(1000));
}

TEST(NextCheckDelayTest, PercentJitterIsOfTheChosenInterval) {
  auto c = scheduleConfig();
  c.interval_jitter_percent = 10;
  EXPECT_EQ(nextCheckDelay(c, healthyState(), Change::None, true, 0.5), milliseconds(1050));
  EXPECT_EQ(nextCheckDelay(c, unhealthyState(), Change::None, true, 0.5), milliseconds(3150));
  EXPECT_EQ(nextCheckDelay(c, healthyState(), Change::None, true, 0.999999), milliseconds(1099));
}

TEST(NextCheckDelayTest, BothJittersAdd) {
  auto c = scheduleConfig();
  c.interval_jitter = milliseconds(100);
  c.interval_jitter_percent = 20;
  EXPECT_EQ(nextCheckDelay(c, healthyState(), Change::None, true, 0.5), milliseconds(1000 + 100 + 50));
  for (double j = 0; j < 1; j += 0.01) {
    auto d = nextCheckDelay(c, healthyState(), Change::None, true, j);
    EXPECT_GE(d, milliseconds(1000));
    EXPECT_LT(d, milliseconds(1000 + 200 + 100));
  }
}

TEST(NextCheckDelayTest, InitialDelayIsDrawnFromInitialJitter) {
  HealthCheckConfig c;
  EXPECT_EQ(initialCheckDelay(c, 0.7), milliseconds(0));  // no initial_jitter: check at once
  c.initial_jitter = milliseconds(400);
  EXPECT_EQ(initialCheckDelay(c, 0.0), milliseconds(0));
  EXPECT_EQ(initialCheckDelay(c, 0.25), milliseconds(100));
  EXPECT_EQ(initialCheckDelay(c, 0.9999999), milliseconds(399));
}

}  // namespace
}  // namespace trellis::proxy
