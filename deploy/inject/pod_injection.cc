// The injection rules (see pod_injection.h): read and check the App Mesh annotations, decide
// whether the pod is injected, then build trellis-init and the trellis-proxy sidecar.
#include "deploy/inject/pod_injection.h"

#include <arpa/inet.h>

#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace trellis::deploy {
namespace {

using Json = nlohmann::ordered_json;

constexpr char kInjectKey[] = "appmesh.k8s.aws/sidecarInjectorWebhook";
constexpr char kMeshAnnotation[] = "appmesh.k8s.aws/mesh";
constexpr char kVirtualNodeAnnotation[] = "appmesh.k8s.aws/virtualNode";
constexpr char kPortsAnnotation[] = "appmesh.k8s.aws/ports";
constexpr char kEgressIgnoredPortsAnnotation[] = "appmesh.k8s.aws/egressIgnoredPorts";
constexpr char kEgressIgnoredIPsAnnotation[] = "appmesh.k8s.aws/egressIgnoredIPs";
constexpr char kIgnoredUIDAnnotation[] = "appmesh.k8s.aws/ignoredUID";
constexpr char kIgnoredGIDAnnotation[] = "appmesh.k8s.aws/ignoredGID";
constexpr char kCpuRequestAnnotation[] = "appmesh.k8s.aws/cpuRequest";
constexpr char kMemoryRequestAnnotation[] = "appmesh.k8s.aws/memoryRequest";
constexpr char kPreviewAnnotation[] = "appmesh.k8s.aws/preview";
constexpr char kCniAnnotation[] = "appmesh.k8s.aws/appmeshCNI";
constexpr char kProxyIngressPortAnnotation[] = "appmesh.k8s.aws/proxyIngressPort";
constexpr char kProxyEgressPortAnnotation[] = "appmesh.k8s.aws/proxyEgressPort";
constexpr char kSecretMountsAnnotation[] = "appmesh.k8s.aws/secretMounts";

constexpr int kIngressPort = 15000;
constexpr int kEgressPort = 15001;
constexpr int kAdminPort = 9901;
constexpr int kDefaultProxyUid = 1337;

std::string annotationPath(const std::string& key) {
  return absl::StrCat("metadata.annotations[\"", key, "\"]");
}

absl::Status invalid(const std::string& field, const std::string& value, const std::string& allowed) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": \"", value, "\": ", allowed));
}

// metadata.labels or metadata.annotations as a map; every value must be a string, as in the API.
absl::StatusOr<std::map<std::string, std::string>> stringMap(const Json& metadata, const char* name) {
  std::map<std::string, std::string> out;
  if (metadata.is_null()) return out;
  if (!metadata.is_object()) return absl::InvalidArgumentError("metadata: must be an object");
  auto it = metadata.find(name);
  if (it == metadata.end() || it->is_null()) return out;
  if (!it->is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("metadata.", name, ": must be a map of strings"));
  }
  for (const auto& [key, value] : it->items()) {
    if (!value.is_string()) {
      return absl::InvalidArgumentError(absl::StrCat("metadata.", name, "[\"", key, "\"]: must be a string, got ",
                                                     value.dump()));
    }
    out[key] = value.get<std::string>();
  }
  return out;
}

absl::StatusOr<int> parsePort(absl::string_view text, const std::string& field, const std::string& whole) {
  int port = 0;
  if (text.empty() || text.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(text, &port) || port < 1 || port > 65535) {
    return invalid(field, whole, absl::StrCat("\"", text, "\" is not a port (1-65535)"));
  }
  return port;
}

// "8080, 9090" -> {8080, 9090}; empty items and repeats are refused, as trellis-init does.
absl::StatusOr<std::vector<int>> parsePortList(const std::string& text, const std::string& field) {
  std::vector<int> ports;
  if (absl::StripAsciiWhitespace(text).empty()) return ports;
  std::set<int> seen;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    auto port = parsePort(absl::StripAsciiWhitespace(item), field, text);
    if (!port.ok()) return port.status();
    if (!seen.insert(*port).second) return invalid(field, text, absl::StrCat("port ", *port, " is listed twice"));
    ports.push_back(*port);
  }
  return ports;
}

// IPv4/IPv6 addresses or CIDRs, comma-separated (trellis-init normalises them).
absl::Status checkIpList(const std::string& text, const std::string& field) {
  if (absl::StripAsciiWhitespace(text).empty()) return absl::OkStatus();
  for (absl::string_view raw : absl::StrSplit(text, ',')) {
    std::string item(absl::StripAsciiWhitespace(raw));
    std::string address = item;
    int max_prefix = 32;
    std::string prefix;
    if (auto slash = item.find('/'); slash != std::string::npos) {
      address = item.substr(0, slash);
      prefix = item.substr(slash + 1);
    }
    unsigned char buffer[16];
    if (inet_pton(AF_INET, address.c_str(), buffer) != 1) {
      if (inet_pton(AF_INET6, address.c_str(), buffer) != 1) {
        return invalid(field, text, absl::StrCat("\"", item, "\" is not an IPv4/IPv6 address or CIDR"));
      }
      max_prefix = 128;
    }
    int bits = 0;
    if (!prefix.empty() && (prefix.find_first_not_of("0123456789") != std::string::npos ||
                            !absl::SimpleAtoi(prefix, &bits) || bits > max_prefix)) {
      return invalid(field, text, absl::StrCat("\"", item, "\": prefix length must be 0-", max_prefix));
    }
  }
  return absl::OkStatus();
}

// A UID or GID as trellis-init takes it; 0 is refused since the proxy must not run as root.
absl::StatusOr<int64_t> parseId(const std::string& text, const std::string& field) {
  int64_t id = 0;
  std::string trimmed(absl::StripAsciiWhitespace(text));
  if (trimmed.empty() || trimmed.find_first_not_of("0123456789") != std::string::npos ||
      !absl::SimpleAtoi(trimmed, &id) || id < 1 || id > 4294967294LL) {
    return invalid(field, text, "must be a number from 1 to 4294967294 (the proxy does not run as root)");
  }
  return id;
}

// A Kubernetes resource quantity: a decimal number with an optional suffix (m, k, M, G, T, P, E,
// Ki, Mi, Gi, Ti, Pi, Ei) or a decimal exponent (1e3).
bool validQuantity(const std::string& text) {
  size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  size_t digits = 0;
  bool dot = false;
  for (; i < text.size(); ++i) {
    if (text[i] >= '0' && text[i] <= '9') {
      ++digits;
    } else if (text[i] == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (digits == 0) return false;
  std::string suffix = text.substr(i);
  static const std::set<std::string> kSuffixes = {"",   "m",  "k",  "M",  "G",  "T",  "P", "E",
                                                  "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  if (kSuffixes.count(suffix)) return true;
  if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    size_t j = 1;
    if (suffix[j] == '+' || suffix[j] == '-') ++j;
    return j < suffix.size() && suffix.find_first_not_of("0123456789", j) == std::string::npos;
  }
  return false;
}

// App Mesh resource names: 1-255 letters, digits, '-', '_', '.'.
bool validAppMeshName(const std::string& name) {
  if (name.empty() || name.size() > 255) return false;
  return name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
         std::string::npos;
}

Json envVar(const std::string& name, const std::string& value) { return Json{{"name", name}, {"value", value}}; }

Json httpGetProbe(const std::string& path, int period_s, int failure_threshold) {
  Json probe;
  probe["httpGet"] = Json{{"path", path}, {"port", kAdminPort}};
  probe["periodSeconds"] = period_s;
  probe["failureThreshold"] = failure_threshold;
  return probe;
}

// Every container name of the pod, from containers and initContainers (and where it is).
absl::StatusOr<std::map<std::string, std::string>> containerNames(const Json& spec) {
  std::map<std::string, std::string> names;
  for (const char* list : {"initContainers", "containers"}) {
    auto it = spec.find(list);
    if (it == spec.end() || it->is_null()) continue;
    if (!it->is_array()) return absl::InvalidArgumentError(absl::StrCat("spec.", list, ": must be a list"));
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& container = (*it)[i];
      std::string where = absl::StrCat("spec.", list, "[", i, "]");
      if (!container.is_object()) return absl::InvalidArgumentError(absl::StrCat(where, ": must be an object"));
      auto name = container.find("name");
      if (name == container.end() || !name->is_string()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".name: required (a string)"));
      }
      names.emplace(name->get<std::string>(), where);
    }
  }
  return names;
}

// The app's TCP container ports, in spec order, each once: what the controller of old passed as
// application ports when no annotation gave them.
absl::StatusOr<std::vector<int>> containerPorts(const Json& spec) {
  std::vector<int> ports;
  std::set<int> seen;
  const Json& containers = spec.at("containers");
  for (size_t i = 0; i < containers.size(); ++i) {
    auto list = containers[i].find("ports");
    if (list == containers[i].end() || list->is_null()) continue;
    std::string where = absl::StrCat("spec.containers[", i, "].ports");
    if (!list->is_array()) return absl::InvalidArgumentError(absl::StrCat(where, ": must be a list"));
    for (size_t j = 0; j < list->size(); ++j) {
      const Json& port = (*list)[j];
      std::string field = absl::StrCat(where, "[", j, "]");
      if (!port.is_object()) return absl::InvalidArgumentError(absl::StrCat(field, ": must be an object"));
      auto protocol = port.find("protocol");
      if (protocol != port.end() && protocol->is_string() && protocol->get<std::string>() != "TCP") continue;
      auto number = port.find("containerPort");
      if (number == port.end() || !number->is_number_integer() || number->get<int64_t>() < 1 ||
          number->get<int64_t>() > 65535) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, ".containerPort: ", number == port.end() ? "missing" : number->dump(),
            ": must be a port number (1-65535)"));
      }
      int value = number->get<int>();
      if (seen.insert(value).second) ports.push_back(value);
    }
  }
  return ports;
}

}  // namespace

absl::StatusOr<InjectionResult> injectPod(const Json& metadata, const Json& spec, const NamespaceInfo& ns,
                                          const InjectionSettings& settings) {
  InjectionResult result;
  result.pod_spec = spec;
  if (!spec.is_object()) return absl::InvalidArgumentError("spec: must be an object (the pod spec)");
  auto containers = spec.find("containers");
  if (containers == spec.end() || !containers->is_array() || containers->empty()) {
    return absl::InvalidArgumentError("spec.containers: required (a non-empty list of containers)");
  }
  auto labels = stringMap(metadata, "labels");
  if (!labels.ok()) return labels.status();
  auto annotations = stringMap(metadata, "annotations");
  if (!annotations.ok()) return annotations.status();
  auto annotation = [&](const char* key) -> std::optional<std::string> {
    auto it = annotations->find(key);
    if (it == annotations->end()) return std::nullopt;
    return it->second;
  };

  // Opting in and out, as the App Mesh controller did: the namespace enables injection, the
  // pod's annotation can turn it off (or confirm it).
  if (ns.labels_known) {
    auto label = ns.labels.find(kInjectKey);
    if (label == ns.labels.end() || label->second != "enabled") {
      result.skip_reason = absl::StrCat("namespace ", ns.name, " is not labelled ", kInjectKey, ": enabled");
      return result;
    }
  }
  if (auto value = annotation(kInjectKey)) {
    if (*value == "disabled") {
      result.skip_reason = absl::StrCat("the pod opts out (", kInjectKey, ": disabled)");
      return result;
    }
    if (*value != "enabled") return invalid(annotationPath(kInjectKey), *value, "must be enabled or disabled");
  }

  auto names = containerNames(spec);
  if (!names.ok()) return names.status();
  for (const char* sidecar : {kSidecarContainerName, kAppMeshSidecarContainerName}) {
    if (auto it = names->find(sidecar); it != names->end()) {
      result.skip_reason = absl::StrCat("already injected (", it->second, " is named ", sidecar, ")");
      return result;
    }
  }
  if (auto it = names->find(kInitContainerName); it != names->end()) {
    return absl::InvalidArgumentError(absl::StrCat(it->second, ".name: \"", kInitContainerName,
                                                   "\": the pod has trellis-init but no ", kSidecarContainerName,
                                                   " sidecar; remove it to inject, or add the sidecar"));
  }

  // Annotations with no counterpart in Trellis are refused or reported, never dropped silently.
  if (auto value = annotation(kCniAnnotation); value && absl::AsciiStrToLower(*value) == "enabled") {
    return invalid(annotationPath(kCniAnnotation), *value,
                   "App Mesh's CNI plugin is not part of Trellis; remove the annotation (trellis-init installs "
                   "the traffic capture)");
  }
  if (auto value = annotation(kSecretMountsAnnotation)) {
    return invalid(annotationPath(kSecretMountsAnnotation), *value,
                   "not supported yet by Trellis's injector; mount the secrets with a patch of your own");
  }
  for (auto [key, fixed] : {std::pair{kProxyIngressPortAnnotation, kIngressPort},
                            std::pair{kProxyEgressPortAnnotation, kEgressPort}}) {
    if (auto value = annotation(key); value && *value != std::to_string(fixed)) {
      return invalid(annotationPath(key), *value, absl::StrCat("fixed at ", fixed, ", as in App Mesh"));
    }
  }
  if (auto value = annotation(kPreviewAnnotation)) {
    result.warnings.push_back(absl::StrCat(annotationPath(kPreviewAnnotation), ": \"", *value,
                                           "\": App Mesh's preview endpoint has no counterpart in Trellis; "
                                           "the annotation has no effect"));
  }

  // Which virtual node of which mesh.
  const VirtualNodeMapEntry* mapped = settings.virtual_node_map.match(*labels);
  std::string virtual_node;
  std::string node_from;
  if (auto value = annotation(kVirtualNodeAnnotation)) {
    if (!validAppMeshName(*value)) {
      return invalid(annotationPath(kVirtualNodeAnnotation), *value,
                     "must be a virtual node's App Mesh name (1-255 letters, digits, '-', '_', '.')");
    }
    virtual_node = *value;
    node_from = annotationPath(kVirtualNodeAnnotation);
  } else if (mapped != nullptr) {
    virtual_node = mapped->virtual_node;
    node_from = "the virtual node map";
  } else {
    std::vector<std::string> shown;
    for (const auto& [key, value] : *labels) shown.push_back(absl::StrCat(key, "=", value));
    return absl::InvalidArgumentError(absl::StrCat(
        "no virtual node for this pod: set the annotation ", kVirtualNodeAnnotation,
        ": NAME on the pod (template), or add an entry to the virtual node map (--virtual-node-map) whose "
        "selector matches its labels {",
        absl::StrJoin(shown, ", "), "}"));
  }
  std::string mesh;
  if (auto value = annotation(kMeshAnnotation)) {
    if (!validAppMeshName(*value)) {
      return invalid(annotationPath(kMeshAnnotation), *value, "must be an App Mesh mesh name");
    }
    mesh = *value;
  } else if (node_from == "the virtual node map" && !mapped->mesh.empty()) {
    mesh = mapped->mesh;
  } else if (auto label = ns.labels.find("mesh"); label != ns.labels.end()) {
    if (!validAppMeshName(label->second)) {
      return invalid(absl::StrCat("namespace ", ns.name, " label mesh"), label->second, "must be an App Mesh mesh name");
    }
    mesh = label->second;
  } else if (!settings.default_mesh.empty()) {
    mesh = settings.default_mesh;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("no mesh for this pod: set the annotation ", kMeshAnnotation,
                                                   ": NAME, label the namespace mesh=NAME, or give a default mesh"));
  }

  // The capture settings.
  std::vector<int> app_ports;
  if (auto value = annotation(kPortsAnnotation)) {
    auto ports = parsePortList(*value, annotationPath(kPortsAnnotation));
    if (!ports.ok()) return ports.status();
    app_ports = *ports;
  } else {
    auto ports = containerPorts(spec);
    if (!ports.ok()) return ports.status();
    app_ports = *ports;
  }
  for (int port : app_ports) {
    if (port == kIngressPort || port == kEgressPort || port == kAdminPort) {
      return absl::InvalidArgumentError(absl::StrCat(
          "application port ", port, " (", annotation(kPortsAnnotation) ? annotationPath(kPortsAnnotation) : "spec.containers[].ports",
          ") is one of the proxy's own ports (15000 ingress, 15001 egress, 9901 admin)"));
    }
  }
  if (annotation(kPortsAnnotation)) {
    auto declared = containerPorts(spec);
    if (!declared.ok()) return declared.status();
    for (int port : *declared) {
      if (port == kIngressPort || port == kEgressPort || port == kAdminPort) {
        return absl::InvalidArgumentError(absl::StrCat(
            "spec.containers[].ports: containerPort ", port,
            " is one of the proxy's own ports (15000 ingress, 15001 egress, 9901 admin)"));
      }
    }
  }
  std::optional<std::string> egress_ignored_ports = annotation(kEgressIgnoredPortsAnnotation);
  if (egress_ignored_ports) {
    auto ports = parsePortList(*egress_ignored_ports, annotationPath(kEgressIgnoredPortsAnnotation));
    if (!ports.ok()) return ports.status();
  }
  std::string egress_ignored_ips = annotation(kEgressIgnoredIPsAnnotation).value_or(settings.egress_ignored_ips);
  if (auto status = checkIpList(egress_ignored_ips, annotation(kEgressIgnoredIPsAnnotation)
                                                        ? annotationPath(kEgressIgnoredIPsAnnotation)
                                                        : "the default egress-ignored IPs");
      !status.ok()) {
    return status;
  }
  int64_t proxy_uid = kDefaultProxyUid;
  if (auto value = annotation(kIgnoredUIDAnnotation)) {
    auto id = parseId(*value, annotationPath(kIgnoredUIDAnnotation));
    if (!id.ok()) return id.status();
    proxy_uid = *id;
  }
  std::optional<int64_t> proxy_gid;
  if (auto value = annotation(kIgnoredGIDAnnotation)) {
    auto id = parseId(*value, annotationPath(kIgnoredGIDAnnotation));
    if (!id.ok()) return id.status();
    proxy_gid = *id;
  }
  std::string cpu = annotation(kCpuRequestAnnotation).value_or(settings.cpu_request);
  std::string memory = annotation(kMemoryRequestAnnotation).value_or(settings.memory_request);
  for (auto [key, value] : {std::pair{kCpuRequestAnnotation, cpu}, std::pair{kMemoryRequestAnnotation, memory}}) {
    if (!validQuantity(value)) {
      return invalid(annotation(key) ? annotationPath(key) : absl::StrCat("the default of ", key), value,
                     "must be a Kubernetes quantity (100m, 0.5, 64Mi, 1Gi, ...)");
    }
  }
  if (auto grace = spec.find("terminationGracePeriodSeconds");
      grace != spec.end() && grace->is_number_integer() && grace->get<int64_t>() <= settings.drain_time_s) {
    result.warnings.push_back(absl::StrCat(
        "spec.terminationGracePeriodSeconds: ", grace->get<int64_t>(), " is not longer than the proxy's drain time (",
        settings.drain_time_s, " s): the kubelet may kill the proxy before its drain ends"));
  }

  if (settings.mode == SidecarMode::kPlain) {
    auto policy = spec.find("restartPolicy");
    if (policy != spec.end() && policy->is_string() && policy->get<std::string>() != "Always") {
      result.warnings.push_back(absl::StrCat(
          "spec.restartPolicy: ", policy->get<std::string>(),
          ": a plain sidecar container never exits, so this pod (a Job's?) never completes; use the native mode "
          "(Kubernetes 1.29+), whose sidecar the kubelet stops when the other containers are done"));
    }
  }

  // trellis-init.
  Json init;
  init["name"] = kInitContainerName;
  init["image"] = settings.init_image.empty() ? settings.proxy_image : settings.init_image;
  init["command"] = Json::array({"trellis-init"});
  Json init_env = Json::array();
  std::vector<std::string> app_port_text;
  for (int port : app_ports) app_port_text.push_back(std::to_string(port));
  if (!app_ports.empty()) init_env.push_back(envVar("APPMESH_APP_PORTS", absl::StrJoin(app_port_text, ",")));
  if (!absl::StripAsciiWhitespace(egress_ignored_ips).empty()) {
    init_env.push_back(envVar("APPMESH_EGRESS_IGNORED_IP", egress_ignored_ips));
  }
  if (egress_ignored_ports) init_env.push_back(envVar("APPMESH_EGRESS_IGNORED_PORTS", *egress_ignored_ports));
  init_env.push_back(envVar("APPMESH_IGNORE_UID", std::to_string(proxy_uid)));
  if (proxy_gid) init_env.push_back(envVar("APPMESH_IGNORE_GID", std::to_string(*proxy_gid)));
  init["env"] = init_env;
  init["resources"] = Json{{"requests", Json{{"cpu", "10m"}, {"memory", "16Mi"}}}};
  init["securityContext"] = Json{{"runAsUser", 0},
                                 {"runAsNonRoot", false},
                                 {"capabilities", Json{{"add", Json::array({"NET_ADMIN", "NET_RAW"})}}}};

  // trellis-proxy.
  std::string node_name = absl::StrCat("mesh/", mesh, "/virtualNode/", virtual_node);
  Json sidecar;
  sidecar["name"] = kSidecarContainerName;
  sidecar["image"] = settings.proxy_image;
  if (settings.mode == SidecarMode::kNative) sidecar["restartPolicy"] = "Always";
  // Port names are unique in a pod: App Mesh's name "stats" unless the app uses it already.
  Json admin_port = Json{{"name", "stats"}, {"containerPort", kAdminPort}, {"protocol", "TCP"}};
  for (const auto& container : spec.at("containers")) {
    for (const auto& port : container.value("ports", Json::array())) {
      if (port.is_object() && port.value("name", Json()) == "stats") admin_port.erase("name");
    }
  }
  if (!admin_port.contains("name")) {
    result.warnings.push_back("the app has a port named stats already: the sidecar's admin port 9901 is left unnamed");
  }
  sidecar["ports"] = Json::array({admin_port});
  sidecar["env"] = Json::array({envVar("APPMESH_VIRTUAL_NODE_NAME", node_name),
                                envVar("TRELLIS_CP_ADDRESS", settings.cp_address),
                                envVar("ENVOY_ADMIN_ACCESS_PORT", std::to_string(kAdminPort)),
                                envVar("ENVOY_LOG_LEVEL", settings.log_level)});
  sidecar["resources"] = Json{{"requests", Json{{"cpu", cpu}, {"memory", memory}}}};
  sidecar["securityContext"] = Json{{"runAsUser", proxy_uid},
                                    {"runAsGroup", proxy_gid.value_or(kDefaultProxyUid)},
                                    {"runAsNonRoot", true},
                                    {"allowPrivilegeEscalation", false},
                                    {"capabilities", Json{{"drop", Json::array({"ALL"})}}}};
  // LIVE once the first configuration is applied; the app starts after that in native mode.
  sidecar["startupProbe"] = httpGetProbe("/ready", 1, 120);
  // /ready turns 503 DRAINING on SIGTERM, which takes the pod out of its Services' endpoints.
  sidecar["readinessProbe"] = httpGetProbe("/ready", 5, 2);
  // /server_info answers 200 in every state, so a draining proxy is not restarted.
  sidecar["livenessProbe"] = httpGetProbe("/server_info", 10, 3);

  Json& out = result.pod_spec;
  if (!out.contains("initContainers") || out["initContainers"].is_null()) out["initContainers"] = Json::array();
  Json& init_containers = out["initContainers"];
  std::string capture = absl::StrCat(app_ports.empty() ? "no inbound capture" : absl::StrCat("app ports ", absl::StrJoin(app_port_text, ",")),
                                     ", proxy UID ", proxy_uid);
  if (settings.mode == SidecarMode::kNative) {
    // First trellis-init, then the sidecar: any later init container already has the proxy
    // behind the capture.
    init_containers.insert(init_containers.begin(), sidecar);
    init_containers.insert(init_containers.begin(), init);
    result.changes.push_back(absl::StrCat("spec.initContainers[0]: added ", kInitContainerName, " (", capture, ")"));
    result.changes.push_back(absl::StrCat("spec.initContainers[1]: added ", kSidecarContainerName,
                                          " as a native sidecar (restartPolicy: Always) for ", node_name, " (from ",
                                          node_from, ")"));
  } else {
    // Last: the pod's own init containers run before the capture exists, as they did before
    // injection (with capture and no proxy yet their connections would go nowhere).
    init_containers.push_back(init);
    out["containers"].push_back(sidecar);
    result.changes.push_back(absl::StrCat("spec.initContainers[", init_containers.size() - 1, "]: added ",
                                          kInitContainerName, " (", capture, ")"));
    result.changes.push_back(absl::StrCat("spec.containers[", out["containers"].size() - 1, "]: added ",
                                          kSidecarContainerName, " for ", node_name, " (from ", node_from, ")"));
  }
  result.injected = true;
  return result;
}

}  // namespace trellis::deploy
