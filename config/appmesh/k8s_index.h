// The Kubernetes objects of a folder, indexed before any spec is read (internal to
// //config/appmesh). Kubernetes specs refer to each other by object name and namespace
// (virtualNodeRef: {name, namespace}); App Mesh resources are named by awsName. This index maps
// the first to the second, so a reference resolves no matter which file defines its target.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trellis::config::appmesh::internal {

class K8sIndex {
 public:
  struct Entry {
    std::string kind;     // Mesh, VirtualNode, VirtualService, VirtualRouter, VirtualGateway...
    std::string ns;       // empty for Mesh (cluster-scoped)
    std::string name;     // metadata.name
    std::string awsName;  // spec.awsName or the controller's default
  };

  void add(Entry entry) { entries_.push_back(std::move(entry)); }
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
};

}  // namespace trellis::config::appmesh::internal
