// The proxy's App Mesh identity from the environment (or the bootstrap), checked with the parser
// trellis-cp uses (config/identity), so the proxy refuses at start-up an id the control plane
// would never serve.
#include "proxy/server/node_identity.h"

#include <string>

#include "config/identity/node_identity.h"

namespace trellis::proxy {

namespace {

namespace identity = trellis::config::identity;

// Parses `value` (from `source`: a variable or "node.id"), or an error naming both.
absl::StatusOr<identity::NodeIdentity> parse(const std::string& source, const std::string& value) {
  auto parsed = identity::parseNodeId(value);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(source + "=" + std::string(parsed.status().message()) +
                                      "; trellis-cp serves only these identities");
  }
  return parsed;
}

}  // namespace

absl::StatusOr<envoy::config::core::v3::Node> resolveNode(const envoy::config::core::v3::Node& bootstrap_node,
                                                          const EnvLookup& getenv) {
  envoy::config::core::v3::Node node = bootstrap_node;
  std::string name;
  const char* arn = getenv("APPMESH_RESOURCE_ARN");
  const char* virtual_node = getenv("APPMESH_VIRTUAL_NODE_NAME");
  if (arn && *arn) {
    auto parsed = parse("APPMESH_RESOURCE_ARN", arn);
    if (!parsed.ok()) return parsed.status();
    name = parsed->name;
    node.set_id(arn);
  } else if (virtual_node && *virtual_node) {
    auto parsed = parse("APPMESH_VIRTUAL_NODE_NAME", virtual_node);
    if (!parsed.ok()) return parsed.status();
    name = parsed->name;
    node.set_id(virtual_node);
  } else if (identity::looksLikeAppMeshId(node.id())) {
    // A bootstrap id in App Mesh's spelling is meant for trellis-cp: check it the same way. Other
    // ids are left to whatever control plane the bootstrap names.
    auto parsed = parse("node.id", node.id());
    if (!parsed.ok()) return parsed.status();
    name = parsed->name;
  }
  if (node.cluster().empty() && !name.empty()) node.set_cluster(name);
  node.set_user_agent_name("trellis-proxy");
  return node;
}

}  // namespace trellis::proxy
