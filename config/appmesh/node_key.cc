// Which virtual node a proxy is: its node.id, in either spelling App Mesh's Envoy image used,
// mapped to the node key of translate.h.
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "config/appmesh/translate.h"

namespace trellis::config::appmesh {

namespace {

constexpr char kAccepted[] =
    "accepted: \"mesh/MESH/virtualNode/NODE\" or "
    "\"arn:aws:appmesh:REGION:ACCOUNT:mesh/MESH/virtualNode/NODE\"";

absl::Status invalid(const std::string& nodeId, const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat("node.id \"", nodeId, "\": ", what, " (", kAccepted, ")"));
}

bool isDigits(const std::string& text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> nodeKeyFromNodeId(const std::string& nodeId) {
  if (nodeId.empty()) return invalid(nodeId, "empty");
  std::string resource = nodeId;
  if (nodeId.rfind("arn:", 0) == 0) {
    // arn:PARTITION:appmesh:REGION:ACCOUNT:RESOURCE
    std::vector<std::string> parts = absl::StrSplit(nodeId, absl::MaxSplits(':', 5));
    if (parts.size() != 6) return invalid(nodeId, "an ARN has six ':'-separated parts");
    if (parts[1].empty()) return invalid(nodeId, "the ARN has no partition");
    if (parts[2] != "appmesh") {
      return invalid(nodeId, absl::StrCat("the ARN is of service \"", parts[2], "\", not appmesh"));
    }
    if (parts[3].empty()) return invalid(nodeId, "the ARN has no region");
    if (parts[4].size() != 12 || !isDigits(parts[4])) {
      return invalid(nodeId, absl::StrCat("the ARN's account \"", parts[4], "\" is not 12 digits"));
    }
    resource = parts[5];
  }
  std::vector<std::string> parts = absl::StrSplit(resource, '/');
  if (parts.size() == 4 && parts[0] == "mesh" && parts[2] == "virtualGateway") {
    return invalid(nodeId, "virtual gateways are not translated yet");
  }
  if (parts.size() != 4 || parts[0] != "mesh" || parts[2] != "virtualNode") {
    return invalid(nodeId, "not a virtual node");
  }
  if (parts[1].empty()) return invalid(nodeId, "the mesh name is empty");
  if (parts[3].empty()) return invalid(nodeId, "the virtual node name is empty");
  return nodeKey(parts[1], parts[3]);
}

}  // namespace trellis::config::appmesh
