// What /clusters prints, in both of Envoy's formats: the text lines
// (`cluster::host::field::value`) that scripts grep, and the envoy.admin.v3.Clusters message that
// ?format=json prints. Both read one snapshot and the health view built for it.
#pragma once

#include <string>

#include "envoy/admin/v3/clusters.pb.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/upstream/health_view.h"

namespace trellis::proxy {

// Per cluster its circuit-breaker limits, per host its counters, weight and health flags
// ("healthy", or the reasons it takes no traffic). `view` may be null or for another snapshot:
// every host then reads healthy.
std::string clustersText(const Snapshot& snapshot, const HealthView* view);

// "healthy", or Envoy's words for why a host takes no traffic ("/failed_active_hc/...").
std::string healthFlagsText(uint8_t flags);

envoy::admin::v3::Clusters clustersDocument(const Snapshot& snapshot, const HealthView* view);

}  // namespace trellis::proxy
