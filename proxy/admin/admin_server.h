// The proxy's admin endpoint (Envoy's admin port, 9901 in a sidecar) is the shared admin
// server of xds/admin; proxy/server/server.cc adds the handlers. These names keep the proxy's
// handler code short. The stats exposition helpers below are what /stats and
// /stats/prometheus print.
#pragma once

#include <string>

#include "xds/admin/http_server.h"

namespace trellis::proxy {

using xds::admin::AdminRequest;
using xds::admin::AdminResponse;
using xds::admin::AdminServer;

// Exposition helpers shared by /stats and /stats/prometheus.
class StatsStore;
std::string formatStatsText(const StatsStore& stats, const std::string& filter);
std::string formatStatsPrometheus(const StatsStore& stats);

}  // namespace trellis::proxy
