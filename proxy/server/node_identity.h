// The proxy's node identity, as App Mesh's sidecar took it from the task or pod environment.
// The value is checked with config/identity, the parser trellis-cp uses: an id the control plane
// would never serve stops the proxy at start-up with the reason.
//
// APPMESH_RESOURCE_ARN (arn:aws:appmesh:REGION:ACCOUNT:mesh/MESH/virtualNode/NODE, or
// .../virtualGateway/GATEWAY) or the older APPMESH_VIRTUAL_NODE_NAME (mesh/MESH/virtualNode/NODE)
// become node.id unchanged, so an existing task definition keeps working; trellis-cp accepts
// both spellings. node.cluster defaults to the virtual node's (or gateway's) name.
#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "envoy/config/core/v3/base.pb.h"

namespace trellis::proxy {

using EnvLookup = std::function<const char*(const char*)>;

// Applies the environment to the bootstrap's node. Errors name the variable and the value.
absl::StatusOr<envoy::config::core::v3::Node> resolveNode(const envoy::config::core::v3::Node& bootstrap_node,
                                                          const EnvLookup& getenv);

}  // namespace trellis::proxy
