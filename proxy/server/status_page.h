// The HTML page at the proxy's admin `/`, for a person looking at one sidecar: its listeners,
// the routes with their current weights, the clusters with each host's health, the local
// replies by response flag, the control plane's state and the config version. Rendered from
// plain inputs (no Server), so it can be tested alone; every configured name is escaped.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "proxy/snapshot/snapshot.h"
#include "proxy/stats/stats.h"
#include "proxy/upstream/health_view.h"

namespace trellis::proxy {

struct StatusPageInput {
  struct Bound {
    std::string name;
    std::string address;  // "host:port" actually bound
  };
  struct XdsType {
    std::string version;  // last accepted
    uint64_t accepted = 0;
    uint64_t rejected = 0;
    std::string last_error;  // of the last NACK
  };

  const Snapshot* snapshot = nullptr;
  const HealthView* health = nullptr;
  std::vector<Bound> bound;
  std::string state;       // LIVE, DRAINING, PRE_INITIALIZING
  std::string node_id;
  // Control plane; `xds` false for a static bootstrap.
  bool xds = false;
  bool connected = false;
  std::string xds_target;
  std::map<std::string, XdsType> types;  // by type URL
  // The stats; the page shows the nonzero http.*.rq_response_flag_* counters.
  std::vector<StatValue> stats;
};

std::string statusPageHtml(const StatusPageInput& in);

// `text` with &, <, >, " and ' replaced by entities.
std::string htmlEscape(std::string_view text);

}  // namespace trellis::proxy
