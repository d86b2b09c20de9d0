// Kubernetes label selectors (matchLabels, matchExpressions with In, NotIn, Exists,
// DoesNotExist), as the App Mesh controller evaluated a Mesh's or VirtualGateway's
// namespaceSelector and a VirtualGateway's gatewayRouteSelector (internal to //config/appmesh).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "yaml-cpp/yaml.h"

namespace trellis::config::appmesh::internal {

using Labels = std::map<std::string, std::string>;

struct LabelSelector {
  struct Requirement {
    std::string key;
    std::string op;  // In, NotIn, Exists, DoesNotExist
    std::vector<std::string> values;
  };
  Labels matchLabels;
  std::vector<Requirement> matchExpressions;

  // Kubernetes's semantics: every requirement holds (an empty selector selects everything).
  bool matches(const Labels& labels) const;
  // "{matchLabels: {mesh: shop}, matchExpressions: [env In (prod, test)]}", "{} (selects all)".
  std::string toString() const;
};

// The selector at `node`; nullopt when absent or null (Kubernetes: a nil selector selects
// nothing). Tolerant: parts of the wrong shape are left out (the document's read reports them).
std::optional<LabelSelector> selectorFromYaml(const YAML::Node& node);

// String labels of a metadata.labels map; other values are left out.
Labels labelsFromYaml(const YAML::Node& node);

// "{kubernetes.io/metadata.name: shop, mesh: shop}".
std::string labelsToString(const Labels& labels);

}  // namespace trellis::config::appmesh::internal
