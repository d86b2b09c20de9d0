// Checks a loaded MeshSet against App Mesh's own limits and references before trellis-cp
// translates it: ranges (ports, thresholds, priorities, weights), counts (weighted targets,
// header matches), names, duplicates within a mesh, and that every reference resolves in the
// same mesh. Each rule, and where App Mesh states it, is listed in config/appmesh/README.md.
#pragma once

#include <string>
#include <vector>

#include "config/appmesh/model.h"

namespace trellis::config::appmesh {

struct ValidationError {
  Source source;         // file and document of the offending resource
  std::string resource;  // "color-mesh/VirtualNode/front", "Mesh/color-mesh"
  std::string path;      // field path in the document, e.g. "spec.listeners[0].portMapping.port"
  std::string message;   // the value and what is allowed

  // "front.yaml (document 1): color-mesh/VirtualNode/front: spec.listeners[0]...: message"
  std::string toString() const;
};

// Every violation, in a stable order (meshes, nodes, services, routers, routes, gateways,
// gateway routes, endpoints; each in load order). Empty means valid.
std::vector<ValidationError> validate(const MeshSet& set);

}  // namespace trellis::config::appmesh
