// Environment -> validated CaptureSettings. See capture_settings.h.
#include "deploy/init/capture_settings.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/ascii.h"

namespace trellis::deploy {
namespace {

constexpr uint16_t kSshPort = 22;
constexpr uint64_t kMaxId = 4294967294ULL;  // 2^32-2: (uid_t)-1 means "no user"

const SettingVariable kEnabled{"APPMESH_START_ENABLED", "TRELLIS_CAPTURE_ENABLED", "1",
                               "1: install the capture rules; 0: print that capture is disabled and exit 0, "
                               "touching nothing (the other variables are then not read)."};
const SettingVariable kIgnoreUid{"APPMESH_IGNORE_UID", "TRELLIS_IGNORE_UID", "1337",
                                 "Owner UID whose outbound traffic is never captured: the proxy's own."};
const SettingVariable kIgnoreGid{"APPMESH_IGNORE_GID", "TRELLIS_IGNORE_GID", "(none)",
                                 "Owner GID whose outbound traffic is also never captured."};
const SettingVariable kAppPorts{"APPMESH_APP_PORTS", "TRELLIS_APP_PORTS", "(empty)",
                                "Comma-separated application ports whose inbound TCP traffic is redirected to the "
                                "ingress port. Empty: no inbound capture."};
const SettingVariable kIngressPort{"APPMESH_ENVOY_INGRESS_PORT", "TRELLIS_INGRESS_PORT", "15000",
                                   "The proxy's ingress listener port."};
const SettingVariable kEgressPort{"APPMESH_ENVOY_EGRESS_PORT", "TRELLIS_EGRESS_PORT", "15001",
                                  "The proxy's egress listener port."};
const SettingVariable kIgnoredIps{"APPMESH_EGRESS_IGNORED_IP", "TRELLIS_EGRESS_IGNORED_IPS", "(empty)",
                                  "Comma-separated IPv4/IPv6 addresses or CIDRs never captured outbound, e.g. "
                                  "169.254.169.254,169.254.170.2 (ECS metadata and credentials). IPv4 entries "
                                  "go to iptables, IPv6 entries to ip6tables."};
const SettingVariable kIgnoredPorts{"APPMESH_EGRESS_IGNORED_PORTS", "TRELLIS_EGRESS_IGNORED_PORTS", "(empty)",
                                    "Comma-separated destination ports never captured outbound; 22 is always "
                                    "added."};
const SettingVariable kIpv6{"", "TRELLIS_ENABLE_IPV6", "auto",
                            "auto: also install IPv6 rules when the namespace has IPv6 (/proc/net/if_inet6 "
                            "non-empty) and ip6tables' nat table works; 1: required, fail if not possible; 0: IPv4 "
                            "only."};

// A setting's value and the name it came by (for messages). Empty values count as unset.
struct Raw {
  std::string name;
  std::string value;
};

absl::StatusOr<std::optional<Raw>> read(const EnvLookup& getenv, const SettingVariable& v) {
  std::optional<Raw> appmesh, trellis;
  auto get = [&](const char* name) -> std::optional<Raw> {
    if (name == nullptr || *name == '\0') return std::nullopt;
    const char* value = getenv(name);
    if (value == nullptr) return std::nullopt;
    std::string stripped(absl::StripAsciiWhitespace(value));
    if (stripped.empty()) return std::nullopt;
    return Raw{name, std::move(stripped)};
  };
  appmesh = get(v.appmesh_name);
  trellis = get(v.trellis_name);
  if (appmesh && trellis && appmesh->value != trellis->value) {
    return absl::InvalidArgumentError(absl::StrCat(appmesh->name, "=\"", appmesh->value, "\" and ", trellis->name,
                                                   "=\"", trellis->value,
                                                   "\" disagree; they are the same setting: set one of them, or "
                                                   "both to the same value"));
  }
  if (appmesh) return appmesh;
  return trellis;
}

absl::Status bad(const std::string& name, const std::string& value, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(name, "=\"", value, "\": ", why));
}

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

absl::StatusOr<uint32_t> parseId(const std::string& name, const std::string& value, const char* what) {
  std::string_view digits = value;
  while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
  if (!allDigits(value) || digits.size() > 10 || std::stoull(std::string(digits)) > kMaxId) {
    return bad(name, value, absl::StrCat("not a ", what, "; allowed: a number from 0 to ", kMaxId));
  }
  return static_cast<uint32_t>(std::stoull(std::string(digits)));
}

// Splits a comma list, refusing empty items. An empty value is an empty list.
absl::StatusOr<std::vector<std::string>> splitList(const std::string& name, const std::string& value) {
  std::vector<std::string> items;
  if (value.empty()) return items;
  for (absl::string_view item : absl::StrSplit(value, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (item.empty()) {
      return bad(name, value, "empty item in the list; allowed: items separated by single commas, e.g. 8080,9090");
    }
    items.emplace_back(item);
  }
  return items;
}

// The reason is worded to follow the item: "\"x\" is not an IP address; ...".
absl::StatusOr<Network> networkOf(const std::string& value) {
  std::string address = value;
  std::optional<std::string> prefix_text;
  if (auto slash = value.find('/'); slash != std::string::npos) {
    address = value.substr(0, slash);
    prefix_text = value.substr(slash + 1);
  }
  unsigned char bytes[16] = {};
  Network net;
  int max_prefix;
  if (inet_pton(AF_INET, address.c_str(), bytes) == 1) {
    max_prefix = 32;
  } else if (inet_pton(AF_INET6, address.c_str(), bytes) == 1) {
    net.ipv6 = true;
    max_prefix = 128;
  } else {
    return absl::InvalidArgumentError(
        "is not an IP address; allowed: IPv4 or IPv6 addresses or CIDRs (169.254.169.254, 10.0.0.0/8, fd00::/8)");
  }
  int prefix = max_prefix;
  if (prefix_text) {
    if (!allDigits(*prefix_text) || prefix_text->size() > 3 || std::stoi(*prefix_text) > max_prefix) {
      return absl::InvalidArgumentError(absl::StrCat("has a bad prefix length; allowed: /0 to /", max_prefix,
                                                     " for an ", net.ipv6 ? "IPv6" : "IPv4", " address"));
    }
    prefix = std::stoi(*prefix_text);
  }
  // Clear the host bits, as iptables does when it stores the rule.
  for (int bit = prefix; bit < max_prefix; ++bit) bytes[bit / 8] &= static_cast<unsigned char>(~(0x80u >> (bit % 8)));
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(net.ipv6 ? AF_INET6 : AF_INET, bytes, text, sizeof(text));
  net.cidr = absl::StrCat(text, "/", prefix);
  return net;
}

std::string portsText(const std::vector<uint16_t>& ports) { return absl::StrJoin(ports, ","); }

}  // namespace

const std::vector<SettingVariable>& settingVariables() {
  static const std::vector<SettingVariable> all = {kEnabled,    kIgnoreUid, kIgnoreGid,    kAppPorts, kIngressPort,
                                                   kEgressPort, kIgnoredIps, kIgnoredPorts, kIpv6};
  return all;
}

absl::StatusOr<uint16_t> parsePort(const std::string& name, const std::string& value) {
  std::string_view digits = value;
  while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
  if (!allDigits(value) || digits.size() > 5 || std::stoul(std::string(digits)) < 1 ||
      std::stoul(std::string(digits)) > 65535) {
    return bad(name, value, "not a port; allowed: a number from 1 to 65535");
  }
  return static_cast<uint16_t>(std::stoul(std::string(digits)));
}

absl::StatusOr<std::vector<uint16_t>> parsePortList(const std::string& name, const std::string& value) {
  auto items = splitList(name, value);
  if (!items.ok()) return items.status();
  std::vector<uint16_t> ports;
  for (const std::string& item : *items) {
    auto port = parsePort(name, item);
    if (!port.ok()) {
      return bad(name, value, absl::StrCat("\"", item, "\" is not a port; allowed: numbers from 1 to 65535, "
                                           "separated by commas"));
    }
    if (std::find(ports.begin(), ports.end(), *port) != ports.end()) {
      return bad(name, value, absl::StrCat("port ", *port, " is listed twice; allowed: each port once"));
    }
    ports.push_back(*port);
  }
  return ports;
}

absl::StatusOr<Network> parseNetwork(const std::string& name, const std::string& value) {
  auto net = networkOf(value);
  if (!net.ok()) return bad(name, value, absl::StrCat("\"", value, "\" ", net.status().message()));
  return net;
}

absl::StatusOr<CaptureSettings> parseCaptureSettings(const EnvLookup& getenv) {
  CaptureSettings s;
#define TRELLIS_READ(var, raw)    \
  auto raw = read(getenv, var);   \
  if (!raw.ok()) return raw.status()

  TRELLIS_READ(kEnabled, enabled);
  if (*enabled) {
    if ((*enabled)->value == "0") {
      s.enabled = false;
      return s;
    }
    if ((*enabled)->value != "1") return bad((*enabled)->name, (*enabled)->value, "allowed: 1 (install) or 0 (disabled)");
  }

  TRELLIS_READ(kIgnoreUid, uid);
  if (*uid) {
    auto v = parseId((*uid)->name, (*uid)->value, "UID");
    if (!v.ok()) return v.status();
    s.ignore_uid = *v;
  }
  TRELLIS_READ(kIgnoreGid, gid);
  if (*gid) {
    auto v = parseId((*gid)->name, (*gid)->value, "GID");
    if (!v.ok()) return v.status();
    s.ignore_gid = *v;
  }

  TRELLIS_READ(kIngressPort, ingress);
  if (*ingress) {
    auto v = parsePort((*ingress)->name, (*ingress)->value);
    if (!v.ok()) return v.status();
    s.ingress_port = *v;
  }
  TRELLIS_READ(kEgressPort, egress);
  if (*egress) {
    auto v = parsePort((*egress)->name, (*egress)->value);
    if (!v.ok()) return v.status();
    s.egress_port = *v;
  }
  if (s.ingress_port == s.egress_port) {
    return absl::InvalidArgumentError(
        absl::StrCat(*ingress ? (*ingress)->name : absl::StrCat(kIngressPort.trellis_name, " (by default)"), " and ",
                     *egress ? (*egress)->name : absl::StrCat(kEgressPort.trellis_name, " (by default)"),
                     " are both ", s.ingress_port,
                     "; allowed: two different ports (the proxy's ingress and egress listeners)"));
  }

  TRELLIS_READ(kAppPorts, app);
  if (*app) {
    auto v = parsePortList((*app)->name, (*app)->value);
    if (!v.ok()) return v.status();
    for (uint16_t p : *v) {
      if (p == s.ingress_port || p == s.egress_port) {
        return bad((*app)->name, (*app)->value,
                   absl::StrCat("app port ", p, " is the proxy's ", p == s.ingress_port ? "ingress" : "egress",
                                " port; allowed: application ports other than ", s.ingress_port, " and ",
                                s.egress_port));
      }
    }
    s.app_ports = std::move(*v);
  }

  TRELLIS_READ(kIgnoredIps, ips);
  if (*ips) {
    auto items = splitList((*ips)->name, (*ips)->value);
    if (!items.ok()) return items.status();
    for (const std::string& item : *items) {
      auto net = networkOf(item);
      if (!net.ok()) return bad((*ips)->name, (*ips)->value, absl::StrCat("\"", item, "\" ", net.status().message()));
      if (std::find(s.egress_ignored_networks.begin(), s.egress_ignored_networks.end(), *net) !=
          s.egress_ignored_networks.end()) {
        return bad((*ips)->name, (*ips)->value,
                   absl::StrCat("\"", item, "\" is listed twice (as ", net->cidr, "); allowed: each network once"));
      }
      s.egress_ignored_networks.push_back(*net);
    }
  }

  s.egress_ignored_ports = {kSshPort};
  TRELLIS_READ(kIgnoredPorts, ignored_ports);
  if (*ignored_ports) {
    auto v = parsePortList((*ignored_ports)->name, (*ignored_ports)->value);
    if (!v.ok()) return v.status();
    for (uint16_t p : *v) {
      if (p != kSshPort) s.egress_ignored_ports.push_back(p);  // 22 given explicitly is the one always added
    }
  }

  TRELLIS_READ(kIpv6, ipv6);
  if (*ipv6) {
    const std::string& v = (*ipv6)->value;
    if (v == "auto") {
      s.ipv6 = Ipv6Mode::kAuto;
    } else if (v == "1") {
      s.ipv6 = Ipv6Mode::kOn;
    } else if (v == "0") {
      s.ipv6 = Ipv6Mode::kOff;
    } else {
      return bad((*ipv6)->name, v, "allowed: auto, 1 (required) or 0 (IPv4 only)");
    }
  }
#undef TRELLIS_READ
  return s;
}

std::string describeSettings(const CaptureSettings& s) {
  if (!s.enabled) return "TRELLIS_CAPTURE_ENABLED=0\n";
  std::vector<std::string> nets;
  for (const Network& n : s.egress_ignored_networks) nets.push_back(n.cidr);
  const char* ipv6 = s.ipv6 == Ipv6Mode::kAuto ? "auto" : s.ipv6 == Ipv6Mode::kOn ? "1" : "0";
  return absl::StrCat("TRELLIS_CAPTURE_ENABLED=1\n", "TRELLIS_IGNORE_UID=", s.ignore_uid, "\n",
                      "TRELLIS_IGNORE_GID=", s.ignore_gid ? absl::StrCat(*s.ignore_gid) : "", "\n",
                      "TRELLIS_APP_PORTS=", portsText(s.app_ports), "\n", "TRELLIS_INGRESS_PORT=", s.ingress_port,
                      "\n", "TRELLIS_EGRESS_PORT=", s.egress_port, "\n",
                      "TRELLIS_EGRESS_IGNORED_IPS=", absl::StrJoin(nets, ","), "\n",
                      "TRELLIS_EGRESS_IGNORED_PORTS=", portsText(s.egress_ignored_ports), "\n",
                      "TRELLIS_ENABLE_IPV6=", ipv6, "\n");
}

}  // namespace trellis::deploy
