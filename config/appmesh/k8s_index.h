// The Kubernetes objects of a folder, indexed before any spec is read (internal to
// //config/appmesh). Kubernetes specs refer to each other by object name and namespace
// (virtualNodeRef: {name, namespace}); App Mesh resources are named by awsName. This index maps
// the first to the second, so a reference resolves no matter which file defines its target. It also
// holds the folder's v1 Namespace objects and the selectors that decide membership by them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/appmesh/label_selector.h"

namespace trellis::config::appmesh::internal {

class K8sIndex {
 public:
  struct Entry {
    std::string kind;     // Mesh, VirtualNode, VirtualService, VirtualRouter, VirtualGateway...
    std::string ns;       // empty for Mesh (cluster-scoped)
    std::string name;     // metadata.name
    std::string awsName;  // spec.awsName or the controller's default
    Labels labels;        // metadata.labels (a GatewayRoute's, for gatewayRouteSelector)
    // Mesh, VirtualGateway: spec.namespaceSelector; VirtualGateway: spec.gatewayRouteSelector.
    std::optional<LabelSelector> namespaceSelector;
    std::optional<LabelSelector> gatewayRouteSelector;
  };

  void add(Entry entry) { entries_.push_back(std::move(entry)); }

  // A v1 Namespace object of the folder, with its labels.
  void addNamespace(const std::string& name, Labels labels) {
    // Kubernetes (1.21+) labels every namespace with its name.
    labels.emplace("kubernetes.io/metadata.name", name);
    namespaces_[name] = std::move(labels);
  }
  bool hasNamespaces() const { return !namespaces_.empty(); }
  // The labels of namespace `name`; only the automatic name label if the folder does not define it.
  Labels namespaceLabels(const std::string& name, bool* defined = nullptr) const {
    auto it = namespaces_.find(name);
    if (defined != nullptr) *defined = it != namespaces_.end();
    if (it != namespaces_.end()) return it->second;
    return {{"kubernetes.io/metadata.name", name}};
  }
  const Entry* find(std::string_view kind, std::string_view ns, std::string_view name) const {
    for (const Entry& entry : entries_) {
      if (entry.kind == kind && entry.ns == ns && entry.name == name) return &entry;
    }
    return nullptr;
  }
  std::vector<const Entry*> ofKind(std::string_view kind) const {
    std::vector<const Entry*> out;
    for (const Entry& entry : entries_) {
      if (entry.kind == kind) out.push_back(&entry);
    }
    return out;
  }

 private:
  std::vector<Entry> entries_;
  std::map<std::string, Labels> namespaces_;
};

}  // namespace trellis::config::appmesh::internal
