// Kubernetes objects as the API server and the App Mesh controller took them: fields the CRD does
// not define are pruned (warnings; errors with --strict), metadata is Kubernetes's, and with
// Namespace objects in the folder a Mesh's namespaceSelector and a VirtualGateway's
// namespaceSelector and gatewayRouteSelector decide membership.
#include <string>

#include "absl/strings/str_cat.h"
#include "config/appmesh/loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trellis::config::appmesh {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

LoadResult load(const std::string& yaml, bool strict = false) {
  LoadOptions options;
  options.strict = strict;
  return loadMeshFiles({{"colorteller.yaml", yaml}}, nullptr, options);
}

constexpr char kMesh[] = R"(apiVersion: appmesh.k8s.aws/v1beta2
kind: Mesh
metadata: {name: shop}
spec: {}
)";

constexpr char kPrunedNode[] = R"(---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualNode
metadata:
  name: web
  namespace: shop
  labels: {app: web}
  annotations: {kubectl.kubernetes.io/last-applied-configuration: "{}"}
  ownerReferences: [{apiVersion: v1, kind: Foo, name: x, uid: "1"}]
  finalizers: [finalizers.appmesh.k8s.aws/aws-appmesh-resources]
  resourceVersion: "42"
  generation: 3
  creationTimestamp: "2026-01-01T00:00:00Z"
  uid: 0b6e
  bogus: 1
spec:
  listeners:
    - portMapping: {port: 8080, protocol: http}
      foo: bar
  serviceDiscovery: {dns: {hostname: web.shop.svc}}
status: {conditions: []}
extra: true
)";

TEST(K8sPruning, FieldsTheCrdDoesNotDefineAreWarningsAndTheObjectLoads) {
  const LoadResult result = load(absl::StrCat(kMesh, kPrunedNode));
  EXPECT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.warnings,
              ElementsAre("colorteller.yaml (document 2): extra: not in the VirtualNode CRD schema; the API "
                          "server would prune it (ignored)",
                          "colorteller.yaml (document 2): metadata.bogus: not in the VirtualNode CRD schema; the "
                          "API server would prune it (ignored)",
                          "colorteller.yaml (document 2): spec.listeners[0].foo: not in the VirtualNode CRD "
                          "schema; the API server would prune it (ignored)"));
  ASSERT_EQ(result.mesh.virtualNodes.size(), 1u);
  EXPECT_EQ(result.mesh.virtualNodes[0].name, "web_shop");
}

TEST(K8sPruning, StrictMakesThemErrors) {
  const LoadResult result = load(absl::StrCat(kMesh, kPrunedNode), /*strict=*/true);
  EXPECT_THAT(result.warnings, IsEmpty());
  EXPECT_THAT(result.errors,
              ElementsAre("colorteller.yaml (document 2): extra: not in the VirtualNode CRD schema; the API "
                          "server would prune it (an error with --strict)",
                          "colorteller.yaml (document 2): metadata.bogus: not in the VirtualNode CRD schema; the "
                          "API server would prune it (an error with --strict)",
                          "colorteller.yaml (document 2): spec.listeners[0].foo: not in the VirtualNode CRD "
                          "schema; the API server would prune it (an error with --strict)"));
  EXPECT_TRUE(result.mesh.virtualNodes.empty());
}

TEST(K8sPruning, ListItemsAndInlineRoutesUseTheirKindsSchema) {
  const LoadResult result = load(R"(apiVersion: v1
kind: List
items:
  - apiVersion: appmesh.k8s.aws/v1beta2
    kind: Mesh
    metadata: {name: shop}
    spec: {egressFilter: {type: DROP_ALL, mode: strict}}
  - apiVersion: appmesh.k8s.aws/v1beta2
    kind: VirtualRouter
    metadata: {name: r, namespace: shop}
    spec:
      listeners: [{portMapping: {port: 80, protocol: http}}]
      routes:
        - name: all
          weight: 3
          httpRoute:
            match: {prefix: /, caseSensitive: true}
            action: {weightedTargets: [{virtualNodeARN: "arn:aws:appmesh:r:1:mesh/shop/virtualNode/a", weight: 1}]}
)");
  EXPECT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.warnings,
              ElementsAre("colorteller.yaml (document 1): items[0].spec.egressFilter.mode: not in the Mesh CRD "
                          "schema; the API server would prune it (ignored)",
                          "colorteller.yaml (document 1): items[1].spec.routes[0].weight: not in the VirtualRouter "
                          "CRD schema; the API server would prune it (ignored)",
                          "colorteller.yaml (document 1): items[1].spec.routes[0].httpRoute.match.caseSensitive: "
                          "not in the VirtualRouter CRD schema; the API server would prune it (ignored)"));
  EXPECT_EQ(result.mesh.routes.size(), 1u);
}

TEST(K8sPruning, FieldsTheCrdDefinesStayAsTheyWere) {
  // backendGroups is in the VirtualNode CRD: refused as before, not pruned.
  const LoadResult groups = load(absl::StrCat(kMesh, R"(---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualNode
metadata: {name: web, namespace: shop}
spec:
  backendGroups: [{name: all}]
)"));
  ASSERT_EQ(groups.errors.size(), 1u);
  EXPECT_THAT(groups.errors[0], ::testing::HasSubstr("spec.backendGroups: not supported"));
  EXPECT_THAT(groups.warnings, IsEmpty());
  // A virtual gateway's listener has no outlierDetection in App Mesh nor in its CRD; other formats
  // keep unknown fields as errors whatever --strict says.
  const LoadResult cli = load(R"(meshName: m
virtualNodeName: n
spec: {listeners: [{portMapping: {port: 80, protocol: http}, foo: 1}]}
)");
  ASSERT_EQ(cli.errors.size(), 1u);
  EXPECT_THAT(cli.errors[0], ::testing::HasSubstr("spec.listeners[0].foo: unknown field (allowed: "));
  EXPECT_THAT(cli.warnings, IsEmpty());
}

// ---------------------------------------------------------------- namespaceSelector membership

constexpr char kNamespaces[] = R"(apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {mesh: shop, team: retail}}
---
apiVersion: v1
kind: Namespace
metadata: {name: pay, labels: {mesh: pay, env: prod}}
---
apiVersion: v1
kind: Namespace
metadata: {name: lab, labels: {env: test}}
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: Mesh
metadata: {name: shop-mesh}
spec:
  namespaceSelector: {matchLabels: {mesh: shop}}
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: Mesh
metadata: {name: pay-mesh}
spec:
  awsName: payments
  namespaceSelector:
    matchExpressions:
      - {key: env, operator: In, values: [prod, staging]}
      - {key: mesh, operator: Exists}
      - {key: team, operator: DoesNotExist}
      - {key: tier, operator: NotIn, values: [legacy]}
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: Mesh
metadata: {name: unselected}
spec: {}
)";

std::string nodeIn(const std::string& ns) {
  return absl::StrCat("---\napiVersion: appmesh.k8s.aws/v1beta2\nkind: VirtualNode\nmetadata: {name: web, namespace: ",
                      ns, "}\nspec: {listeners: [{portMapping: {port: 80, protocol: http}}]}\n");
}

TEST(K8sNamespaceSelector, TheMeshWhoseSelectorMatchesTheNamespace) {
  const LoadResult result = load(absl::StrCat(kNamespaces, nodeIn("shop"), nodeIn("pay")));
  EXPECT_THAT(result.errors, IsEmpty());
  ASSERT_EQ(result.mesh.virtualNodes.size(), 2u);
  EXPECT_EQ(result.mesh.virtualNodes[0].mesh, "shop-mesh");
  EXPECT_EQ(result.mesh.virtualNodes[1].mesh, "payments");  // the Mesh's awsName
}

TEST(K8sNamespaceSelector, NoMatchNamesTheLabelsAndTheSelectors) {
  const LoadResult result = load(absl::StrCat(kNamespaces, nodeIn("lab"), nodeIn("ghost")));
  EXPECT_THAT(
      result.errors,
      ElementsAre(
          "colorteller.yaml (document 7): spec.meshRef: no Mesh selects namespace lab (labels {env: test, "
          "kubernetes.io/metadata.name: lab}); Mesh namespaceSelectors: shop-mesh: {matchLabels: {mesh: shop}}; "
          "pay-mesh: {matchExpressions: [env In (prod, staging), mesh Exists, team DoesNotExist, tier NotIn "
          "(legacy)]}; unselected: absent (selects no namespace) (label the Namespace to match one, or name the "
          "mesh with spec.meshRef.name)",
          "colorteller.yaml (document 8): spec.meshRef: no Mesh selects namespace ghost (labels "
          "{kubernetes.io/metadata.name: ghost}; no Namespace object in this folder); Mesh namespaceSelectors: "
          "shop-mesh: {matchLabels: {mesh: shop}}; pay-mesh: {matchExpressions: [env In (prod, staging), mesh "
          "Exists, team DoesNotExist, tier NotIn (legacy)]}; unselected: absent (selects no namespace) (label the "
          "Namespace to match one, or name the mesh with spec.meshRef.name)"));
}

TEST(K8sNamespaceSelector, TwoMatchingMeshesAreAnError) {
  const std::string all = R"(---
apiVersion: appmesh.k8s.aws/v1beta2
kind: Mesh
metadata: {name: everything}
spec: {namespaceSelector: {}}
)";
  const LoadResult result = load(absl::StrCat(kNamespaces, all, nodeIn("shop")));
  EXPECT_THAT(result.errors,
              ElementsAre("colorteller.yaml (document 8): spec.meshRef: namespace shop (labels "
                          "{kubernetes.io/metadata.name: shop, mesh: shop, team: retail}) is selected by 2 meshes "
                          "(shop-mesh, everything); the App Mesh controller requires exactly one: narrow their "
                          "namespaceSelectors or name the mesh with spec.meshRef.name"));
}

TEST(K8sNamespaceSelector, MeshRefStillWins) {
  const LoadResult result = load(absl::StrCat(
      kNamespaces, "---\napiVersion: appmesh.k8s.aws/v1beta2\nkind: VirtualNode\nmetadata: {name: web, namespace: "
                   "lab}\nspec: {meshRef: {name: unselected}, listeners: [{portMapping: {port: 80, protocol: http}}]}\n"));
  EXPECT_THAT(result.errors, IsEmpty());
  ASSERT_EQ(result.mesh.virtualNodes.size(), 1u);
  EXPECT_EQ(result.mesh.virtualNodes[0].mesh, "unselected");
}

TEST(K8sNamespaceSelector, SelectorShapesAreChecked) {
  const LoadResult result = load(R"(apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {mesh: [shop]}}
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: Mesh
metadata: {name: shop}
spec:
  namespaceSelector:
    matchLabels: {mesh: {a: b}}
    matchExpressions:
      - {key: env, operator: Equals, values: [x]}
      - {key: env, operator: In}
      - {key: env, operator: Exists, values: [x]}
)");
  EXPECT_THAT(result.errors,
              ElementsAre("colorteller.yaml (document 1): metadata.labels.mesh: expected a string, got a list",
                          "colorteller.yaml (document 2): spec.namespaceSelector.matchLabels.mesh: expected a "
                          "string, got a map",
                          "colorteller.yaml (document 2): spec.namespaceSelector.matchExpressions[0].operator: "
                          "\"Equals\" is not allowed (allowed: In, NotIn, Exists, DoesNotExist)",
                          "colorteller.yaml (document 2): spec.namespaceSelector.matchExpressions[1].values: "
                          "required field missing: In and NotIn need at least one value",
                          "colorteller.yaml (document 2): spec.namespaceSelector.matchExpressions[2].values: must "
                          "be empty for Exists and DoesNotExist"));
}

// ---------------------------------------------------------------- gatewayRouteSelector

constexpr char kGateways[] = R"(apiVersion: v1
kind: Namespace
metadata: {name: edge, labels: {gateway: enabled, mesh: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: apps, labels: {mesh: shop}}
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: Mesh
metadata: {name: shop}
spec: {namespaceSelector: {matchLabels: {mesh: shop}}}
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualGateway
metadata: {name: public, namespace: edge}
spec:
  namespaceSelector: {matchLabels: {gateway: enabled}}
  gatewayRouteSelector: {matchLabels: {ingress: public}}
  listeners: [{portMapping: {port: 8080, protocol: http}}]
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualGateway
metadata: {name: internal, namespace: edge}
spec:
  namespaceSelector: {matchLabels: {gateway: enabled}}
  gatewayRouteSelector: {matchExpressions: [{key: ingress, operator: In, values: [internal, both]}]}
  listeners: [{portMapping: {port: 8081, protocol: http}}]
)";

std::string routeIn(const std::string& ns, const std::string& labels) {
  return absl::StrCat("---\napiVersion: appmesh.k8s.aws/v1beta2\nkind: GatewayRoute\nmetadata: {name: to-cart, "
                      "namespace: ", ns, ", labels: ", labels, "}\nspec:\n  httpRoute:\n    match: {prefix: /cart}\n"
                      "    action: {target: {virtualService: {virtualServiceARN: "
                      "\"arn:aws:appmesh:r:1:mesh/shop/virtualService/cart\"}}}\n");
}

TEST(K8sGatewayRouteSelector, TheGatewayWhoseSelectorsMatch) {
  const LoadResult result = load(absl::StrCat(kGateways, routeIn("edge", "{ingress: internal}")));
  EXPECT_THAT(result.errors, IsEmpty());
  ASSERT_EQ(result.mesh.gatewayRoutes.size(), 1u);
  EXPECT_EQ(result.mesh.gatewayRoutes[0].virtualGateway, "internal_edge");
  EXPECT_EQ(result.mesh.gatewayRoutes[0].mesh, "shop");
}

TEST(K8sGatewayRouteSelector, NoMatchingGatewayNamesLabelsAndSelectors) {
  const LoadResult result =
      load(absl::StrCat(kGateways, routeIn("edge", "{ingress: none}"), routeIn("apps", "{ingress: public}")));
  EXPECT_THAT(result.errors,
              ElementsAre("colorteller.yaml (document 6): spec.virtualGatewayRef: no VirtualGateway's "
                          "gatewayRouteSelector selects this GatewayRoute (labels {ingress: none}); "
                          "gatewayRouteSelectors: public: {matchLabels: {ingress: public}}; internal: "
                          "{matchExpressions: [ingress In (internal, both)]} (or name the gateway with "
                          "spec.virtualGatewayRef.name)",
                          "colorteller.yaml (document 7): spec.virtualGatewayRef: no VirtualGateway selects "
                          "namespace apps (labels {kubernetes.io/metadata.name: apps, mesh: shop}); VirtualGateway "
                          "namespaceSelectors: public: {matchLabels: {gateway: enabled}}; internal: {matchLabels: "
                          "{gateway: enabled}} (or name the gateway with spec.virtualGatewayRef.name)"));
}

TEST(K8sGatewayRouteSelector, TwoMatchingGatewaysAreAnError) {
  std::string gateways = kGateways;
  const std::string from = "values: [internal, both]";
  gateways.replace(gateways.find(from), from.size(), "values: [internal, public]");
  const LoadResult result = load(absl::StrCat(gateways, routeIn("edge", "{ingress: public}")));
  EXPECT_THAT(result.errors,
              ElementsAre("colorteller.yaml (document 6): spec.virtualGatewayRef: this GatewayRoute is selected by "
                          "2 VirtualGateways (public, internal); the App Mesh controller requires exactly one: "
                          "narrow their gatewayRouteSelectors or name the gateway with spec.virtualGatewayRef.name"));
}

}  // namespace
}  // namespace trellis::config::appmesh
