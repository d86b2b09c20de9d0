// The injection rules: where the containers go in each mode, who opts in and out, which App
// Mesh annotations change what, and the errors for what cannot be injected.
#include "deploy/inject/pod_injection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace trellis::deploy {
namespace {

using Json = nlohmann::ordered_json;
using ::testing::HasSubstr;

Json metadataWith(Json annotations, Json labels = Json{{"app", "front"}}) {
  return Json{{"labels", labels}, {"annotations", annotations}};
}

Json appSpec() {
  return Json::parse(R"({
    "initContainers": [{"name": "migrate", "image": "migrate:1"}],
    "containers": [{"name": "app", "image": "front:1",
                    "ports": [{"containerPort": 8080}, {"containerPort": 5353, "protocol": "UDP"},
                              {"name": "metrics", "containerPort": 9100, "protocol": "TCP"}]}]
  })");
}

NamespaceInfo enabledNamespace() {
  return NamespaceInfo{"shop", {{"appmesh.k8s.aws/sidecarInjectorWebhook", "enabled"}, {"mesh", "colorapp"}}, true};
}

std::string env(const Json& container, const std::string& name) {
  for (const auto& var : container.at("env")) {
    if (var.at("name") == name) return var.at("value").get<std::string>();
  }
  return "<unset>";
}

InjectionSettings settings() {
  InjectionSettings s;
  s.proxy_image = "trellis/trellis-proxy:9.9.9";
  s.cp_address = "trellis-cp.trellis-system:15010";
  return s;
}

TEST(PodInjection, NativeModePutsInitThenSidecarFirstAmongInitContainers) {
  auto result = injectPod(metadataWith({{"appmesh.k8s.aws/virtualNode", "front"}}), appSpec(), enabledNamespace(),
                          settings());
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->injected);
  const Json& inits = result->pod_spec.at("initContainers");
  ASSERT_EQ(inits.size(), 3u);
  EXPECT_EQ(inits[0].at("name"), "trellis-init");
  EXPECT_EQ(inits[1].at("name"), "trellis-proxy");
  EXPECT_EQ(inits[2].at("name"), "migrate");
  EXPECT_EQ(result->pod_spec.at("containers").size(), 1u);

  const Json& init = inits[0];
  EXPECT_EQ(init.at("image"), "trellis/trellis-proxy:9.9.9");
  EXPECT_EQ(env(init, "APPMESH_APP_PORTS"), "8080,9100");  // TCP ports only, in order
  EXPECT_EQ(env(init, "APPMESH_IGNORE_UID"), "1337");
  EXPECT_EQ(env(init, "APPMESH_EGRESS_IGNORED_IP"), "169.254.169.254");
  EXPECT_EQ(init.at("securityContext").at("runAsUser"), 0);
  EXPECT_EQ(init.at("securityContext").at("capabilities").at("add"), Json::array({"NET_ADMIN", "NET_RAW"}));

  const Json& sidecar = inits[1];
  EXPECT_EQ(sidecar.at("restartPolicy"), "Always");
  EXPECT_EQ(env(sidecar, "APPMESH_VIRTUAL_NODE_NAME"), "mesh/colorapp/virtualNode/front");
  EXPECT_EQ(env(sidecar, "TRELLIS_CP_ADDRESS"), "trellis-cp.trellis-system:15010");
  EXPECT_EQ(sidecar.at("securityContext").at("runAsUser"), 1337);
  EXPECT_EQ(sidecar.at("startupProbe").at("httpGet").at("path"), "/ready");
  EXPECT_EQ(sidecar.at("readinessProbe").at("httpGet").at("port"), 9901);
  EXPECT_EQ(sidecar.at("livenessProbe").at("httpGet").at("path"), "/server_info");
  EXPECT_EQ(sidecar.at("resources").at("requests").at("cpu"), "10m");
  ASSERT_EQ(result->changes.size(), 2u);
  EXPECT_THAT(result->changes[1], HasSubstr("native sidecar"));
}

TEST(PodInjection, PlainModeAppendsSidecarContainerAndInitLast) {
  InjectionSettings s = settings();
  s.mode = SidecarMode::kPlain;
  auto result = injectPod(metadataWith({{"appmesh.k8s.aws/virtualNode", "front"}}), appSpec(), enabledNamespace(), s);
  ASSERT_TRUE(result.ok()) << result.status();
  const Json& inits = result->pod_spec.at("initContainers");
  ASSERT_EQ(inits.size(), 2u);
  EXPECT_EQ(inits[0].at("name"), "migrate");
  EXPECT_EQ(inits[1].at("name"), "trellis-init");
  const Json& containers = result->pod_spec.at("containers");
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[1].at("name"), "trellis-proxy");
  EXPECT_FALSE(containers[1].contains("restartPolicy"));
}

TEST(PodInjection, PodWithoutInitContainersGetsTheList) {
  Json spec = Json::parse(R"({"containers": [{"name": "app", "image": "a"}]})");
  auto result = injectPod(metadataWith({{"appmesh.k8s.aws/virtualNode", "front"}}), spec, enabledNamespace(), settings());
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->pod_spec.at("initContainers").size(), 2u);
  // No container port and no annotation: no inbound capture.
  EXPECT_EQ(env(result->pod_spec["initContainers"][0], "APPMESH_APP_PORTS"), "<unset>");
}

TEST(PodInjection, AnnotationDisabledOptsOut) {
  Json meta = metadataWith({{"appmesh.k8s.aws/sidecarInjectorWebhook", "disabled"}, {"appmesh.k8s.aws/virtualNode", "front"}});
  auto result = injectPod(meta, appSpec(), enabledNamespace(), settings());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->injected);
  EXPECT_THAT(result->skip_reason, HasSubstr("opts out"));
  EXPECT_EQ(result->pod_spec, appSpec());
}

TEST(PodInjection, NamespaceWithoutTheLabelIsNotInjected) {
  NamespaceInfo ns{"plain", {{"mesh", "colorapp"}}, true};
  auto result = injectPod(metadataWith({{"appmesh.k8s.aws/virtualNode", "front"}}), appSpec(), ns, settings());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->injected);
  EXPECT_THAT(result->skip_reason, HasSubstr("namespace plain"));
}

TEST(PodInjection, UnknownNamespaceLabelsStillInjectForFiles) {
  NamespaceInfo ns{"", {}, false};
  InjectionSettings s = settings();
  s.default_mesh = "colorapp";
  auto result = injectPod(metadataWith({{"appmesh.k8s.aws/virtualNode", "front"}}), appSpec(), ns, s);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->injected);
}

TEST(PodInjection, AlreadyInjectedPodsAreLeftUnchanged) {
  auto first = injectPod(metadataWith({{"appmesh.k8s.aws/virtualNode", "front"}}), appSpec(), enabledNamespace(), settings());
  ASSERT_TRUE(first.ok());
  auto second = injectPod(metadataWith({{"appmesh.k8s.aws/virtualNode", "front"}}), first->pod_spec, enabledNamespace(),
                          settings());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->injected);
  EXPECT_EQ(second->pod_spec, first->pod_spec);
  EXPECT_THAT(second->skip_reason, HasSubstr("already injected"));

  // An App Mesh pod (container `envoy`) too.
  Json spec = appSpec();
  spec["containers"].push_back(Json{{"name", "envoy"}, {"image", "aws-appmesh-envoy"}});
  auto appmesh = injectPod(metadataWith({{"appmesh.k8s.aws/virtualNode", "front"}}), spec, enabledNamespace(), settings());
  ASSERT_TRUE(appmesh.ok());
  EXPECT_FALSE(appmesh->injected);
}

TEST(PodInjection, AppMeshAnnotationsAreHonoured) {
  Json meta = metadataWith({{"appmesh.k8s.aws/virtualNode", "front"},
                            {"appmesh.k8s.aws/mesh", "other"},
                            {"appmesh.k8s.aws/ports", "80, 443"},
                            {"appmesh.k8s.aws/egressIgnoredPorts", "5432"},
                            {"appmesh.k8s.aws/egressIgnoredIPs", "10.0.0.0/8,fd00::1"},
                            {"appmesh.k8s.aws/ignoredUID", "2000"},
                            {"appmesh.k8s.aws/ignoredGID", "3000"},
                            {"appmesh.k8s.aws/cpuRequest", "250m"},
                            {"appmesh.k8s.aws/memoryRequest", "128Mi"},
                            {"appmesh.k8s.aws/preview", "1"}});
  auto result = injectPod(meta, appSpec(), enabledNamespace(), settings());
  ASSERT_TRUE(result.ok()) << result.status();
  const Json& init = result->pod_spec["initContainers"][0];
  const Json& sidecar = result->pod_spec["initContainers"][1];
  EXPECT_EQ(env(init, "APPMESH_APP_PORTS"), "80,443");
  EXPECT_EQ(env(init, "APPMESH_EGRESS_IGNORED_PORTS"), "5432");
  EXPECT_EQ(env(init, "APPMESH_EGRESS_IGNORED_IP"), "10.0.0.0/8,fd00::1");
  EXPECT_EQ(env(init, "APPMESH_IGNORE_UID"), "2000");
  EXPECT_EQ(env(init, "APPMESH_IGNORE_GID"), "3000");
  EXPECT_EQ(env(sidecar, "APPMESH_VIRTUAL_NODE_NAME"), "mesh/other/virtualNode/front");
  EXPECT_EQ(sidecar["securityContext"]["runAsUser"], 2000);
  EXPECT_EQ(sidecar["securityContext"]["runAsGroup"], 3000);
  EXPECT_EQ(sidecar["resources"]["requests"]["cpu"], "250m");
  EXPECT_EQ(sidecar["resources"]["requests"]["memory"], "128Mi");
  ASSERT_EQ(result->warnings.size(), 1u);
  EXPECT_THAT(result->warnings[0], HasSubstr("appmesh.k8s.aws/preview"));
}

TEST(PodInjection, VirtualNodeMapGivesNodeAndMesh) {
  auto map = parseVirtualNodeMap(R"(
- selector: {app: colorteller, version: red}
  virtualNode: colorteller-red
  mesh: colors
- selector: {app: front}
  virtualNode: front-node
)",
                                 "nodes.yaml");
  ASSERT_TRUE(map.ok()) << map.status();
  InjectionSettings s = settings();
  s.virtual_node_map = *map;
  auto red = injectPod(metadataWith(Json::object(), {{"app", "colorteller"}, {"version", "red"}}), appSpec(),
                       enabledNamespace(), s);
  ASSERT_TRUE(red.ok()) << red.status();
  EXPECT_EQ(env(red->pod_spec["initContainers"][1], "APPMESH_VIRTUAL_NODE_NAME"), "mesh/colors/virtualNode/colorteller-red");
  // No mesh in the entry: the namespace's mesh label.
  auto front = injectPod(metadataWith(Json::object()), appSpec(), enabledNamespace(), s);
  ASSERT_TRUE(front.ok()) << front.status();
  EXPECT_EQ(env(front->pod_spec["initContainers"][1], "APPMESH_VIRTUAL_NODE_NAME"), "mesh/colorapp/virtualNode/front-node");
  // The annotation wins over the map.
  auto annotated = injectPod(metadataWith({{"appmesh.k8s.aws/virtualNode", "mine"}}), appSpec(), enabledNamespace(), s);
  ASSERT_TRUE(annotated.ok());
  EXPECT_EQ(env(annotated->pod_spec["initContainers"][1], "APPMESH_VIRTUAL_NODE_NAME"), "mesh/colorapp/virtualNode/mine");
}

TEST(PodInjection, VirtualNodeMapErrorsNameTheEntry) {
  auto missing = parseVirtualNodeMap("- selector: {app: a}\n", "nodes.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("nodes.yaml: [0].virtualNode: required"));
  auto unknown = parseVirtualNodeMap("- virtualNode: a\n  podSelector: {}\n", "nodes.yaml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("[0].podSelector: unknown field"));
}

struct ErrorCase {
  const char* name;
  Json annotations;
  const char* message;
};

TEST(PodInjection, ErrorsNameTheFieldAndValue) {
  const ErrorCase cases[] = {
      {"no node", Json::object(), "no virtual node for this pod"},
      {"bad port", {{"appmesh.k8s.aws/virtualNode", "front"}, {"appmesh.k8s.aws/ports", "80,x"}},
       "metadata.annotations[\"appmesh.k8s.aws/ports\"]: \"80,x\": \"x\" is not a port (1-65535)"},
      {"proxy port", {{"appmesh.k8s.aws/virtualNode", "front"}, {"appmesh.k8s.aws/ports", "15000"}},
       "one of the proxy's own ports"},
      {"bad ip", {{"appmesh.k8s.aws/virtualNode", "front"}, {"appmesh.k8s.aws/egressIgnoredIPs", "10.0.0.0/33"}},
       "prefix length must be 0-32"},
      {"root uid", {{"appmesh.k8s.aws/virtualNode", "front"}, {"appmesh.k8s.aws/ignoredUID", "0"}},
       "the proxy does not run as root"},
      {"bad quantity", {{"appmesh.k8s.aws/virtualNode", "front"}, {"appmesh.k8s.aws/cpuRequest", "lots"}},
       "must be a Kubernetes quantity"},
      {"bad switch", {{"appmesh.k8s.aws/virtualNode", "front"}, {"appmesh.k8s.aws/sidecarInjectorWebhook", "yes"}},
       "must be enabled or disabled"},
      {"cni", {{"appmesh.k8s.aws/virtualNode", "front"}, {"appmesh.k8s.aws/appmeshCNI", "enabled"}},
       "CNI plugin is not part of Trellis"},
      {"ingress port", {{"appmesh.k8s.aws/virtualNode", "front"}, {"appmesh.k8s.aws/proxyIngressPort", "16000"}},
       "fixed at 15000"},
      {"bad node", {{"appmesh.k8s.aws/virtualNode", "front node"}}, "must be a virtual node's App Mesh name"},
  };
  for (const auto& c : cases) {
    auto result = injectPod(metadataWith(c.annotations), appSpec(), enabledNamespace(), settings());
    ASSERT_FALSE(result.ok()) << c.name;
    EXPECT_THAT(result.status().message(), HasSubstr(c.message)) << c.name;
  }
}

TEST(PodInjection, MalformedSpecsAreErrors) {
  Json meta = metadataWith({{"appmesh.k8s.aws/virtualNode", "front"}});
  auto no_containers = injectPod(meta, Json::object(), enabledNamespace(), settings());
  ASSERT_FALSE(no_containers.ok());
  EXPECT_THAT(no_containers.status().message(), HasSubstr("spec.containers: required"));

  Json bad_port = Json::parse(R"({"containers": [{"name": "app", "ports": [{"containerPort": 70000}]}]})");
  auto port = injectPod(meta, bad_port, enabledNamespace(), settings());
  ASSERT_FALSE(port.ok());
  EXPECT_THAT(port.status().message(), HasSubstr("spec.containers[0].ports[0].containerPort: 70000"));

  Json half = appSpec();
  half["initContainers"].push_back(Json{{"name", "trellis-init"}});
  auto half_injected = injectPod(meta, half, enabledNamespace(), settings());
  ASSERT_FALSE(half_injected.ok());
  EXPECT_THAT(half_injected.status().message(), HasSubstr("spec.initContainers[1].name"));

  Json label_not_string = Json{{"labels", {{"app", 3}}}};
  auto labels = injectPod(label_not_string, appSpec(), enabledNamespace(), settings());
  ASSERT_FALSE(labels.ok());
  EXPECT_THAT(labels.status().message(), HasSubstr("metadata.labels[\"app\"]: must be a string"));

  NamespaceInfo no_mesh{"shop", {{"appmesh.k8s.aws/sidecarInjectorWebhook", "enabled"}}, true};
  auto mesh = injectPod(meta, appSpec(), no_mesh, settings());
  ASSERT_FALSE(mesh.ok());
  EXPECT_THAT(mesh.status().message(), HasSubstr("no mesh for this pod"));
}

TEST(PodInjection, ShortGracePeriodWarns) {
  Json spec = appSpec();
  spec["terminationGracePeriodSeconds"] = 3;
  auto result = injectPod(metadataWith({{"appmesh.k8s.aws/virtualNode", "front"}}), spec, enabledNamespace(), settings());
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->warnings.size(), 1u);
  EXPECT_THAT(result->warnings[0], HasSubstr("terminationGracePeriodSeconds"));
}

TEST(PodInjection, AppPortNamedStatsLeavesTheAdminPortUnnamed) {
  Json spec = Json::parse(R"({"containers": [{"name": "app", "ports": [{"name": "stats", "containerPort": 9100}]}]})");
  auto result = injectPod(metadataWith({{"appmesh.k8s.aws/virtualNode", "front"}}), spec, enabledNamespace(), settings());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->pod_spec["initContainers"][1]["ports"][0].contains("name"));
  ASSERT_EQ(result->warnings.size(), 1u);
  EXPECT_THAT(result->warnings[0], HasSubstr("port named stats"));
}

TEST(PodInjection, AppContainerPortOnAProxyPortIsRefusedEvenWithThePortsAnnotation) {
  Json spec = Json::parse(R"({"containers": [{"name": "app", "ports": [{"containerPort": 9901}]}]})");
  auto result = injectPod(metadataWith({{"appmesh.k8s.aws/virtualNode", "front"}, {"appmesh.k8s.aws/ports", "80"}}), spec,
                          enabledNamespace(), settings());
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("containerPort 9901 is one of the proxy's own ports"));
}

TEST(PodInjection, PlainSidecarInAPodThatMustCompleteWarns) {
  Json spec = appSpec();
  spec["restartPolicy"] = "OnFailure";
  InjectionSettings s = settings();
  s.mode = SidecarMode::kPlain;
  auto plain = injectPod(metadataWith({{"appmesh.k8s.aws/virtualNode", "front"}}), spec, enabledNamespace(), s);
  ASSERT_TRUE(plain.ok());
  ASSERT_EQ(plain->warnings.size(), 1u);
  EXPECT_THAT(plain->warnings[0], HasSubstr("never completes"));
  auto native = injectPod(metadataWith({{"appmesh.k8s.aws/virtualNode", "front"}}), spec, enabledNamespace(), settings());
  ASSERT_TRUE(native.ok());
  EXPECT_TRUE(native->warnings.empty());
}

}  // namespace
}  // namespace trellis::deploy
