// Which App Mesh resource a proxy is, from the node.id it presents: the one parser both
// trellis-proxy (at start-up, from APPMESH_RESOURCE_ARN / APPMESH_VIRTUAL_NODE_NAME or the
// bootstrap's node.id) and trellis-cp (to find the proxy's resources) use, so a proxy never
// starts with an identity the control plane would not serve. No dependency on the App Mesh
// model or YAML: Abseil only.
//
// Accepted spellings (App Mesh's own):
//   mesh/MESH/virtualNode/NODE
//   mesh/MESH/virtualGateway/GATEWAY
//   arn:PARTITION:appmesh:REGION:ACCOUNT:mesh/MESH/virtualNode/NODE     (and .../virtualGateway/G)
// PARTITION is aws, aws-cn or aws-us-gov; REGION an AWS region name (us-west-2, cn-north-1,
// us-gov-west-1); ACCOUNT the 12-digit account that owns the mesh (App Mesh's meshOwner for a
// shared mesh). MESH, NODE and GATEWAY follow App Mesh's name rule: 1-255 letters, digits, '-'
// and '_'.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace trellis::config::identity {

enum class ResourceKind { kVirtualNode, kVirtualGateway };
const char* toString(ResourceKind kind);  // "virtualNode", "virtualGateway"

// The ARN's fields other than the resource, when the id was an ARN.
struct ArnFields {
  std::string partition;  // aws, aws-cn, aws-us-gov
  std::string region;
  std::string account;  // 12 digits: the mesh owner
};

struct NodeIdentity {
  ResourceKind kind = ResourceKind::kVirtualNode;
  std::string mesh;
  std::string name;             // the virtual node's or gateway's name
  std::optional<ArnFields> arn;  // set when the id was an ARN

  // "mesh/MESH/virtualNode/NODE" or "mesh/MESH/virtualGateway/GATEWAY": the key trellis-cp
  // keeps a proxy's resources under, whichever spelling the proxy sent.
  std::string key() const;
};

// Parses `id`. An error is InvalidArgument and names the value, what is wrong and the accepted
// forms, e.g. `"mesh/m/route/r": the resource type is "route" (allowed: virtualNode,
// virtualGateway) (accepted: ...)`.
absl::StatusOr<NodeIdentity> parseNodeId(std::string_view id);

// Whether `id` claims to be an App Mesh identity (starts with "mesh/" or "arn:"): a proxy
// checks such a bootstrap node.id; any other id is left to whatever control plane it uses.
bool looksLikeAppMeshId(std::string_view id);

// App Mesh's name rule for meshes, nodes and gateways: why `name` breaks it, if it does.
std::optional<std::string> nameProblem(std::string_view name);

}  // namespace trellis::config::identity
