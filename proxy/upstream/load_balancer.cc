// The four host-selection policies of load_balancer.h. Every pick reads the worker's health view
// and allocates nothing: round robin walks the snapshot's schedule, the others draw by weight
// from running sums built once in the constructor.
#include "proxy/upstream/load_balancer.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace trellis::proxy {
namespace {

// Attempts of the fast weighted draw (pick by weight over all hosts, retry if unusable) before
// the exact linear scan over the usable ones. Enough that a cluster with most hosts usable
// almost never scans, few enough that a mostly-down cluster does not spin.
constexpr int kRejectionAttempts = 8;

// The cost of a host with no latency sample when no host has one either.
constexpr double kDefaultEwmaNs = 1e6;

uint64_t drawBelow(FastRandom& random, uint64_t bound) {
  if (bound <= UINT32_MAX) return random.below(static_cast<uint32_t>(bound));
  return random.next() % bound;
}

}  // namespace

LoadBalancer::LoadBalancer(const Cluster& cluster)
    : cluster_(&cluster), hosts_(cluster.endpoints.size()), cumulative_(cluster.endpoints.size()) {
  for (size_t i = 0; i < cluster.endpoints.size(); ++i) {
    total_weight_ += cluster.endpoints[i].weight;
    cumulative_[i] = total_weight_;
  }
}

std::optional<uint32_t> LoadBalancer::pick(const ClusterHealth& health, FastRandom& random) {
  assert(health.flags.size() == hosts_.size());
  switch (cluster_->lb_policy) {
    case LbPolicy::RoundRobin:
      return pickRoundRobin(health);
    case LbPolicy::LeastRequest:
      return pickLeastRequest(health, random);
    case LbPolicy::Random:
      return pickWeightedRandom(health, random);
    case LbPolicy::PeakEwma:
      return pickPeakEwma(health, random);
  }
  return std::nullopt;
}

std::optional<uint32_t> LoadBalancer::pickRoundRobin(const ClusterHealth& health) {
  const std::vector<uint32_t>& schedule = cluster_->schedule;
  const uint32_t length = static_cast<uint32_t>(schedule.size());
  if (cursor_ >= length) cursor_ = 0;
  // At most one lap: every host of the schedule is looked at once.
  for (uint32_t step = 0; step < length; ++step) {
    const uint32_t host = schedule[cursor_];
    if (++cursor_ == length) cursor_ = 0;
    if (host < hosts_.size() && health.usable(host)) return host;
  }
  return std::nullopt;
}

std::optional<uint32_t> LoadBalancer::pickWeightedRandom(const ClusterHealth& health,
                                                         FastRandom& random, uint32_t exclude) {
  if (total_weight_ == 0) return std::nullopt;
  for (int attempt = 0; attempt < kRejectionAttempts; ++attempt) {
    const uint64_t point = drawBelow(random, total_weight_);
    // The first host whose running sum passes the point; zero-weight hosts are never hit.
    const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), point);
    const uint32_t host = static_cast<uint32_t>(it - cumulative_.begin());
    if (host != exclude && health.usable(host)) return host;
  }
  // Many hosts are unusable (or excluded): draw exactly among the usable ones. Accepting a draw
  // only when it is usable, or drawing from the usable ones, give the same distribution.
  std::optional<uint32_t> chosen = scanWeightedRandom(health, random, exclude);
  if (!chosen && exclude != kNoHost) chosen = scanWeightedRandom(health, random, kNoHost);
  return chosen;
}

std::optional<uint32_t> LoadBalancer::scanWeightedRandom(const ClusterHealth& health,
                                                         FastRandom& random, uint32_t exclude) {
  const std::vector<Endpoint>& endpoints = cluster_->endpoints;
  uint64_t usable_weight = 0;
  for (uint32_t i = 0; i < endpoints.size(); ++i) {
    if (i != exclude && health.usable(i)) usable_weight += endpoints[i].weight;
  }
  if (usable_weight == 0) return std::nullopt;
  uint64_t point = drawBelow(random, usable_weight);
  for (uint32_t i = 0; i < endpoints.size(); ++i) {
    if (i == exclude || !health.usable(i)) continue;
    if (point < endpoints[i].weight) return i;
    point -= endpoints[i].weight;
  }
  return std::nullopt;  // not reached: the point lies below the usable weight
}

std::optional<uint32_t> LoadBalancer::pickLeastRequest(const ClusterHealth& health,
                                                       FastRandom& random) {
  // Candidates are drawn independently (one host may be drawn twice), as Envoy does.
  std::optional<uint32_t> best = pickWeightedRandom(health, random);
  if (!best) return std::nullopt;
  const uint32_t choices = std::max<uint32_t>(cluster_->least_request_choice_count, 1);
  const std::vector<Endpoint>& endpoints = cluster_->endpoints;
  for (uint32_t c = 1; c < choices; ++c) {
    const std::optional<uint32_t> candidate = pickWeightedRandom(health, random);
    if (!candidate) break;
    // active/weight compared by cross multiplication; a tie keeps the earlier draw.
    const uint64_t lhs = uint64_t{hosts_[*candidate].active} * endpoints[*best].weight;
    const uint64_t rhs = uint64_t{hosts_[*best].active} * endpoints[*candidate].weight;
    if (lhs < rhs) best = candidate;
  }
  return best;
}

std::optional<uint32_t> LoadBalancer::pickPeakEwma(const ClusterHealth& health, FastRandom& random) {
  const std::optional<uint32_t> first = pickWeightedRandom(health, random);
  if (!first) return std::nullopt;
  // Two different hosts when there are two usable ones: with repeated draws a host as slow as
  // you like would still take (its share of the weight)^2 of the traffic.
  const std::optional<uint32_t> second = pickWeightedRandom(health, random, *first);
  if (!second || *second == *first) return first;
  return ewmaCost(*second) < ewmaCost(*first) ? second : first;
}

double LoadBalancer::ewmaCost(uint32_t host) const {
  const HostState& state = hosts_[host];
  double latency = state.ewma_ns;
  if (!state.sampled) latency = min_ewma_host_ == kNoHost ? kDefaultEwmaNs : min_ewma_ns_;
  const uint32_t weight = std::max<uint32_t>(cluster_->endpoints[host].weight, 1);
  return latency * (static_cast<double>(state.active) + 1.0) / weight;
}

void LoadBalancer::onRequestStart(uint32_t host) { ++hosts_[host].active; }

void LoadBalancer::onRequestEnd(uint32_t host, std::chrono::nanoseconds latency,
                                Clock::time_point now) {
  HostState& state = hosts_[host];
  if (state.active > 0) --state.active;
  if (cluster_->lb_policy != LbPolicy::PeakEwma) return;
  updateEwma(state, host, static_cast<double>(std::max<int64_t>(latency.count(), 0)), now);
}

void LoadBalancer::updateEwma(HostState& state, uint32_t host, double sample_ns,
                              Clock::time_point now) {
  const bool was_min = host == min_ewma_host_;
  const double before = state.ewma_ns;
  if (!state.sampled || sample_ns > state.ewma_ns) {
    state.ewma_ns = sample_ns;  // the peak: a slower sample counts in full at once
  } else {
    const double elapsed_ns =
        static_cast<double>(std::max<int64_t>((now - state.last_sample).count(), 0));
    const double decay_ns = static_cast<double>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(cluster_->ewma_decay).count());
    const double w = decay_ns > 0 ? std::exp(-elapsed_ns / decay_ns) : 0.0;
    state.ewma_ns = state.ewma_ns * w + sample_ns * (1.0 - w);
  }
  state.sampled = true;
  state.last_sample = now;

  // Keep the lowest average: a fall can only lower it; only the holder's rise needs a rescan.
  if (min_ewma_host_ == kNoHost || state.ewma_ns <= min_ewma_ns_) {
    min_ewma_ns_ = state.ewma_ns;
    min_ewma_host_ = host;
  } else if (was_min && state.ewma_ns > before) {
    min_ewma_host_ = kNoHost;
    for (uint32_t i = 0; i < hosts_.size(); ++i) {
      if (!hosts_[i].sampled) continue;
      if (min_ewma_host_ == kNoHost || hosts_[i].ewma_ns < min_ewma_ns_) {
        min_ewma_ns_ = hosts_[i].ewma_ns;
        min_ewma_host_ = i;
      }
    }
  }
}

}  // namespace trellis::proxy
