// Which virtual node or gateway a proxy is: its node.id, parsed by the parser trellis-proxy
// uses too (config/identity), mapped to the key of translate.h.
#include <string>

#include "absl/strings/str_cat.h"
#include "config/appmesh/translate.h"
#include "config/identity/node_identity.h"

namespace trellis::config::appmesh {

absl::StatusOr<std::string> nodeKeyFromNodeId(const std::string& nodeId) {
  absl::StatusOr<identity::NodeIdentity> parsed = identity::parseNodeId(nodeId);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("node.id ", parsed.status().message()));
  }
  return parsed->key();
}

}  // namespace trellis::config::appmesh
