// The push benchmark's mesh (mesh_gen.h) as an `aws appmesh` shell script, the input of
// `trellis-cp import-cli`: to measure an import of 1,000 nodes and the rebuild of the folder it
// writes (one CLI input JSON file per resource). Instances are not part of App Mesh's API: take
// endpoints.yaml from writeMesh's folder.
#pragma once

#include <filesystem>

#include "absl/status/status.h"
#include "bench/cp_push/mesh_gen.h"

namespace trellis::bench::cp_push {

// Writes the script to `path`: create-mesh, the router, the service, the target nodes, the
// client nodes and the route with roundWeights(0), in the walkthroughs' style.
absl::Status writeCliScript(const std::filesystem::path& path, const MeshShape& shape);

}  // namespace trellis::bench::cp_push
