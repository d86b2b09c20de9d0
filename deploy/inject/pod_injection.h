// Adding trellis-init and the trellis-proxy sidecar to a Kubernetes pod spec: the one place that
// decides what an injected pod looks like, shared by the admission webhook (deploy/webhook) and
// `trellis-inject k8s` (deploy/inject/k8s_command).
//
// It keeps the App Mesh controller's contract where it has a meaning for Trellis: the namespace
// label and pod annotation `appmesh.k8s.aws/sidecarInjectorWebhook`, the mesh from
// `appmesh.k8s.aws/mesh` or the namespace's `mesh` label, and the proxy annotations (`ports`,
// `egressIgnoredPorts`, `egressIgnoredIPs`, `ignoredUID`, `ignoredGID`, `cpuRequest`,
// `memoryRequest`, ...). What the controller read from the Kubernetes API (the VirtualNode whose
// podSelector matches) comes from the `appmesh.k8s.aws/virtualNode` annotation or a virtual node
// map instead, since Trellis has no API access. deploy/kubernetes/README.md documents each rule.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "deploy/inject/virtual_node_map.h"

namespace trellis::deploy {

// Native: the sidecar is an init container with `restartPolicy: Always` (Kubernetes 1.29+), so
// it starts before the app, is LIVE before the app starts (its startupProbe) and stops after it.
// Plain: an ordinary container, for older clusters.
enum class SidecarMode { kNative, kPlain };

struct InjectionSettings {
  std::string proxy_image = "trellis/trellis-proxy:0.1.0";
  std::string init_image;  // empty: the proxy image (trellis-init is in it)
  std::string cp_address = "trellis-cp.trellis-system:15010";
  SidecarMode mode = SidecarMode::kNative;
  // Used when neither the pod annotation appmesh.k8s.aws/mesh nor the namespace label `mesh`
  // names the mesh; empty: such a pod is an error.
  std::string default_mesh;
  VirtualNodeMap virtual_node_map;
  // What the controller's defaults were: 10m CPU, 32Mi memory, egress 169.254.169.254 ignored.
  std::string cpu_request = "10m";
  std::string memory_request = "32Mi";
  std::string egress_ignored_ips = "169.254.169.254";
  std::string log_level = "info";
  // trellis-proxy's --drain-time-s (its SIGTERM drain window); a pod whose
  // terminationGracePeriodSeconds is shorter gets a warning.
  int drain_time_s = 5;
};

// Where the pod lives. `labels_known` is false for `trellis-inject k8s`, which sees files, not
// the cluster: the namespace label is then not required (the user asked for injection).
struct NamespaceInfo {
  std::string name;
  std::map<std::string, std::string> labels;
  bool labels_known = true;
};

struct InjectionResult {
  bool injected = false;
  std::string skip_reason;  // when not injected: why (opted out, already injected, ...)
  nlohmann::ordered_json pod_spec;  // the spec after injection (the input when not injected)
  std::vector<std::string> changes;  // one line per change, for people
  std::vector<std::string> warnings;
};

inline constexpr char kSidecarContainerName[] = "trellis-proxy";
inline constexpr char kInitContainerName[] = "trellis-init";
// App Mesh's sidecar was named `envoy`: a pod carrying one is injected already.
inline constexpr char kAppMeshSidecarContainerName[] = "envoy";

// `metadata` is the pod's (or pod template's) metadata object (labels, annotations; may be
// absent or null), `spec` its spec. Errors name the field (metadata.annotations["..."],
// spec.containers[1].ports[0].containerPort, ...), the value and what is allowed.
absl::StatusOr<InjectionResult> injectPod(const nlohmann::ordered_json& metadata,
                                          const nlohmann::ordered_json& spec,
                                          const NamespaceInfo& ns,
                                          const InjectionSettings& settings);

}  // namespace trellis::deploy
