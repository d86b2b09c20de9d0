// Which hosts of each cluster may take traffic: the immutable view the workers balance over.
//
// Health is decided on the main thread (active health checks, outlier ejections, EDS
// health_status) and reaches the workers the way config does: the main thread builds a new
// HealthView and posts a std::shared_ptr<const HealthView> to every worker, together with the
// snapshot it belongs to. A worker reads it without locks; a request that picks a host reads the
// view its worker holds at that moment. A view is built for one snapshot (`snapshot`) and
// indexed like it: clusters[Cluster::index].flags[endpoint index].
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace trellis::proxy {

struct Snapshot;

// Why a host takes no traffic, as Envoy's /clusters health_flags name them.
enum HostHealthFlag : uint8_t {
  kFailedActiveHc = 1 << 0,      // /failed_active_hc
  kPendingActiveHc = 1 << 1,     // /pending_active_hc: checking is on and no check passed yet
  kFailedEdsHealth = 1 << 2,     // /failed_eds_health: EDS said UNHEALTHY, DRAINING or TIMEOUT
  kFailedOutlierCheck = 1 << 3,  // /failed_outlier_check: ejected by outlier detection
};

struct ClusterHealth {
  std::vector<uint8_t> flags;  // per endpoint; 0 is healthy
  uint32_t healthy = 0;        // endpoints with flags == 0
  // Fewer than healthy_panic_threshold percent are healthy: balance over every host, as Envoy
  // does, rather than overload the few (or answer 503 when none is). Hosts whose first check is
  // still pending stay out even then: a new host takes no traffic before a check has passed.
  bool panic = false;

  bool usable(uint32_t host) const {
    return flags[host] == 0 || (panic && (flags[host] & kPendingActiveHc) == 0);
  }
};

struct HealthView {
  const Snapshot* snapshot = nullptr;  // the snapshot this view was built for
  std::vector<ClusterHealth> clusters;
};

}  // namespace trellis::proxy
