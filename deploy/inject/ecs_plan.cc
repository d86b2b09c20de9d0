// What `trellis-inject ecs` changes in a task definition, and only that: the App Mesh Envoy
// container's image, the control plane address, App Mesh-only variables that point at App Mesh's
// service; or, without App Mesh, the Trellis sidecar with its traffic capture. Everything else is
// left to the edits' absence.
#include "deploy/inject/ecs_plan.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "deploy/inject/ecs_fields.h"

namespace trellis::deploy::inject {

namespace {

constexpr char kSidecarName[] = "envoy";
constexpr char kInitName[] = "trellis-init";
constexpr char kProxyUid[] = "1337";
constexpr char kEgressIgnoredIps[] = "169.254.170.2,169.254.169.254";
constexpr char kHealthCommand[] = "curl -s http://localhost:9901/server_info | grep state | grep -q LIVE";

// Variables of App Mesh's Envoy image that only pointed at App Mesh's own service endpoints:
// there is no such service any more, and the Trellis sidecar reaches trellis-cp instead.
const std::map<std::string, std::string> kDroppedVariables = {
    {"APPMESH_PREVIEW", "it selected App Mesh's preview service endpoint"},
    {"APPMESH_DUALSTACK_ENDPOINT", "it selected App Mesh's dual-stack service endpoint"},
    {"APPMESH_XDS_ENDPOINT", "it named App Mesh's xDS endpoint; TRELLIS_CP_ADDRESS replaces it"},
};

// Variables the Trellis sidecar image reads (besides the node identity).
const std::set<std::string> kReadVariables = {"TRELLIS_CP_ADDRESS", "ENVOY_ADMIN_ACCESS_PORT", "ENVOY_LOG_LEVEL"};

std::string describe(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

std::string kindOf(const Json& v) {
  if (v.is_string()) return "the string " + v.dump();
  if (v.is_number()) return "the number " + v.dump();
  if (v.is_boolean()) return "the boolean " + v.dump();
  if (v.is_array()) return "a list";
  if (v.is_object()) return "an object";
  return "null";
}

// The text of a value: a string, or the template of {"Fn::Sub": "..."} / {"Fn::Sub": ["...", {}]}.
// Other intrinsics ({"Ref": P}, {"Fn::GetAtt": ...}) have no text before deployment.
std::optional<std::string> textOf(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.size() == 1) {
    auto it = v.find("Fn::Sub");
    if (it != v.end()) {
      if (it->is_string()) return it->get<std::string>();
      if (it->is_array() && !it->empty() && (*it)[0].is_string()) return (*it)[0].get<std::string>();
    }
  }
  return std::nullopt;
}

bool isIntrinsic(const Json& v) {
  if (!v.is_object() || v.size() != 1) return false;
  const std::string& key = v.begin().key();
  return key == "Ref" || absl::StartsWith(key, "Fn::");
}

// mesh/MESH/virtualNode/NODE (or virtualGateway), as the proxy's node identity reads it.
bool isShortNodeName(const std::string& s) {
  std::vector<std::string> parts = absl::StrSplit(s, '/');
  return parts.size() == 4 && parts[0] == "mesh" && !parts[1].empty() &&
         (parts[2] == "virtualNode" || parts[2] == "virtualGateway") && !parts[3].empty();
}

bool isNodeArn(const std::string& s) {
  std::vector<std::string> fields = absl::StrSplit(s, absl::MaxSplits(':', 5));
  return fields.size() == 6 && fields[0] == "arn" && fields[2] == "appmesh" && isShortNodeName(fields[5]);
}

struct Container {
  const Json* json = nullptr;
  std::string label;  // "containerDefinitions[1] (envoy)"
  std::string name;   // empty when the name is not a literal
  std::optional<std::string> image;
  const Json* environment = nullptr;  // the list, or nullptr when absent
};

class Planner {
 public:
  Planner(const Json& td, FieldCase fc, const EcsOptions& options) : td_(td), fc_(fc), options_(options) {}

  absl::StatusOr<Plan> run(bool may_add_sidecar) {
    if (!td_.is_object()) return error("(task definition)", "must be an object, got " + kindOf(td_));
    if (auto s = readContainers(); !s.ok()) return s;
    auto sidecar = findSidecar();
    if (!sidecar.ok()) return sidecar.status();
    if (*sidecar >= 0) {
      if (auto s = convertSidecar(static_cast<size_t>(*sidecar)); !s.ok()) return s;
    } else if (may_add_sidecar) {
      if (auto s = addSidecar(); !s.ok()) return s;
    }
    // Removals last, from the highest index; appends after sets.
    std::stable_sort(plan_.edits.begin(), plan_.edits.end(), [](const Edit& a, const Edit& b) {
      auto rank = [](const Edit& e) {
        switch (e.kind) {
          case Edit::Kind::kRemoveEnv: return 1;
          case Edit::Kind::kAppendEnv:
          case Edit::Kind::kAppendDependsOn:
          case Edit::Kind::kAppendContainer:
          case Edit::Kind::kSetProxyConfiguration: return 2;
          default: return 0;
        }
      };
      if (rank(a) != rank(b)) return rank(a) < rank(b);
      if (rank(a) == 1) return a.container != b.container ? a.container > b.container : a.env > b.env;
      return false;
    });
    return plan_;
  }

 private:
  std::string f(std::string_view camel) const { return fieldName(fc_, camel); }

  absl::Status error(const std::string& path, const std::string& what) const {
    return absl::InvalidArgumentError(path + ": " + what);
  }

  absl::Status readContainers() {
    auto defs = td_.find(f("containerDefinitions"));
    if (defs == td_.end()) return error(f("containerDefinitions"), "required (the task's containers)");
    if (!defs->is_array()) {
      return error(f("containerDefinitions"), "must be a list of container definitions, got " + kindOf(*defs));
    }
    for (size_t i = 0; i < defs->size(); ++i) {
      const Json& cd = (*defs)[i];
      Container c;
      c.json = &cd;
      c.label = absl::StrCat(f("containerDefinitions"), "[", i, "]");
      if (!cd.is_object()) return error(c.label, "must be a container definition (an object), got " + kindOf(cd));
      if (auto n = cd.find(f("name")); n != cd.end()) {
        if (n->is_string()) {
          c.name = n->get<std::string>();
        } else if (!isIntrinsic(*n)) {
          return error(c.label + "." + f("name"), "must be a string, got " + kindOf(*n));
        }
      }
      c.label += " (" + (c.name.empty() ? std::string("?") : c.name) + ")";
      if (auto im = cd.find(f("image")); im != cd.end()) {
        if (!im->is_string() && !isIntrinsic(*im)) {
          return error(c.label + "." + f("image"), "must be a string, got " + kindOf(*im));
        }
        c.image = textOf(*im);
      }
      if (auto env = cd.find(f("environment")); env != cd.end()) {
        if (!env->is_array()) {
          return error(c.label + "." + f("environment"), "must be a list of {" + f("name") + ", " + f("value") +
                                                             "}, got " + kindOf(*env));
        }
        for (size_t j = 0; j < env->size(); ++j) {
          const Json& e = (*env)[j];
          std::string path = absl::StrCat(c.label, ".", f("environment"), "[", j, "]");
          if (!e.is_object()) return error(path, "must be {" + f("name") + ", " + f("value") + "}, got " + kindOf(e));
          auto n = e.find(f("name"));
          if (n == e.end() || !n->is_string()) {
            return error(path + "." + f("name"), n == e.end() ? "required" : "must be a string, got " + kindOf(*n));
          }
          auto v = e.find(f("value"));
          if (v != e.end() && !v->is_string() && !isIntrinsic(*v) && !(fc_ == FieldCase::kPascal && v->is_primitive())) {
            return error(path + "." + f("value"), "must be a string, got " + kindOf(*v));
          }
        }
        c.environment = &*env;
      }
      containers_.push_back(c);
    }
    return absl::OkStatus();
  }

  // The App Mesh Envoy container (or an already converted Trellis one), -1 when there is none.
  absl::StatusOr<long> findSidecar() const {
    std::vector<size_t> by_image;
    for (size_t i = 0; i < containers_.size(); ++i) {
      const auto& img = containers_[i].image;
      if (img && (absl::StrContains(*img, "aws-appmesh-envoy") || *img == options_.image)) by_image.push_back(i);
    }
    if (by_image.size() > 1) {
      return error(f("containerDefinitions"), "two App Mesh Envoy containers, " + containers_[by_image[0]].label +
                                                  " and " + containers_[by_image[1]].label +
                                                  " (a task has one sidecar)");
    }
    if (by_image.size() == 1) return static_cast<long>(by_image[0]);
    // The image may be a parameter (!Ref EnvoyImage): proxyConfiguration names the sidecar.
    if (auto pc = td_.find(f("proxyConfiguration")); pc != td_.end() && pc->is_object()) {
      if (auto cn = pc->find(f("containerName")); cn != pc->end() && cn->is_string()) {
        for (size_t i = 0; i < containers_.size(); ++i) {
          if (containers_[i].name == cn->get<std::string>()) return static_cast<long>(i);
        }
        return error(f("proxyConfiguration") + "." + f("containerName"),
                     "\"" + cn->get<std::string>() + "\" names no container of this task");
      }
    }
    for (size_t i = 0; i < containers_.size(); ++i) {
      if (nodeVariable(containers_[i])) return static_cast<long>(i);
    }
    return -1;
  }

  // The index of APPMESH_RESOURCE_ARN (preferred, as App Mesh's Envoy) or APPMESH_VIRTUAL_NODE_NAME.
  std::optional<size_t> nodeVariable(const Container& c) const {
    if (!c.environment) return std::nullopt;
    std::optional<size_t> found;
    for (size_t j = 0; j < c.environment->size(); ++j) {
      const std::string name = (*c.environment)[j][f("name")].get<std::string>();
      if (name == "APPMESH_RESOURCE_ARN") return j;
      if (name == "APPMESH_VIRTUAL_NODE_NAME") found = j;
    }
    return found;
  }

  absl::Status convertSidecar(size_t index) {
    const Container& c = containers_[index];
    const Json& cd = *c.json;
    auto im = cd.find(f("image"));
    if (im == cd.end() || !im->is_string() || im->get<std::string>() != options_.image) {
      Edit e{Edit::Kind::kSetImage};
      e.container = index;
      e.text = options_.image;
      plan_.edits.push_back(e);
      plan_.changes.push_back(c.label + ": " + f("image") + " " +
                              (im == cd.end() ? std::string("(none)") : describe(*im)) + " -> " + options_.image);
    }

    bool has_node = false;
    bool has_cp = false;
    if (c.environment) {
      for (size_t j = 0; j < c.environment->size(); ++j) {
        const Json& entry = (*c.environment)[j];
        const std::string name = entry[f("name")].get<std::string>();
        const std::string path = absl::StrCat(c.label, ".", f("environment"), "[", j, "] (", name, ")");
        auto value_it = entry.find(f("value"));
        std::optional<std::string> value;
        if (value_it != entry.end() && value_it->is_string()) value = value_it->get<std::string>();
        if (name == "APPMESH_RESOURCE_ARN" || name == "APPMESH_VIRTUAL_NODE_NAME") {
          auto s = value ? checkNodeVariable(index, j, name, *value, path)
                         : checkNodeTemplate(index, j, name, value_it == entry.end() ? Json() : *value_it, path);
          if (!s.ok()) return s;
          has_node = true;
        } else if (name == "TRELLIS_CP_ADDRESS") {
          has_cp = true;
          if (options_.cp_address_given && value != options_.cp_address) {
            Edit e{Edit::Kind::kSetEnvValue};
            e.container = index;
            e.env = j;
            e.text = options_.cp_address;
            plan_.edits.push_back(e);
            plan_.changes.push_back(path + ": " + (value ? *value : describe(*value_it)) + " -> " + options_.cp_address);
          }
        } else if (auto drop = kDroppedVariables.find(name); drop != kDroppedVariables.end()) {
          Edit e{Edit::Kind::kRemoveEnv};
          e.container = index;
          e.env = j;
          plan_.edits.push_back(e);
          plan_.changes.push_back(path + ": removed, " + drop->second);
        } else if (!kReadVariables.count(name) &&
                   (absl::StartsWith(name, "APPMESH_") || absl::StartsWith(name, "ENVOY_") ||
                    absl::StartsWith(name, "ENABLE_ENVOY_") || absl::StartsWith(name, "XRAY_") ||
                    absl::StartsWith(name, "STATSD_"))) {
          plan_.notes.push_back(path + ": kept, but the Trellis sidecar does not read it");
        }
      }
    }
    if (!options_.node.empty()) {
      if (has_node) {
        return error(c.label, "--node " + options_.node +
                                  " was given, but this container already names its node in its environment "
                                  "(the identity is kept; leave out --node)");
      }
      appendNode(index, c.label);
      has_node = true;
    }
    if (!has_node) {
      return error(c.label + "." + f("environment"),
                   "no APPMESH_RESOURCE_ARN or APPMESH_VIRTUAL_NODE_NAME, so the proxy would not know its "
                   "virtual node; give --node mesh/MESH/virtualNode/NODE");
    }
    if (!has_cp) {
      Edit e{Edit::Kind::kAppendEnv};
      e.container = index;
      e.text = "TRELLIS_CP_ADDRESS";
      e.value = options_.cp_address;
      plan_.edits.push_back(e);
      plan_.changes.push_back(c.label + "." + f("environment") + ": added TRELLIS_CP_ADDRESS=" + options_.cp_address);
    }
    return absl::OkStatus();
  }

  // The proxy takes a full ARN in APPMESH_RESOURCE_ARN and the short name in
  // APPMESH_VIRTUAL_NODE_NAME; the node id it presents is the same string either way.
  void renameToNodeName(size_t index, size_t j, const std::string& path, const std::string& shown) {
    Edit e{Edit::Kind::kSetEnvName};
    e.container = index;
    e.env = j;
    e.text = "APPMESH_VIRTUAL_NODE_NAME";
    plan_.edits.push_back(e);
    plan_.changes.push_back(path + ": renamed APPMESH_VIRTUAL_NODE_NAME (" + shown +
                            " is a name, not an ARN, which is what the proxy reads from APPMESH_VIRTUAL_NODE_NAME; "
                            "node.id is the same)");
  }

  absl::Status checkNodeVariable(size_t index, size_t j, const std::string& name, const std::string& value,
                                 const std::string& path) {
    if (name == "APPMESH_RESOURCE_ARN") {
      if (isNodeArn(value)) return absl::OkStatus();
      if (isShortNodeName(value)) {
        renameToNodeName(index, j, path, value);
        return absl::OkStatus();
      }
      return error(path, "\"" + value +
                             "\" is neither arn:aws:appmesh:REGION:ACCOUNT:mesh/MESH/virtualNode/NODE nor "
                             "mesh/MESH/virtualNode/NODE");
    }
    if (isShortNodeName(value)) return absl::OkStatus();
    return error(path, "\"" + value + "\" is not mesh/MESH/virtualNode/NODE (or mesh/MESH/virtualGateway/NAME)");
  }

  // An intrinsic: {"Ref": VirtualNode} is the node's ARN and is kept; a Fn::Sub template is read
  // for its shape ("arn:..." kept, "mesh/..." in APPMESH_RESOURCE_ARN renamed).
  absl::Status checkNodeTemplate(size_t index, size_t j, const std::string& name, const Json& value,
                                 const std::string& path) {
    auto text = textOf(value);
    if (!text || name != "APPMESH_RESOURCE_ARN") return absl::OkStatus();
    if (absl::StartsWith(*text, "mesh/")) renameToNodeName(index, j, path, "the template " + *text);
    return absl::OkStatus();
  }

  void appendNode(size_t index, const std::string& label) {
    Edit e{Edit::Kind::kAppendEnv};
    e.container = index;
    e.text = isNodeArn(options_.node) ? "APPMESH_RESOURCE_ARN" : "APPMESH_VIRTUAL_NODE_NAME";
    e.value = options_.node;
    plan_.edits.push_back(e);
    plan_.changes.push_back(label + "." + f("environment") + ": added " + e.text + "=" + options_.node);
  }

  Json envEntry(const std::string& name, const std::string& value) const {
    Json e = Json::object();
    e[f("name")] = name;
    e[f("value")] = value;
    return e;
  }

  Json dependency(const std::string& name, const std::string& condition) const {
    Json d = Json::object();
    d[f("containerName")] = name;
    d[f("condition")] = condition;
    return d;
  }

  bool dependsOn(const Container& c, const std::string& target) const {
    auto d = c.json->find(f("dependsOn"));
    if (d == c.json->end() || !d->is_array()) return false;
    for (const auto& entry : *d) {
      if (entry.is_object() && entry.value(f("containerName"), Json()) == target) return true;
    }
    return false;
  }

  // A literal string field of the task definition, or "" when absent or an intrinsic.
  std::string literal(const std::string& camel) const {
    auto it = td_.find(f(camel));
    return it != td_.end() && it->is_string() ? it->get<std::string>() : "";
  }

  absl::Status addSidecar() {
    if (options_.node.empty()) {
      return error(f("containerDefinitions"),
                   "no App Mesh Envoy container (an image *aws-appmesh-envoy*, or APPMESH_RESOURCE_ARN / "
                   "APPMESH_VIRTUAL_NODE_NAME in a container's environment) and no --node; give --node "
                   "mesh/MESH/virtualNode/NODE to add the Trellis sidecar");
    }
    if (!isNodeArn(options_.node) && !isShortNodeName(options_.node)) {
      return absl::InvalidArgumentError("--node " + options_.node +
                                        ": expected mesh/MESH/virtualNode/NODE or "
                                        "arn:aws:appmesh:REGION:ACCOUNT:mesh/MESH/virtualNode/NODE");
    }
    const std::string network_mode = literal("networkMode");
    if (network_mode != "awsvpc") {
      return error(f("networkMode"), (network_mode.empty() ? std::string("not set (bridge on EC2)")
                                                           : "\"" + network_mode + "\"") +
                                         ": the sidecar's traffic capture needs awsvpc, where every container "
                                         "shares the task's network namespace");
    }
    if (td_.contains(f("proxyConfiguration"))) {
      return error(f("proxyConfiguration"), "already set, but names no App Mesh Envoy container");
    }
    for (const auto& c : containers_) {
      if (c.name == kSidecarName || c.name == kInitName) {
        return error(c.label, "the name \"" + c.name + "\" is taken; the Trellis sidecar needs it");
      }
    }
    bool fargate = false;
    if (auto rc = td_.find(f("requiresCompatibilities")); rc != td_.end() && rc->is_array()) {
      for (const auto& v : *rc) fargate = fargate || v == "FARGATE";
    }
    const bool init = options_.capture == Capture::kInit;
    if (init && fargate) {
      return error(f("requiresCompatibilities"),
                   "FARGATE grants no NET_ADMIN, so --capture init cannot work there; use --capture "
                   "proxy-configuration");
    }

    std::vector<std::string> app_ports;
    for (const auto& c : containers_) {
      auto pms = c.json->find(f("portMappings"));
      if (pms == c.json->end() || !pms->is_array()) continue;
      for (const auto& pm : *pms) {
        if (!pm.is_object()) continue;
        auto port = pm.find(f("containerPort"));
        if (port == pm.end()) continue;
        std::string p = port->is_number_integer() ? std::to_string(port->get<long>())
                        : port->is_string()       ? port->get<std::string>()
                                                  : "";
        if (p.empty()) {
          return error(c.label + "." + f("portMappings") + "." + f("containerPort"),
                       "must be a number, got " + kindOf(*port));
        }
        if (std::find(app_ports.begin(), app_ports.end(), p) == app_ports.end()) app_ports.push_back(p);
      }
    }
    if (!init && app_ports.empty()) {
      return error(f("containerDefinitions"),
                   "no container has portMappings, so proxyConfiguration's AppPorts would be empty; add the "
                   "app's portMappings first");
    }
    const std::string ports = absl::StrJoin(app_ports, ",");

    // Every existing container waits for the proxy (and, with init, for the rules).
    for (size_t i = 0; i < containers_.size(); ++i) {
      auto d = containers_[i].json->find(f("dependsOn"));
      if (d != containers_[i].json->end() && !d->is_array()) {
        return error(containers_[i].label + "." + f("dependsOn"), "must be a list, got " + kindOf(*d));
      }
      std::vector<std::pair<std::string, std::string>> wanted;
      if (init) wanted.emplace_back(kInitName, "SUCCESS");
      wanted.emplace_back(kSidecarName, "HEALTHY");
      for (const auto& [target, condition] : wanted) {
        if (dependsOn(containers_[i], target)) continue;
        Edit e{Edit::Kind::kAppendDependsOn};
        e.container = i;
        e.object = dependency(target, condition);
        plan_.edits.push_back(e);
        plan_.changes.push_back(containers_[i].label + "." + f("dependsOn") + ": added " + target + " " + condition);
      }
    }

    const size_t first_new = containers_.size();
    if (init) {
      Json c = Json::object();
      c[f("name")] = kInitName;
      c[f("image")] = options_.init_image;
      // trellis-init is in the sidecar image, whose entry point is trellis-proxy.
      c[f("entryPoint")] = Json::array({"/usr/bin/trellis-init"});
      c[f("essential")] = false;
      c[f("user")] = "0";
      Json caps = Json::object();
      caps[f("add")] = Json::array({"NET_ADMIN"});
      Json lp = Json::object();
      lp[f("capabilities")] = caps;
      c[f("linuxParameters")] = lp;
      Json env = Json::array();
      if (!ports.empty()) env.push_back(envEntry("APPMESH_APP_PORTS", ports));
      env.push_back(envEntry("APPMESH_IGNORE_UID", kProxyUid));
      env.push_back(envEntry("APPMESH_EGRESS_IGNORED_IP", kEgressIgnoredIps));
      c[f("environment")] = env;
      Edit e{Edit::Kind::kAppendContainer};
      e.object = c;
      plan_.edits.push_back(e);
      plan_.changes.push_back(absl::StrCat(f("containerDefinitions"), "[", first_new, "] (", kInitName,
                                           "): added (", options_.init_image, ", NET_ADMIN, app ports ",
                                           ports.empty() ? "none" : ports, ")"));
    }

    Json sidecar = Json::object();
    sidecar[f("name")] = kSidecarName;
    sidecar[f("image")] = options_.image;
    sidecar[f("essential")] = true;
    sidecar[f("user")] = kProxyUid;
    Json port_mappings = Json::array();
    for (int port : {9901, 15000, 15001}) {
      Json pm = Json::object();
      pm[f("containerPort")] = port;
      pm[f("protocol")] = "tcp";
      port_mappings.push_back(pm);
    }
    sidecar[f("portMappings")] = port_mappings;
    Json env = Json::array();
    env.push_back(envEntry(isNodeArn(options_.node) ? "APPMESH_RESOURCE_ARN" : "APPMESH_VIRTUAL_NODE_NAME",
                           options_.node));
    env.push_back(envEntry("TRELLIS_CP_ADDRESS", options_.cp_address));
    sidecar[f("environment")] = env;
    Json hc = Json::object();
    hc[f("command")] = Json::array({"CMD-SHELL", kHealthCommand});
    hc[f("interval")] = 5;
    hc[f("timeout")] = 2;
    hc[f("retries")] = 3;
    hc[f("startPeriod")] = 10;
    sidecar[f("healthCheck")] = hc;
    // The app's log configuration, so the proxy's logs land next to the app's.
    for (const auto& c : containers_) {
      auto lc = c.json->find(f("logConfiguration"));
      if (lc == c.json->end()) continue;
      Json copy = *lc;
      if (auto opts = copy.find(f("options")); opts != copy.end() && opts->is_object() &&
                                               opts->contains("awslogs-stream-prefix")) {
        (*opts)["awslogs-stream-prefix"] = kSidecarName;
      }
      sidecar[f("logConfiguration")] = copy;
      break;
    }
    if (init) sidecar[f("dependsOn")] = Json::array({dependency(kInitName, "SUCCESS")});
    Edit add{Edit::Kind::kAppendContainer};
    add.object = sidecar;
    plan_.edits.push_back(add);
    plan_.changes.push_back(absl::StrCat(f("containerDefinitions"), "[", first_new + (init ? 1 : 0), "] (",
                                         kSidecarName, "): added (", options_.image, ", node ", options_.node,
                                         ", control plane ", options_.cp_address, ")"));

    if (!init) {
      Json props = Json::array();
      for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
               {"AppPorts", ports},
               {"ProxyIngressPort", "15000"},
               {"ProxyEgressPort", "15001"},
               {"IgnoredUID", kProxyUid},
               {"EgressIgnoredIPs", kEgressIgnoredIps}}) {
        props.push_back(envEntry(name, value));
      }
      Json pc = Json::object();
      pc[f("type")] = "APPMESH";
      pc[f("containerName")] = kSidecarName;
      pc[f("properties")] = props;
      Edit e{Edit::Kind::kSetProxyConfiguration};
      e.object = pc;
      plan_.edits.push_back(e);
      plan_.changes.push_back(f("proxyConfiguration") + ": added (APPMESH, container " + kSidecarName +
                              ", AppPorts " + ports + ")");
    }
    return absl::OkStatus();
  }

  const Json& td_;
  FieldCase fc_;
  const EcsOptions& options_;
  std::vector<Container> containers_;
  Plan plan_;
};

}  // namespace

absl::StatusOr<Plan> planTaskDefinition(const Json& task_definition, FieldCase field_case, const EcsOptions& options,
                                        bool may_add_sidecar) {
  return Planner(task_definition, field_case, options).run(may_add_sidecar);
}

void applyEdits(Json& td, const std::vector<Edit>& edits, FieldCase fc) {
  auto f = [fc](std::string_view camel) { return fieldName(fc, camel); };
  Json& defs = td[f("containerDefinitions")];
  for (const Edit& e : edits) {
    switch (e.kind) {
      case Edit::Kind::kSetImage:
        defs[e.container][f("image")] = e.text;
        break;
      case Edit::Kind::kSetEnvName:
        defs[e.container][f("environment")][e.env][f("name")] = e.text;
        break;
      case Edit::Kind::kSetEnvValue:
        defs[e.container][f("environment")][e.env][f("value")] = e.text;
        break;
      case Edit::Kind::kRemoveEnv:
        defs[e.container][f("environment")].erase(e.env);
        break;
      case Edit::Kind::kAppendEnv: {
        Json entry = Json::object();
        entry[f("name")] = e.text;
        entry[f("value")] = e.value;
        defs[e.container][f("environment")].push_back(entry);
        break;
      }
      case Edit::Kind::kAppendDependsOn:
        defs[e.container][f("dependsOn")].push_back(e.object);
        break;
      case Edit::Kind::kAppendContainer:
        defs.push_back(e.object);
        break;
      case Edit::Kind::kSetProxyConfiguration:
        td[f("proxyConfiguration")] = e.object;
        break;
    }
  }
}

}  // namespace trellis::deploy::inject
