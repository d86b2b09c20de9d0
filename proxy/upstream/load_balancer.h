// Host selection for one cluster on one worker: the policy's per-worker state over the
// snapshot's immutable schedule.
//
// The snapshot's Cluster holds what is computed once per config (the smooth weighted
// round-robin schedule, the policy and its parameters); a LoadBalancer holds what each worker
// changes as it picks (the round-robin cursor, active requests and latency averages per host).
// Workers rebuild their balancers when a snapshot arrives. A pick reads the worker's current
// HealthView and never chooses a host it marks unusable; panic mode (ClusterHealth::panic) is
// decided by the view, not here.
//
// Policies (Cluster::lb_policy):
// - RoundRobin: walks the schedule from the cursor, skipping unusable hosts.
// - LeastRequest: `choice_count` weighted-random candidates among usable hosts; the one with
//   the fewest active requests relative to its weight wins (power of two choices by default).
// - Random: weighted random among usable hosts.
// - PeakEwma (Trellis extension): two weighted-random candidates; the lower cost wins, cost =
//   peak-EWMA latency x (active requests + 1) / weight. The average rises at once to a slower
//   sample ("peak") and decays toward faster ones with time constant Cluster::ewma_decay; a host
//   with no sample yet costs the cluster's default (its lowest known average or 1 ms), so a new
//   host gets tried.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "proxy/router/fast_random.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/upstream/health_view.h"

namespace trellis::proxy {

class LoadBalancer {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LoadBalancer(const Cluster& cluster);

  // A usable host's index into Cluster::endpoints, or nullopt when none is usable.
  std::optional<uint32_t> pick(const ClusterHealth& health, FastRandom& random);

  // The request flow reports every request it sends to a host, and its end: `latency` from
  // sending the request to the response head (or the failure), for PeakEwma.
  void onRequestStart(uint32_t host);
  void onRequestEnd(uint32_t host, std::chrono::nanoseconds latency, Clock::time_point now);

  uint32_t activeRequests(uint32_t host) const { return hosts_[host].active; }
  // PeakEwma's current estimate in nanoseconds (0 before the first sample); for tests.
  double ewmaNanos(uint32_t host) const { return hosts_[host].ewma_ns; }

 private:
  struct HostState {
    uint32_t active = 0;
    double ewma_ns = 0;
    Clock::time_point last_sample{};
    bool sampled = false;  // PeakEwma: whether ewma_ns holds a measured value
  };
  // No host: the value `exclude` takes when nothing is to be excluded.
  static constexpr uint32_t kNoHost = UINT32_MAX;

  std::optional<uint32_t> pickRoundRobin(const ClusterHealth& health);
  // A usable host drawn by weight, never `exclude` unless it is the only usable one.
  std::optional<uint32_t> pickWeightedRandom(const ClusterHealth& health, FastRandom& random,
                                             uint32_t exclude = kNoHost);
  std::optional<uint32_t> pickLeastRequest(const ClusterHealth& health, FastRandom& random);
  std::optional<uint32_t> pickPeakEwma(const ClusterHealth& health, FastRandom& random);
  // The slow path of pickWeightedRandom: one exact draw over the usable hosts by a linear scan.
  std::optional<uint32_t> scanWeightedRandom(const ClusterHealth& health, FastRandom& random,
                                             uint32_t exclude);
  double ewmaCost(uint32_t host) const;
  void updateEwma(HostState& state, uint32_t host, double sample_ns, Clock::time_point now);

  const Cluster* cluster_;
  uint32_t cursor_ = 0;
  std::vector<HostState> hosts_;
  // Running sums of the endpoints' weights: cumulative_[i] = weight[0] + ... + weight[i].
  std::vector<uint64_t> cumulative_;
  uint64_t total_weight_ = 0;
  // PeakEwma: the lowest average among sampled hosts (the cost of an unsampled one), and its host.
  double min_ewma_ns_ = 0;
  uint32_t min_ewma_host_ = kNoHost;
};

}  // namespace trellis::proxy
