// Reads the `spec` of each App Mesh resource kind into the model (internal to //config/appmesh).
// The three input formats share App Mesh's spec shapes; Kubernetes objects differ only where
// they name other resources (virtualNodeRef / virtualNodeARN instead of virtualNode, and so on),
// which SpecContext switches on. This layer checks shapes: unknown fields, types, required
// fields, enum values and unions. Ranges, lengths and references are validate.h's job.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/appmesh/k8s_index.h"
#include "config/appmesh/model.h"
#include "config/appmesh/yaml_reader.h"

namespace trellis::config::appmesh::internal {

struct SpecContext {
  DocContext& doc;
  const K8sIndex* k8s = nullptr;  // set for Kubernetes objects: references use *Ref / *ARN
  std::string k8sNamespace;       // namespace of the Kubernetes object being read
  std::string mesh;               // App Mesh mesh name of the object being read

  bool kubernetes() const { return k8s != nullptr; }
};

// Each reads `spec` (a map already known to be one) and reports unknown keys, allowing the
// extra keys the envelope reads itself (Kubernetes awsName, meshRef, ...).
void parseMeshSpec(Fields& spec, const std::vector<std::string_view>& extraKeys, MeshSpec& out,
                   SpecContext& ctx);
void parseVirtualNodeSpec(Fields& spec, const std::vector<std::string_view>& extraKeys,
                          VirtualNodeSpec& out, SpecContext& ctx);
void parseVirtualServiceSpec(Fields& spec, const std::vector<std::string_view>& extraKeys,
                             VirtualServiceSpec& out, SpecContext& ctx);
void parseVirtualRouterSpec(Fields& spec, const std::vector<std::string_view>& extraKeys,
                            VirtualRouterSpec& out, SpecContext& ctx);
void parseRouteSpec(Fields& spec, const std::vector<std::string_view>& extraKeys, RouteSpec& out,
                    SpecContext& ctx);
void parseVirtualGatewaySpec(Fields& spec, const std::vector<std::string_view>& extraKeys,
                             VirtualGatewaySpec& out, SpecContext& ctx);
void parseGatewayRouteSpec(Fields& spec, const std::vector<std::string_view>& extraKeys,
                           GatewayRouteSpec& out, SpecContext& ctx);

// Reads a Kubernetes reference object ({name, namespace}) to an object of `kind` and returns its
// awsName; reports a reference that names no object of the folder.
std::optional<std::string> resolveK8sRef(Fields& ref, std::string_view kind, SpecContext& ctx);

// The resource name of an App Mesh ARN
// (arn:aws:appmesh:<region>:<account>:mesh/<mesh>/<type>/<name>), checked to be of `type`
// ("virtualNode", ...) and in ctx.mesh.
std::optional<std::string> nameFromArn(Fields& owner, std::string_view key, std::string_view type,
                                       SpecContext& ctx);

}  // namespace trellis::config::appmesh::internal
