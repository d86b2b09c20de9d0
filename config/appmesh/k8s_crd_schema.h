// Which fields the App Mesh controller's appmesh.k8s.aws/v1beta2 CRDs define (internal to
// //config/appmesh). The Kubernetes API server prunes fields a CRD's structural schema does not
// define, so App Mesh never saw them; the loader warns about those (errors with --strict), while a
// field the CRD does define but Trellis does not read stays an error: it carried meaning.
#pragma once

#include <string>
#include <string_view>

namespace trellis::config::appmesh::internal {

// `path` is a field path inside the object with list indices removed ("spec.listeners.tls.mode").
// True when the CRD of `kind` (Mesh, VirtualNode, ...) defines it, or it lies inside a map the CRD
// leaves open (label selectors, status).
bool crdDefines(std::string_view kind, std::string_view path);

// "items[2].spec.listeners[0].foo" -> "spec.listeners.foo", without the document's root prefix.
std::string crdPathOf(std::string_view root, std::string_view path);

}  // namespace trellis::config::appmesh::internal
