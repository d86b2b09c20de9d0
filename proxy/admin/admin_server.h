// The proxy's admin endpoint (Envoy's admin port, 9901 in a sidecar) is the shared admin
// server of xds/admin; proxy/server/server.cc adds the handlers. These names keep the proxy's
// handler code short. What /stats and /stats/prometheus print is proxy/stats/exposition.h.
#pragma once

#include "xds/admin/http_server.h"

namespace trellis::proxy {

using xds::admin::AdminRequest;
using xds::admin::AdminResponse;
using xds::admin::AdminServer;

}  // namespace trellis::proxy
