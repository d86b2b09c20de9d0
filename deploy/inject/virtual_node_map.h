// Which App Mesh virtual node a pod is, from its labels: the part of the App Mesh controller's
// job (a VirtualNode's `podSelector` matching the pod) that Trellis does from a file, since it
// does not read the Kubernetes API.
//
// The file is YAML (or JSON), a list of entries tried in order, the first match wins:
//
//   - selector: {app: colorteller, version: red}   # every label must equal (matchLabels)
//     virtualNode: colorteller-red                 # the App Mesh name (awsName)
//     mesh: colorapp                               # optional: else the pod's mesh
//
// An empty selector matches every pod (a catch-all at the end of the list).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace trellis::deploy {

struct VirtualNodeMapEntry {
  std::map<std::string, std::string> selector;
  std::string virtual_node;
  std::string mesh;  // empty: not given
};

struct VirtualNodeMap {
  std::vector<VirtualNodeMapEntry> entries;

  // The first entry whose selector matches `labels`, or none.
  const VirtualNodeMapEntry* match(const std::map<std::string, std::string>& labels) const;
};

// `source` names the file in errors ("nodes.yaml: [2].virtualNode: required").
absl::StatusOr<VirtualNodeMap> parseVirtualNodeMap(const std::string& text, const std::string& source);
absl::StatusOr<VirtualNodeMap> loadVirtualNodeMap(const std::string& path);

}  // namespace trellis::deploy
