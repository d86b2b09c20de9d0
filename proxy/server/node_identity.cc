// Parsing of App Mesh's resource names from the environment.
#include "proxy/server/node_identity.h"

#include <vector>

#include "absl/strings/str_split.h"

namespace trellis::proxy {

namespace {

// "mesh/MESH/virtualNode/NODE" -> NODE, or an error naming what is wrong.
absl::StatusOr<std::string> resourceName(const std::string& path, const std::string& var, const std::string& value) {
  std::vector<std::string> parts = absl::StrSplit(path, '/');
  if (parts.size() != 4 || parts[0] != "mesh" || parts[1].empty() ||
      (parts[2] != "virtualNode" && parts[2] != "virtualGateway") || parts[3].empty()) {
    return absl::InvalidArgumentError(var + "='" + value +
                                      "': expected mesh/MESH/virtualNode/NODE or mesh/MESH/virtualGateway/GATEWAY");
  }
  return parts[3];
}

}  // namespace

absl::StatusOr<envoy::config::core::v3::Node> resolveNode(const envoy::config::core::v3::Node& bootstrap_node,
                                                          const EnvLookup& getenv) {
  envoy::config::core::v3::Node node = bootstrap_node;
  std::string name;
  if (const char* arn = getenv("APPMESH_RESOURCE_ARN"); arn && *arn) {
    std::string value = arn;
    // arn:aws:appmesh:REGION:ACCOUNT:mesh/...
    std::vector<std::string> fields = absl::StrSplit(value, absl::MaxSplits(':', 5));
    if (fields.size() != 6 || fields[0] != "arn" || fields[2] != "appmesh") {
      return absl::InvalidArgumentError("APPMESH_RESOURCE_ARN='" + value +
                                        "': expected arn:aws:appmesh:REGION:ACCOUNT:mesh/MESH/virtualNode/NODE");
    }
    auto n = resourceName(fields[5], "APPMESH_RESOURCE_ARN", value);
    if (!n.ok()) return n.status();
    name = *n;
    node.set_id(value);
  } else if (const char* vn = getenv("APPMESH_VIRTUAL_NODE_NAME"); vn && *vn) {
    auto n = resourceName(vn, "APPMESH_VIRTUAL_NODE_NAME", vn);
    if (!n.ok()) return n.status();
    name = *n;
    node.set_id(vn);
  }
  if (node.cluster().empty() && !name.empty()) node.set_cluster(name);
  node.set_user_agent_name("trellis-proxy");
  return node;
}

}  // namespace trellis::proxy
