// The environment's variables, one rule each, turned into the sidecar's xDS bootstrap; see
// env_bootstrap.h.
#include "config/bootstrap/env_bootstrap.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "proxy/server/node_identity.h"

namespace trellis::config {
namespace {

using envoy::config::bootstrap::v3::Bootstrap;

constexpr uint32_t kMaxConcurrency = 1024;          // as --concurrency
constexpr uint64_t kMaxInitialFetchTimeoutS = 86400;  // a day: anything longer is a typo

const char* lookup(const Environment& env, const char* name) {
  auto it = env.find(name);
  return it == env.end() || it->second.empty() ? nullptr : it->second.c_str();
}

absl::Status invalid(const std::string& name, const std::string& value, const std::string& allowed) {
  return absl::InvalidArgumentError(absl::StrCat(name, "='", value, "': ", allowed));
}

bool allDigits(const std::string& s) {
  return !s.empty() && s.size() <= 10 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

absl::StatusOr<uint32_t> port(const std::string& name, const std::string& text, const std::string& value) {
  if (!allDigits(text) || std::stoull(text) < 1 || std::stoull(text) > 65535) {
    return invalid(name, value, "the port must be a number from 1 to 65535");
  }
  return static_cast<uint32_t>(std::stoull(text));
}

absl::StatusOr<bool> boolean(const std::string& name, const std::string& value) {
  const std::string v = absl::AsciiStrToLower(value);
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  return invalid(name, value, "expected true or false (or 1 or 0)");
}

struct HostPort {
  std::string host;
  uint32_t port;
};

// HOST:PORT or [IPV6]:PORT.
absl::StatusOr<HostPort> hostPort(const std::string& name, const std::string& value) {
  const std::string shape = "expected HOST:PORT (e.g. trellis-cp:15010, 10.0.0.5:15010 or [fd00::5]:15010)";
  std::string host, port_text;
  if (!value.empty() && value[0] == '[') {
    const size_t close = value.find(']');
    if (close == std::string::npos || close + 1 >= value.size() || value[close + 1] != ':') return invalid(name, value, shape);
    host = value.substr(1, close - 1);
    port_text = value.substr(close + 2);
  } else {
    const size_t colon = value.rfind(':');
    if (colon == std::string::npos || value.find(':') != colon) return invalid(name, value, shape);
    host = value.substr(0, colon);
    port_text = value.substr(colon + 1);
  }
  if (host.empty()) return invalid(name, value, shape);
  auto p = port(name, port_text, value);
  if (!p.ok()) return p.status();
  return HostPort{host, *p};
}

// App Mesh's level names, and spdlog's own spelling of warning.
absl::StatusOr<std::string> logLevel(const std::string& value) {
  static const char* const kLevels[] = {"trace", "debug", "info", "warning", "error", "critical", "off"};
  if (value == "warn") return std::string("warning");
  for (const char* level : kLevels) {
    if (value == level) return std::string(level);
  }
  return invalid("ENVOY_LOG_LEVEL", value, "expected trace, debug, info, warn (or warning), error, critical or off");
}

constexpr const char* kTelemetry =
    "trellis-proxy exports no traces and has no stats sinks; its stats are on the admin endpoint "
    "(/stats, /stats/prometheus)";

const std::vector<EnvVariable>& table() {
  using H = EnvHandling;
  static const std::vector<EnvVariable> variables = {
      {"APPMESH_RESOURCE_ARN", H::kUsed, "required (or APPMESH_VIRTUAL_NODE_NAME)",
       "node.id: arn:aws:appmesh:REGION:ACCOUNT:mesh/MESH/virtualNode/NODE (or .../virtualGateway/GATEWAY); "
       "node.cluster is NODE"},
      {"APPMESH_VIRTUAL_NODE_NAME", H::kUsed, "unset",
       "node.id in the older form mesh/MESH/virtualNode/NODE, when APPMESH_RESOURCE_ARN is unset"},
      {"TRELLIS_CP_ADDRESS", H::kUsed, kDefaultControlPlaneAddress,
       "trellis-cp's ADS address, HOST:PORT; the host is resolved once at start-up"},
      {"APPMESH_XDS_ENDPOINT", H::kUsed, "unset",
       "App Mesh's name for TRELLIS_CP_ADDRESS (same form); setting both to different values is an error"},
      {"ENVOY_ADMIN_ACCESS_PORT", H::kUsed, "9901", "the admin port (/ready, /server_info, /stats), 1-65535"},
      {"ENVOY_ADMIN_ACCESS_ENABLE_IPV6", H::kUsed, "false",
       "true: the admin endpoint listens on [::] (IPv6 and IPv4) instead of 0.0.0.0"},
      {"ENVOY_LOG_LEVEL", H::kUsed, "info", "trace, debug, info, warn, error, critical or off"},
      {"ENVOY_INITIAL_FETCH_TIMEOUT", H::kUsed, "0",
       "seconds the proxy waits for its first configuration before going LIVE with what it has; 0 waits "
       "forever"},
      {"ENVOY_CONCURRENCY", H::kUsed, "the number of cores", "the number of workers, 1-1024 (as --concurrency)"},
      {"ENVOY_ADMIN_ACCESS_LOG_FILE", H::kIgnored, nullptr,
       "trellis-proxy's admin endpoint keeps no access log (/dev/null is accepted without a note)"},
      {"APPMESH_PREVIEW", H::kIgnored, nullptr,
       "there is no preview channel: trellis-cp serves every feature it supports"},
      {"APPMESH_DUALSTACK_ENDPOINT", H::kIgnored, nullptr,
       "it chose an AWS endpoint; trellis-cp is at TRELLIS_CP_ADDRESS"},
      {"ENABLE_ENVOY_XRAY_TRACING", H::kIgnored, nullptr, kTelemetry},
      {"XRAY_DAEMON_PORT", H::kIgnored, nullptr, kTelemetry},
      {"XRAY_SAMPLING_RATE", H::kIgnored, nullptr, kTelemetry},
      {"XRAY_SAMPLING_RULE_MANIFEST", H::kIgnored, nullptr, kTelemetry},
      {"XRAY_SEGMENT_NAME", H::kIgnored, nullptr, kTelemetry},
      {"ENABLE_ENVOY_DATADOG_TRACING", H::kIgnored, nullptr, kTelemetry},
      {"DATADOG_TRACER_ADDRESS", H::kIgnored, nullptr, kTelemetry},
      {"DATADOG_TRACER_PORT", H::kIgnored, nullptr, kTelemetry},
      {"ENABLE_ENVOY_JAEGER_TRACING", H::kIgnored, nullptr, kTelemetry},
      {"JAEGER_TRACER_ADDRESS", H::kIgnored, nullptr, kTelemetry},
      {"JAEGER_TRACER_PORT", H::kIgnored, nullptr, kTelemetry},
      {"JAEGER_TRACER_VERSION", H::kIgnored, nullptr, kTelemetry},
      {"ENVOY_TRACING_CFG_FILE", H::kIgnored, nullptr, kTelemetry},
      {"ENABLE_ENVOY_DOG_STATSD", H::kIgnored, nullptr, kTelemetry},
      {"STATSD_ADDRESS", H::kIgnored, nullptr, kTelemetry},
      {"STATSD_PORT", H::kIgnored, nullptr, kTelemetry},
      {"STATSD_SOCKET_PATH", H::kIgnored, nullptr, kTelemetry},
      {"ENVOY_STATS_SINKS_CFG_FILE", H::kIgnored, nullptr, kTelemetry},
      {"ENABLE_ENVOY_STATS_TAGS", H::kIgnored, nullptr,
       "trellis-proxy's stat names carry no appmesh.* tags"},
      {"ENVOY_STATS_CONFIG_FILE", H::kIgnored, nullptr,
       "stats_config (tag extraction, inclusion lists) is not supported: every stat is kept under its Envoy name"},
      {"APPMESH_SDS_SOCKET_PATH", H::kRefused, nullptr,
       "mutual TLS certificates over SDS (SPIRE) are not supported: starting anyway would serve plaintext where "
       "the mesh asked for mTLS"},
  };
  return variables;
}

// The variable namespaces trellis-proxy reports unknown names from.
bool inOurNamespaces(const std::string& name) {
  return absl::StartsWith(name, "APPMESH_") || absl::StartsWith(name, "ENVOY_") || absl::StartsWith(name, "TRELLIS_");
}

// trellis-init reads these in the same task or pod; trellis-proxy has nothing to say about them.
bool readByTrellisInit(const std::string& name) {
  static const std::set<std::string> kInit = {
      "APPMESH_START_ENABLED",      "APPMESH_IGNORE_UID",         "APPMESH_IGNORE_GID",
      "APPMESH_APP_PORTS",          "APPMESH_ENVOY_INGRESS_PORT", "APPMESH_ENVOY_EGRESS_PORT",
      "APPMESH_EGRESS_IGNORED_IP",  "APPMESH_EGRESS_IGNORED_PORTS",
  };
  return kInit.count(name) > 0 || absl::StartsWith(name, "TRELLIS_CAPTURE_") || name == "TRELLIS_IGNORE_UID" ||
         name == "TRELLIS_IGNORE_GID" || name == "TRELLIS_APP_PORTS" || name == "TRELLIS_INGRESS_PORT" ||
         name == "TRELLIS_EGRESS_PORT" || name == "TRELLIS_EGRESS_IGNORED_IPS" ||
         name == "TRELLIS_EGRESS_IGNORED_PORTS" || name == "TRELLIS_ENABLE_IPV6";
}

absl::StatusOr<HostPort> controlPlane(const Environment& env) {
  const char* trellis = lookup(env, "TRELLIS_CP_ADDRESS");
  const char* appmesh = lookup(env, "APPMESH_XDS_ENDPOINT");
  if (trellis && appmesh && std::string(trellis) != appmesh) {
    return absl::InvalidArgumentError(absl::StrCat("TRELLIS_CP_ADDRESS='", trellis, "' and APPMESH_XDS_ENDPOINT='",
                                                   appmesh, "' differ: set one of them"));
  }
  if (trellis) return hostPort("TRELLIS_CP_ADDRESS", trellis);
  if (appmesh) return hostPort("APPMESH_XDS_ENDPOINT", appmesh);
  return hostPort("TRELLIS_CP_ADDRESS", kDefaultControlPlaneAddress);
}

}  // namespace

const std::vector<EnvVariable>& environmentVariables() { return table(); }

absl::StatusOr<EnvBootstrap> bootstrapFromEnvironment(const Environment& env, const HostResolver& resolve) {
  EnvBootstrap out;
  Bootstrap& b = out.bootstrap;

  for (const EnvVariable& v : table()) {
    const char* value = lookup(env, v.name);
    if (value == nullptr) continue;
    if (v.handling == EnvHandling::kRefused) return invalid(v.name, value, v.meaning);
    if (v.handling != EnvHandling::kIgnored) continue;
    if (std::string(v.name) == "ENVOY_ADMIN_ACCESS_LOG_FILE" && std::string(value) == "/dev/null") continue;
    out.ignored.push_back(absl::StrCat(v.name, "=", value, ": ignored: ", v.meaning));
  }
  for (const auto& [name, value] : env) {  // a map: sorted by name
    if (value.empty() || !inOurNamespaces(name) || readByTrellisInit(name)) continue;
    const bool known = std::any_of(table().begin(), table().end(), [&](const EnvVariable& v) { return name == v.name; });
    if (!known) out.ignored.push_back(absl::StrCat(name, "=", value, ": ignored: not a variable trellis-proxy reads"));
  }

  if (!lookup(env, "APPMESH_RESOURCE_ARN") && !lookup(env, "APPMESH_VIRTUAL_NODE_NAME")) {
    return absl::InvalidArgumentError(
        "APPMESH_RESOURCE_ARN: required when trellis-proxy starts without -c (the virtual node or gateway this "
        "proxy is, arn:aws:appmesh:REGION:ACCOUNT:mesh/MESH/virtualNode/NODE; or APPMESH_VIRTUAL_NODE_NAME="
        "mesh/MESH/virtualNode/NODE)");
  }
  auto node = proxy::resolveNode({}, [&env](const char* name) { return lookup(env, name); });
  if (!node.ok()) return node.status();
  *b.mutable_node() = *node;

  uint32_t admin_port = 9901;
  if (const char* v = lookup(env, "ENVOY_ADMIN_ACCESS_PORT")) {
    auto p = port("ENVOY_ADMIN_ACCESS_PORT", v, v);
    if (!p.ok()) return p.status();
    admin_port = *p;
  }
  bool admin_ipv6 = false;
  if (const char* v = lookup(env, "ENVOY_ADMIN_ACCESS_ENABLE_IPV6")) {
    auto flag = boolean("ENVOY_ADMIN_ACCESS_ENABLE_IPV6", v);
    if (!flag.ok()) return flag.status();
    admin_ipv6 = *flag;
  }
  auto* admin = b.mutable_admin()->mutable_address()->mutable_socket_address();
  admin->set_address(admin_ipv6 ? "::" : "0.0.0.0");
  admin->set_port_value(admin_port);

  if (const char* v = lookup(env, "ENVOY_LOG_LEVEL")) {
    auto level = logLevel(v);
    if (!level.ok()) return level.status();
    out.log_level = *level;
  }
  if (const char* v = lookup(env, "ENVOY_CONCURRENCY")) {
    const std::string s = v;
    if (!allDigits(s) || std::stoull(s) < 1 || std::stoull(s) > kMaxConcurrency) {
      return invalid("ENVOY_CONCURRENCY", s, "expected a number of workers from 1 to 1024");
    }
    out.concurrency = static_cast<uint32_t>(std::stoull(s));
  }
  uint64_t initial_fetch_timeout_s = 0;
  if (const char* v = lookup(env, "ENVOY_INITIAL_FETCH_TIMEOUT")) {
    const std::string s = v;
    if (!allDigits(s) || std::stoull(s) > kMaxInitialFetchTimeoutS) {
      return invalid("ENVOY_INITIAL_FETCH_TIMEOUT", s, "expected whole seconds from 0 (wait forever) to 86400");
    }
    initial_fetch_timeout_s = std::stoull(s);
  }

  auto cp = controlPlane(env);
  if (!cp.ok()) return cp.status();
  const char* cp_variable = lookup(env, "TRELLIS_CP_ADDRESS")     ? "TRELLIS_CP_ADDRESS"
                            : lookup(env, "APPMESH_XDS_ENDPOINT") ? "APPMESH_XDS_ENDPOINT"
                                                                  : nullptr;
  auto ip = resolve(cp->host);
  if (!ip.ok()) {
    const std::string where = cp_variable ? absl::StrCat(cp_variable, "='", lookup(env, cp_variable), "'")
                                          : absl::StrCat("TRELLIS_CP_ADDRESS (unset, so the default ",
                                                         kDefaultControlPlaneAddress, ")");
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": cannot resolve '", cp->host, "': ", ip.status().message()));
  }

  auto* dynamic = b.mutable_dynamic_resources();
  auto* ads = dynamic->mutable_ads_config();
  ads->set_api_type(envoy::config::core::v3::ApiConfigSource::GRPC);
  ads->set_transport_api_version(envoy::config::core::v3::V3);
  ads->add_grpc_services()->mutable_envoy_grpc()->set_cluster_name(kControlPlaneCluster);
  auto* lds = dynamic->mutable_lds_config();
  lds->mutable_ads();
  lds->set_resource_api_version(envoy::config::core::v3::V3);
  lds->mutable_initial_fetch_timeout()->set_seconds(static_cast<int64_t>(initial_fetch_timeout_s));
  auto* cds = dynamic->mutable_cds_config();
  cds->mutable_ads();
  cds->set_resource_api_version(envoy::config::core::v3::V3);

  auto* cluster = b.mutable_static_resources()->add_clusters();
  cluster->set_name(kControlPlaneCluster);
  cluster->set_type(envoy::config::cluster::v3::Cluster::STATIC);
  cluster->mutable_connect_timeout()->set_seconds(1);
  auto* assignment = cluster->mutable_load_assignment();
  assignment->set_cluster_name(kControlPlaneCluster);
  auto* socket = assignment->add_endpoints()->add_lb_endpoints()->mutable_endpoint()->mutable_address()->mutable_socket_address();
  socket->set_address(*ip);
  socket->set_port_value(cp->port);
  return out;
}

}  // namespace trellis::config
