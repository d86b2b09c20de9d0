// The synthetic mesh the push benchmark serves: N client virtual nodes that all call one virtual
// service, whose virtual router splits traffic over a few target nodes with one weighted route.
// Changing that route's weights changes the outbound RouteConfiguration of every client node (and
// nothing else), which is exactly the "one edit, push to every proxy" case the benchmark measures.
// Endpoints are on 127.0.0.1: the mesh is served, never called.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace trellis::bench::cp_push {

inline constexpr char kMeshName[] = "cp-push";
inline constexpr char kRouteFile[] = "route.yaml";

// The language the mesh's App Mesh resources are written in (Endpoints and Sidecar documents are
// Trellis's own either way).
enum class MeshFormat {
  kCli,             // aws appmesh CLI input YAML
  kCloudFormation,  // CloudFormation templates: one per file, names from a MeshName parameter
  kTerraform,       // mesh.tf and nodes.tf (aws_appmesh_* resources); the route file stays CLI input
};

// "cli", "cloudformation" or "terraform", as --format spells them.
std::optional<MeshFormat> parseMeshFormat(const std::string& name);

struct MeshShape {
  int nodes = 1000;       // client virtual nodes, one proxy each
  int targets = 3;        // target nodes of the weighted route (2-10)
  bool sidecars = false;  // a trellis.dev/v1 Sidecar per client node (own loopback ports, as in a local run)
  MeshFormat format = MeshFormat::kCli;
};

// The App Mesh name of client node `index` ("app-0007").
std::string clientNodeName(int index, const MeshShape& shape);
// The node.id a proxy of client node `index` presents ("mesh/cp-push/virtualNode/app-0007").
std::string clientNodeId(int index, const MeshShape& shape);

// The route weights of edit `round` (0: the initial file; every round differs from the one before).
std::vector<int> roundWeights(int round, int targets);
// "40,30,30": how the benchmark names a set of weights in its report and its checks.
std::string weightsSignature(const std::vector<int>& weights);

// Writes the whole mesh into `dir` (created if missing; existing files of the same names are
// replaced): mesh.yaml (Mesh, VirtualService, VirtualRouter, target nodes), nodes.yaml (client
// nodes), endpoints.yaml, sidecars.yaml (if asked) and the route file with roundWeights(0). With
// MeshFormat::kTerraform, mesh.tf and nodes.tf hold the same resources as Terraform configuration (one
// resource block per node, names through references and a variable); the route file stays.
absl::Status writeMesh(const std::filesystem::path& dir, const MeshShape& shape);

// Replaces the route file with one carrying `weights`, as an editor or config tool does: written
// to a hidden file in the same folder (the cp ignores names starting with '.') and renamed over.
absl::Status writeRoute(const std::filesystem::path& dir, const std::vector<int>& weights,
                        MeshFormat format = MeshFormat::kCli);

}  // namespace trellis::bench::cp_push
