// The benchmark mesh as an aws appmesh script: see cli_script_gen.h. The names and shapes are
// mesh_gen.cc's (same service, router, target and client names, same listener and weights).
#include "bench/cp_push/cli_script_gen.h"

#include <fstream>

#include "absl/strings/str_cat.h"

namespace trellis::bench::cp_push {

absl::Status writeCliScript(const std::filesystem::path& path, const MeshShape& shape) {
  if (shape.targets < 2 || shape.targets > 10) return absl::InvalidArgumentError("targets: 2-10");
  std::string out = absl::StrCat(
      "#!/bin/sh\n# cp-push-bench's mesh (", shape.nodes, " client nodes, ", shape.targets,
      " targets) as aws appmesh commands, for trellis-cp import-cli.\nset -e\nexport MESH=", kMeshName,
      "\nLISTENER='{\"portMapping\": {\"port\": 8080, \"protocol\": \"http\"}}'\n\n",
      "aws appmesh create-mesh --mesh-name $MESH --spec '{\"egressFilter\": {\"type\": \"DROP_ALL\"}}'\n",
      "aws appmesh create-virtual-router --mesh-name $MESH --virtual-router-name backend-router \\\n",
      "    --spec \"{\\\"listeners\\\": [$LISTENER]}\"\n",
      "aws appmesh create-virtual-service --mesh-name $MESH --virtual-service-name backend.cp-push.local \\\n",
      "    --spec '{\"provider\": {\"virtualRouter\": {\"virtualRouterName\": \"backend-router\"}}}'\n");
  std::string targets;
  const std::vector<int> weights = roundWeights(0, shape.targets);
  for (int k = 0; k < shape.targets; ++k) {
    const std::string name = absl::StrCat("backend-", std::string(1, static_cast<char>('a' + k)));
    absl::StrAppend(&out, "aws appmesh create-virtual-node --mesh-name $MESH --virtual-node-name ", name,
                    " --spec \"{\\\"listeners\\\": [$LISTENER]}\"\n");
    absl::StrAppend(&targets, k == 0 ? "" : ", ", "{\"virtualNode\": \"", name, "\", \"weight\": ", weights[k], "}");
  }
  for (int i = 0; i < shape.nodes; ++i) {
    absl::StrAppend(&out, "aws appmesh create-virtual-node --mesh-name $MESH --virtual-node-name ",
                    clientNodeName(i, shape), " \\\n    --spec \"{\\\"listeners\\\": [$LISTENER], ",
                    "\\\"backends\\\": [{\\\"virtualService\\\": {\\\"virtualServiceName\\\": ",
                    "\\\"backend.cp-push.local\\\"}}]}\"\n");
  }
  absl::StrAppend(&out, "aws appmesh create-route --mesh-name $MESH --virtual-router-name backend-router ",
                  "--route-name backend-route --spec '{\"priority\": 10, \"httpRoute\": {\"match\": {\"prefix\": \"/\"}, ",
                  "\"action\": {\"weightedTargets\": [", targets, "]}}}'\n");
  std::ofstream file(path, std::ios::trunc);
  file << out;
  file.close();
  if (!file) return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  return absl::OkStatus();
}

}  // namespace trellis::bench::cp_push
