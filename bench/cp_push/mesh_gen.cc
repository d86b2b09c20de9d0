// Writes the push benchmark's mesh folder; see mesh_gen.h.
#include "bench/cp_push/mesh_gen.h"

#include <cstdio>
#include <fstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace trellis::bench::cp_push {
namespace {

namespace fs = std::filesystem;

constexpr char kService[] = "backend.cp-push.local";
constexpr char kRouter[] = "backend-router";
constexpr int kListenerPort = 8080;
constexpr int kTargetPortBase = 19001;   // target node k is reached at 127.0.0.1:19001+k
constexpr int kSidecarPortBase = 20000;  // client i's sidecar: inbound 20000+2i, outbound 20001+2i
constexpr int kMaxSidecarNodes = (65535 - kSidecarPortBase) / 2;

std::string targetName(int k) { return absl::StrCat("backend-", std::string(1, static_cast<char>('a' + k))); }

// Written beside and renamed over, so the cp never reads half a file.
absl::Status writeFile(const fs::path& path, const std::string& content) {
  const fs::path tmp = path.parent_path() / absl::StrCat(".", path.filename().string(), ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
    out.flush();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp.string()));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot rename ", tmp.string(), " to ", path.string(), ": ", ec.message()));
  return absl::OkStatus();
}

std::string listenerYaml() {
  return absl::StrCat("  listeners:\n    - portMapping: {port: ", kListenerPort, ", protocol: http}\n");
}

std::string meshYaml(const MeshShape& shape) {
  std::string out = absl::StrCat("# The push benchmark's mesh: one service behind a router, ", shape.targets,
                                 " target nodes.\n",
                                 "meshName: ", kMeshName, "\nspec:\n  egressFilter: {type: DROP_ALL}\n");
  absl::StrAppend(&out, "---\nmeshName: ", kMeshName, "\nvirtualRouterName: ", kRouter, "\nspec:\n", listenerYaml());
  absl::StrAppend(&out, "---\nmeshName: ", kMeshName, "\nvirtualServiceName: ", kService,
                  "\nspec:\n  provider:\n    virtualRouter: {virtualRouterName: ", kRouter, "}\n");
  for (int k = 0; k < shape.targets; ++k) {
    absl::StrAppend(&out, "---\nmeshName: ", kMeshName, "\nvirtualNodeName: ", targetName(k), "\nspec:\n",
                    listenerYaml());
  }
  return out;
}

std::string nodesYaml(const MeshShape& shape) {
  std::string out = absl::StrCat("# ", shape.nodes, " client nodes, each calling ", kService, ".\n");
  for (int i = 0; i < shape.nodes; ++i) {
    absl::StrAppend(&out, i == 0 ? "" : "---\n", "meshName: ", kMeshName, "\nvirtualNodeName: ",
                    clientNodeName(i, shape), "\nspec:\n", listenerYaml(),
                    "  backends:\n    - virtualService: {virtualServiceName: ", kService, "}\n");
  }
  return out;
}

// The same resources as meshYaml and nodesYaml, as Terraform configuration of the AWS provider.
std::string tfListener() {
  return absl::StrCat("    listener {\n      port_mapping {\n        port     = ", kListenerPort,
                      "\n        protocol = \"http\"\n      }\n    }\n");
}

std::string meshTf(const MeshShape& shape) {
  std::string out = absl::StrCat("# The push benchmark's mesh as Terraform: one service behind a router, ",
                                 shape.targets, " target nodes.\n",
                                 "variable \"mesh\" {\n  default = \"", kMeshName, "\"\n}\n\n",
                                 "resource \"aws_appmesh_mesh\" \"bench\" {\n  name = var.mesh\n  spec {\n"
                                 "    egress_filter {\n      type = \"DROP_ALL\"\n    }\n  }\n}\n\n");
  absl::StrAppend(&out, "resource \"aws_appmesh_virtual_router\" \"backend\" {\n  name      = \"", kRouter,
                  "\"\n  mesh_name = aws_appmesh_mesh.bench.id\n  spec {\n", tfListener(), "  }\n}\n\n");
  absl::StrAppend(&out, "resource \"aws_appmesh_virtual_service\" \"backend\" {\n  name      = \"", kService,
                  "\"\n  mesh_name = aws_appmesh_mesh.bench.id\n  spec {\n    provider {\n"
                  "      virtual_router {\n        virtual_router_name = "
                  "aws_appmesh_virtual_router.backend.name\n      }\n    }\n  }\n}\n");
  for (int k = 0; k < shape.targets; ++k) {
    absl::StrAppend(&out, "\nresource \"aws_appmesh_virtual_node\" \"target_", k, "\" {\n  name      = \"",
                    targetName(k), "\"\n  mesh_name = aws_appmesh_mesh.bench.id\n  spec {\n", tfListener(),
                    "  }\n}\n");
  }
  return out;
}

std::string nodesTf(const MeshShape& shape) {
  std::string out = absl::StrCat("# ", shape.nodes, " client nodes, each calling ", kService, ".\n");
  for (int i = 0; i < shape.nodes; ++i) {
    absl::StrAppend(&out, "\nresource \"aws_appmesh_virtual_node\" \"client_", i, "\" {\n  name      = \"",
                    clientNodeName(i, shape), "\"\n  mesh_name = aws_appmesh_mesh.bench.id\n  spec {\n",
                    tfListener(),
                    "    backend {\n      virtual_service {\n        virtual_service_name = "
                    "aws_appmesh_virtual_service.backend.name\n      }\n    }\n  }\n}\n");
  }
  return out;
}

// ---- the same resources as CloudFormation templates (config/appmesh/README.md, "CloudFormation
// templates"): each file one template whose resources take the mesh's name from a parameter.

constexpr char kTemplateHead[] =
    "AWSTemplateFormatVersion: \"2010-09-09\"\nParameters:\n  MeshName: {Type: String, Default: cp-push}\n"
    "Resources:\n";

std::string cfnListener() {
  return absl::StrCat("        Listeners: [{PortMapping: {Port: ", kListenerPort, ", Protocol: http}}]\n");
}

std::string cfnNode(const std::string& logicalId, const std::string& name, const std::string& backend) {
  std::string out = absl::StrCat("  ", logicalId, ":\n    Type: AWS::AppMesh::VirtualNode\n    Properties:\n",
                                 "      MeshName: !Ref MeshName\n      VirtualNodeName: ", name,
                                 "\n      Spec:\n", cfnListener());
  if (!backend.empty()) {
    absl::StrAppend(&out, "        Backends: [{VirtualService: {VirtualServiceName: ", backend, "}}]\n");
  }
  return out;
}

std::string meshTemplate(const MeshShape& shape) {
  std::string out = absl::StrCat("# The push benchmark's mesh as a CloudFormation template: one service behind a router, ",
                                 shape.targets, " target nodes.\n", kTemplateHead);
  absl::StrAppend(&out, "  Mesh:\n    Type: AWS::AppMesh::Mesh\n    Properties:\n      MeshName: !Ref MeshName\n",
                  "      Spec: {EgressFilter: {Type: DROP_ALL}}\n");
  absl::StrAppend(&out, "  Router:\n    Type: AWS::AppMesh::VirtualRouter\n    Properties:\n",
                  "      MeshName: !GetAtt Mesh.MeshName\n      VirtualRouterName: ", kRouter, "\n      Spec:\n",
                  cfnListener());
  absl::StrAppend(&out, "  Service:\n    Type: AWS::AppMesh::VirtualService\n    Properties:\n",
                  "      MeshName: !GetAtt Mesh.MeshName\n      VirtualServiceName: ", kService, "\n",
                  "      Spec: {Provider: {VirtualRouter: {VirtualRouterName: !GetAtt Router.VirtualRouterName}}}\n");
  for (int k = 0; k < shape.targets; ++k) {
    absl::StrAppend(&out, cfnNode(absl::StrCat("Target", k), targetName(k), ""));
  }
  return out;
}

std::string nodesTemplate(const MeshShape& shape) {
  std::string out = absl::StrCat("# ", shape.nodes, " client nodes, each calling ", kService, ".\n", kTemplateHead);
  for (int i = 0; i < shape.nodes; ++i) {
    absl::StrAppend(&out, cfnNode(absl::StrCat("Client", i), clientNodeName(i, shape), kService));
  }
  return out;
}

std::string routeTemplate(const std::vector<int>& weights) {
  std::string out = absl::StrCat("# Edited by cp-push-bench: weights ", weightsSignature(weights), "\n", kTemplateHead,
                                 "  Route:\n    Type: AWS::AppMesh::Route\n    Properties:\n",
                                 "      MeshName: !Ref MeshName\n      VirtualRouterName: ", kRouter,
                                 "\n      RouteName: backend-route\n      Spec:\n        Priority: 10\n",
                                 "        HttpRoute:\n          Match: {Prefix: /}\n          Action:\n",
                                 "            WeightedTargets:\n");
  for (size_t k = 0; k < weights.size(); ++k) {
    absl::StrAppend(&out, "              - {VirtualNode: ", targetName(static_cast<int>(k)), ", Weight: ", weights[k],
                    "}\n");
  }
  return out;
}

std::string endpointsDoc(const std::string& node, int port) {
  return absl::StrCat("apiVersion: trellis.dev/v1\nkind: Endpoints\nmesh: ", kMeshName, "\nvirtualNode: ", node,
                      "\nendpoints:\n  - {address: 127.0.0.1, port: ", port, "}\n");
}

std::string endpointsYaml(const MeshShape& shape) {
  std::string out = "# Where every node's instances are (loopback only: the mesh is served, not called).\n";
  for (int k = 0; k < shape.targets; ++k) {
    absl::StrAppend(&out, k == 0 ? "" : "---\n", endpointsDoc(targetName(k), kTargetPortBase + k));
  }
  for (int i = 0; i < shape.nodes; ++i) {
    // With sidecars, callers reach a node at its sidecar's inbound address; otherwise at the
    // listener port (as with iptables).
    const int port = shape.sidecars ? kSidecarPortBase + 2 * i : kListenerPort;
    absl::StrAppend(&out, "---\n", endpointsDoc(clientNodeName(i, shape), port));
  }
  return out;
}

std::string sidecarsYaml(const MeshShape& shape) {
  std::string out = "# Each client node's sidecar on its own loopback ports, as in a local run without iptables.\n";
  for (int i = 0; i < shape.nodes; ++i) {
    absl::StrAppend(&out, i == 0 ? "" : "---\n", "apiVersion: trellis.dev/v1\nkind: Sidecar\nmesh: ", kMeshName,
                    "\nvirtualNode: ", clientNodeName(i, shape), "\ninbound: 127.0.0.1:", kSidecarPortBase + 2 * i,
                    "\noutbound: 127.0.0.1:", kSidecarPortBase + 2 * i + 1, "\n");
  }
  return out;
}

std::string routeYaml(const std::vector<int>& weights) {
  std::string out = absl::StrCat("# Edited by cp-push-bench: weights ", weightsSignature(weights), "\nmeshName: ",
                                 kMeshName, "\nvirtualRouterName: ", kRouter,
                                 "\nrouteName: backend-route\nspec:\n  priority: 10\n  httpRoute:\n"
                                 "    match: {prefix: /}\n    action:\n      weightedTargets:\n");
  for (size_t k = 0; k < weights.size(); ++k) {
    absl::StrAppend(&out, "        - {virtualNode: ", targetName(static_cast<int>(k)), ", weight: ", weights[k],
                    "}\n");
  }
  return out;
}

}  // namespace

std::optional<MeshFormat> parseMeshFormat(const std::string& name) {
  if (name == "cli") return MeshFormat::kCli;
  if (name == "cloudformation") return MeshFormat::kCloudFormation;
  if (name == "terraform") return MeshFormat::kTerraform;
  return std::nullopt;
}

std::string clientNodeName(int index, const MeshShape& shape) {
  int width = 4;
  for (int n = 10000; n <= shape.nodes - 1; n *= 10) ++width;
  return absl::StrFormat("app-%0*d", width, index);
}

std::string clientNodeId(int index, const MeshShape& shape) {
  return absl::StrCat("mesh/", kMeshName, "/virtualNode/", clientNodeName(index, shape));
}

std::vector<int> roundWeights(int round, int targets) {
  std::vector<int> weights(static_cast<size_t>(targets), 0);
  if (round == 0) {
    weights[0] = 100;
    return weights;
  }
  // The first target's share walks through 10..79 in steps of 13 (mod 70), so two consecutive
  // rounds never carry the same weights; the rest is spread over the other targets.
  const int first = 10 + (13 * round) % 70;
  weights[0] = first;
  int left = 100 - first;
  for (int k = 1; k < targets; ++k) {
    const int share = left / (targets - k);
    weights[static_cast<size_t>(k)] = share;
    left -= share;
  }
  return weights;
}

std::string weightsSignature(const std::vector<int>& weights) { return absl::StrJoin(weights, ","); }

absl::Status writeMesh(const fs::path& dir, const MeshShape& shape) {
  if (shape.nodes < 1) return absl::InvalidArgumentError("the mesh needs at least one client node");
  if (shape.targets < 2 || shape.targets > 10) {
    return absl::InvalidArgumentError(absl::StrCat("targets is ", shape.targets, "; allowed: 2-10 (App Mesh's limit)"));
  }
  if (shape.sidecars && shape.nodes > kMaxSidecarNodes) {
    return absl::InvalidArgumentError(absl::StrCat("with sidecars at most ", kMaxSidecarNodes,
                                                   " nodes fit in the loopback ports from ", kSidecarPortBase));
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  const bool tf = shape.format == MeshFormat::kTerraform;
  const bool cfn = shape.format == MeshFormat::kCloudFormation;
  // The other language's files of an earlier run would define every resource twice.
  fs::remove(dir / (tf ? "mesh.yaml" : "mesh.tf"), ec);
  fs::remove(dir / (tf ? "nodes.yaml" : "nodes.tf"), ec);
  const std::string mesh = tf ? meshTf(shape) : cfn ? meshTemplate(shape) : meshYaml(shape);
  const std::string nodes = tf ? nodesTf(shape) : cfn ? nodesTemplate(shape) : nodesYaml(shape);
  if (absl::Status s = writeFile(dir / (tf ? "mesh.tf" : "mesh.yaml"), mesh); !s.ok()) return s;
  if (absl::Status s = writeFile(dir / (tf ? "nodes.tf" : "nodes.yaml"), nodes); !s.ok()) return s;
  if (absl::Status s = writeFile(dir / "endpoints.yaml", endpointsYaml(shape)); !s.ok()) return s;
  if (shape.sidecars) {
    if (absl::Status s = writeFile(dir / "sidecars.yaml", sidecarsYaml(shape)); !s.ok()) return s;
  } else {
    fs::remove(dir / "sidecars.yaml", ec);
  }
  return writeRoute(dir, roundWeights(0, shape.targets), shape.format);
}

absl::Status writeRoute(const fs::path& dir, const std::vector<int>& weights, MeshFormat format) {
  return writeFile(dir / kRouteFile,
                   format == MeshFormat::kCloudFormation ? routeTemplate(weights) : routeYaml(weights));
}

}  // namespace trellis::bench::cp_push
