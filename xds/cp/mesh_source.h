// The seam between trellis-cp and the App Mesh translation: a MeshBuilder turns a mesh folder
// into every node's xDS resources, or into the list of what is wrong with it. The control plane
// calls it on start and after every change of the folder; `trellis-cp validate` calls it once.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/appmesh/load_options.h"
#include "xds/server/node_resources.h"

namespace trellis::cp {

using xds::server::NodeResources;

// Loads and validates DIR and produces every node's resources; on error returns all errors
// (strings naming file, resource, field).
struct MeshBuild {
  std::map<std::string, NodeResources> nodes;  // by node id (the proxy's node.id)
  std::vector<std::string> errors;             // empty: the build is valid
  std::vector<std::string> warnings;           // the loader's: accepted, worth knowing
  std::vector<std::string> notes;              // the loader's summary lines (what was skipped)
  // Where the build's time went, for the log line of each build (empty if the builder does not
  // say): e.g. "load 80 ms, validate 4 ms, translate 12 ms, pack 9 ms".
  std::string phases;
  // What the builder used on the way (the loaded mesh, the translated protos), kept alive until
  // the caller drops the build: freeing them takes tens of milliseconds for 1,000 nodes, which
  // the control plane spends after the new resources are published rather than before.
  std::shared_ptr<const void> scratch;
};
using MeshBuilder = std::function<MeshBuild(const std::string& dir)>;

// Choices of the translation trellis-cp offers on its command line.
struct BuildOptions {
  // App Mesh's default retry policy on routes that give none (--no-default-retry-policy: off).
  bool default_retry_policy = true;
  // Under egressFilter DROP_ALL, the hosts outside the mesh still reachable (by HTTP Host or TLS
  // SNI): host names or "*." suffix patterns, lower case (--egress-allowed-hosts=LIST).
  std::vector<std::string> egress_allowed_hosts = {"*.amazonaws.com"};
  // Template parameters, Terraform variables, --strict (config/appmesh/frontend.h).
  config::appmesh::LoadOptions load;
};

// The builder linked into trellis-cp (target //xds/cp:mesh_builder).
MeshBuild buildMesh(const std::string& dir, const BuildOptions& options = {});

// The same, keeping parsed files between calls: a rebuild after one file changed parses only
// that file. For a caller that rebuilds the same folder again and again (the control plane).
MeshBuilder cachingMeshBuilder(const BuildOptions& options = {});

// The key buildMesh stores a proxy's resources under, for the node.id the proxy presents
// ("mesh/M/virtualNode/N" or the virtual node's ARN); other ids are returned unchanged.
std::string nodeKeyForId(const std::string& node_id);

}  // namespace trellis::cp
