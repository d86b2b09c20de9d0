// The pure part of active health checking: a host's consecutive-threshold state and the wait
// before its next check.
//
// Kept apart from the probes (health_checker.h) so every rule can be tested without sockets or
// a clock: the checker feeds each check's result to observe() and asks nextCheckDelay() when to
// check again. Envoy's semantics (core.v3.HealthCheck):
// - A host starts failed and pending (/failed_active_hc/pending_active_hc) and takes no
//   traffic, not even in panic mode. Its first check decides at once: a pass makes it healthy
//   (whatever healthy_threshold says), a failure leaves it failed but no longer pending, so
//   panic routing may use it (a cluster whose hosts all failed their first check still gets
//   traffic, as in Envoy).
// - After that, `unhealthy_threshold` consecutive failures make a healthy host unhealthy and
//   `healthy_threshold` consecutive successes make an unhealthy one healthy. A result of the
//   other kind resets the streak.
// - An HTTP status outside expected_statuses is not a retriable failure: Envoy marks the host
//   unhealthy at once, whatever unhealthy_threshold says (observeImmediateFailure()).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "proxy/snapshot/snapshot.h"
#include "proxy/upstream/health_view.h"

namespace trellis::proxy {

class HealthState {
 public:
  enum class Change : uint8_t { None, BecameHealthy, BecameUnhealthy };

  // A threshold of 0 is taken as 1 (one result is always enough to decide).
  HealthState(uint32_t healthy_threshold, uint32_t unhealthy_threshold)
      : healthy_threshold_(std::max<uint32_t>(healthy_threshold, 1)),
        unhealthy_threshold_(std::max<uint32_t>(unhealthy_threshold, 1)) {}

  // One check's result. Returns the transition it caused, if any.
  Change observe(bool success) {
    const bool first = pending_;
    checked_ = true;
    pending_ = false;
    if (success) {
      failures_ = 0;
      if (healthy_) return Change::None;
      ++successes_;
      if (first || successes_ >= healthy_threshold_) return becomeHealthy();
      return Change::None;
    }
    successes_ = 0;
    if (!healthy_) return Change::None;
    ++failures_;
    if (failures_ >= unhealthy_threshold_) return becomeUnhealthy();
    return Change::None;
  }

  // A failure that ignores unhealthy_threshold (an HTTP status outside expected_statuses).
  Change observeImmediateFailure() {
    checked_ = true;
    pending_ = false;
    successes_ = 0;
    if (!healthy_) return Change::None;
    return becomeUnhealthy();
  }

  bool healthy() const { return healthy_; }
  // No check has completed yet (the host is new).
  bool pending() const { return pending_; }
  // At least one check has completed, passed or not.
  bool checked() const { return checked_; }
  // HostHealthFlag bits: 0 when healthy, kFailedActiveHc, or kFailedActiveHc|kPendingActiveHc.
  uint8_t flags() const {
    if (healthy_) return 0;
    return pending_ ? (kFailedActiveHc | kPendingActiveHc) : kFailedActiveHc;
  }

 private:
  Change becomeHealthy() {
    healthy_ = true;
    pending_ = false;
    successes_ = 0;
    return Change::BecameHealthy;
  }
  Change becomeUnhealthy() {
    healthy_ = false;
    failures_ = 0;
    return Change::BecameUnhealthy;
  }

  uint32_t healthy_threshold_;
  uint32_t unhealthy_threshold_;
  uint32_t successes_ = 0;  // consecutive, counted while unhealthy
  uint32_t failures_ = 0;   // consecutive, counted while healthy
  bool healthy_ = false;
  bool pending_ = true;
  bool checked_ = false;
};

namespace health_detail {
// floor(j * span) for j in [0, 1): a draw in [0, span) milliseconds (0 when span is 0).
inline Duration jitterOf(Duration span, double jitter01) {
  if (span.count() <= 0) return Duration{0};
  const double j = std::clamp(jitter01, 0.0, 1.0);
  auto d = static_cast<Duration::rep>(std::floor(j * static_cast<double>(span.count())));
  return Duration{std::min<Duration::rep>(d, span.count() - 1)};
}
}  // namespace health_detail

// The wait before a host's first check: a draw in [0, initial_jitter).
inline Duration initialCheckDelay(const HealthCheckConfig& cfg, double jitter01) {
  return health_detail::jitterOf(cfg.initial_jitter, jitter01);
}

// The wait before the next check, after a check whose observation returned `last`:
// - the cluster has seen no traffic: no_traffic_interval;
// - right after becoming unhealthy: unhealthy_edge_interval (default: unhealthy_interval);
// - right after becoming healthy: healthy_edge_interval (default: interval);
// - unhealthy (pending included): unhealthy_interval (default: interval);
// - healthy: interval.
// Jitter is added to whichever base was chosen, as Envoy does: a draw in [0, interval_jitter)
// plus a draw in [0, base * interval_jitter_percent / 100), both from `jitter01` in [0, 1).
inline Duration nextCheckDelay(const HealthCheckConfig& cfg, const HealthState& state, HealthState::Change last,
                               bool had_traffic, double jitter01) {
  const Duration unhealthy = cfg.unhealthy_interval.value_or(cfg.interval);
  Duration base;
  if (!had_traffic) {
    base = cfg.no_traffic_interval;
  } else if (last == HealthState::Change::BecameUnhealthy) {
    base = cfg.unhealthy_edge_interval.value_or(unhealthy);
  } else if (last == HealthState::Change::BecameHealthy) {
    base = cfg.healthy_edge_interval.value_or(cfg.interval);
  } else if (!state.healthy()) {
    base = unhealthy;
  } else {
    base = cfg.interval;
  }
  const Duration percent_span{base.count() * static_cast<Duration::rep>(cfg.interval_jitter_percent) / 100};
  return base + health_detail::jitterOf(percent_span, jitter01) + health_detail::jitterOf(cfg.interval_jitter, jitter01);
}

}  // namespace trellis::proxy
