// ECS register-task-definition rules (ECS API reference, "Task definition parameters"), encoded as
// checks on the camelCase JSON a user passes to `aws ecs register-task-definition --cli-input-json`.
#include "deploy/ecs/taskdef_rules.h"

#include <map>
#include <set>

namespace trellis::deploy::ecs {

namespace {

using nlohmann::ordered_json;

std::string kindOf(const ordered_json& v) {
  if (v.is_string()) return "the string " + v.dump();
  if (v.is_boolean()) return std::string("the boolean ") + (v.get<bool>() ? "true" : "false");
  if (v.is_number()) return "the number " + v.dump();
  if (v.is_array()) return "a list";
  if (v.is_object()) return "an object";
  return "null";
}

std::string sub(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

class Checker {
 public:
  std::vector<std::string> errors;

  void fail(const std::string& path, const std::string& what) { errors.push_back(path + ": " + what); }

  // The string at obj[key], or nullptr (with an error when present but not a string).
  const ordered_json* string(const ordered_json& obj, const std::string& key, const std::string& path,
                             bool required) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) fail(sub(path, key), "required");
      return nullptr;
    }
    if (!it->is_string()) {
      fail(sub(path, key), "must be a string, got " + kindOf(*it));
      return nullptr;
    }
    return &*it;
  }

  void integerIn(const ordered_json& obj, const std::string& key, const std::string& path, long lo, long hi,
                 const std::string& unit) {
    auto it = obj.find(key);
    if (it == obj.end()) return;
    if (!it->is_number_integer()) {
      fail(sub(path, key), "must be an integer, got " + kindOf(*it));
      return;
    }
    long v = it->get<long>();
    if (v < lo || v > hi) {
      fail(sub(path, key), std::to_string(v) + " is outside " + std::to_string(lo) + "-" + std::to_string(hi) + unit);
    }
  }

  const ordered_json* list(const ordered_json& obj, const std::string& key, const std::string& path) {
    auto it = obj.find(key);
    if (it == obj.end()) return nullptr;
    if (!it->is_array()) {
      fail(sub(path, key), "must be a list, got " + kindOf(*it));
      return nullptr;
    }
    return &*it;
  }
};

// Fargate's task-level cpu units -> the memory sizes (MiB) allowed with it.
bool fargateMemoryAllowed(long cpu, long memory) {
  auto stepped = [&](long lo, long hi, long step) { return memory >= lo && memory <= hi && (memory - lo) % step == 0; };
  switch (cpu) {
    case 256: return memory == 512 || memory == 1024 || memory == 2048;
    case 512: return stepped(1024, 4096, 1024);
    case 1024: return stepped(2048, 8192, 1024);
    case 2048: return stepped(4096, 16384, 1024);
    case 4096: return stepped(8192, 30720, 1024);
    case 8192: return stepped(16384, 61440, 4096);
    case 16384: return stepped(32768, 122880, 8192);
    default: return false;
  }
}

// "256", "1024" or "1 vCPU" -> cpu units; "512", "1GB" -> MiB; -1 when unreadable.
long parseUnits(std::string s, bool cpu) {
  for (auto& c : s) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  std::string suffix = cpu ? "vcpu" : "gb";
  const double scale = 1024;  // 1 vCPU = 1024 units, 1 GB = 1024 MiB
  bool scaled = false;
  if (s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0) {
    s = s.substr(0, s.size() - suffix.size());
    scaled = true;
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  if (s.empty()) return -1;
  try {
    size_t used = 0;
    double v = std::stod(s, &used);
    if (used != s.size() || v < 0) return -1;
    return static_cast<long>(scaled ? v * scale : v);
  } catch (...) {
    return -1;
  }
}

const std::set<std::string> kProxyProperties = {"IgnoredUID",       "IgnoredGID",      "AppPorts",
                                                "ProxyIngressPort", "ProxyEgressPort", "EgressIgnoredPorts",
                                                "EgressIgnoredIPs"};
const std::set<std::string> kConditions = {"START", "COMPLETE", "SUCCESS", "HEALTHY"};

void checkHealthCheck(Checker& c, const ordered_json& hc, const std::string& path) {
  if (!hc.is_object()) {
    c.fail(path, "must be an object, got " + kindOf(hc));
    return;
  }
  auto cmd = hc.find("command");
  if (cmd == hc.end()) {
    c.fail(path + ".command", "required");
  } else if (!cmd->is_array() || cmd->empty() || !(*cmd)[0].is_string()) {
    c.fail(path + ".command", "must be a list of strings starting with CMD or CMD-SHELL");
  } else {
    std::string form = (*cmd)[0].get<std::string>();
    if (form != "CMD" && form != "CMD-SHELL") {
      c.fail(path + ".command[0]", "\"" + form + "\" is not CMD or CMD-SHELL");
    } else if (cmd->size() < 2) {
      c.fail(path + ".command", form + " needs the command after it");
    }
    for (size_t i = 0; i < cmd->size(); ++i) {
      if (!(*cmd)[i].is_string()) c.fail(path + ".command[" + std::to_string(i) + "]", "must be a string");
    }
  }
  c.integerIn(hc, "interval", path, 5, 300, " seconds");
  c.integerIn(hc, "timeout", path, 2, 60, " seconds");
  c.integerIn(hc, "retries", path, 1, 10, "");
  c.integerIn(hc, "startPeriod", path, 0, 300, " seconds");
}

}  // namespace

std::vector<std::string> checkTaskDefinition(const ordered_json& td) {
  Checker c;
  if (!td.is_object()) {
    c.fail("(task definition)", "must be an object, got " + kindOf(td));
    return c.errors;
  }
  if (const auto* family = c.string(td, "family", "", true)) {
    const std::string f = family->get<std::string>();
    bool ok = !f.empty() && f.size() <= 255;
    for (char ch : f) ok = ok && (isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_');
    if (!ok) c.fail("family", "\"" + f + "\" must be 1-255 letters, digits, hyphens or underscores");
  }
  std::string network_mode = "bridge";  // ECS's default on EC2 Linux
  if (const auto* nm = c.string(td, "networkMode", "", false)) {
    network_mode = nm->get<std::string>();
    if (network_mode != "awsvpc" && network_mode != "bridge" && network_mode != "host" && network_mode != "none") {
      c.fail("networkMode", "\"" + network_mode + "\" is not awsvpc, bridge, host or none");
    }
  }
  bool fargate = false;
  if (const auto* rc = c.list(td, "requiresCompatibilities", "")) {
    for (size_t i = 0; i < rc->size(); ++i) {
      const auto& v = (*rc)[i];
      std::string p = "requiresCompatibilities[" + std::to_string(i) + "]";
      if (!v.is_string() || (v != "EC2" && v != "FARGATE" && v != "EXTERNAL")) {
        c.fail(p, kindOf(v) + " is not EC2, FARGATE or EXTERNAL");
      } else if (v == "FARGATE") {
        fargate = true;
      }
    }
  }
  const auto* cpu = c.string(td, "cpu", "", fargate);
  const auto* memory = c.string(td, "memory", "", fargate);
  if (fargate) {
    if (network_mode != "awsvpc") c.fail("networkMode", "FARGATE requires awsvpc, got \"" + network_mode + "\"");
    if (cpu && memory) {
      long cu = parseUnits(cpu->get<std::string>(), true);
      long mi = parseUnits(memory->get<std::string>(), false);
      if (cu < 0) c.fail("cpu", "\"" + cpu->get<std::string>() + "\" is not CPU units (256) or vCPU (\"0.25 vCPU\")");
      if (mi < 0) c.fail("memory", "\"" + memory->get<std::string>() + "\" is not MiB (512) or GB (\"0.5GB\")");
      if (cu >= 0 && mi >= 0 && !fargateMemoryAllowed(cu, mi)) {
        c.fail("memory", std::to_string(mi) + " MiB is not allowed with cpu " + std::to_string(cu) +
                             " on FARGATE (256: 512/1024/2048; 512: 1024-4096; 1024: 2048-8192; 2048: 4096-16384; "
                             "4096: 8192-30720, in 1024 steps; 8192: 16384-61440 in 4096; 16384: 32768-122880 in "
                             "8192)");
      }
    }
  }

  std::map<std::string, bool> essential_by_name;  // name -> essential
  std::vector<std::pair<std::string, const ordered_json*>> depends;  // path, dependsOn list
  auto defs = td.find("containerDefinitions");
  if (defs == td.end()) {
    c.fail("containerDefinitions", "required");
  } else if (!defs->is_array() || defs->empty()) {
    c.fail("containerDefinitions", "must be a non-empty list, got " + kindOf(*defs));
  } else {
    bool any_essential = false;
    for (size_t i = 0; i < defs->size(); ++i) {
      const auto& cd = (*defs)[i];
      std::string path = "containerDefinitions[" + std::to_string(i) + "]";
      if (!cd.is_object()) {
        c.fail(path, "must be an object, got " + kindOf(cd));
        continue;
      }
      std::string name;
      if (const auto* n = c.string(cd, "name", path, true)) {
        name = n->get<std::string>();
        path += " (" + name + ")";
        if (essential_by_name.count(name)) c.fail(path + ".name", "\"" + name + "\" is used by two containers");
      }
      c.string(cd, "image", path, true);
      bool essential = true;  // ECS's default
      if (auto e = cd.find("essential"); e != cd.end()) {
        if (!e->is_boolean()) c.fail(path + ".essential", "must be a boolean, got " + kindOf(*e));
        else essential = e->get<bool>();
      }
      any_essential = any_essential || essential;
      if (!name.empty()) essential_by_name[name] = essential;
      c.string(cd, "user", path, false);
      if (auto hc = cd.find("healthCheck"); hc != cd.end()) checkHealthCheck(c, *hc, path + ".healthCheck");
      if (const auto* pms = c.list(cd, "portMappings", path)) {
        for (size_t j = 0; j < pms->size(); ++j) {
          const auto& pm = (*pms)[j];
          std::string pp = path + ".portMappings[" + std::to_string(j) + "]";
          if (!pm.is_object()) {
            c.fail(pp, "must be an object");
            continue;
          }
          c.integerIn(pm, "containerPort", pp, 0, 65535, "");
          c.integerIn(pm, "hostPort", pp, 0, 65535, "");
          if (auto proto = pm.find("protocol"); proto != pm.end() && *proto != "tcp" && *proto != "udp") {
            c.fail(pp + ".protocol", kindOf(*proto) + " is not tcp or udp");
          }
          if (network_mode == "awsvpc" && pm.contains("hostPort") && pm.contains("containerPort") &&
              pm["hostPort"] != pm["containerPort"]) {
            c.fail(pp + ".hostPort", "with awsvpc it must be left out or equal containerPort");
          }
        }
      }
      if (auto caps = cd.find("linuxParameters"); caps != cd.end() && fargate) {
        const auto& add = (*caps).value("/capabilities/add"_json_pointer, ordered_json::array());
        for (const auto& cap : add) {
          if (cap != "SYS_PTRACE") {
            c.fail(path + ".linuxParameters.capabilities.add", kindOf(cap) + " cannot be added on FARGATE (only SYS_PTRACE)");
          }
        }
      }
      if (const auto* env = c.list(cd, "environment", path)) {
        for (size_t j = 0; j < env->size(); ++j) {
          std::string ep = path + ".environment[" + std::to_string(j) + "]";
          if (!(*env)[j].is_object()) {
            c.fail(ep, "must be an object {name, value}");
            continue;
          }
          c.string((*env)[j], "name", ep, true);
          c.string((*env)[j], "value", ep, true);
        }
      }
      if (const auto* d = c.list(cd, "dependsOn", path)) depends.emplace_back(path, d);
    }
    if (!any_essential) c.fail("containerDefinitions", "at least one container must be essential");
  }

  for (const auto& [path, list] : depends) {
    for (size_t j = 0; j < list->size(); ++j) {
      const auto& dep = (*list)[j];
      std::string dp = path + ".dependsOn[" + std::to_string(j) + "]";
      if (!dep.is_object()) {
        c.fail(dp, "must be an object {containerName, condition}");
        continue;
      }
      const auto* target = c.string(dep, "containerName", dp, true);
      const auto* cond = c.string(dep, "condition", dp, true);
      if (target && !essential_by_name.count(target->get<std::string>())) {
        c.fail(dp + ".containerName", "\"" + target->get<std::string>() + "\" names no container of this task");
      }
      if (cond && !kConditions.count(cond->get<std::string>())) {
        c.fail(dp + ".condition", "\"" + cond->get<std::string>() + "\" is not START, COMPLETE, SUCCESS or HEALTHY");
      }
      if (target && cond && essential_by_name.count(target->get<std::string>()) &&
          essential_by_name[target->get<std::string>()] &&
          (*cond == "SUCCESS" || *cond == "COMPLETE")) {
        c.fail(dp + ".condition", cond->get<std::string>() + " cannot be set on an essential container (\"" +
                                      target->get<std::string>() + "\" is essential)");
      }
    }
  }

  if (auto pc = td.find("proxyConfiguration"); pc != td.end()) {
    const std::string pp = "proxyConfiguration";
    if (!pc->is_object()) {
      c.fail(pp, "must be an object, got " + kindOf(*pc));
    } else {
      if (const auto* type = c.string(*pc, "type", pp, false); type && *type != "APPMESH") {
        c.fail(pp + ".type", "\"" + type->get<std::string>() + "\" is not APPMESH (the only type)");
      }
      if (network_mode != "awsvpc") c.fail(pp, "requires networkMode awsvpc, got \"" + network_mode + "\"");
      if (const auto* cn = c.string(*pc, "containerName", pp, true); cn && !essential_by_name.count(cn->get<std::string>())) {
        c.fail(pp + ".containerName", "\"" + cn->get<std::string>() + "\" names no container of this task");
      }
      std::set<std::string> seen;
      if (const auto* props = c.list(*pc, "properties", pp)) {
        for (size_t j = 0; j < props->size(); ++j) {
          std::string p = pp + ".properties[" + std::to_string(j) + "]";
          if (!(*props)[j].is_object()) {
            c.fail(p, "must be an object {name, value}");
            continue;
          }
          const auto* n = c.string((*props)[j], "name", p, true);
          c.string((*props)[j], "value", p, true);
          if (!n) continue;
          std::string name = n->get<std::string>();
          if (!kProxyProperties.count(name)) {
            c.fail(p + ".name", "\"" + name + "\" is not one of IgnoredUID, IgnoredGID, AppPorts, ProxyIngressPort, "
                                              "ProxyEgressPort, EgressIgnoredPorts, EgressIgnoredIPs");
          }
          if (!seen.insert(name).second) c.fail(p + ".name", "\"" + name + "\" is given twice");
        }
      }
      for (const char* needed : {"AppPorts", "ProxyIngressPort", "ProxyEgressPort"}) {
        if (!seen.count(needed)) c.fail(pp + ".properties", std::string(needed) + " is required");
      }
      if (!seen.count("IgnoredUID") && !seen.count("IgnoredGID")) {
        c.fail(pp + ".properties", "IgnoredUID or IgnoredGID is required");
      }
    }
  }
  return c.errors;
}

std::vector<std::string> checkServiceDefinition(const ordered_json& service) {
  Checker c;
  if (!service.is_object()) {
    c.fail("(service)", "must be an object, got " + kindOf(service));
    return c.errors;
  }
  c.string(service, "serviceName", "", true);
  c.string(service, "taskDefinition", "", true);
  if (const auto* lt = c.string(service, "launchType", "", false);
      lt && *lt != "EC2" && *lt != "FARGATE" && *lt != "EXTERNAL") {
    c.fail("launchType", kindOf(*lt) + " is not EC2, FARGATE or EXTERNAL");
  }
  if (auto sc = service.find("serviceConnectConfiguration"); sc != service.end()) {
    const std::string sp = "serviceConnectConfiguration";
    if (!sc->is_object() || !sc->contains("enabled") || !(*sc)["enabled"].is_boolean()) {
      c.fail(sp + ".enabled", "required, a boolean");
    }
    if (const auto* services = c.list(*sc, "services", sp)) {
      for (size_t i = 0; i < services->size(); ++i) {
        std::string p = sp + ".services[" + std::to_string(i) + "]";
        const auto& s = (*services)[i];
        if (!s.is_object()) {
          c.fail(p, "must be an object");
          continue;
        }
        c.string(s, "portName", p, true);
        if (const auto* aliases = c.list(s, "clientAliases", p)) {
          for (size_t j = 0; j < aliases->size(); ++j) {
            std::string ap = p + ".clientAliases[" + std::to_string(j) + "]";
            if (!(*aliases)[j].contains("port")) c.fail(ap + ".port", "required");
            c.integerIn((*aliases)[j], "port", ap, 0, 65535, "");
          }
        }
      }
    }
  }
  return c.errors;
}

}  // namespace trellis::deploy::ecs
