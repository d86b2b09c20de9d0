// App Mesh -> xDS for every virtual node: see translate.h. One Translator walks the MeshSet;
// for each node it builds the inbound side (listener with a chain per listener port, routes to
// the local app, local-app clusters) and the outbound side (listener with HTTP chains sharing
// one route configuration, a virtual host per backend service and port, TCP chains for tcp
// backends, the egress filter's allow-list or pass-through; the target clusters and their
// endpoints), then sorts everything by name. For each virtual gateway it builds a listener and
// route configuration per http listener port, the gateway routes becoming routes that combine
// their own match with that of each route of the target service (built by the code a node's
// backend uses) and carry the gateway's rewrites. Features the proxy cannot do are reported once
// per resource and field, never emitted.
#include "config/appmesh/translate.h"

#include <arpa/inet.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/appmesh/match_regex.h"
#include "envoy/config/core/v3/address.pb.h"
#include "envoy/config/core/v3/base.pb.h"
#include "envoy/config/core/v3/config_source.pb.h"
#include "envoy/config/core/v3/health_check.pb.h"
#include "envoy/config/listener/v3/listener_components.pb.h"
#include "envoy/extensions/access_loggers/file/v3/file.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/listener/original_dst/v3/original_dst.pb.h"
#include "envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.pb.h"
#include "re2/re2.h"
#include "trellis/extensions/filters/http/egress_policy/v1/egress_policy.pb.h"

namespace trellis::config::appmesh {

namespace {

namespace core = envoy::config::core::v3;
namespace xroute = envoy::config::route::v3;
namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;
namespace tcp = envoy::extensions::filters::network::tcp_proxy::v3;
namespace egress_policy = trellis::extensions::filters::http::egress_policy::v1;
using ClusterProto = envoy::config::cluster::v3::Cluster;
using ListenerProto = envoy::config::listener::v3::Listener;
using FilterChainProto = envoy::config::listener::v3::FilterChain;
using FilterProto = envoy::config::listener::v3::Filter;
using LoadAssignment = envoy::config::endpoint::v3::ClusterLoadAssignment;

constexpr char kHcmFilter[] = "envoy.filters.network.http_connection_manager";
constexpr char kRouterFilter[] = "envoy.filters.http.router";
constexpr char kTcpProxyFilter[] = "envoy.filters.network.tcp_proxy";
constexpr char kOriginalDstFilter[] = "envoy.filters.listener.original_dst";
constexpr char kTlsInspectorFilter[] = "envoy.filters.listener.tls_inspector";
constexpr char kEgressPolicyFilter[] = "trellis.filters.http.egress_policy";
constexpr char kPassthroughCluster[] = "egress_passthrough";
constexpr char kAnyDomain[] = "*";
// How long the outbound listener's TLS inspector waits for a ClientHello before the connection
// goes on as raw_buffer (Trellis's choice): a server-first protocol (MySQL, SMTP) to a tcp
// backend sends nothing until the server greets it, so without a short limit it would be closed
// after Envoy's default 15 s.
constexpr int64_t kListenerFiltersTimeoutMillis = 1000;
constexpr int64_t kDefaultPerRequestMillis = 15000;  // App Mesh's default perRequest timeout
// The request-headers timeout of the HTTP connection managers that face the network (a node's
// inbound listener, a gateway): a sidecar's inbound side is where slow-header clients arrive.
constexpr int64_t kNetworkRequestHeadersTimeoutMillis = 10000;
constexpr int64_t kConnectTimeoutMillis = 1000;      // Trellis's choice for every cluster
// App Mesh's circuit breaker limits where none are configured ("effectively disables circuit
// breakers", for meshes created after 2020-07-29): every threshold at this value.
constexpr uint32_t kUnlimited = 2147483647;
// App Mesh's default retry policy (README.md, "Resilience").
constexpr char kDefaultRetryOn[] =
    "connect-failure,refused-stream,reset,retriable-status-codes,unavailable";
constexpr uint32_t kDefaultNumRetries = 2;
constexpr uint32_t kDefaultRetriableStatus = 503;
constexpr int64_t kDefaultHostSelectionAttempts = 5;
constexpr char kPreviousHosts[] = "envoy.retry_host_predicates.previous_hosts";

// ------------------------------------------------------------------------------- small helpers

std::string join(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : absl::StrCat(parent, ".", key);
}

std::string item(const std::string& parent, size_t index) {
  return absl::StrCat(parent, "[", index, "]");
}

std::string quoted(const std::string& text) { return absl::StrCat("\"", text, "\""); }

bool isIpv4(const std::string& address) {
  unsigned char buffer[4];
  return inet_pton(AF_INET, address.c_str(), buffer) == 1;
}

bool isIpv6(const std::string& address) {
  unsigned char buffer[16];
  return inet_pton(AF_INET6, address.c_str(), buffer) == 1;
}

void setMillis(google::protobuf::Duration* out, int64_t millis) {
  out->set_seconds(millis / 1000);
  out->set_nanos(static_cast<int32_t>((millis % 1000) * 1000000));
}

// App Mesh counts in int64; Envoy's counters are UInt32Value.
uint32_t toUint32(int64_t value) {
  if (value < 0) return 0;
  constexpr int64_t kMax = std::numeric_limits<uint32_t>::max();
  return static_cast<uint32_t>(std::min(value, kMax));
}

void setAdsSource(core::ConfigSource* source) {
  source->mutable_ads();
  source->set_resource_api_version(core::V3);
}

void setSocketAddress(core::Address* out, const std::string& address, int64_t port) {
  core::SocketAddress* socket = out->mutable_socket_address();
  socket->set_address(address);
  socket->set_port_value(static_cast<uint32_t>(port));
}

std::string resourceOf(const VirtualNode& node) {
  return absl::StrCat(node.mesh, "/VirtualNode/", node.name);
}
std::string resourceOf(const Route& route) {
  return absl::StrCat(route.mesh, "/VirtualRouter/", route.virtualRouter, "/Route/", route.name);
}
std::string resourceOf(const VirtualGateway& gateway) {
  return absl::StrCat(gateway.mesh, "/VirtualGateway/", gateway.name);
}
std::string resourceOf(const GatewayRoute& route) {
  return absl::StrCat(route.mesh, "/VirtualGateway/", route.virtualGateway, "/GatewayRoute/",
                      route.name);
}

// The key App Mesh's spec uses for a route's kind ("httpRoute", ...).
std::string routeKind(const RouteSpec& spec) {
  if (spec.httpRoute) return "httpRoute";
  if (spec.http2Route) return "http2Route";
  if (spec.grpcRoute) return "grpcRoute";
  return "tcpRoute";
}

int64_t millisOr(const std::optional<Duration>& duration, int64_t fallback) {
  return duration ? duration->toMillis() : fallback;
}

// Listener, route configuration and cluster names: stable, and unique within a mesh (a node name
// has no '/', and the port is the last '_'-separated part).
std::string listenerName(const char* direction, const HostPort& address) {
  return absl::StrCat("lds_", direction, "_", address.address, "_", address.port);
}
std::string routeConfigName(const char* direction, const VirtualNode& node) {
  return absl::StrCat("rds_", direction, "_", node.mesh, "_", node.name);
}
std::string clusterName(const char* direction, const VirtualNode& node, int64_t port) {
  return absl::StrCat("cds_", direction, "_", node.mesh, "_", node.name, "_", port);
}

// Whether TLS origination is required towards `port` by the caller's client policy.
bool clientTlsRequired(const std::optional<ClientPolicy>& policy, int64_t port) {
  if (!policy || !policy->tls) return false;
  const ClientPolicyTls& tls = *policy->tls;
  if (!tls.enforce.value_or(true)) return false;
  return tls.ports.empty() ||
         std::find(tls.ports.begin(), tls.ports.end(), port) != tls.ports.end();
}

// One threshold set (priority DEFAULT, proto3's zero, so left unset): App Mesh's unlimited
// values, except what `pool` (the listener's connectionPool, on the local-app cluster only)
// limits.
void setCircuitBreakers(const ConnectionPool* pool, ClusterProto& cluster) {
  auto* limits = cluster.mutable_circuit_breakers()->add_thresholds();
  uint32_t connections = kUnlimited;
  uint32_t pending = kUnlimited;
  uint32_t requests = kUnlimited;
  if (pool != nullptr) {
    if (pool->maxConnections) connections = toUint32(*pool->maxConnections);
    if (pool->maxPendingRequests) pending = toUint32(*pool->maxPendingRequests);
    if (pool->maxRequests) requests = toUint32(*pool->maxRequests);
  }
  limits->mutable_max_connections()->set_value(connections);
  limits->mutable_max_pending_requests()->set_value(pending);
  limits->mutable_max_requests()->set_value(requests);
  limits->mutable_max_retries()->set_value(kUnlimited);
}

ClusterProto edsCluster(const std::string& name, const ConnectionPool* pool = nullptr) {
  ClusterProto cluster;
  cluster.set_name(name);
  cluster.set_type(ClusterProto::EDS);
  setAdsSource(cluster.mutable_eds_cluster_config()->mutable_eds_config());
  cluster.mutable_eds_cluster_config()->set_service_name(name);
  setMillis(cluster.mutable_connect_timeout(), kConnectTimeoutMillis);
  cluster.set_lb_policy(ClusterProto::ROUND_ROBIN);
  setCircuitBreakers(pool, cluster);
  return cluster;
}

const Listener* listenerOn(const VirtualNode& node, int64_t port) {
  for (const Listener& listener : node.spec.listeners) {
    if (listener.portMapping.port == port) return &listener;
  }
  return nullptr;
}

// A listener's healthCheck -> the HealthCheck its callers run against its endpoints. Returns
// why it cannot be, if it cannot.
std::optional<std::string> healthCheckOf(const HealthCheckPolicy& policy, int64_t listenerPort,
                                         core::HealthCheck* out) {
  if (policy.port && *policy.port != listenerPort) {
    // Checks go to each endpoint's address and port, the ones callers send this listener's
    // traffic to; a check elsewhere needs a per-check port, which the proxy's HealthCheck lacks.
    return absl::StrCat("port ", *policy.port, " is not the listener's port ", listenerPort,
                        ", and a check can only go where the listener's traffic goes (no "
                        "per-check port): left out, every endpoint counts as healthy");
  }
  switch (policy.protocol) {
    case PortProtocol::kHttp:
      if (!policy.path || policy.path->empty()) {
        return "protocol http without a path (App Mesh leaves it optional, an HTTP check needs "
               "one): left out, every endpoint counts as healthy";
      }
      out->mutable_http_health_check()->set_path(*policy.path);
      break;
    case PortProtocol::kTcp:
      out->mutable_tcp_health_check();  // nothing sent: the check is the connect
      break;
    case PortProtocol::kHttp2:
      return "protocol http2: left out, trellis-proxy has no HTTP/2 client to check with yet "
             "(every endpoint counts as healthy)";
    case PortProtocol::kGrpc:
      return "protocol grpc: left out, the gRPC Health Checking Protocol needs HTTP/2, which "
             "trellis-proxy does not speak yet (every endpoint counts as healthy)";
  }
  setMillis(out->mutable_timeout(), policy.timeoutMillis);
  setMillis(out->mutable_interval(), policy.intervalMillis);
  out->mutable_healthy_threshold()->set_value(toUint32(policy.healthyThreshold));
  out->mutable_unhealthy_threshold()->set_value(toUint32(policy.unhealthyThreshold));
  return std::nullopt;
}

void setOutlierDetection(const OutlierDetection& detection, ClusterProto& cluster) {
  auto* out = cluster.mutable_outlier_detection();
  out->mutable_consecutive_5xx()->set_value(toUint32(detection.maxServerErrors));
  setMillis(out->mutable_interval(), detection.interval.toMillis());
  setMillis(out->mutable_base_ejection_time(), detection.baseEjectionDuration.toMillis());
  out->mutable_max_ejection_percent()->set_value(toUint32(detection.maxEjectionPercent));
}

// App Mesh retry events -> Envoy's retry_on conditions (App Mesh's API reference: server-error
// is 500-508, 510 and 511, gateway-error 502-504, both with reset; client-error 409;
// stream-error a refused stream; connection-error a connect failure). The conditions are sorted
// and each given once, so the output does not depend on the events' order.
void setRetryPolicy(const RetryPolicy& policy, xroute::RetryPolicy* out) {
  std::set<std::string> on;
  std::set<uint32_t> codes;
  for (const std::string& event : policy.httpRetryEvents.value_or(std::vector<std::string>{})) {
    if (event == "server-error") {
      on.insert({"retriable-status-codes", "reset"});
      for (uint32_t code = 500; code <= 511; ++code) {
        if (code != 509) codes.insert(code);
      }
    } else if (event == "gateway-error") {
      on.insert({"gateway-error", "reset"});
    } else if (event == "client-error") {
      on.insert("retriable-4xx");
    } else if (event == "stream-error") {
      on.insert("refused-stream");
    }
  }
  for (const std::string& event : policy.tcpRetryEvents.value_or(std::vector<std::string>{})) {
    if (event == "connection-error") on.insert("connect-failure");
  }
  // gRPC events are Envoy's gRPC conditions under the same names.
  for (const std::string& event : policy.grpcRetryEvents.value_or(std::vector<std::string>{})) {
    on.insert(event);
  }
  out->set_retry_on(absl::StrJoin(on, ","));
  out->mutable_num_retries()->set_value(toUint32(policy.maxRetries));
  const int64_t perTry = policy.perRetryTimeout.toMillis();
  if (perTry > 0) setMillis(out->mutable_per_try_timeout(), perTry);  // 0: no per-try limit
  for (uint32_t code : codes) out->add_retriable_status_codes(code);
}

void setDefaultRetryPolicy(xroute::RetryPolicy* out) {
  out->set_retry_on(kDefaultRetryOn);
  out->mutable_num_retries()->set_value(kDefaultNumRetries);
  out->add_retriable_status_codes(kDefaultRetriableStatus);
  auto* predicate = out->add_retry_host_predicate();
  predicate->set_name(kPreviousHosts);
  predicate->mutable_typed_config()->PackFrom(
      envoy::extensions::retry::host::previous_hosts::v3::PreviousHostsPredicate());
  out->set_host_selection_retry_max_attempts(kDefaultHostSelectionAttempts);
}

// The virtual node's logging.accessLog.file as the HCM's file access log, as App Mesh's Envoy
// had it: the path, and format.text (a format string) or format.json (key/value pairs, typed
// JSON); without a format, Envoy's default text format.
void addAccessLog(const std::optional<Logging>& logging, hcm::HttpConnectionManager& manager) {
  if (!logging || !logging->accessLogFile) return;
  const FileAccessLog& file = *logging->accessLogFile;
  envoy::extensions::access_loggers::file::v3::FileAccessLog config;
  config.set_path(file.path);
  if (file.format && file.format->text) {
    config.mutable_log_format()->mutable_text_format_source()->set_inline_string(*file.format->text);
  } else if (file.format && file.format->json) {
    auto& fields = *config.mutable_log_format()->mutable_json_format()->mutable_fields();
    for (const auto& [key, value] : *file.format->json) fields[key].set_string_value(value);
  }
  auto* log = manager.add_access_log();
  log->set_name("envoy.access_loggers.file");
  log->mutable_typed_config()->PackFrom(config);
}

// An HTTP connection manager to `routeConfig` over RDS, with the connection idle timeout if
// given. With `egressDenyReason`, the egress policy filter goes before the router: a request no
// route matches is refused with 403 naming its destination and that reason.
FilterProto hcmFilter(const char* statPrefix, const std::string& routeConfig,
                      std::optional<int64_t> idleMillis,
                      const std::optional<std::string>& egressDenyReason, const std::optional<Logging>& logging) {
  hcm::HttpConnectionManager manager;
  manager.set_codec_type(hcm::HttpConnectionManager::AUTO);
  manager.set_stat_prefix(statPrefix);
  setAdsSource(manager.mutable_rds()->mutable_config_source());
  manager.mutable_rds()->set_route_config_name(routeConfig);
  if (egressDenyReason) {
    hcm::HttpFilter* policy = manager.add_http_filters();
    policy->set_name(kEgressPolicyFilter);
    egress_policy::EgressPolicy config;
    config.set_reason(*egressDenyReason);
    policy->mutable_typed_config()->PackFrom(config);
  }
  hcm::HttpFilter* router = manager.add_http_filters();
  router->set_name(kRouterFilter);
  router->mutable_typed_config()->PackFrom(envoy::extensions::filters::http::router::v3::Router());
  if (idleMillis) {
    setMillis(manager.mutable_common_http_protocol_options()->mutable_idle_timeout(), *idleMillis);
  }
  if (std::string_view(statPrefix) != "egress") {
    // Connections from the network (a node's inbound side, a gateway) must send their request
    // head within this time: a client that opens connections and trickles headers would
    // otherwise hold them open up to the idle timeout. The local app's egress side keeps
    // Envoy's default (none). App Mesh has no field for it; README "Timeouts" documents it.
    setMillis(manager.mutable_request_headers_timeout(), kNetworkRequestHeadersTimeoutMillis);
  }
  addAccessLog(logging, manager);
  FilterProto filter;
  filter.set_name(kHcmFilter);
  filter.mutable_typed_config()->PackFrom(manager);
  return filter;
}

FilterProto tcpProxyFilter(const tcp::TcpProxy& proxy) {
  FilterProto filter;
  filter.set_name(kTcpProxyFilter);
  filter.mutable_typed_config()->PackFrom(proxy);
  return filter;
}

// A TCP proxy to one cluster, with the idle timeout if given (unset: the proxy's 1 h).
tcp::TcpProxy tcpProxyTo(const std::string& statPrefix, const std::string& cluster,
                         std::optional<int64_t> idleMillis) {
  tcp::TcpProxy proxy;
  proxy.set_stat_prefix(statPrefix);
  proxy.set_cluster(cluster);
  if (idleMillis) setMillis(proxy.mutable_idle_timeout(), *idleMillis);
  return proxy;
}

// A filter chain named `name` with one network filter, for connections to `port` (any port if
// unset) of `transport` ("" for any).
FilterChainProto chainOf(const std::string& name, std::optional<int64_t> port,
                         const std::string& transport, FilterProto filter) {
  FilterChainProto chain;
  chain.set_name(name);
  if (port) {
    chain.mutable_filter_chain_match()->mutable_destination_port()->set_value(
        static_cast<uint32_t>(*port));
  }
  if (!transport.empty()) chain.mutable_filter_chain_match()->set_transport_protocol(transport);
  *chain.add_filters() = std::move(filter);
  return chain;
}

ListenerProto listenerAt(const std::string& name, const HostPort& address,
                         core::TrafficDirection direction) {
  ListenerProto listener;
  listener.set_name(name);
  setSocketAddress(listener.mutable_address(), address.address, address.port);
  listener.set_traffic_direction(direction);
  auto* originalDst = listener.add_listener_filters();
  originalDst->set_name(kOriginalDstFilter);
  originalDst->mutable_typed_config()->PackFrom(
      envoy::extensions::filters::listener::original_dst::v3::OriginalDst());
  return listener;
}

// The pass-through: connects to the connection's original destination (no endpoints).
ClusterProto passthroughCluster() {
  ClusterProto cluster;
  cluster.set_name(kPassthroughCluster);
  cluster.set_type(ClusterProto::ORIGINAL_DST);
  cluster.set_lb_policy(ClusterProto::CLUSTER_PROVIDED);
  setMillis(cluster.mutable_connect_timeout(), kConnectTimeoutMillis);
  setCircuitBreakers(nullptr, cluster);
  return cluster;
}

// A virtual host sending every request to the pass-through, with App Mesh's default timeout.
xroute::VirtualHost passthroughHost(const std::string& name,
                                    const std::vector<std::string>& domains) {
  xroute::VirtualHost host;
  host.set_name(name);
  for (const std::string& domain : domains) host.add_domains(domain);
  xroute::Route* route = host.add_routes();
  route->set_name("passthrough");
  route->mutable_match()->set_prefix("/");
  route->mutable_route()->set_cluster(kPassthroughCluster);
  setMillis(route->mutable_route()->mutable_timeout(), kDefaultPerRequestMillis);
  return host;
}

// The inbound route configuration of one HTTP listener port: everything to the local app.
xroute::RouteConfiguration localAppRoutes(const std::string& name, int64_t port,
                                          const std::string& cluster, int64_t perRequestMillis,
                                          std::optional<int64_t> idleMillis) {
  xroute::RouteConfiguration routes;
  routes.set_name(name);
  xroute::VirtualHost* host = routes.add_virtual_hosts();
  host->set_name(absl::StrCat("local_app_", port));
  *host->add_domains() = std::string(kAnyDomain);
  xroute::Route* route = host->add_routes();
  route->set_name("local_app");
  route->mutable_match()->set_prefix("/");
  route->mutable_route()->set_cluster(cluster);
  setMillis(route->mutable_route()->mutable_timeout(), perRequestMillis);
  if (idleMillis) setMillis(route->mutable_route()->mutable_idle_timeout(), *idleMillis);
  return routes;
}

// Why `pattern` (already lower case) is not an allowed-host entry, if it is not: a host name, or
// "*." and a host name (Envoy's suffix wildcard, in virtual host domains and server_names).
std::optional<std::string> hostPatternProblem(const std::string& pattern) {
  if (pattern.empty()) return std::string("empty entry");
  std::string name = pattern;
  if (name.rfind("*.", 0) == 0) name = name.substr(2);
  if (name.find('*') != std::string::npos) {
    return std::string(
        "'*' is allowed only as a leading \"*.\" (a suffix pattern, e.g. *.amazonaws.com)");
  }
  if (name.empty()) return std::string("nothing after \"*.\"");
  if (name.size() > 253) return std::string("longer than 253 characters");
  size_t start = 0;
  while (true) {
    const size_t dot = name.find('.', start);
    const std::string label = name.substr(start, dot == std::string::npos ? dot : dot - start);
    if (label.empty()) return std::string("empty label (a leading, trailing or double '.')");
    if (label.size() > 63) return absl::StrCat("label ", quoted(label), " is over 63 characters");
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
        return absl::StrCat("'", std::string(1, c),
                            "' is not a host name character (letters, digits, '-', '_', '.')");
      }
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return std::nullopt;
}

// ------------------------------------------------------------------------------ route matches

// App Mesh header (or gRPC metadata) match -> HeaderMatcher. Returns why not, if it cannot be.
std::optional<std::string> headerMatcher(const HeaderMatch& header, xroute::HeaderMatcher* out) {
  const std::string name = absl::AsciiStrToLower(header.name);
  if (!name.empty() && name[0] == ':' && name != ":method" && name != ":path" &&
      name != ":authority") {
    return absl::StrCat("pseudo-header ", quoted(header.name),
                        " cannot be matched (trellis-proxy matches :method, :path, :authority)");
  }
  out->set_name(name);
  if (header.invert.value_or(false)) out->set_invert_match(true);
  if (!header.match) {
    out->set_present_match(true);
    return std::nullopt;
  }
  const HeaderMatchMethod& method = *header.match;
  envoy::type::matcher::v3::StringMatcher* matcher = out->mutable_string_match();
  switch (method.kind) {
    case HeaderMatchMethod::Kind::kExact:
      matcher->set_exact(method.value);
      break;
    case HeaderMatchMethod::Kind::kPrefix:
      matcher->set_prefix(method.value);
      break;
    case HeaderMatchMethod::Kind::kSuffix:
      matcher->set_suffix(method.value);
      break;
    case HeaderMatchMethod::Kind::kRegex: {
      RE2 re(method.value, RE2::Quiet);
      if (!re.ok()) {
        return absl::StrCat("regex ", quoted(method.value), " is not valid RE2: ", re.error());
      }
      matcher->mutable_safe_regex()->set_regex(method.value);
      break;
    }
    case HeaderMatchMethod::Kind::kRange:
      if (method.rangeStart >= method.rangeEnd) {
        return absl::StrCat("range ", method.rangeStart, "-", method.rangeEnd,
                            " matches nothing (the end is excluded)");
      }
      // trellis-proxy has no range matcher: the same integers as an expression.
      matcher->mutable_safe_regex()->set_regex(
          internal::integerRangeRegex(method.rangeStart, method.rangeEnd));
      break;
  }
  return std::nullopt;
}

std::optional<std::string> headerMatchers(const std::optional<std::vector<HeaderMatch>>& headers,
                                          const std::string& path, xroute::RouteMatch* out) {
  if (!headers) return std::nullopt;
  for (size_t i = 0; i < headers->size(); ++i) {
    if (std::optional<std::string> why = headerMatcher((*headers)[i], out->add_headers())) {
      return absl::StrCat(item(path, i), ": ", *why);
    }
  }
  return std::nullopt;
}

// Fills `out` from an httpRoute/http2Route match (`path` is its field path). Returns why the
// route cannot be translated, if it cannot.
std::optional<std::string> httpMatch(const HttpRouteMatch& match, const std::string& path,
                                     xroute::RouteMatch* out) {
  if (match.prefix && match.path) {
    return absl::StrCat(path, ": prefix and path both given (one path matcher only)");
  }
  if (match.path) {
    if (match.path->isRegex) {
      RE2 re(match.path->value, RE2::Quiet);
      if (!re.ok()) {
        return absl::StrCat(path, ".path.regex: ", quoted(match.path->value),
                            " is not valid RE2: ", re.error());
      }
      out->mutable_safe_regex()->set_regex(match.path->value);
    } else {
      out->set_path(match.path->value);
    }
  } else {
    out->set_prefix(match.prefix.value_or("/"));  // App Mesh's default is "/"
  }
  if (match.method) {
    xroute::HeaderMatcher* method = out->add_headers();
    method->set_name(":method");
    method->mutable_string_match()->set_exact(*match.method);
  }
  if (std::optional<std::string> why = headerMatchers(match.headers, join(path, "headers"), out)) {
    return why;
  }
  if (match.queryParameters) {
    // trellis-proxy has no query matcher: an expression on the request target (":path").
    for (const QueryParameterMatch& parameter : *match.queryParameters) {
      xroute::HeaderMatcher* header = out->add_headers();
      header->set_name(":path");
      header->mutable_string_match()->mutable_safe_regex()->set_regex(
          internal::queryParameterRegex(parameter.name, parameter.exact));
    }
  }
  return std::nullopt;
}

std::optional<std::string> grpcMatch(const GrpcRouteMatch& match, const std::string& path,
                                     xroute::RouteMatch* out) {
  // gRPC requests go to "/<service>/<method>".
  if (match.serviceName && match.methodName) {
    out->set_path(absl::StrCat("/", *match.serviceName, "/", *match.methodName));
  } else if (match.serviceName) {
    out->set_prefix(absl::StrCat("/", *match.serviceName, "/"));
  } else {
    out->set_prefix("/");
  }
  return headerMatchers(match.metadata, join(path, "metadata"), out);
}

// Fills `out` from a gateway route's httpRoute match: path, method, headers and query
// parameters as for a route; the hostname as a ":authority" expression (case-insensitive, any
// port), so that every gateway route of a listener stays in one virtual host, in one order.
// match.port chose the listener already.
std::optional<std::string> gatewayMatch(const HttpGatewayRouteMatch& match,
                                        const std::string& path, xroute::RouteMatch* out) {
  HttpRouteMatch plain;
  plain.prefix = match.prefix;
  plain.path = match.path;
  plain.method = match.method;
  plain.headers = match.headers;
  plain.queryParameters = match.queryParameters;
  if (std::optional<std::string> why = httpMatch(plain, path, out)) return why;
  if (match.hostname) {
    // App Mesh: exact is the whole host name, suffix its ending characters (".example.com"
    // matches "www.example.com"; Envoy's "*.example.com").
    const std::string name = RE2::QuoteMeta(absl::AsciiStrToLower(match.hostname->value));
    xroute::HeaderMatcher* authority = out->add_headers();
    authority->set_name(":authority");
    authority->mutable_string_match()->mutable_safe_regex()->set_regex(
        absl::StrCat("(?i)", match.hostname->isSuffix ? ".*" : "", name, "(:[0-9]+)?"));
  }
  return std::nullopt;
}

// A ":path" (request target, query included) matcher for an exact path.
void addExactPathHeader(const std::string& path, xroute::RouteMatch* out) {
  xroute::HeaderMatcher* header = out->add_headers();
  header->set_name(":path");
  header->mutable_string_match()->mutable_safe_regex()->set_regex(
      absl::StrCat(RE2::QuoteMeta(path), "(\\?.*)?"));
}

void addPrefixPathHeader(const std::string& prefix, xroute::RouteMatch* out) {
  xroute::HeaderMatcher* header = out->add_headers();
  header->set_name(":path");
  header->mutable_string_match()->set_prefix(prefix);
}

// Length of a route's path matcher: the longer one goes first among routes of equal priority.
size_t specificity(const RouteSpec& spec) {
  const HttpRoute* http = spec.httpRoute    ? &*spec.httpRoute
                          : spec.http2Route ? &*spec.http2Route
                                            : nullptr;
  if (http) {
    if (http->match.path) return http->match.path->value.size();
    return http->match.prefix.value_or("/").size();
  }
  if (spec.grpcRoute) {
    const GrpcRouteMatch& m = spec.grpcRoute->match;
    if (!m.serviceName) return 1;
    return m.serviceName->size() + 2 + (m.methodName ? m.methodName->size() : 0);
  }
  return 0;
}

// ------------------------------------------------------------------------------- the translator

// The resources of one proxy while they are built, kept sorted by name.
struct ProxyBuild {
  std::map<std::string, ListenerProto> listeners;
  std::map<std::string, xroute::RouteConfiguration> routes;
  std::map<std::string, ClusterProto> clusters;
  std::map<std::string, LoadAssignment> endpoints;
  std::map<std::string, std::vector<Origin>> origins;

  // Records that xDS resource (or route) `name` comes from `resource` in `source`, once.
  void originOf(const std::string& name, const std::string& resource, const Source& source) {
    std::vector<Origin>& list = origins[name];
    for (const Origin& known : list) {
      if (known.resource == resource) return;
    }
    list.push_back({resource, source});
  }
};

// Whose proxy a route or cluster is built for: a virtual node's (its backends) or a virtual
// gateway's (its gateway routes). Errors about what the caller cannot reach name it; `pool` is
// the connection pool the caller's clusters get (a gateway listener's; none for a node, whose
// callers App Mesh left unlimited).
struct Caller {
  const Source& source;
  std::string resource;
  const ConnectionPool* pool = nullptr;
};

// The endpoints of one target cluster (the same for every caller) and, if some are missing,
// why: each caller whose proxy receives the cluster gets an error line for it.
struct TargetEndpoints {
  LoadAssignment assignment;
  std::optional<std::string> problem;
};

class Translator {
 public:
  Translator(const MeshSet& set, const Resolver& resolve, const TranslateOptions& options)
      : set_(set), resolve_(resolve), options_(options) {}

  TranslateResult run() {
    for (const std::string& entry : options_.egressAllowedHosts) {
      const std::string pattern = absl::AsciiStrToLower(entry);
      if (std::optional<std::string> why = hostPatternProblem(pattern)) {
        add(result_.errors, absl::StrCat("TranslateOptions.egressAllowedHosts: ", quoted(entry),
                                         ": ", *why, ": left out of every allow-list"));
      } else if (std::find(allowedHosts_.begin(), allowedHosts_.end(), pattern) ==
                 allowedHosts_.end()) {
        allowedHosts_.push_back(pattern);
      }
    }
    reportLeftOut();
    for (const VirtualNode& node : set_.virtualNodes) {
      const std::string key = nodeKey(node.mesh, node.name);
      if (result_.proxies.count(key) != 0) continue;  // a duplicate: validation reports it
      if (set_.findMesh(node.mesh) == nullptr) {
        error(node.source, resourceOf(node), "",
              absl::StrCat("mesh ", quoted(node.mesh), " is not defined: no configuration"));
        continue;
      }
      result_.proxies.emplace(key, translateNode(node));
    }
    for (const VirtualGateway& gateway : set_.virtualGateways) {
      const std::string key = gatewayKey(gateway.mesh, gateway.name);
      if (result_.proxies.count(key) != 0) continue;  // a duplicate: validation reports it
      if (set_.findMesh(gateway.mesh) == nullptr) {
        error(gateway.source, resourceOf(gateway), "",
              absl::StrCat("mesh ", quoted(gateway.mesh), " is not defined: no configuration"));
        continue;
      }
      result_.proxies.emplace(key, translateGateway(gateway));
    }
    return std::move(result_);
  }

 private:
  // ------------------------------------------------------------------------------ reporting

  static std::string line(const Source& source, const std::string& resource,
                          const std::string& path, const std::string& message) {
    return absl::StrCat(source.label(), ": ", resource, ": ", path.empty() ? "" : path + ": ",
                        message);
  }
  void add(std::vector<std::string>& list, std::string text) {
    if (reported_.insert(text).second) list.push_back(std::move(text));
  }
  void error(const Source& source, const std::string& resource, const std::string& path,
             const std::string& message) {
    add(result_.errors, line(source, resource, path, message));
  }
  void warn(const Source& source, const std::string& resource, const std::string& path,
            const std::string& message) {
    add(result_.warnings, line(source, resource, path, message));
  }

  static Caller callerOf(const VirtualNode& node) { return Caller{node.source, resourceOf(node)}; }

  // What trellis-proxy cannot do yet, reported once per resource and field whoever calls it.
  void reportLeftOut() {
    for (const VirtualNode& node : set_.virtualNodes) {
      const std::string resource = resourceOf(node);
      const std::string spec = node.source.specPath;
      for (size_t i = 0; i < node.spec.listeners.size(); ++i) {
        const Listener& listener = node.spec.listeners[i];
        const std::string base = item(join(spec, "listeners"), i);
        const PortProtocol protocol = listener.portMapping.protocol;
        if (protocol == PortProtocol::kHttp2 || protocol == PortProtocol::kGrpc) {
          warn(node.source, resource, join(base, "portMapping.protocol"),
               absl::StrCat(toString(protocol),
                            ": trellis-proxy speaks HTTP/1.1 only for now; HTTP/2 and gRPC "
                            "requests to or from this port fail"));
        }
        // A health check its callers cannot run (the same for every caller).
        if (listener.healthCheck) {
          core::HealthCheck unused;
          if (std::optional<std::string> why =
                  healthCheckOf(*listener.healthCheck, listener.portMapping.port, &unused)) {
            warn(node.source, resource, join(base, "healthCheck"), *why);
          }
        }
        // STRICT TLS is an error, reported where the inbound listener would be built.
        if (listener.tls && listener.tls->mode == ListenerTlsMode::kPermissive) {
          warn(node.source, resource, join(base, "tls"),
               "left out: trellis-proxy does not terminate TLS yet; with mode PERMISSIVE it "
               "accepts plaintext only");
        }
      }
    }
  }

  // ------------------------------------------------------------------------------ per node

  ProxyResources translateNode(const VirtualNode& node) {
    ProxyBuild build;
    const Sidecar* sidecar = set_.findSidecar(node.mesh, node.name);
    const HostPort inbound = sidecar && sidecar->inbound
                                 ? *sidecar->inbound
                                 : HostPort{kDefaultListenAddress, kDefaultInboundPort};
    const HostPort outbound = sidecar && sidecar->outbound
                                  ? *sidecar->outbound
                                  : HostPort{kDefaultListenAddress, kDefaultOutboundPort};
    const bool inboundBuilt = translateInbound(node, sidecar, inbound, build);
    if (inboundBuilt && inbound.address == outbound.address && inbound.port == outbound.port) {
      error(sidecar ? sidecar->source : node.source, resourceOf(node), "outbound",
            absl::StrCat(toString(outbound), " is also the inbound address: no outbound listener"));
    } else {
      translateOutbound(node, outbound, build);
    }

    return finish(build);
  }

  static ProxyResources finish(ProxyBuild& build) {
    ProxyResources out;
    for (auto& [name, listener] : build.listeners) out.listeners.push_back(std::move(listener));
    for (auto& [name, routes] : build.routes) out.routes.push_back(std::move(routes));
    for (auto& [name, cluster] : build.clusters) out.clusters.push_back(std::move(cluster));
    for (auto& [name, assignment] : build.endpoints) out.endpoints.push_back(std::move(assignment));
    out.origins = std::move(build.origins);
    return out;
  }

  // The inbound listener: one filter chain per listener port of the node, chosen by the
  // connection's original destination port, to the local app on that port; and the first
  // listener's chain again as the default, for connections made to the listener itself (no
  // iptables). Returns whether it was built.
  bool translateInbound(const VirtualNode& node, const Sidecar* sidecar, const HostPort& address,
                        ProxyBuild& build) {
    const std::string resource = resourceOf(node);
    std::string appAddress = kDefaultAppAddress;
    if (sidecar && sidecar->appAddress) appAddress = *sidecar->appAddress;
    ListenerProto listener = listenerAt(listenerName("ingress", address), address, core::INBOUND);
    std::set<int64_t> ports;
    bool firstHttp = true;
    for (size_t i = 0; i < node.spec.listeners.size(); ++i) {
      const Listener& served = node.spec.listeners[i];
      const std::string path = item(join(node.source.specPath, "listeners"), i);
      const int64_t port = served.portMapping.port;
      if (!ports.insert(port).second) {
        error(node.source, resource, path,
              absl::StrCat("a second listener on port ", port, ": left out"));
        continue;
      }
      if (served.tls && served.tls->mode == ListenerTlsMode::kStrict) {
        error(node.source, resource, join(path, "tls.mode"),
              absl::StrCat("STRICT is not supported yet (trellis-proxy does not terminate TLS): "
                           "no inbound filter chain for port ",
                           port, ", so callers are refused rather than served in plaintext"));
        continue;
      }
      int64_t appPort = port;
      if (sidecar) {
        for (const AppPort& mapping : sidecar->appPorts) {
          if (mapping.listenerPort == port) appPort = mapping.appPort;
        }
      }
      const std::string cluster = clusterName("ingress", node, port);
      build.originOf(cluster, resourceOf(node), node.source);
      // The connection pool limits what reaches the local app (App Mesh applied it here, on the
      // destination side, and left callers unlimited).
      const ConnectionPool* pool = served.connectionPool ? &*served.connectionPool : nullptr;
      build.clusters.emplace(cluster, edsCluster(cluster, pool));
      LoadAssignment assignment;
      assignment.set_cluster_name(cluster);
      setSocketAddress(
          assignment.add_endpoints()->add_lb_endpoints()->mutable_endpoint()->mutable_address(),
          appAddress, appPort);
      build.endpoints.emplace(cluster, std::move(assignment));

      const std::optional<ListenerTimeout>& timeout = served.timeout;
      std::optional<int64_t> idle;
      if (timeout && timeout->idle) idle = timeout->idle->toMillis();

      FilterChainProto chain;
      if (served.portMapping.protocol == PortProtocol::kTcp) {
        const std::string name = absl::StrCat("ingress_tcp_", port);
        chain = chainOf(name, port, "", tcpProxyFilter(tcpProxyTo(name, cluster, idle)));
      } else {
        const int64_t perRequest =
            millisOr(timeout ? timeout->perRequest : std::nullopt, kDefaultPerRequestMillis);
        // The first HTTP port keeps the name of the days of one inbound route configuration.
        const std::string routesName =
            firstHttp ? routeConfigName("ingress", node)
                      : absl::StrCat(routeConfigName("ingress", node), "_", port);
        firstHttp = false;
        build.routes.emplace(routesName,
                             localAppRoutes(routesName, port, cluster, perRequest, idle));
        build.originOf(routesName, resourceOf(node), node.source);
        build.originOf(absl::StrCat("local_app_", port, "/local_app"), resourceOf(node),
                       node.source);
        chain = chainOf(absl::StrCat("ingress_http_", port), port, "",
                        hcmFilter("ingress", routesName, idle, std::nullopt, node.spec.logging));
      }
      if (i == 0) {
        // Not redirected (no iptables: the demo, the end-to-end tests): the first listener's app.
        FilterChainProto fallback = chain;
        fallback.clear_filter_chain_match();
        fallback.set_name("ingress_default");
        *listener.mutable_default_filter_chain() = std::move(fallback);
      }
      *listener.add_filter_chains() = std::move(chain);
    }
    if (listener.filter_chains_size() == 0) return false;
    build.originOf(listener.name(), resourceOf(node), node.source);
    build.listeners.emplace(listener.name(), std::move(listener));
    return true;
  }

  // A backend port whose provider listener is tcp, waiting for its filter chain.
  struct TcpBackend {
    std::string service;
    int64_t port = 0;
    std::string path;  // the backend's field path in the caller
    const VirtualNode* targetNode = nullptr;
    const VirtualRouter* router = nullptr;
  };

  // The outbound listener: HTTP chains (the backends' HTTP ports, the listener's own port, and
  // port 80 under DROP_ALL) sharing one route configuration, a TCP chain per tcp backend port,
  // and the mesh's egress filter.
  void translateOutbound(const VirtualNode& node, const HostPort& address, ProxyBuild& build) {
    const std::string resource = resourceOf(node);
    const Mesh* mesh = set_.findMesh(node.mesh);
    const bool dropAll = mesh == nullptr || mesh->spec.egress() == EgressFilterType::kDropAll;
    xroute::RouteConfiguration routes;
    routes.set_name(routeConfigName("egress", node));

    std::vector<size_t> order(node.spec.backends.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return node.spec.backends[a].virtualServiceName < node.spec.backends[b].virtualServiceName;
    });
    std::set<std::string> domains;  // lower-case: the proxy refuses one domain in two hosts
    std::set<int64_t> httpPorts;    // of the backends
    std::vector<TcpBackend> tcpBackends;
    for (size_t index : order) {
      const Backend& backend = node.spec.backends[index];
      const std::string path = item(join(node.source.specPath, "backends"), index);
      std::vector<xroute::VirtualHost> hosts =
          backendHosts(node, backend, path, build, httpPorts, tcpBackends);
      for (xroute::VirtualHost& host : hosts) {
        bool clash = false;
        for (const std::string& domain : host.domains()) {
          if (domains.count(absl::AsciiStrToLower(domain)) != 0) clash = true;
        }
        if (clash) {
          error(node.source, resource, path,
                absl::StrCat("virtual host ", quoted(host.name()),
                             " has a domain another backend already has: left out"));
          continue;
        }
        for (const std::string& domain : host.domains()) {
          domains.insert(absl::AsciiStrToLower(domain));
        }
        *routes.add_virtual_hosts() = std::move(host);
      }
    }

    // TCP: one chain per port; the port alone tells a tcp backend apart.
    std::map<int64_t, std::string> tcpOwner;  // port -> service
    std::map<int64_t, FilterChainProto> tcpChains;  // by port
    for (const TcpBackend& backend : tcpBackends) {
      const std::string what =
          absl::StrCat("port ", backend.port, " of ", quoted(backend.service), " is tcp");
      if (httpPorts.count(backend.port) != 0 || backend.port == address.port) {
        error(node.source, resource, backend.path,
              absl::StrCat(what, ", but ",
                           httpPorts.count(backend.port) != 0
                               ? "an HTTP backend of this node uses that port too"
                               : "that is the outbound listener's own port",
                           " (a tcp backend is told apart by its port alone): the tcp backend is "
                           "left out"));
        continue;
      }
      auto owner = tcpOwner.find(backend.port);
      if (owner != tcpOwner.end()) {
        error(node.source, resource, backend.path,
              absl::StrCat(what, ", as is port ", backend.port, " of ", quoted(owner->second),
                           ": two tcp backends on one port cannot be told apart (App Mesh could "
                           "not either), ",
                           quoted(owner->second), " keeps the port and ", quoted(backend.service),
                           " is left out"));
        continue;
      }
      std::optional<tcp::TcpProxy> proxy = tcpProxyOf(node, backend, build);
      if (!proxy) continue;
      tcpOwner.emplace(backend.port, backend.service);
      tcpChains.emplace(backend.port,
                        chainOf(proxy->stat_prefix(), backend.port, "", tcpProxyFilter(*proxy)));
    }

    // The egress filter.
    std::optional<std::string> denyReason;
    bool passthrough = false;
    std::vector<std::string> allowed;  // the allow-list, less names a backend already has
    if (dropAll) {
      denyReason = absl::StrCat("mesh ", node.mesh,
                                " has egressFilter DROP_ALL and the host is not a backend of "
                                "virtual node ",
                                node.name);
      for (const std::string& pattern : allowedHosts_) {
        if (domains.count(pattern) == 0) allowed.push_back(pattern);
      }
      if (!allowed.empty()) {
        *routes.add_virtual_hosts() = passthroughHost("egress_allowed_hosts", allowed);
        passthrough = true;
      }
      // Unknown hosts on port 80 reach an HTTP chain, whose policy filter explains the 403.
      if (tcpOwner.count(80) == 0) httpPorts.insert(80);
    } else {
      *routes.add_virtual_hosts() = passthroughHost("egress_allow_all", {kAnyDomain});
      passthrough = true;
    }
    // The app may call the listener directly (no iptables): on its own port, and on any
    // loopback destination (never redirected, so only a direct call has one; this also covers
    // a listener bound to port 0 or moved by a test).
    if (address.port > 0) httpPorts.insert(address.port);
    build.originOf(routes.name(), resourceOf(node), node.source);
    build.routes.emplace(routes.name(), std::move(routes));

    ListenerProto listener = listenerAt(listenerName("egress", address), address, core::OUTBOUND);
    auto* inspector = listener.add_listener_filters();
    inspector->set_name(kTlsInspectorFilter);
    inspector->mutable_typed_config()->PackFrom(
        envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector());
    setMillis(listener.mutable_listener_filters_timeout(), kListenerFiltersTimeoutMillis);
    listener.set_continue_on_listener_filters_timeout(true);
    for (int64_t port : httpPorts) {
      *listener.add_filter_chains() =
          chainOf(absl::StrCat("egress_http_", port), port, "raw_buffer",
                  hcmFilter("egress", routeConfigName("egress", node), std::nullopt, denyReason, node.spec.logging));
    }
    {
      FilterChainProto direct =
          chainOf("egress_http_direct", std::nullopt, "raw_buffer",
                  hcmFilter("egress", routeConfigName("egress", node), std::nullopt, denyReason, node.spec.logging));
      for (const auto& [prefix, len] : {std::pair<const char*, uint32_t>{"127.0.0.0", 8}, {"::1", 128}}) {
        auto* range = direct.mutable_filter_chain_match()->add_prefix_ranges();
        range->set_address_prefix(prefix);
        range->mutable_prefix_len()->set_value(len);
      }
      *listener.add_filter_chains() = std::move(direct);
    }
    for (auto& [port, chain] : tcpChains) *listener.add_filter_chains() = std::move(chain);
    if (dropAll && !allowed.empty()) {
      FilterChainProto tls =
          chainOf("egress_tls_allowed", std::nullopt, "tls",
                  tcpProxyFilter(tcpProxyTo("egress_tls_allowed", kPassthroughCluster,
                                            std::nullopt)));
      for (const std::string& pattern : allowed) {
        tls.mutable_filter_chain_match()->add_server_names(pattern);
      }
      *listener.add_filter_chains() = std::move(tls);
    }
    if (!dropAll) {
      *listener.mutable_default_filter_chain() =
          chainOf("egress_passthrough", std::nullopt, "",
                  tcpProxyFilter(tcpProxyTo("egress_passthrough", kPassthroughCluster,
                                            std::nullopt)));
    }
    if (passthrough) {
      build.clusters.emplace(kPassthroughCluster, passthroughCluster());
      if (mesh != nullptr) {
        build.originOf(kPassthroughCluster, absl::StrCat(mesh->name, "/Mesh"), mesh->source);
      }
    }
    build.originOf(listener.name(), resourceOf(node), node.source);
    build.listeners.emplace(listener.name(), std::move(listener));
  }

  // ------------------------------------------------------------------------------ per gateway

  // A virtual gateway's proxy: per HTTP listener, a listener on its port with one HTTP chain
  // whose route configuration holds the gateway's routes for that port, each followed through
  // its target service (the same routes and weighted clusters a node's backend would get), and
  // the clusters those reach.
  ProxyResources translateGateway(const VirtualGateway& gateway) {
    ProxyBuild build;
    const std::string resource = resourceOf(gateway);
    const std::string listenersPath = join(gateway.source.specPath, "listeners");
    std::set<int64_t> ports;
    std::vector<std::pair<size_t, const Listener*>> byPort;  // spec index, listener
    for (size_t i = 0; i < gateway.spec.listeners.size(); ++i) {
      byPort.emplace_back(i, &gateway.spec.listeners[i]);
    }
    std::stable_sort(byPort.begin(), byPort.end(), [](const auto& a, const auto& b) {
      return a.second->portMapping.port < b.second->portMapping.port;
    });
    for (const auto& [index, listener] : byPort) {
      const std::string path = item(listenersPath, index);
      const int64_t port = listener->portMapping.port;
      const PortProtocol protocol = listener->portMapping.protocol;
      if (!ports.insert(port).second) {
        error(gateway.source, resource, path,
              absl::StrCat("a second listener on port ", port, ": left out"));
        continue;
      }
      if (protocol != PortProtocol::kHttp) {
        error(gateway.source, resource, join(path, "portMapping.protocol"),
              protocol == PortProtocol::kTcp
                  ? absl::StrCat("tcp is not a gateway listener protocol (App Mesh allows http, "
                                 "http2, grpc): no listener for port ",
                                 port)
                  : absl::StrCat(toString(protocol),
                                 " is not supported yet (trellis-proxy has no HTTP/2 yet): no "
                                 "listener for port ",
                                 port, ", so clients are refused"));
        continue;
      }
      if (listener->tls && listener->tls->mode == ListenerTlsMode::kStrict) {
        error(gateway.source, resource, join(path, "tls.mode"),
              absl::StrCat("STRICT is not supported yet (trellis-proxy does not terminate TLS): "
                           "no listener for port ",
                           port, ", so clients are refused rather than served in plaintext"));
        continue;
      }
      if (listener->tls && listener->tls->mode == ListenerTlsMode::kPermissive) {
        warn(gateway.source, resource, join(path, "tls"),
             "left out: trellis-proxy does not terminate TLS yet; with mode PERMISSIVE it "
             "accepts plaintext only");
      }
      const ConnectionPool* pool = listener->connectionPool ? &*listener->connectionPool : nullptr;
      Caller caller{gateway.source, resource, pool};

      xroute::RouteConfiguration routes;
      routes.set_name(gatewayRouteConfigName(gateway, port));
      xroute::VirtualHost host;
      host.set_name(absl::StrCat("gateway_", port));
      *host.add_domains() = std::string(kAnyDomain);
      if (listener->healthCheck) {
        gatewayHealthRoute(gateway, *listener->healthCheck, join(path, "healthCheck"), host, build);
      }
      for (const GatewayRoute* route : gatewayRoutesFor(gateway, port)) {
        gatewayRoute(caller, gateway, *route, host, build);
      }
      if (host.routes_size() == 0) {
        warn(gateway.source, resource, path,
             absl::StrCat("no gateway route serves port ", port,
                          ": every request to it gets 404"));
        // The proxy takes a virtual host without routes; keep one so the port still answers.
      }
      *routes.add_virtual_hosts() = std::move(host);
      build.originOf(routes.name(), resource, gateway.source);
      build.routes.emplace(routes.name(), std::move(routes));

      ListenerProto out;
      const HostPort address{kDefaultListenAddress, port};
      out.set_name(listenerName("gateway", address));
      setSocketAddress(out.mutable_address(), address.address, address.port);
      std::optional<int64_t> idle;
      if (listener->timeout && listener->timeout->idle) idle = listener->timeout->idle->toMillis();
      *out.add_filter_chains() =
          chainOf(absl::StrCat("gateway_http_", port), std::nullopt, "",
                  hcmFilter("gateway", gatewayRouteConfigName(gateway, port), idle, std::nullopt,
                            gateway.spec.logging));
      build.originOf(out.name(), resource, gateway.source);
      build.listeners.emplace(out.name(), std::move(out));
    }
    // Gateway routes of a kind no listener here serves yet.
    for (const GatewayRoute* route : set_.gatewayRoutesOf(gateway.mesh, gateway.name)) {
      if (!route->spec.httpRoute) {
        const std::string kind = route->spec.http2Route ? "http2Route" : "grpcRoute";
        error(route->source, resourceOf(*route), join(route->source.specPath, kind),
              "not supported yet (trellis-proxy has no HTTP/2 yet): route left out");
      }
    }
    return finish(build);
  }

  static std::string gatewayRouteConfigName(const VirtualGateway& gateway, int64_t port) {
    return absl::StrCat("rds_gateway_", gateway.mesh, "_", gateway.name, "_", port);
  }

  // A gateway listener's health check, answered by the gateway itself: App Mesh's checker (a
  // load balancer's target group, ECS) asks the gateway whether it is up, and there is no local
  // app behind it to ask. Interval and thresholds are the checker's business.
  void gatewayHealthRoute(const VirtualGateway& gateway, const HealthCheckPolicy& check,
                          const std::string& path, xroute::VirtualHost& host, ProxyBuild& build) {
    if (check.protocol != PortProtocol::kHttp || !check.path || check.path->empty()) {
      warn(gateway.source, resourceOf(gateway), path,
           absl::StrCat("protocol ", toString(check.protocol),
                        check.protocol == PortProtocol::kHttp ? " without a path" : "",
                        ": not answered by the gateway (only an http check with a path is); "
                        "a checker gets whatever the gateway routes give"));
      return;
    }
    xroute::Route* route = host.add_routes();
    route->set_name("health_check");
    route->mutable_match()->set_path(*check.path);
    route->mutable_direct_response()->set_status(200);
    route->mutable_direct_response()->mutable_body()->set_inline_string("healthy");
    build.originOf(absl::StrCat(host.name(), "/health_check"), resourceOf(gateway),
                   gateway.source);
  }

  // The gateway's http routes serving `port` (those with match.port == port, or without a port
  // match), in order: priority first (routes with one before those without, lower first), then
  // the more specific hostname (exact, then the longer suffix, then none), then the longer path
  // or prefix, then the name.
  std::vector<const GatewayRoute*> gatewayRoutesFor(const VirtualGateway& gateway,
                                                    int64_t port) const {
    std::vector<const GatewayRoute*> routes;
    for (const GatewayRoute* route : set_.gatewayRoutesOf(gateway.mesh, gateway.name)) {
      if (!route->spec.httpRoute) continue;
      const std::optional<int64_t>& matchPort = route->spec.httpRoute->match.port;
      if (!matchPort || *matchPort == port) routes.push_back(route);
    }
    auto hostRank = [](const GatewayRoute* r) -> std::pair<int, size_t> {
      const std::optional<HostnameMatch>& h = r->spec.httpRoute->match.hostname;
      if (!h) return {0, 0};
      return {h->isSuffix ? 1 : 2, h->value.size()};
    };
    auto pathLength = [](const GatewayRoute* r) -> size_t {
      const HttpGatewayRouteMatch& m = r->spec.httpRoute->match;
      if (m.path) return m.path->value.size();
      return m.prefix.value_or("/").size();
    };
    std::sort(routes.begin(), routes.end(), [&](const GatewayRoute* a, const GatewayRoute* b) {
      const bool aHas = a->spec.priority.has_value();
      const bool bHas = b->spec.priority.has_value();
      if (aHas != bHas) return aHas;
      if (aHas && *a->spec.priority != *b->spec.priority) {
        return *a->spec.priority < *b->spec.priority;
      }
      if (hostRank(a) != hostRank(b)) return hostRank(a) > hostRank(b);
      if (pathLength(a) != pathLength(b)) return pathLength(a) > pathLength(b);
      return a->name < b->name;
    });
    return routes;
  }

  // How a gateway route changes the request path before the target's routes see it.
  struct PathRewrite {
    enum class Kind { kNone, kPrefix, kWhole };
    Kind kind = Kind::kNone;
    std::string matched;      // kPrefix: the gateway route's prefix, replaced by `value`
    std::string value;        // kPrefix: the new prefix; kWhole: the new path
    bool behindRegex = false;  // kWhole behind a path.regex match: Envoy's regex_rewrite
  };

  // Adds to `out` (a gateway route's match, whose path matcher stays: the proxy's prefix_rewrite
  // strips what it matched) what the path of the original request must satisfy for the service
  // route `service` to match the path after `rewrite`. Returns false if it never can, nullopt
  // if that cannot be expressed (a service regex behind a prefix rewrite).
  static std::optional<bool> combinePath(const PathRewrite& rewrite,
                                         const xroute::RouteMatch& service,
                                         xroute::RouteMatch* out) {
    using Match = xroute::RouteMatch;
    const Match::PathSpecifierCase kind = service.path_specifier_case();
    switch (rewrite.kind) {
      case PathRewrite::Kind::kWhole: {
        // Every request gets the same path: decide here.
        const std::string& path = rewrite.value;
        if (kind == Match::kPrefix) return path.rfind(service.prefix(), 0) == 0;
        if (kind == Match::kPath) return path == service.path();
        if (kind == Match::kSafeRegex) return RE2::FullMatch(path, RE2(service.safe_regex().regex()));
        return true;
      }
      case PathRewrite::Kind::kNone:
        if (kind == Match::kPrefix && service.prefix() != "/") {
          addPrefixPathHeader(service.prefix(), out);
        } else if (kind == Match::kPath) {
          addExactPathHeader(service.path(), out);
        } else if (kind == Match::kSafeRegex) {
          xroute::HeaderMatcher* header = out->add_headers();
          header->set_name(":path");
          header->mutable_string_match()->mutable_safe_regex()->set_regex(
              absl::StrCat("(?:", service.safe_regex().regex(), ")(\\?.*)?"));
        }
        return true;
      case PathRewrite::Kind::kPrefix: {
        // The service sees value + rest where the request had matched + rest.
        const std::string& value = rewrite.value;
        if (kind == Match::kPrefix) {
          const std::string& prefix = service.prefix();
          if (value.rfind(prefix, 0) == 0) return true;  // every rewritten path has it
          if (prefix.rfind(value, 0) != 0) return false;
          addPrefixPathHeader(absl::StrCat(rewrite.matched, prefix.substr(value.size())), out);
          return true;
        }
        if (kind == Match::kPath) {
          const std::string& path = service.path();
          if (path.rfind(value, 0) != 0) return false;
          addExactPathHeader(absl::StrCat(rewrite.matched, path.substr(value.size())), out);
          return true;
        }
        if (kind == Match::kSafeRegex) return std::nullopt;
        return true;
      }
    }
    return true;
  }

  // One gateway route -> one xDS route per route of its target service for the target port: the
  // gateway route's match and the service route's match (as it applies after the rewrite) both
  // hold; the action is the service route's, with the gateway route's rewrites.
  void gatewayRoute(const Caller& caller, const VirtualGateway& gateway, const GatewayRoute& route,
                    xroute::VirtualHost& host, ProxyBuild& build) {
    const std::string resource = resourceOf(route);
    const HttpGatewayRoute& http = *route.spec.httpRoute;
    const std::string base = join(route.source.specPath, "httpRoute");
    const std::string targetPath = join(base, "action.target");
    const std::string& serviceName = http.target.virtualServiceName;
    const VirtualService* service = set_.findVirtualService(route.mesh, serviceName);
    if (service == nullptr) {
      error(route.source, resource, join(targetPath, "virtualService"),
            absl::StrCat("no VirtualService ", quoted(serviceName), ": route left out"));
      return;
    }
    const Provider provider = providerOf(*service);
    if (provider.node == nullptr && provider.router == nullptr) {
      error(route.source, resource, join(targetPath, "virtualService"),
            absl::StrCat("VirtualService ", quoted(serviceName),
                         " has no provider that exists: route left out"));
      return;
    }
    std::optional<int64_t> port = http.target.port;
    if (!port && provider.ports.size() == 1) port = provider.ports.front().port;
    const PortMapping* mapping = nullptr;
    for (const PortMapping& p : provider.ports) {
      if (port && p.port == *port) mapping = &p;
    }
    if (mapping == nullptr) {
      error(route.source, resource, join(targetPath, "port"),
            absl::StrCat(port ? absl::StrCat(*port, " is not a listener port")
                              : std::string("required: several listener ports"),
                         " of the provider of VirtualService ", quoted(serviceName),
                         ": route left out"));
      return;
    }
    if (mapping->protocol != PortProtocol::kHttp) {
      error(route.source, resource, join(targetPath, "port"),
            absl::StrCat("port ", mapping->port, " of VirtualService ", quoted(serviceName),
                         " is ", toString(mapping->protocol),
                         " and an httpRoute reaches http ports only: route left out"));
      return;
    }
    std::optional<ClientPolicy> policy;
    if (gateway.spec.backendDefaults) policy = gateway.spec.backendDefaults->clientPolicy;
    if (clientTlsRequired(policy, mapping->port)) {
      error(gateway.source, resourceOf(gateway), "backendDefaults.clientPolicy.tls",
            absl::StrCat("requires TLS to ", quoted(serviceName), " port ", mapping->port,
                         ", which trellis-proxy cannot originate yet: GatewayRoute ",
                         quoted(route.name), " left out rather than sent in plaintext"));
      return;
    }

    xroute::RouteMatch own;
    if (std::optional<std::string> why = gatewayMatch(http.match, join(base, "match"), &own)) {
      error(route.source, resource, "", absl::StrCat(*why, ": route left out"));
      return;
    }
    std::optional<PathRewrite> rewrite = pathRewriteOf(route, http, base);
    if (!rewrite) return;  // reported
    const bool rewriteHost =
        !http.rewrite || http.rewrite->hostnameDefaultTargetHostname.value_or("ENABLED") ==
                             "ENABLED";

    // The service's routes, as a node's backend would get them (clusters added on the way).
    xroute::VirtualHost behind;
    behind.set_name(host.name());
    // What the target cannot give is reported against this gateway route (its file and field),
    // with the listener's connection pool for the clusters.
    const Caller routeCaller{route.source, resource, caller.pool};
    serviceRoutes(routeCaller, provider, mapping->port, targetPath, behind, build);
    for (const xroute::Route& serviceRoute : behind.routes()) {
      xroute::Route out;
      out.set_name(absl::StrCat(route.name, "/", serviceRoute.name()));
      *out.mutable_match() = own;
      std::optional<bool> possible =
          combinePath(*rewrite, serviceRoute.match(), out.mutable_match());
      const std::string behindKey = absl::StrCat(host.name(), "/", serviceRoute.name());
      const std::vector<Origin> behindOrigins = build.origins[behindKey];
      build.origins.erase(behindKey);
      if (!possible.has_value()) {
        error(route.source, resource, "",
              absl::StrCat("the route ", quoted(serviceRoute.name()), " of VirtualService ",
                           quoted(serviceName),
                           " matches its path with a regex, which cannot be applied after this "
                           "gateway route's prefix rewrite: that route is left out here"));
        continue;
      }
      if (!*possible) continue;  // the rewritten path can never match it
      for (const auto& header : serviceRoute.match().headers()) {
        *out.mutable_match()->add_headers() = header;
      }
      *out.mutable_route() = serviceRoute.route();
      if (rewrite->behindRegex) {
        auto* regex = out.mutable_route()->mutable_regex_rewrite();
        regex->mutable_pattern()->set_regex("^.*$");
        std::string substitution;  // RE2's rewrite syntax: a backslash is written twice
        for (char c : rewrite->value) {
          if (c == '\\') substitution.push_back('\\');
          substitution.push_back(c);
        }
        regex->set_substitution(substitution);
      } else if (rewrite->kind != PathRewrite::Kind::kNone) {
        out.mutable_route()->set_prefix_rewrite(rewrite->value);
      }
      if (rewriteHost) out.mutable_route()->set_host_rewrite_literal(serviceName);
      const std::string key = absl::StrCat(host.name(), "/", out.name());
      build.originOf(key, resource, route.source);
      for (const Origin& o : behindOrigins) build.originOf(key, o.resource, o.source);
      *host.add_routes() = std::move(out);
    }
  }

  // The path rewrite of a gateway route, with App Mesh's defaults: a prefix match rewrites the
  // matched prefix to "/" unless rewrite.prefix says otherwise (defaultPrefix DISABLED keeps
  // it, value replaces it); a path match keeps the path unless rewrite.path.exact gives a new
  // one. nullopt (reported): trellis-proxy cannot do it.
  std::optional<PathRewrite> pathRewriteOf(const GatewayRoute& route, const HttpGatewayRoute& http,
                                           const std::string& base) {
    PathRewrite out;
    const std::optional<GatewayRouteRewrite>& rewrite = http.rewrite;
    if (http.match.path) {
      if (rewrite && rewrite->pathExact) {
        // An exact match: prefix_rewrite of the whole matched path; a regex match: Envoy's
        // regex_rewrite of the whole path.
        out.behindRegex = http.match.path->isRegex;
        out.kind = PathRewrite::Kind::kWhole;
        out.matched = http.match.path->value;
        out.value = *rewrite->pathExact;
      }
      return out;
    }
    const std::string prefix = http.match.prefix.value_or("/");
    std::string value = "/";
    if (rewrite && rewrite->prefixValue) {
      value = *rewrite->prefixValue;
    } else if (rewrite && rewrite->prefixDefaultPrefix.value_or("ENABLED") == "DISABLED") {
      return out;
    }
    if (value == prefix) return out;
    out.kind = PathRewrite::Kind::kPrefix;
    out.matched = prefix;
    out.value = value;
    return out;
  }

  // The TCP proxy of one tcp backend port: to the node provider's cluster, or along the router's
  // tcp route for the port. nullopt (reported) if there is nothing to proxy to.
  std::optional<tcp::TcpProxy> tcpProxyOf(const VirtualNode& caller, const TcpBackend& backend,
                                          ProxyBuild& build) {
    const std::string statPrefix = absl::StrCat("egress_tcp_", backend.port);
    if (backend.targetNode != nullptr) {
      // A node provider's listener timeout applies to its callers, as for HTTP.
      std::optional<int64_t> idle;
      const Listener* listener = listenerOn(*backend.targetNode, backend.port);
      if (listener != nullptr && listener->timeout && listener->timeout->idle) {
        idle = listener->timeout->idle->toMillis();
      }
      return tcpProxyTo(
          statPrefix,
          targetCluster(callerOf(caller), *backend.targetNode, backend.port, backend.path, build),
          idle);
    }
    const Route* chosen = nullptr;
    for (const Route* route : routesFor(*backend.router, backend.port)) {
      if (!route->spec.tcpRoute) {
        error(route->source, resourceOf(*route), "",
              absl::StrCat(routeKind(route->spec), " on tcp port ", backend.port,
                           " of VirtualRouter ", quoted(backend.router->name),
                           ": route left out"));
      } else if (chosen != nullptr) {
        error(route->source, resourceOf(*route), "",
              absl::StrCat("a tcp connection carries nothing to match on, so one tcp route "
                           "serves port ",
                           backend.port, " of VirtualRouter ", quoted(backend.router->name),
                           ", and it is ", quoted(chosen->name),
                           " (first by priority): route left out"));
      } else {
        chosen = route;
      }
    }
    if (chosen == nullptr) {
      error(caller.source, resourceOf(caller), backend.path,
            absl::StrCat("VirtualRouter ", quoted(backend.router->name), " has no tcp route for "
                         "port ", backend.port, ": no route to ", quoted(backend.service), " port ",
                         backend.port));
      return std::nullopt;
    }
    const TcpRoute& route = *chosen->spec.tcpRoute;
    const std::string targetsPath = join(chosen->source.specPath, "tcpRoute.action.weightedTargets");
    std::vector<std::pair<std::string, uint32_t>> weighted;
    for (size_t i = 0; i < route.weightedTargets.size(); ++i) {
      const WeightedTarget& target = route.weightedTargets[i];
      const VirtualNode* node = set_.findVirtualNode(chosen->mesh, target.virtualNode);
      std::optional<int64_t> port = target.port;
      if (node != nullptr && !port && !node->spec.listeners.empty()) {
        port = node->spec.listeners.front().portMapping.port;
      }
      if (node == nullptr || !port || target.weight < 0) {
        error(chosen->source, resourceOf(*chosen), item(targetsPath, i),
              absl::StrCat("target ", quoted(target.virtualNode),
                           node == nullptr ? " does not exist" : " has no listener or weight",
                           ": left out of the route"));
        continue;
      }
      // The cluster of a weight-0 target is sent too, as for HTTP; the TCP proxy takes only
      // weights of 1 or more, so the target itself stays out of weighted_clusters.
      const std::string cluster =
          targetCluster(callerOf(caller), *node, *port, backend.path, build);
      if (target.weight > 0) weighted.emplace_back(cluster, static_cast<uint32_t>(target.weight));
    }
    if (weighted.empty()) {
      error(chosen->source, resourceOf(*chosen), targetsPath,
            "no target with a weight above 0: route left out");
      return std::nullopt;
    }
    std::optional<int64_t> idle;
    if (route.timeout && route.timeout->idle) idle = route.timeout->idle->toMillis();
    tcp::TcpProxy proxy = tcpProxyTo(statPrefix, weighted.front().first, idle);
    if (weighted.size() > 1) {
      auto* clusters = proxy.mutable_weighted_clusters();
      for (const auto& [name, weight] : weighted) {
        auto* cluster = clusters->add_clusters();
        cluster->set_name(name);
        cluster->set_weight(weight);
      }
    }
    return proxy;
  }

  // One virtual host per HTTP port of the backend's provider. Domains: "SERVICE:PORT", plus the
  // bare "SERVICE" on the only port, or on port 80 when there are several. Its HTTP ports go
  // into `httpPorts`, its tcp ports into `tcpBackends`.
  std::vector<xroute::VirtualHost> backendHosts(const VirtualNode& caller, const Backend& backend,
                                                const std::string& path, ProxyBuild& build,
                                                std::set<int64_t>& httpPorts,
                                                std::vector<TcpBackend>& tcpBackends) {
    const std::string resource = resourceOf(caller);
    const std::string& serviceName = backend.virtualServiceName;
    const VirtualService* service = set_.findVirtualService(caller.mesh, serviceName);
    if (service == nullptr) {
      error(caller.source, resource, path,
            absl::StrCat("no VirtualService ", quoted(serviceName), ": no route to it"));
      return {};
    }
    if (!service->spec.provider) {
      error(
          caller.source, resource, path,
          absl::StrCat("VirtualService ", quoted(serviceName), " has no provider: no route to it"));
      return {};
    }
    std::optional<ClientPolicy> policy = backend.clientPolicy;
    if (!policy && caller.spec.backendDefaults) policy = caller.spec.backendDefaults->clientPolicy;
    if (policy && policy->tls && !policy->tls->enforce.value_or(true)) {
      warn(caller.source, resource, path,
           absl::StrCat("client policy TLS to ", quoted(serviceName),
                        " left out (enforce is false): requests go in plaintext"));
    }

    const VirtualServiceProvider& provider = *service->spec.provider;
    const Provider target = providerOf(*service);
    const std::vector<PortMapping>& ports = target.ports;
    const VirtualNode* targetNode = target.node;
    const VirtualRouter* router = target.router;
    if (targetNode == nullptr && router == nullptr) {
      error(caller.source, resource, path,
            absl::StrCat("the provider of VirtualService ", quoted(serviceName), ", ",
                         provider.kind == VirtualServiceProvider::Kind::kVirtualNode
                             ? "VirtualNode "
                             : "VirtualRouter ",
                         quoted(provider.name), ", does not exist: no route to it"));
      return {};
    }
    if (ports.empty()) {
      error(caller.source, resource, path,
            absl::StrCat("the provider of VirtualService ", quoted(serviceName),
                         " has no listener: no route to it"));
    }

    std::vector<xroute::VirtualHost> hosts;
    for (const PortMapping& mapping : ports) {
      const int64_t port = mapping.port;
      if (clientTlsRequired(policy, port)) {
        error(caller.source, resource, path,
              absl::StrCat("client policy requires TLS to ", quoted(serviceName), " port ", port,
                           ", which trellis-proxy cannot originate yet: no route to it rather "
                           "than plaintext"));
        continue;
      }
      if (mapping.protocol == PortProtocol::kTcp) {
        tcpBackends.push_back({serviceName, port, path, targetNode, router});
        continue;
      }
      httpPorts.insert(port);
      xroute::VirtualHost host;
      host.set_name(absl::StrCat(serviceName, ":", port));
      if (ports.size() == 1 || port == 80) host.add_domains(serviceName);
      host.add_domains(absl::StrCat(serviceName, ":", port));
      serviceRoutes(callerOf(caller), target, port, path, host, build);
      hosts.push_back(std::move(host));
    }
    return hosts;
  }

  // A service provided directly by a node: everything to that node's listener, with that
  // listener's perRequest timeout (App Mesh applies a node's listener timeout to its callers).
  void nodeProviderRoute(const Caller& caller, const VirtualNode& target, int64_t port,
                         const std::string& callerPath, xroute::VirtualHost& host,
                         ProxyBuild& build) {
    int64_t perRequest = kDefaultPerRequestMillis;
    std::optional<int64_t> idle;
    const Listener* listener = listenerOn(target, port);
    if (listener != nullptr && listener->timeout) {
      perRequest = millisOr(listener->timeout->perRequest, kDefaultPerRequestMillis);
      if (listener->timeout->idle) idle = listener->timeout->idle->toMillis();
    }
    xroute::Route* route = host.add_routes();
    route->set_name(target.name);
    route->mutable_match()->set_prefix("/");
    xroute::RouteAction* action = route->mutable_route();
    action->set_cluster(targetCluster(caller, target, port, callerPath, build));
    setMillis(action->mutable_timeout(), perRequest);
    if (idle) setMillis(action->mutable_idle_timeout(), *idle);
    // App Mesh gave a virtual node provider's route its default retry policy too (and no way
    // to set another).
    if (options_.defaultRetryPolicy) setDefaultRetryPolicy(action->mutable_retry_policy());
    build.originOf(absl::StrCat(host.name(), "/", route->name()), resourceOf(target), target.source);
  }

  // The routes of `router` that serve `port`, in priority order: routes with a priority first,
  // lowest first; then the longer path or prefix; then the name.
  std::vector<const Route*> routesFor(const VirtualRouter& router, int64_t port) const {
    std::vector<const Route*> routes;
    for (const Route* route : set_.routesOf(router.mesh, router.name)) {
      const std::optional<int64_t> matchPort = route->spec.matchPort();
      // Without a port match a route serves the router's only listener (validation requires
      // the port when there are several; a route that lacks it anyway serves them all).
      if (!matchPort || *matchPort == port) {
        routes.push_back(route);
      }
    }
    std::sort(routes.begin(), routes.end(), [](const Route* a, const Route* b) {
      const bool aHas = a->spec.priority.has_value();
      const bool bHas = b->spec.priority.has_value();
      if (aHas != bHas) return aHas;
      if (aHas && *a->spec.priority != *b->spec.priority) {
        return *a->spec.priority < *b->spec.priority;
      }
      const size_t aLength = specificity(a->spec);
      const size_t bLength = specificity(b->spec);
      if (aLength != bLength) return aLength > bLength;
      return a->name < b->name;
    });
    return routes;
  }

  // A service provided by a router: its routes for `port`, in priority order.
  void routerRoutes(const Caller& caller, const VirtualRouter& router, int64_t port,
                    const std::string& callerPath, xroute::VirtualHost& host, ProxyBuild& build) {
    for (const Route* route : routesFor(router, port)) {
      xroute::Route out;
      if (translateRoute(caller, *route, callerPath, out, build)) {
        build.originOf(absl::StrCat(host.name(), "/", out.name()), resourceOf(*route),
                       route->source);
        *host.add_routes() = std::move(out);
      }
    }
  }

  // The provider of a virtual service, and its listener ports in port order. Neither node nor
  // router set: the service has no provider, or it does not exist (the caller reports it).
  struct Provider {
    const VirtualNode* node = nullptr;
    const VirtualRouter* router = nullptr;
    std::vector<PortMapping> ports;
  };
  Provider providerOf(const VirtualService& service) const {
    Provider out;
    if (!service.spec.provider) return out;
    const VirtualServiceProvider& provider = *service.spec.provider;
    if (provider.kind == VirtualServiceProvider::Kind::kVirtualNode) {
      out.node = set_.findVirtualNode(service.mesh, provider.name);
      if (out.node != nullptr) {
        for (const Listener& listener : out.node->spec.listeners) {
          out.ports.push_back(listener.portMapping);
        }
      }
    } else {
      out.router = set_.findVirtualRouter(service.mesh, provider.name);
      if (out.router != nullptr) out.ports = out.router->spec.listeners;
    }
    std::sort(out.ports.begin(), out.ports.end(),
              [](const PortMapping& a, const PortMapping& b) { return a.port < b.port; });
    return out;
  }

  // The routes of a caller's virtual host for HTTP port `port` of a service: everything to a
  // node provider, or the router's routes for the port, in priority order. A node's outbound
  // virtual host for a backend and a gateway's routes to their target service both come from
  // here, so the two get the same matches, weighted clusters, timeouts and retries.
  void serviceRoutes(const Caller& caller, const Provider& provider, int64_t port,
                     const std::string& callerPath, xroute::VirtualHost& host,
                     ProxyBuild& build) {
    if (provider.node != nullptr) {
      nodeProviderRoute(caller, *provider.node, port, callerPath, host, build);
    } else if (provider.router != nullptr) {
      routerRoutes(caller, *provider.router, port, callerPath, host, build);
    }
  }

  // One App Mesh route -> one xDS route. Returns false (reported) if it cannot be translated.
  bool translateRoute(const Caller& caller, const Route& route, const std::string& callerPath,
                      xroute::Route& out, ProxyBuild& build) {
    const std::string resource = resourceOf(route);
    const RouteSpec& spec = route.spec;
    const std::string base = join(route.source.specPath, routeKind(spec));
    out.set_name(route.name);
    std::optional<std::string> why;
    const std::optional<RouteTimeout>* timeout = nullptr;
    const std::optional<RetryPolicy>* retry = nullptr;
    if (spec.httpRoute || spec.http2Route) {
      const HttpRoute& http = spec.httpRoute ? *spec.httpRoute : *spec.http2Route;
      if (http.match.scheme && absl::AsciiStrToLower(*http.match.scheme) != "http") {
        // The outbound listener is plaintext: every request's scheme is http.
        warn(route.source, resource, join(base, "match.scheme"),
             absl::StrCat(quoted(*http.match.scheme),
                          " never matches (the outbound listener is plaintext): route left out"));
        return false;
      }
      why = httpMatch(http.match, join(base, "match"), out.mutable_match());
      timeout = &http.timeout;
      retry = &http.retryPolicy;
    } else if (spec.grpcRoute) {
      why = grpcMatch(spec.grpcRoute->match, join(base, "match"), out.mutable_match());
      timeout = &spec.grpcRoute->timeout;
      retry = &spec.grpcRoute->retryPolicy;
    } else {
      // A tcp route serves a tcp port (its own filter chain), never an HTTP one.
      why = absl::StrCat(base, ": a tcp route on an HTTP port of the router");
    }
    if (why) {
      error(route.source, resource, "", absl::StrCat(*why, ": route left out"));
      return false;
    }

    xroute::RouteAction* action = out.mutable_route();
    const std::vector<WeightedTarget>& targets = spec.weightedTargets();
    const std::string targetsPath = join(base, "action.weightedTargets");
    int64_t total = 0;
    for (size_t i = 0; i < targets.size(); ++i) {
      const WeightedTarget& target = targets[i];
      const VirtualNode* node = set_.findVirtualNode(route.mesh, target.virtualNode);
      std::optional<int64_t> port = target.port;
      if (node != nullptr && !port && !node->spec.listeners.empty()) {
        port = node->spec.listeners.front().portMapping.port;
      }
      if (node == nullptr || !port || target.weight < 0) {
        error(route.source, resource, item(targetsPath, i),
              absl::StrCat("target ", quoted(target.virtualNode),
                           node == nullptr ? " does not exist" : " has no listener or weight",
                           ": left out of the route"));
        continue;
      }
      // Weight-0 targets stay (the proxy never picks them): shifting weight later changes
      // only the routes, not the clusters.
      auto* weighted = action->mutable_weighted_clusters()->add_clusters();
      weighted->set_name(targetCluster(caller, *node, *port, callerPath, build));
      weighted->mutable_weight()->set_value(static_cast<uint32_t>(target.weight));
      total += target.weight;
    }
    if (total <= 0) {
      error(route.source, resource, targetsPath, "no target with a weight above 0: route left out");
      return false;
    }
    const int64_t perRequest = timeout && timeout->has_value()
                                   ? millisOr((*timeout)->perRequest, kDefaultPerRequestMillis)
                                   : kDefaultPerRequestMillis;
    setMillis(action->mutable_timeout(), perRequest);
    if (timeout && timeout->has_value() && (*timeout)->idle) {
      setMillis(action->mutable_idle_timeout(), (*timeout)->idle->toMillis());
    }
    if (retry && retry->has_value()) {
      setRetryPolicy(**retry, action->mutable_retry_policy());
    } else if (options_.defaultRetryPolicy) {
      setDefaultRetryPolicy(action->mutable_retry_policy());
    }
    return true;
  }

  // Adds the cluster of `target` on `port` (and its endpoints) to the caller's proxy.
  std::string targetCluster(const Caller& caller, const VirtualNode& target, int64_t port,
                            const std::string& callerPath, ProxyBuild& build) {
    const std::string name = clusterName("egress", target, port);
    if (build.clusters.count(name) != 0) return name;
    build.originOf(name, resourceOf(target), target.source);
    // A gateway listener's connectionPool limits what the gateway sends to the clusters its
    // routes reach (a cluster reached from several listeners keeps the first one's, by port).
    ClusterProto cluster = edsCluster(name, caller.pool);
    // The target listener's health check and outlier detection run in every caller (App Mesh:
    // outlier detection "applied at the client Envoy"). Its connection pool does not: App Mesh
    // applied that on the target's own proxy and left callers unlimited.
    if (const Listener* listener = listenerOn(target, port)) {
      core::HealthCheck check;
      if (listener->healthCheck &&
          !healthCheckOf(*listener->healthCheck, port, &check).has_value()) {
        *cluster.add_health_checks() = std::move(check);
      }
      if (listener->outlierDetection) setOutlierDetection(*listener->outlierDetection, cluster);
    }
    build.clusters.emplace(name, std::move(cluster));
    const TargetEndpoints& endpoints = endpointsOf(target, port, name);
    build.endpoints.emplace(name, endpoints.assignment);
    if (endpoints.problem) {
      error(caller.source, caller.resource, callerPath,
            absl::StrCat("cluster ", name, " has no endpoints: ", *endpoints.problem));
    }
    return name;
  }

  const TargetEndpoints& endpointsOf(const VirtualNode& target, int64_t port,
                                     const std::string& cluster) {
    auto found = targets_.find(cluster);
    if (found != targets_.end()) return found->second;
    TargetEndpoints out;
    out.assignment.set_cluster_name(cluster);
    struct Entry {
      std::string address;
      int64_t port;
      int64_t weight;
    };
    std::vector<Entry> entries;
    if (target.spec.serviceDiscovery.dns) {
      std::vector<std::string> addresses = resolveFor(target, out.problem);
      for (const std::string& address : addresses) entries.push_back({address, port, 1});
    } else {
      if (!set_.hasEndpointsDocument(target.mesh, target.name)) {
        warn(target.source, resourceOf(target), "",
             "no Endpoints document lists its instances: its callers get 503 until one does");
      }
      for (const Endpoint& endpoint : set_.endpointsOf(target.mesh, target.name)) {
        entries.push_back({endpoint.address, endpoint.port.value_or(port), endpoint.weight});
      }
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      return std::tie(a.address, a.port) < std::tie(b.address, b.port);
    });
    if (!entries.empty()) {
      auto* locality = out.assignment.add_endpoints();
      for (const Entry& entry : entries) {
        auto* lb = locality->add_lb_endpoints();
        setSocketAddress(lb->mutable_endpoint()->mutable_address(), entry.address, entry.port);
        if (entry.weight != 1) {
          lb->mutable_load_balancing_weight()->set_value(static_cast<uint32_t>(entry.weight));
        }
      }
    }
    return targets_.emplace(cluster, std::move(out)).first->second;
  }

  // The addresses of a DNS node, after its IP preference and response type.
  std::vector<std::string> resolveFor(const VirtualNode& target,
                                      std::optional<std::string>& problem) {
    const DnsServiceDiscovery& dns = *target.spec.serviceDiscovery.dns;
    const std::string what =
        absl::StrCat("VirtualNode ", quoted(target.name), " (", target.source.label(),
                     ") finds its instances by DNS, and ", quoted(dns.hostname));
    auto cached = dns_.find(dns.hostname);
    if (cached == dns_.end()) {
      absl::StatusOr<std::vector<std::string>> answer =
          resolve_ ? resolve_(dns.hostname)
                   : absl::StatusOr<std::vector<std::string>>(
                         absl::FailedPreconditionError("no resolver was given"));
      cached = dns_.emplace(dns.hostname, std::move(answer)).first;
    }
    if (!cached->second.ok()) {
      problem = absl::StrCat(what, " did not resolve: ", cached->second.status().ToString());
      return {};
    }
    std::vector<std::string> v4, v6;
    for (const std::string& address : *cached->second) {
      if (isIpv4(address)) {
        v4.push_back(address);
      } else if (isIpv6(address)) {
        v6.push_back(address);
      } else {
        problem = absl::StrCat(what, " resolved to ", quoted(address), ", not an IP address");
        return {};
      }
    }
    std::optional<IpPreference> preference = dns.ipPreference;
    if (!preference) {
      if (const Mesh* mesh = set_.findMesh(target.mesh)) preference = mesh->spec.ipPreference;
    }
    std::vector<std::string> chosen;
    if (!preference) {
      chosen = *cached->second;
    } else {
      switch (*preference) {
        case IpPreference::kIPv4Only:
          chosen = v4;
          break;
        case IpPreference::kIPv6Only:
          chosen = v6;
          break;
        case IpPreference::kIPv4Preferred:
          chosen = v4.empty() ? v6 : v4;
          break;
        case IpPreference::kIPv6Preferred:
          chosen = v6.empty() ? v4 : v6;
          break;
      }
    }
    if (chosen.empty()) {
      problem =
          absl::StrCat(what, " resolved to no address",
                       preference ? absl::StrCat(" allowed by ipPreference ", toString(*preference))
                                  : std::string());
      return {};
    }
    // LOADBALANCER (App Mesh's default): the name stands for one balancer, so one address;
    // ENDPOINTS: every address is an instance.
    if (dns.responseType.value_or(DnsResponseType::kLoadBalancer) ==
        DnsResponseType::kLoadBalancer) {
      chosen.resize(1);
    }
    return chosen;
  }

  const MeshSet& set_;
  const Resolver& resolve_;
  const TranslateOptions options_;
  TranslateResult result_;
  std::set<std::string> reported_;
  std::vector<std::string> allowedHosts_;  // options_.egressAllowedHosts, checked, lower case
  std::map<std::string, TargetEndpoints> targets_;                       // by cluster name
  std::map<std::string, absl::StatusOr<std::vector<std::string>>> dns_;  // by hostname
};

}  // namespace

std::string nodeKey(std::string_view mesh, std::string_view virtualNode) {
  return absl::StrCat("mesh/", std::string(mesh), "/virtualNode/", std::string(virtualNode));
}

std::string gatewayKey(std::string_view mesh, std::string_view gateway) {
  return absl::StrCat("mesh/", std::string(mesh), "/virtualGateway/", std::string(gateway));
}

absl::StatusOr<std::vector<std::string>> parseEgressAllowedHosts(std::string_view list) {
  std::vector<std::string> out;
  const std::string text(list);
  if (absl::StripAsciiWhitespace(text).empty()) return out;
  size_t start = 0;
  for (size_t index = 1;; ++index) {
    const size_t comma = text.find(',', start);
    const std::string entry = absl::AsciiStrToLower(std::string(absl::StripAsciiWhitespace(
        text.substr(start, comma == std::string::npos ? comma : comma - start))));
    if (std::optional<std::string> why = hostPatternProblem(entry)) {
      return absl::InvalidArgumentError(
          absl::StrCat("entry ", index, " ", quoted(entry), ": ", *why,
                       " (each entry is a host name or a \"*.\" suffix pattern, e.g. "
                       "*.amazonaws.com; an empty value allows nothing)"));
    }
    if (std::find(out.begin(), out.end(), entry) == out.end()) out.push_back(entry);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

TranslateResult translate(const MeshSet& mesh, const Resolver& resolve,
                          const TranslateOptions& options) {
  return Translator(mesh, resolve, options).run();
}

}  // namespace trellis::config::appmesh
