// The load balancer and health view a session picks hosts of one cluster with.
//
// Normally they are the worker's (one LoadBalancer per cluster of its current snapshot, and
// the HealthView posted with it). A session still running on an older snapshot than the
// worker's (rare: only across a config change) gets a balancer of its own over the cluster's
// EDS health. The worker replaces its balancers with every snapshot and its health view with
// every health change, so neither may be held across a wait: call refresh() after each one.
#pragma once

#include <optional>

#include "proxy/net/worker.h"

namespace trellis::proxy {

class ClusterBalancer {
 public:
  ClusterBalancer(Worker& worker, const Cluster& cluster) : worker_(worker), cluster_(cluster) { refresh(); }

  void refresh() {
    lb_ = worker_.balancer(cluster_);
    if (lb_) {
      health_ = &worker_.health(cluster_);
      return;
    }
    if (!own_lb_) {
      own_lb_.emplace(cluster_);
      own_health_.flags.resize(cluster_.endpoints.size(), 0);
      for (size_t i = 0; i < cluster_.endpoints.size(); ++i) {
        if (!edsRoutable(cluster_.endpoints[i].eds_health)) {
          own_health_.flags[i] = kFailedEdsHealth;
        } else {
          ++own_health_.healthy;
        }
      }
    }
    lb_ = &*own_lb_;
    health_ = &own_health_;
  }

  LoadBalancer& lb() { return *lb_; }
  const ClusterHealth& health() const { return *health_; }

 private:
  Worker& worker_;
  const Cluster& cluster_;
  LoadBalancer* lb_ = nullptr;
  const ClusterHealth* health_ = nullptr;
  std::optional<LoadBalancer> own_lb_;
  ClusterHealth own_health_;
};

}  // namespace trellis::proxy
