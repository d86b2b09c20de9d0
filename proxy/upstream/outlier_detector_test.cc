// Outlier detection: the workers' consecutive counting, the detector's ejections with their
// enforcement, overflow, growing and decaying ejection times (fake time), and the monitor's timer
// on a real io_context.
#include "proxy/upstream/outlier_detector.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

namespace trellis::proxy {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using TimePoint = OutlierDetector::TimePoint;

const TimePoint kT0 = TimePoint{} + seconds(1000);

uint64_t value(const Counter& c) { return c.load(); }

// --- recordOutcome ---

TEST(RecordOutcomeTest, FifthConsecutive5xxSignalsOnce) {
  HostCounters host;
  OutlierDetectionConfig cfg;
  for (int i = 0; i < 4; ++i) EXPECT_EQ(recordOutcome(host, cfg, 500), OutlierSignal::None);
  EXPECT_EQ(recordOutcome(host, cfg, 500), OutlierSignal::Consecutive5xx);
  // Past the threshold: no more signals for the same run.
  EXPECT_EQ(recordOutcome(host, cfg, 500), OutlierSignal::None);
  EXPECT_EQ(recordOutcome(host, cfg, 501), OutlierSignal::None);
  EXPECT_EQ(host.consecutive_5xx.load(), 7u);
}

TEST(RecordOutcomeTest, SuccessResetsBothCounters) {
  HostCounters host;
  OutlierDetectionConfig cfg;
  for (int i = 0; i < 4; ++i) recordOutcome(host, cfg, 503);
  EXPECT_EQ(host.consecutive_5xx.load(), 4u);
  EXPECT_EQ(host.consecutive_gateway_failure.load(), 4u);
  EXPECT_EQ(recordOutcome(host, cfg, 200), OutlierSignal::None);
  EXPECT_EQ(host.consecutive_5xx.load(), 0u);
  EXPECT_EQ(host.consecutive_gateway_failure.load(), 0u);
  // A 4xx is not a failure either.
  for (int i = 0; i < 4; ++i) recordOutcome(host, cfg, 500);
  EXPECT_EQ(recordOutcome(host, cfg, 404), OutlierSignal::None);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(recordOutcome(host, cfg, 500), OutlierSignal::None);
  EXPECT_EQ(recordOutcome(host, cfg, 500), OutlierSignal::Consecutive5xx);
}

TEST(RecordOutcomeTest, GatewayFailuresCountTowardBoth) {
  HostCounters host;
  OutlierDetectionConfig cfg;
  cfg.consecutive_gateway_failure = 3;
  cfg.consecutive_5xx = 5;
  EXPECT_EQ(recordOutcome(host, cfg, 502), OutlierSignal::None);
  EXPECT_EQ(recordOutcome(host, cfg, 503), OutlierSignal::None);
  EXPECT_EQ(recordOutcome(host, cfg, 504), OutlierSignal::ConsecutiveGatewayFailure);
  EXPECT_EQ(recordOutcome(host, cfg, 502), OutlierSignal::None);
  EXPECT_EQ(recordOutcome(host, cfg, 503), OutlierSignal::Consecutive5xx);
}

TEST(RecordOutcomeTest, OtherFiveHundredsEndARunOfGatewayFailures) {
  HostCounters host;
  OutlierDetectionConfig cfg;
  cfg.consecutive_gateway_failure = 3;
  cfg.consecutive_5xx = 5;
  recordOutcome(host, cfg, 502);
  recordOutcome(host, cfg, 502);
  EXPECT_EQ(recordOutcome(host, cfg, 500), OutlierSignal::None);
  EXPECT_EQ(host.consecutive_gateway_failure.load(), 0u);
  EXPECT_EQ(host.consecutive_5xx.load(), 3u);
  EXPECT_EQ(recordOutcome(host, cfg, 502), OutlierSignal::None);
  EXPECT_EQ(recordOutcome(host, cfg, 502), OutlierSignal::Consecutive5xx);
  EXPECT_EQ(recordOutcome(host, cfg, 502), OutlierSignal::ConsecutiveGatewayFailure);
}

TEST(RecordOutcomeTest, BothCrossingAtOnceIsOneSignal) {
  HostCounters host;
  OutlierDetectionConfig cfg;  // both thresholds 5
  for (int i = 0; i < 4; ++i) EXPECT_EQ(recordOutcome(host, cfg, 503), OutlierSignal::None);
  EXPECT_EQ(recordOutcome(host, cfg, 503), OutlierSignal::Both);
}

TEST(RecordOutcomeTest, ZeroThresholdDisables) {
  HostCounters host;
  OutlierDetectionConfig cfg;
  cfg.consecutive_5xx = 0;
  cfg.consecutive_gateway_failure = 0;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(recordOutcome(host, cfg, 503), OutlierSignal::None);
}

// --- OutlierDetector ---

class OutlierDetectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.interval = seconds(10);
    cfg_.base_ejection_time = seconds(30);
    cfg_.max_ejection_time = seconds(300);
  }
  OutlierDetector make(std::vector<std::string> hosts) {
    OutlierDetector d(cfg_, stats_, 99);
    d.setHosts(hosts);
    return d;
  }

  OutlierDetectionConfig cfg_;
  OutlierDetectionStats stats_;
};

TEST_F(OutlierDetectorTest, Consecutive5xxEjectsAndCounts) {
  cfg_.max_ejection_percent = 50;
  OutlierDetector d = make({"10.0.0.1:80", "10.0.0.2:80"});
  EXPECT_TRUE(d.onSignal("10.0.0.1:80", OutlierSignal::Consecutive5xx, kT0));
  EXPECT_TRUE(d.ejected("10.0.0.1:80"));
  EXPECT_FALSE(d.ejected("10.0.0.2:80"));
  EXPECT_EQ(d.ejectedCount(), 1u);
  EXPECT_EQ(value(stats_.ejections_detected_consecutive_5xx), 1u);
  EXPECT_EQ(value(stats_.ejections_enforced_consecutive_5xx), 1u);
  EXPECT_EQ(value(stats_.ejections_enforced_total), 1u);
  EXPECT_EQ(value(stats_.ejections_total), 1u);
  EXPECT_EQ(stats_.ejections_active.load(), 1);

  // A late report for the ejected host changes nothing.
  EXPECT_FALSE(d.onSignal("10.0.0.1:80", OutlierSignal::Consecutive5xx, kT0 + seconds(1)));
  EXPECT_EQ(value(stats_.ejections_detected_consecutive_5xx), 1u);
  EXPECT_EQ(d.ejectedCount(), 1u);

  // An unknown host (removed since the worker posted) is ignored.
  EXPECT_FALSE(d.onSignal("10.0.0.9:80", OutlierSignal::Consecutive5xx, kT0));
  EXPECT_EQ(value(stats_.ejections_total), 1u);
}

TEST_F(OutlierDetectorTest, EnforcingZeroDetectsWithoutEjecting) {
  // Envoy's defaults: gateway failures are detected, not enforced.
  OutlierDetector d = make({"a:1"});
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(d.onSignal("a:1", OutlierSignal::ConsecutiveGatewayFailure, kT0));
  }
  EXPECT_FALSE(d.ejected("a:1"));
  EXPECT_EQ(value(stats_.ejections_detected_consecutive_gateway_failure), 10u);
  EXPECT_EQ(value(stats_.ejections_enforced_consecutive_gateway_failure), 0u);
  EXPECT_EQ(value(stats_.ejections_enforced_total), 0u);
  EXPECT_EQ(value(stats_.ejections_total), 10u);
  EXPECT_EQ(stats_.ejections_active.load(), 0);

  cfg_.enforcing_consecutive_5xx = 0;
  OutlierDetector d2 = make({"a:1"});
  EXPECT_FALSE(d2.onSignal("a:1", OutlierSignal::Consecutive5xx, kT0));
  EXPECT_EQ(value(stats_.ejections_detected_consecutive_5xx), 1u);
  EXPECT_EQ(value(stats_.ejections_enforced_consecutive_5xx), 0u);
}

TEST_F(OutlierDetectorTest, EnforcingPercentIsDrawn) {
  cfg_.enforcing_consecutive_gateway_failure = 30;
  cfg_.max_ejection_percent = 100;
  std::vector<std::string> hosts;
  for (int i = 0; i < 1000; ++i) hosts.push_back("10.0.0.1:" + std::to_string(i));
  OutlierDetector d = make(hosts);
  int ejected = 0;
  for (const auto& h : hosts) ejected += d.onSignal(h, OutlierSignal::ConsecutiveGatewayFailure, kT0);
  EXPECT_NEAR(ejected, 300, 60);
  EXPECT_EQ(value(stats_.ejections_enforced_consecutive_gateway_failure), static_cast<uint64_t>(ejected));
  EXPECT_EQ(value(stats_.ejections_detected_consecutive_gateway_failure), 1000u);
}

TEST_F(OutlierDetectorTest, BothSignalsCountTwiceAndEjectOnce) {
  // Gateway failure is handled first (not enforced), then 5xx (enforced).
  OutlierDetector d = make({"a:1", "b:1"});
  EXPECT_TRUE(d.onSignal("a:1", OutlierSignal::Both, kT0));
  EXPECT_EQ(value(stats_.ejections_detected_consecutive_gateway_failure), 1u);
  EXPECT_EQ(value(stats_.ejections_detected_consecutive_5xx), 1u);
  EXPECT_EQ(value(stats_.ejections_enforced_consecutive_5xx), 1u);
  EXPECT_EQ(value(stats_.ejections_total), 2u);
  EXPECT_EQ(stats_.ejections_active.load(), 1);

  // Enforced gateway failure: the host is out after the first; the 5xx one finds it ejected.
  cfg_.enforcing_consecutive_gateway_failure = 100;
  OutlierDetectionStats other;
  OutlierDetector d2(cfg_, other, 1);
  d2.setHosts({"a:1"});
  EXPECT_TRUE(d2.onSignal("a:1", OutlierSignal::Both, kT0));
  EXPECT_EQ(value(other.ejections_enforced_consecutive_gateway_failure), 1u);
  EXPECT_EQ(value(other.ejections_detected_consecutive_5xx), 0u);
  EXPECT_EQ(value(other.ejections_enforced_total), 1u);
}

TEST_F(OutlierDetectorTest, MaxEjectionPercentStillAllowsOneHost) {
  // 3 hosts at 10%: a single host is a third of them, yet one can always be ejected.
  OutlierDetector d = make({"a:1", "b:1", "c:1"});
  EXPECT_TRUE(d.onSignal("a:1", OutlierSignal::Consecutive5xx, kT0));
  EXPECT_FALSE(d.onSignal("b:1", OutlierSignal::Consecutive5xx, kT0));
  EXPECT_FALSE(d.ejected("b:1"));
  EXPECT_EQ(value(stats_.ejections_overflow), 1u);
  EXPECT_EQ(value(stats_.ejections_detected_consecutive_5xx), 2u);
  EXPECT_EQ(value(stats_.ejections_enforced_total), 1u);
  EXPECT_EQ(d.ejectedCount(), 1u);

  // Once the first is back, the second can go.
  ASSERT_EQ(d.onInterval(kT0 + seconds(30)), std::vector<std::string>{"a:1"});
  EXPECT_TRUE(d.onSignal("b:1", OutlierSignal::Consecutive5xx, kT0 + seconds(31)));
}

TEST_F(OutlierDetectorTest, MaxEjectionPercentWithManyHosts) {
  cfg_.max_ejection_percent = 20;
  std::vector<std::string> hosts;
  for (int i = 0; i < 10; ++i) hosts.push_back("h:" + std::to_string(i));
  OutlierDetector d = make(hosts);
  EXPECT_TRUE(d.onSignal("h:0", OutlierSignal::Consecutive5xx, kT0));
  EXPECT_TRUE(d.onSignal("h:1", OutlierSignal::Consecutive5xx, kT0));
  EXPECT_FALSE(d.onSignal("h:2", OutlierSignal::Consecutive5xx, kT0));
  EXPECT_EQ(d.ejectedCount(), 2u);
  EXPECT_EQ(value(stats_.ejections_overflow), 1u);
}

TEST_F(OutlierDetectorTest, UnejectsWhenTheTimeIsOver) {
  OutlierDetector d = make({"a:1"});
  ASSERT_TRUE(d.onSignal("a:1", OutlierSignal::Consecutive5xx, kT0));
  EXPECT_TRUE(d.onInterval(kT0 + seconds(10)).empty());
  EXPECT_TRUE(d.onInterval(kT0 + seconds(29)).empty());
  EXPECT_TRUE(d.ejected("a:1"));
  EXPECT_EQ(d.onInterval(kT0 + seconds(30)), std::vector<std::string>{"a:1"});
  EXPECT_FALSE(d.ejected("a:1"));
  EXPECT_EQ(d.ejectedCount(), 0u);
  EXPECT_EQ(stats_.ejections_active.load(), 0);
  EXPECT_TRUE(d.onInterval(kT0 + seconds(40)).empty());
}

TEST_F(OutlierDetectorTest, EjectionTimeGrowsWithRepeatedEjectionsAndIsCapped) {
  cfg_.max_ejection_time = seconds(70);
  OutlierDetector d = make({"a:1"});
  // Re-ejected at the moment it returns, so no interval passes in service: 30, 60, 70, 70 s.
  TimePoint now = kT0;
  for (auto expected : {seconds(30), seconds(60), seconds(70), seconds(70)}) {
    ASSERT_TRUE(d.onSignal("a:1", OutlierSignal::Consecutive5xx, now));
    EXPECT_TRUE(d.onInterval(now + expected - seconds(1)).empty()) << expected.count();
    ASSERT_EQ(d.onInterval(now + expected), std::vector<std::string>{"a:1"}) << expected.count();
    now += expected;
  }
  EXPECT_EQ(d.ejectionMultiplier("a:1"), 3u);
}

TEST_F(OutlierDetectorTest, MaxBelowBaseMeansBase) {
  cfg_.max_ejection_time = seconds(10);
  OutlierDetector d = make({"a:1"});
  TimePoint now = kT0;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(d.onSignal("a:1", OutlierSignal::Consecutive5xx, now));
    EXPECT_TRUE(d.onInterval(now + seconds(29)).empty());
    ASSERT_EQ(d.onInterval(now + seconds(30)).size(), 1u);
    now += seconds(30);
  }
}

TEST_F(OutlierDetectorTest, MultiplierDecaysWhileInService) {
  OutlierDetector d = make({"a:1"});
  ASSERT_TRUE(d.onSignal("a:1", OutlierSignal::Consecutive5xx, kT0));
  ASSERT_EQ(d.onInterval(kT0 + seconds(30)).size(), 1u);
  ASSERT_TRUE(d.onSignal("a:1", OutlierSignal::Consecutive5xx, kT0 + seconds(30)));
  EXPECT_EQ(d.ejectionMultiplier("a:1"), 2u);
  const TimePoint back = kT0 + seconds(90);
  ASSERT_EQ(d.onInterval(back).size(), 1u);

  // Less than an interval in service: no decay yet.
  d.onInterval(back + seconds(5));
  EXPECT_EQ(d.ejectionMultiplier("a:1"), 2u);
  d.onInterval(back + seconds(10));
  EXPECT_EQ(d.ejectionMultiplier("a:1"), 1u);
  d.onInterval(back + seconds(20));
  EXPECT_EQ(d.ejectionMultiplier("a:1"), 0u);
  d.onInterval(back + seconds(30));
  EXPECT_EQ(d.ejectionMultiplier("a:1"), 0u);

  // Decayed to nothing: the next ejection is the base time again.
  const TimePoint again = back + seconds(35);
  ASSERT_TRUE(d.onSignal("a:1", OutlierSignal::Consecutive5xx, again));
  EXPECT_TRUE(d.onInterval(again + seconds(29)).empty());
  EXPECT_EQ(d.onInterval(again + seconds(30)).size(), 1u);
}

TEST_F(OutlierDetectorTest, PartialDecayShortensTheNextEjection) {
  OutlierDetector d = make({"a:1"});
  TimePoint now = kT0;
  for (int i = 0; i < 3; ++i) {  // multiplier 3
    ASSERT_TRUE(d.onSignal("a:1", OutlierSignal::Consecutive5xx, now));
    now += seconds(30) * (i + 1);
    ASSERT_EQ(d.onInterval(now).size(), 1u);
  }
  EXPECT_EQ(d.ejectionMultiplier("a:1"), 3u);
  d.onInterval(now + seconds(10));  // 3 -> 2
  const TimePoint eject = now + seconds(15);
  ASSERT_TRUE(d.onSignal("a:1", OutlierSignal::Consecutive5xx, eject));  // 2 -> 3: 90 s
  EXPECT_EQ(d.ejectionMultiplier("a:1"), 3u);
  EXPECT_TRUE(d.onInterval(eject + seconds(89)).empty());
  EXPECT_EQ(d.onInterval(eject + seconds(90)).size(), 1u);
}

TEST_F(OutlierDetectorTest, ResetsCountersItWasGiven) {
  OutlierDetectionConfig cfg = cfg_;
  HostCounters a, b, c;
  OutlierDetector d(cfg, stats_, 5);
  d.setHosts({"a:1", "b:1", "c:1"}, {&a, &b, &c});

  // a is ejected on a Both signal: both runs were reported, so both counters restart.
  for (int i = 0; i < 5; ++i) recordOutcome(a, cfg, 503);
  ASSERT_TRUE(d.onSignal("a:1", OutlierSignal::Both, kT0));
  EXPECT_EQ(a.consecutive_5xx.load(), 0u);
  EXPECT_EQ(a.consecutive_gateway_failure.load(), 0u);

  // b overflows (a is out): counted again, so five more failures signal again.
  OutlierSignal s = OutlierSignal::None;
  for (int i = 0; i < 5; ++i) s = recordOutcome(b, cfg, 500);
  ASSERT_EQ(s, OutlierSignal::Consecutive5xx);
  EXPECT_FALSE(d.onSignal("b:1", s, kT0));
  EXPECT_EQ(b.consecutive_5xx.load(), 0u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(recordOutcome(b, cfg, 500), OutlierSignal::None);
  EXPECT_EQ(recordOutcome(b, cfg, 500), OutlierSignal::Consecutive5xx);

  // a returns with clean counts even after failures while it was out.
  for (int i = 0; i < 3; ++i) recordOutcome(a, cfg, 502);
  ASSERT_EQ(d.onInterval(kT0 + seconds(30)), std::vector<std::string>{"a:1"});
  EXPECT_EQ(a.consecutive_5xx.load(), 0u);
  EXPECT_EQ(a.consecutive_gateway_failure.load(), 0u);
  EXPECT_EQ(c.consecutive_5xx.load(), 0u);
}

TEST_F(OutlierDetectorTest, RemovedHostsAreForgotten) {
  cfg_.max_ejection_percent = 100;
  OutlierDetector d = make({"a:1", "b:1"});
  ASSERT_TRUE(d.onSignal("a:1", OutlierSignal::Consecutive5xx, kT0));
  ASSERT_TRUE(d.onSignal("b:1", OutlierSignal::Consecutive5xx, kT0));
  EXPECT_EQ(stats_.ejections_active.load(), 2);
  d.setHosts({"b:1", "c:1"});
  EXPECT_EQ(d.ejectedCount(), 1u);
  EXPECT_EQ(stats_.ejections_active.load(), 1);
  EXPECT_FALSE(d.ejected("a:1"));
  EXPECT_TRUE(d.ejected("b:1"));  // kept hosts keep their state
  EXPECT_FALSE(d.onSignal("a:1", OutlierSignal::Consecutive5xx, kT0));
  // a comes back as a new host: no history.
  d.setHosts({"a:1", "b:1", "c:1"});
  EXPECT_EQ(d.ejectionMultiplier("a:1"), 0u);
  EXPECT_EQ(d.onInterval(kT0 + seconds(30)), std::vector<std::string>{"b:1"});
}

// --- OutlierMonitor ---

TEST(OutlierMonitorTest, EjectsAtOnceAndReturnsOnItsTimer) {
  boost::asio::io_context io;
  OutlierDetectionConfig cfg;
  cfg.interval = milliseconds(10);
  cfg.base_ejection_time = milliseconds(20);
  OutlierDetectionStats stats;
  std::vector<std::pair<std::string, bool>> events;
  OutlierMonitor monitor(io, cfg, stats, 1, [&](const std::string& address, bool ejected) {
    events.emplace_back(address, ejected);
    if (!ejected) io.stop();
  });
  monitor.setHosts({"127.0.0.1:8080", "127.0.0.1:8081"});
  monitor.onSignal("127.0.0.1:8080", OutlierSignal::Consecutive5xx);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0], std::make_pair(std::string("127.0.0.1:8080"), true));
  EXPECT_TRUE(monitor.detector().ejected("127.0.0.1:8080"));

  // Runs until the return is reported (the callback stops the loop), at most 5 s.
  io.run_for(seconds(5));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1], std::make_pair(std::string("127.0.0.1:8080"), false));
  EXPECT_FALSE(monitor.detector().ejected("127.0.0.1:8080"));
}

TEST(OutlierMonitorTest, DestroyedMonitorLeavesNoLiveTimer) {
  boost::asio::io_context io;
  OutlierDetectionConfig cfg;
  cfg.interval = milliseconds(1);
  OutlierDetectionStats stats;
  {
    OutlierMonitor monitor(io, cfg, stats, 1, nullptr);
    monitor.setHosts({"a:1"});
  }
  // The cancelled wait completes at once and nothing re-arms: run() returns by itself.
  const size_t handlers = io.run_for(seconds(5));
  EXPECT_EQ(handlers, 1u);
}

}  // namespace
}  // namespace trellis::proxy
