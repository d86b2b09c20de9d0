// What the bootstrap says about overload: Envoy's global downstream connection limit (the
// overload manager's envoy.resource_monitors.global_downstream_max_connections monitor) and the
// per-listener connection limits of its runtime (static layers, key
// envoy.resource_limits.listener.<listener name>.connection_limit). Read once at start-up; a
// bootstrap asking for an overload feature Trellis does not have is refused by name.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"

namespace trellis::proxy {

struct OverloadSettings {
  int64_t global_max_connections = 0;  // 0: no global limit
  std::map<std::string, int64_t> listener_connection_limits;  // by listener name
  // Runtime keys Trellis does not use, and other things worth one log line at start-up.
  std::vector<std::string> warnings;
};

absl::StatusOr<OverloadSettings> readOverloadSettings(const envoy::config::bootstrap::v3::Bootstrap& bootstrap);

}  // namespace trellis::proxy
