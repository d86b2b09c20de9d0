// Translation of App Mesh specs into per-proxy xDS resources: the color app against golden
// files, and one test per translation rule on small meshes written inline.
//
// Golden files: testdata/golden/colorapp/<node>.textproto (the node's resources in protobuf
// text format) and report.txt (errors and warnings). After an intended change, regenerate them
// with
//   TRELLIS_UPDATE_GOLDEN=1 bazel run //config/appmesh:translate_test
// (bazel run, not test: it writes into the source tree) and review the diff.
#include "config/appmesh/translate.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/text_format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/appmesh/loader.h"
#include "config/appmesh/validate.h"
#include "envoy/extensions/access_loggers/file/v3/file.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.pb.h"
#include "trellis/extensions/filters/http/egress_policy/v1/egress_policy.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "re2/re2.h"

namespace trellis::config::appmesh {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
namespace pb = google::protobuf;
namespace xroute = envoy::config::route::v3;
namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;

constexpr char kTestdata[] = "config/appmesh/testdata/";

// ------------------------------------------------------------------------ what the proxy takes

// The fields trellis-proxy accepts (proxy/snapshot/compile.cc), per message type. A field set
// outside this list would make the proxy NACK the whole update. Health checks, outlier
// detection, circuit breakers, retry policies and route idle timeouts are the ones the proxy's
// upstream-resilience contract (proxy/snapshot/snapshot.h) takes.
const std::map<std::string, std::set<std::string>>& acceptedFields() {
  static const auto* fields = new std::map<std::string, std::set<std::string>>{
      {"envoy.config.listener.v3.Listener",
       {"name", "address", "filter_chains", "traffic_direction", "listener_filters",
        "listener_filters_timeout", "continue_on_listener_filters_timeout",
        "default_filter_chain"}},
      {"envoy.config.core.v3.Address", {"socket_address"}},
      {"envoy.config.core.v3.SocketAddress", {"address", "port_value"}},
      {"envoy.config.listener.v3.ListenerFilter", {"name", "typed_config"}},
      {"envoy.extensions.filters.listener.original_dst.v3.OriginalDst", {}},
      {"envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector", {}},
      {"envoy.config.listener.v3.FilterChain", {"filter_chain_match", "filters", "name"}},
      {"envoy.config.listener.v3.FilterChainMatch",
       {"destination_port", "prefix_ranges", "server_names", "transport_protocol"}},
      {"envoy.config.core.v3.CidrRange", {"address_prefix", "prefix_len"}},
      {"envoy.config.listener.v3.Filter", {"name", "typed_config"}},
      {"envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
       {"stat_prefix", "cluster", "weighted_clusters", "idle_timeout"}},
      {"envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster", {"clusters"}},
      {"envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight",
       {"name", "weight"}},
      {"trellis.extensions.filters.http.egress_policy.v1.EgressPolicy", {"reason"}},
      {"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
       {"codec_type", "stat_prefix", "rds", "route_config", "http_filters",
        "common_http_protocol_options", "request_headers_timeout", "max_request_headers_kb",
        "use_remote_address", "generate_request_id", "access_log"}},
      {"envoy.config.accesslog.v3.AccessLog", {"name", "filter", "typed_config"}},
      {"envoy.extensions.access_loggers.file.v3.FileAccessLog", {"path", "log_format"}},
      {"envoy.config.core.v3.SubstitutionFormatString",
       {"text_format_source", "json_format", "omit_empty_values"}},
      {"google.protobuf.Struct", {"fields"}},
      {"google.protobuf.Struct.FieldsEntry", {"key", "value"}},
      {"google.protobuf.Value", {"string_value"}},
      {"envoy.extensions.filters.network.http_connection_manager.v3.Rds",
       {"config_source", "route_config_name"}},
      {"envoy.config.core.v3.ConfigSource", {"ads", "resource_api_version"}},
      {"envoy.config.core.v3.AggregatedConfigSource", {}},
      {"envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter",
       {"name", "typed_config"}},
      {"envoy.extensions.filters.http.router.v3.Router", {}},
      {"envoy.config.core.v3.HttpProtocolOptions", {"idle_timeout", "max_headers_count"}},
      {"envoy.config.route.v3.RouteConfiguration", {"name", "virtual_hosts"}},
      {"envoy.config.route.v3.VirtualHost", {"name", "domains", "routes"}},
      {"envoy.config.route.v3.Route", {"name", "match", "route", "direct_response"}},
      {"envoy.config.route.v3.RouteMatch",
       {"prefix", "path", "safe_regex", "case_sensitive", "headers"}},
      {"envoy.config.route.v3.HeaderMatcher",
       {"name", "exact_match", "prefix_match", "suffix_match", "contains_match", "safe_regex_match",
        "present_match", "string_match", "invert_match"}},
      {"envoy.type.matcher.v3.StringMatcher",
       {"exact", "prefix", "suffix", "contains", "safe_regex"}},
      {"envoy.type.matcher.v3.RegexMatcher", {"regex"}},
      {"envoy.config.route.v3.RouteAction",
       {"cluster", "weighted_clusters", "timeout", "prefix_rewrite", "idle_timeout",
        "retry_policy", "host_rewrite_literal", "regex_rewrite"}},
      {"envoy.type.matcher.v3.RegexMatchAndSubstitute", {"pattern", "substitution"}},
      {"envoy.config.route.v3.RetryPolicy",
       {"retry_on", "num_retries", "per_try_timeout", "retry_host_predicate",
        "host_selection_retry_max_attempts", "retriable_status_codes"}},
      {"envoy.config.route.v3.RetryPolicy.RetryHostPredicate", {"name", "typed_config"}},
      {"envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate", {}},
      {"envoy.config.route.v3.WeightedCluster", {"clusters"}},
      {"envoy.config.route.v3.WeightedCluster.ClusterWeight", {"name", "weight"}},
      {"envoy.config.route.v3.DirectResponseAction", {"status", "body"}},
      {"envoy.config.core.v3.DataSource", {"inline_string"}},
      {"envoy.config.cluster.v3.Cluster",
       {"name", "type", "eds_cluster_config", "connect_timeout", "lb_policy", "health_checks",
        "outlier_detection", "circuit_breakers"}},
      {"envoy.config.core.v3.HealthCheck",
       {"timeout", "interval", "unhealthy_threshold", "healthy_threshold", "http_health_check",
        "tcp_health_check"}},
      {"envoy.config.core.v3.HealthCheck.HttpHealthCheck", {"path"}},
      {"envoy.config.core.v3.HealthCheck.TcpHealthCheck", {}},
      {"envoy.config.cluster.v3.OutlierDetection",
       {"consecutive_5xx", "interval", "base_ejection_time", "max_ejection_percent"}},
      {"envoy.config.cluster.v3.CircuitBreakers", {"thresholds"}},
      {"envoy.config.cluster.v3.CircuitBreakers.Thresholds",
       {"priority", "max_connections", "max_pending_requests", "max_requests", "max_retries"}},
      {"envoy.config.cluster.v3.Cluster.EdsClusterConfig", {"eds_config", "service_name"}},
      {"envoy.config.endpoint.v3.ClusterLoadAssignment", {"cluster_name", "endpoints"}},
      {"envoy.config.endpoint.v3.LocalityLbEndpoints", {"lb_endpoints"}},
      {"envoy.config.endpoint.v3.LbEndpoint",
       {"endpoint", "load_balancing_weight", "health_status"}},
      {"envoy.config.endpoint.v3.Endpoint", {"address"}},
      {"google.protobuf.Duration", {"seconds", "nanos"}},
      {"google.protobuf.UInt32Value", {"value"}},
      {"google.protobuf.BoolValue", {"value"}},
  };
  return *fields;
}

// The typed_config types the translation emits, each with its one expected name.
const std::map<std::string, std::string>& typedConfigNames() {
  static const auto* names = new std::map<std::string, std::string>{
      {"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
       "envoy.filters.network.http_connection_manager"},
      {"envoy.extensions.access_loggers.file.v3.FileAccessLog", "envoy.access_loggers.file"},
      {"envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
       "envoy.filters.network.tcp_proxy"},
      {"envoy.extensions.filters.http.router.v3.Router", "envoy.filters.http.router"},
      {"trellis.extensions.filters.http.egress_policy.v1.EgressPolicy",
       "trellis.filters.http.egress_policy"},
      {"envoy.extensions.filters.listener.original_dst.v3.OriginalDst",
       "envoy.filters.listener.original_dst"},
      {"envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector",
       "envoy.filters.listener.tls_inspector"},
      {"envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate",
       "envoy.retry_host_predicates.previous_hosts"},
  };
  return *names;
}

// Every set field, recursively (through Any, by the generated pool), must be accepted.
void expectAccepted(const pb::Message& message, const std::string& path) {
  const pb::Descriptor* type = message.GetDescriptor();
  if (type->full_name() == "google.protobuf.Any") {
    const auto& any = static_cast<const pb::Any&>(message);
    const std::string typeName = any.type_url().substr(any.type_url().rfind('/') + 1);
    const pb::Descriptor* inner = pb::DescriptorPool::generated_pool()->FindMessageTypeByName(
        typeName);
    if (inner == nullptr || typedConfigNames().count(typeName) == 0) {
      ADD_FAILURE() << path << ": Any of unexpected type " << any.type_url();
      return;
    }
    std::unique_ptr<pb::Message> unpacked(
        pb::MessageFactory::generated_factory()->GetPrototype(inner)->New());
    EXPECT_TRUE(any.UnpackTo(unpacked.get())) << path;
    expectAccepted(*unpacked, path);
    return;
  }
  // A named extension carries the config its name says.
  const pb::FieldDescriptor* nameField = type->FindFieldByName("name");
  const pb::FieldDescriptor* configField = type->FindFieldByName("typed_config");
  if (nameField != nullptr && configField != nullptr &&
      message.GetReflection()->HasField(message, configField)) {
    const auto& any =
        static_cast<const pb::Any&>(message.GetReflection()->GetMessage(message, configField));
    auto expected = typedConfigNames().find(any.type_url().substr(any.type_url().rfind('/') + 1));
    if (expected != typedConfigNames().end()) {
      EXPECT_EQ(message.GetReflection()->GetString(message, nameField), expected->second)
          << path;
    }
  }
  auto accepted = acceptedFields().find(type->full_name());
  if (accepted == acceptedFields().end()) {
    ADD_FAILURE() << path << ": message type " << type->full_name() << " is not accepted";
    return;
  }
  std::vector<const pb::FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);
  for (const pb::FieldDescriptor* field : fields) {
    const std::string fieldPath = absl::StrCat(path, ".", field->name());
    EXPECT_TRUE(accepted->second.count(field->name()) != 0) << fieldPath << " is not accepted";
    if (field->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->is_repeated()) {
      const int size = message.GetReflection()->FieldSize(message, field);
      for (int i = 0; i < size; ++i) {
        expectAccepted(message.GetReflection()->GetRepeatedMessage(message, field, i),
                       absl::StrCat(fieldPath, "[", i, "]"));
      }
    } else {
      expectAccepted(message.GetReflection()->GetMessage(message, field), fieldPath);
    }
  }
}

void expectAccepted(const ProxyResources& proxy) {
  for (const auto& r : proxy.listeners) expectAccepted(r, absl::StrCat("Listener ", r.name()));
  for (const auto& r : proxy.routes) expectAccepted(r, absl::StrCat("Route ", r.name()));
  for (const auto& r : proxy.clusters) expectAccepted(r, absl::StrCat("Cluster ", r.name()));
  for (const auto& r : proxy.endpoints) expectAccepted(r, absl::StrCat("CLA ", r.cluster_name()));
  // Names the proxy requires, and one domain per route configuration.
  for (const auto& routes : proxy.routes) {
    std::set<std::string> domains;
    for (const auto& host : routes.virtual_hosts()) {
      EXPECT_GT(host.domains_size(), 0) << host.name();
      for (const std::string& domain : host.domains()) {
        EXPECT_TRUE(domains.insert(domain).second) << "domain " << domain << " twice";
      }
    }
  }
}

// ------------------------------------------------------------------------------- helpers

Resolver noDns() {
  return [](const std::string& hostname) -> absl::StatusOr<std::vector<std::string>> {
    return absl::NotFoundError(absl::StrCat("no DNS in this test for ", hostname));
  };
}

// Loads inline YAML documents; they must load and validate cleanly unless `valid` is false.
MeshSet meshOf(const std::string& yaml, bool valid = true) {
  LoadResult result = loadMeshFiles({{"mesh.yaml", yaml}});
  EXPECT_THAT(result.errors, IsEmpty());
  if (valid) {
    std::vector<std::string> errors;
    for (const ValidationError& e : validate(result.mesh)) errors.push_back(e.toString());
    EXPECT_THAT(errors, IsEmpty());
  }
  return std::move(result.mesh);
}

TranslateResult translateOk(const MeshSet& mesh, const Resolver& resolve = noDns()) {
  TranslateResult result = translate(mesh, resolve);
  for (const auto& [key, proxy] : result.proxies) expectAccepted(proxy);
  return result;
}

const ProxyResources& proxyOf(const TranslateResult& result, const std::string& node,
                              const std::string& mesh = "m") {
  auto it = result.proxies.find(nodeKey(mesh, node));
  if (it == result.proxies.end()) {
    ADD_FAILURE() << "no proxy for " << node;
    static const ProxyResources kNone;
    return kNone;
  }
  return it->second;
}

const xroute::RouteConfiguration& routesNamed(const ProxyResources& proxy,
                                              const std::string& name) {
  for (const auto& routes : proxy.routes) {
    if (routes.name() == name) return routes;
  }
  ADD_FAILURE() << "no route configuration " << name;
  static const xroute::RouteConfiguration kNone;
  return kNone;
}

const xroute::VirtualHost& hostNamed(const xroute::RouteConfiguration& routes,
                                     const std::string& name) {
  for (const auto& host : routes.virtual_hosts()) {
    if (host.name() == name) return host;
  }
  ADD_FAILURE() << "no virtual host " << name << " in " << routes.name();
  static const xroute::VirtualHost kNone;
  return kNone;
}

std::vector<std::string> namesOf(const ProxyResources& proxy) {
  std::vector<std::string> names;
  for (const auto& r : proxy.listeners) names.push_back(r.name());
  for (const auto& r : proxy.routes) names.push_back(r.name());
  for (const auto& r : proxy.clusters) names.push_back(r.name());
  for (const auto& r : proxy.endpoints) names.push_back(absl::StrCat("cla:", r.cluster_name()));
  return names;
}

std::vector<std::string> routeNames(const xroute::VirtualHost& host) {
  std::vector<std::string> names;
  for (const auto& route : host.routes()) names.push_back(route.name());
  return names;
}

std::vector<std::string> hostNames(const xroute::RouteConfiguration& routes) {
  std::vector<std::string> names;
  for (const auto& host : routes.virtual_hosts()) names.push_back(host.name());
  return names;
}

std::vector<std::string> endpointsOf(const ProxyResources& proxy, const std::string& cluster) {
  std::vector<std::string> out;
  for (const auto& cla : proxy.endpoints) {
    if (cla.cluster_name() != cluster) continue;
    for (const auto& locality : cla.endpoints()) {
      for (const auto& lb : locality.lb_endpoints()) {
        const auto& socket = lb.endpoint().address().socket_address();
        std::string text = absl::StrCat(socket.address(), ":", socket.port_value());
        if (lb.has_load_balancing_weight()) {
          absl::StrAppend(&text, "*", lb.load_balancing_weight().value());
        }
        out.push_back(text);
      }
    }
    return out;
  }
  ADD_FAILURE() << "no endpoints for " << cluster;
  return out;
}

using ListenerProto = envoy::config::listener::v3::Listener;
using FilterChainProto = envoy::config::listener::v3::FilterChain;
namespace tcp = envoy::extensions::filters::network::tcp_proxy::v3;

hcm::HttpConnectionManager managerOf(const FilterChainProto& chain) {
  hcm::HttpConnectionManager manager;
  EXPECT_EQ(chain.filters_size(), 1) << chain.name();
  EXPECT_TRUE(chain.filters(0).typed_config().UnpackTo(&manager)) << chain.name();
  return manager;
}

// The HCM of the listener's first chain.
hcm::HttpConnectionManager managerOf(const ListenerProto& listener) {
  if (listener.filter_chains_size() == 0) {
    ADD_FAILURE() << listener.name() << " has no filter chain";
    return {};
  }
  return managerOf(listener.filter_chains(0));
}

tcp::TcpProxy tcpProxyOf(const FilterChainProto& chain) {
  tcp::TcpProxy proxy;
  EXPECT_EQ(chain.filters_size(), 1) << chain.name();
  EXPECT_EQ(chain.filters(0).name(), "envoy.filters.network.tcp_proxy") << chain.name();
  EXPECT_TRUE(chain.filters(0).typed_config().UnpackTo(&proxy)) << chain.name();
  return proxy;
}

const ListenerProto& listenerNamed(const ProxyResources& proxy, const std::string& name) {
  for (const auto& listener : proxy.listeners) {
    if (listener.name() == name) return listener;
  }
  ADD_FAILURE() << "no listener " << name;
  static const ListenerProto kNone;
  return kNone;
}

const FilterChainProto& chainNamed(const ListenerProto& listener, const std::string& name) {
  for (const auto& chain : listener.filter_chains()) {
    if (chain.name() == name) return chain;
  }
  ADD_FAILURE() << "no filter chain " << name << " in " << listener.name();
  static const FilterChainProto kNone;
  return kNone;
}

std::vector<std::string> chainNames(const ListenerProto& listener) {
  std::vector<std::string> names;
  for (const auto& chain : listener.filter_chains()) names.push_back(chain.name());
  return names;
}

std::vector<std::string> listenerFilterNames(const ListenerProto& listener) {
  std::vector<std::string> names;
  for (const auto& filter : listener.listener_filters()) names.push_back(filter.name());
  return names;
}

std::vector<std::string> httpFilterNames(const hcm::HttpConnectionManager& manager) {
  std::vector<std::string> names;
  for (const auto& filter : manager.http_filters()) names.push_back(filter.name());
  return names;
}

// "port/transport/server names" of a chain's match ("-" for an unset port).
std::string matchOf(const FilterChainProto& chain) {
  const auto& match = chain.filter_chain_match();
  return absl::StrCat(match.has_destination_port() ? absl::StrCat(match.destination_port().value())
                                                   : std::string("-"),
                      "/", match.transport_protocol(), "/",
                      absl::StrJoin(match.server_names(), ","));
}

// "cluster" or "name*weight,..." of a TCP proxy.
std::string targetsOf(const tcp::TcpProxy& proxy) {
  if (!proxy.has_weighted_clusters()) return proxy.cluster();
  std::vector<std::string> parts;
  for (const auto& cluster : proxy.weighted_clusters().clusters()) {
    parts.push_back(absl::StrCat(cluster.name(), "*", cluster.weight()));
  }
  return absl::StrJoin(parts, ",");
}

std::string text(const pb::Message& message) {
  pb::TextFormat::Printer printer;
  printer.SetExpandAny(true);
  std::string out;
  printer.PrintToString(message, &out);
  return out;
}

// The base of the inline meshes: a caller, one service behind a router with three nodes.
constexpr char kBase[] = R"(
meshName: m
spec: {egressFilter: {type: DROP_ALL}}
---
meshName: m
virtualNodeName: caller
spec:
  listeners: [{portMapping: {port: 8080, protocol: http}}]
  backends: [{virtualService: {virtualServiceName: svc.m.local}}]
---
meshName: m
virtualServiceName: svc.m.local
spec: {provider: {virtualRouter: {virtualRouterName: router}}}
---
meshName: m
virtualRouterName: router
spec: {listeners: [{portMapping: {port: 9080, protocol: http}}]}
---
meshName: m
virtualNodeName: one
spec: {listeners: [{portMapping: {port: 9080, protocol: http}}]}
---
meshName: m
virtualNodeName: two
spec: {listeners: [{portMapping: {port: 9080, protocol: http}}]}
---
apiVersion: trellis.dev/v1
kind: Endpoints
mesh: m
virtualNode: one
endpoints: [{address: 10.0.0.1}, {address: 10.0.0.2, weight: 3}]
---
apiVersion: trellis.dev/v1
kind: Endpoints
mesh: m
virtualNode: two
endpoints: [{address: 10.0.1.1, port: 9999}]
)";

std::string route(const std::string& name, const std::string& spec) {
  return absl::StrCat("---\nmeshName: m\nvirtualRouterName: router\nrouteName: ", name,
                      "\nspec: ", spec, "\n");
}

std::string simpleRoute(const std::string& name, const std::string& priority,
                        const std::string& match) {
  return route(name,
               absl::StrCat("{", priority, "httpRoute: {match: ", match,
                            ", action: {weightedTargets: [{virtualNode: one, weight: 1}]}}}"));
}

// ------------------------------------------------------------------------ the color app, golden

std::string render(const ProxyResources& proxy, const std::string& from = "testdata/colorapp") {
  std::string out = absl::StrCat(
      "# Generated by //config/appmesh:translate_test from ", from, ". Regenerate with\n"
      "# TRELLIS_UPDATE_GOLDEN=1 bazel run //config/appmesh:translate_test\n");
  for (const auto& r : proxy.listeners) absl::StrAppend(&out, "\n# Listener\n", text(r));
  for (const auto& r : proxy.routes) absl::StrAppend(&out, "\n# RouteConfiguration\n", text(r));
  for (const auto& r : proxy.clusters) absl::StrAppend(&out, "\n# Cluster\n", text(r));
  for (const auto& r : proxy.endpoints) {
    absl::StrAppend(&out, "\n# ClusterLoadAssignment\n", text(r));
  }
  return out;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// Compares `actual` with the golden file, or rewrites it under TRELLIS_UPDATE_GOLDEN.
void expectGolden(const std::string& relative, const std::string& actual) {
  const std::string path = absl::StrCat(kTestdata, "golden/", relative);
  if (std::getenv("TRELLIS_UPDATE_GOLDEN") != nullptr) {
    const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
    ASSERT_NE(workspace, nullptr) << "regenerate with bazel run, not bazel test";
    const std::filesystem::path target = std::filesystem::path(workspace) / path;
    std::filesystem::create_directories(target.parent_path());
    std::ofstream(target, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing; regenerate (see the top)";
  EXPECT_EQ(actual, readFile(path)) << "differs from " << path << "; if intended, regenerate";
}

TEST(TranslateColorApp, MatchesTheGoldenFiles) {
  absl::StatusOr<MeshSet> mesh = loadMeshDir(absl::StrCat(kTestdata, "colorapp"));
  ASSERT_TRUE(mesh.ok()) << mesh.status();
  ASSERT_THAT(validate(*mesh), IsEmpty());
  TranslateResult result = translateOk(*mesh);
  ASSERT_EQ(result.proxies.size(), 4u);

  std::set<std::string> expectedFiles = {"report.txt"};
  for (const auto& [key, proxy] : result.proxies) {
    const std::string node = key.substr(key.rfind('/') + 1);
    expectGolden(absl::StrCat("colorapp/", node, ".textproto"), render(proxy));
    expectedFiles.insert(absl::StrCat(node, ".textproto"));
  }
  std::string report = "# errors\n";
  for (const std::string& e : result.errors) absl::StrAppend(&report, e, "\n");
  absl::StrAppend(&report, "# warnings\n");
  for (const std::string& w : result.warnings) absl::StrAppend(&report, w, "\n");
  expectGolden("colorapp/report.txt", report);

  if (std::getenv("TRELLIS_UPDATE_GOLDEN") == nullptr) {
    std::set<std::string> files;  // no stale golden file for a node that went away
    std::error_code ec;
    for (const auto& entry :
         std::filesystem::directory_iterator(absl::StrCat(kTestdata, "golden/colorapp"), ec)) {
      files.insert(entry.path().filename().string());
    }
    EXPECT_EQ(files, expectedFiles);
  }
}

TEST(TranslateColorApp, FrontReachesTheColortellersThroughTheirSidecars) {
  absl::StatusOr<MeshSet> mesh = loadMeshDir(absl::StrCat(kTestdata, "colorapp"));
  ASSERT_TRUE(mesh.ok()) << mesh.status();
  TranslateResult result = translateOk(*mesh);
  EXPECT_THAT(result.errors, IsEmpty());
  const ProxyResources& front = proxyOf(result, "front", "color-mesh");
  EXPECT_THAT(
      namesOf(front),
      ElementsAre("lds_egress_127.0.0.1_15101", "lds_ingress_127.0.0.1_15100",
                  "rds_egress_color-mesh_front", "rds_ingress_color-mesh_front",
                  "cds_egress_color-mesh_colorteller-blue_9080",
                  "cds_egress_color-mesh_colorteller-green_9080",
                  "cds_egress_color-mesh_colorteller-red_9080", "cds_ingress_color-mesh_front_8080",
                  "egress_passthrough", "cla:cds_egress_color-mesh_colorteller-blue_9080",
                  "cla:cds_egress_color-mesh_colorteller-green_9080",
                  "cla:cds_egress_color-mesh_colorteller-red_9080",
                  "cla:cds_ingress_color-mesh_front_8080"));
  EXPECT_THAT(endpointsOf(front, "cds_egress_color-mesh_colorteller-red_9080"),
              ElementsAre("127.0.0.1:15110"));
  EXPECT_THAT(endpointsOf(front, "cds_ingress_color-mesh_front_8080"),
              ElementsAre("127.0.0.1:8080"));
  const ProxyResources& red = proxyOf(result, "colorteller-red", "color-mesh");
  EXPECT_THAT(endpointsOf(red, "cds_ingress_color-mesh_colorteller-red_9080"),
              ElementsAre("127.0.0.1:9081"));
  // The colortellers' health check runs in front's proxy and the route keeps its retry policy.
  const auto& redCluster = front.clusters[2];
  ASSERT_EQ(redCluster.health_checks_size(), 1);
  EXPECT_EQ(redCluster.health_checks(0).http_health_check().path(), "/ping");
  const auto& route =
      routesNamed(front, "rds_egress_color-mesh_front").virtual_hosts(0).routes(0).route();
  EXPECT_EQ(route.retry_policy().num_retries().value(), 2u);
  EXPECT_EQ(route.retry_policy().per_try_timeout().seconds(), 2);
  EXPECT_THAT(result.warnings, IsEmpty());
  // logging.accessLog.file is the file access log of every HTTP chain, inbound and outbound, in
  // Envoy's default format (the spec names none).
  size_t logged = 0;
  for (const auto& listener : front.listeners) {
    for (const auto& chain : listener.filter_chains()) {
      envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
      if (!chain.filters(0).typed_config().UnpackTo(&hcm)) continue;
      ASSERT_EQ(hcm.access_log_size(), 1) << chain.name();
      envoy::extensions::access_loggers::file::v3::FileAccessLog file;
      ASSERT_TRUE(hcm.access_log(0).typed_config().UnpackTo(&file));
      EXPECT_EQ(file.path(), "/dev/stdout");
      EXPECT_FALSE(file.has_log_format());
      ++logged;
    }
  }
  EXPECT_GE(logged, 2u);
}

// ------------------------------------------------------------------------ resilience

// A caller, a router with three routes, and targets with health checks, outlier detection,
// connection pools and timeouts.
constexpr char kResilience[] = R"(
meshName: m
---
meshName: m
virtualNodeName: caller
spec:
  listeners:
    - portMapping: {port: 8080, protocol: http}
      connectionPool: {http: {maxConnections: 50, maxPendingRequests: 7}}
      timeout: {http: {perRequest: {unit: s, value: 30}, idle: {unit: s, value: 90}}}
  backends:
    - virtualService: {virtualServiceName: svc.m.local}
    - virtualService: {virtualServiceName: direct.m.local}
---
meshName: m
virtualServiceName: svc.m.local
spec: {provider: {virtualRouter: {virtualRouterName: router}}}
---
meshName: m
virtualServiceName: direct.m.local
spec: {provider: {virtualNode: {virtualNodeName: direct}}}
---
meshName: m
virtualRouterName: router
spec: {listeners: [{portMapping: {port: 9080, protocol: http}}]}
---
meshName: m
virtualNodeName: web
spec:
  listeners:
    - portMapping: {port: 9080, protocol: http}
      healthCheck: {protocol: http, path: /health, port: 9080, healthyThreshold: 3,
                    unhealthyThreshold: 4, intervalMillis: 7500, timeoutMillis: 2500}
      outlierDetection:
        maxServerErrors: 5
        interval: {unit: s, value: 10}
        baseEjectionDuration: {unit: ms, value: 30500}
        maxEjectionPercent: 50
      connectionPool: {http: {maxConnections: 10}}
---
meshName: m
virtualNodeName: db
spec:
  listeners:
    - portMapping: {port: 9080, protocol: http}
      healthCheck: {protocol: tcp, healthyThreshold: 2, unhealthyThreshold: 2,
                    intervalMillis: 5000, timeoutMillis: 2000}
---
meshName: m
virtualNodeName: direct
spec:
  listeners:
    - portMapping: {port: 7000, protocol: http}
      healthCheck: {protocol: http, healthyThreshold: 2, unhealthyThreshold: 2,
                    intervalMillis: 5000, timeoutMillis: 2000}
      timeout: {http: {perRequest: {unit: s, value: 0}, idle: {unit: ms, value: 1500}}}
---
meshName: m
virtualRouterName: router
routeName: retried
spec:
  priority: 1
  httpRoute:
    match: {prefix: /retried}
    action: {weightedTargets: [{virtualNode: web, weight: 1}]}
    retryPolicy:
      maxRetries: 4
      perRetryTimeout: {unit: ms, value: 1500}
      httpRetryEvents: [stream-error, server-error, client-error, gateway-error]
      tcpRetryEvents: [connection-error]
    timeout: {perRequest: {unit: s, value: 20}, idle: {unit: s, value: 45}}
---
meshName: m
virtualRouterName: router
routeName: never-retried
spec:
  priority: 2
  httpRoute:
    match: {prefix: /once}
    action: {weightedTargets: [{virtualNode: db, weight: 1}]}
    retryPolicy:
      maxRetries: 0
      perRetryTimeout: {unit: s, value: 0}
      tcpRetryEvents: [connection-error]
---
meshName: m
virtualRouterName: router
routeName: plain
spec:
  priority: 3
  httpRoute:
    match: {prefix: /}
    action: {weightedTargets: [{virtualNode: web, weight: 1}]}
)";

const envoy::config::cluster::v3::Cluster& clusterNamed(const ProxyResources& proxy,
                                                        const std::string& name) {
  for (const auto& cluster : proxy.clusters) {
    if (cluster.name() == name) return cluster;
  }
  ADD_FAILURE() << "no cluster " << name;
  static const envoy::config::cluster::v3::Cluster kNone;
  return kNone;
}

const xroute::Route& routeNamed(const xroute::VirtualHost& host, const std::string& name) {
  for (const auto& route : host.routes()) {
    if (route.name() == name) return route;
  }
  ADD_FAILURE() << "no route " << name << " in " << host.name();
  static const xroute::Route kNone;
  return kNone;
}

int64_t millisOf(const google::protobuf::Duration& duration) {
  return duration.seconds() * 1000 + duration.nanos() / 1000000;
}

// "max_connections/max_pending_requests/max_requests/max_retries" of the only threshold.
std::string limitsOf(const envoy::config::cluster::v3::Cluster& cluster) {
  if (cluster.circuit_breakers().thresholds_size() != 1) return "not one threshold";
  const auto& t = cluster.circuit_breakers().thresholds(0);
  EXPECT_EQ(t.priority(), envoy::config::core::v3::DEFAULT);
  return absl::StrCat(t.max_connections().value(), "/", t.max_pending_requests().value(), "/",
                      t.max_requests().value(), "/", t.max_retries().value());
}

TEST(TranslateResilience, HealthChecksRunInTheCallers) {
  TranslateResult result = translateOk(meshOf(kResilience));
  const ProxyResources& caller = proxyOf(result, "caller");

  const auto& web = clusterNamed(caller, "cds_egress_m_web_9080");
  ASSERT_EQ(web.health_checks_size(), 1);
  const auto& http = web.health_checks(0);
  EXPECT_EQ(millisOf(http.timeout()), 2500);
  EXPECT_EQ(millisOf(http.interval()), 7500);
  EXPECT_EQ(http.healthy_threshold().value(), 3u);
  EXPECT_EQ(http.unhealthy_threshold().value(), 4u);
  ASSERT_TRUE(http.has_http_health_check());
  EXPECT_EQ(http.http_health_check().path(), "/health");

  const auto& db = clusterNamed(caller, "cds_egress_m_db_9080");
  ASSERT_EQ(db.health_checks_size(), 1);
  EXPECT_TRUE(db.health_checks(0).has_tcp_health_check());  // connect only
  EXPECT_FALSE(db.health_checks(0).tcp_health_check().has_send());
  EXPECT_EQ(millisOf(db.health_checks(0).interval()), 5000);

  // An http check without a path cannot be run: left out, warned once for the node.
  EXPECT_EQ(clusterNamed(caller, "cds_egress_m_direct_7000").health_checks_size(), 0);
  std::vector<std::string> checks;
  for (const std::string& w : result.warnings) {
    if (w.find("healthCheck") != std::string::npos) checks.push_back(w);
  }
  EXPECT_THAT(checks, ElementsAre("mesh.yaml (document 8): m/VirtualNode/direct: "
                                  "spec.listeners[0].healthCheck: protocol http without a path "
                                  "(App Mesh leaves it optional, an HTTP check needs one): left "
                                  "out, every endpoint counts as healthy"));
  // The target's own proxy does not check itself.
  EXPECT_EQ(clusterNamed(proxyOf(result, "web"), "cds_ingress_m_web_9080").health_checks_size(),
            0);
}

TEST(TranslateResilience, Http2GrpcAndOtherPortChecksAreLeftOut) {
  MeshSet mesh = meshOf(kResilience);
  for (VirtualNode& node : mesh.virtualNodes) {
    if (node.name == "web") node.spec.listeners[0].healthCheck->protocol = PortProtocol::kGrpc;
    if (node.name == "db") node.spec.listeners[0].healthCheck->protocol = PortProtocol::kHttp2;
    if (node.name == "direct") node.spec.listeners[0].healthCheck->port = 7001;  // invalid
  }
  TranslateResult result = translateOk(mesh);
  const ProxyResources& caller = proxyOf(result, "caller");
  EXPECT_EQ(clusterNamed(caller, "cds_egress_m_web_9080").health_checks_size(), 0);
  EXPECT_EQ(clusterNamed(caller, "cds_egress_m_db_9080").health_checks_size(), 0);
  EXPECT_EQ(clusterNamed(caller, "cds_egress_m_direct_7000").health_checks_size(), 0);
  std::vector<std::string> checks;
  for (const std::string& w : result.warnings) {
    if (w.find("healthCheck") != std::string::npos) checks.push_back(w);
  }
  EXPECT_THAT(
      checks,
      ElementsAre("mesh.yaml (document 6): m/VirtualNode/web: spec.listeners[0].healthCheck: "
                  "protocol grpc: left out, the gRPC Health Checking Protocol needs HTTP/2, which "
                  "trellis-proxy does not speak yet (every endpoint counts as healthy)",
                  "mesh.yaml (document 7): m/VirtualNode/db: spec.listeners[0].healthCheck: "
                  "protocol http2: left out, trellis-proxy has no HTTP/2 client to check with yet "
                  "(every endpoint counts as healthy)",
                  "mesh.yaml (document 8): m/VirtualNode/direct: spec.listeners[0].healthCheck: "
                  "port 7001 is not the listener's port 7000, and a check can only go where the "
                  "listener's traffic goes (no per-check port): left out, every endpoint counts "
                  "as healthy"));
}

TEST(TranslateResilience, OutlierDetectionRunsInTheCallers) {
  TranslateResult result = translateOk(meshOf(kResilience));
  const auto& web = clusterNamed(proxyOf(result, "caller"), "cds_egress_m_web_9080");
  ASSERT_TRUE(web.has_outlier_detection());
  const auto& outlier = web.outlier_detection();
  EXPECT_EQ(outlier.consecutive_5xx().value(), 5u);
  EXPECT_EQ(millisOf(outlier.interval()), 10000);
  EXPECT_EQ(millisOf(outlier.base_ejection_time()), 30500);
  EXPECT_EQ(outlier.max_ejection_percent().value(), 50u);
  EXPECT_FALSE(clusterNamed(proxyOf(result, "caller"), "cds_egress_m_db_9080")
                   .has_outlier_detection());
}

TEST(TranslateResilience, ConnectionPoolLimitsTheLocalAppAndCallersAreUnlimited) {
  TranslateResult result = translateOk(meshOf(kResilience));
  const ProxyResources& caller = proxyOf(result, "caller");
  // The caller's own pool limits its local app; what is not given stays unlimited.
  EXPECT_EQ(limitsOf(clusterNamed(caller, "cds_ingress_m_caller_8080")),
            "50/7/2147483647/2147483647");
  // web's pool applies in web's proxy, not in its callers (App Mesh: client side unlimited).
  EXPECT_EQ(limitsOf(clusterNamed(caller, "cds_egress_m_web_9080")),
            "2147483647/2147483647/2147483647/2147483647");
  EXPECT_EQ(limitsOf(clusterNamed(proxyOf(result, "web"), "cds_ingress_m_web_9080")),
            "10/2147483647/2147483647/2147483647");
}

TEST(TranslateResilience, Http2AndGrpcPoolsLimitRequests) {
  const std::string yaml = R"(
meshName: m
---
meshName: m
virtualNodeName: g
spec:
  listeners:
    - portMapping: {port: 50051, protocol: grpc}
      connectionPool: {grpc: {maxRequests: 64}}
)";
  TranslateResult result = translateOk(meshOf(yaml));
  EXPECT_EQ(limitsOf(clusterNamed(proxyOf(result, "g"), "cds_ingress_m_g_50051")),
            "2147483647/2147483647/64/2147483647");
}

TEST(TranslateResilience, RetryPolicyEventsBecomeEnvoyConditions) {
  TranslateResult result = translateOk(meshOf(kResilience));
  const auto& host = hostNamed(routesNamed(proxyOf(result, "caller"), "rds_egress_m_caller"),
                               "svc.m.local:9080");
  const auto& retried = routeNamed(host, "retried").route();
  const auto& policy = retried.retry_policy();
  EXPECT_EQ(policy.retry_on(),
            "connect-failure,gateway-error,refused-stream,reset,retriable-4xx,"
            "retriable-status-codes");
  EXPECT_THAT(policy.retriable_status_codes(),
              ElementsAre(500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511));
  EXPECT_EQ(policy.num_retries().value(), 4u);
  EXPECT_EQ(millisOf(policy.per_try_timeout()), 1500);
  EXPECT_EQ(policy.retry_host_predicate_size(), 0);
  EXPECT_EQ(millisOf(retried.timeout()), 20000);
  EXPECT_EQ(millisOf(retried.idle_timeout()), 45000);

  // maxRetries 0 is App Mesh's own way to have no retries; a 0 perRetryTimeout sets no limit.
  const auto& never = routeNamed(host, "never-retried").route();
  EXPECT_EQ(never.retry_policy().retry_on(), "connect-failure");
  EXPECT_EQ(never.retry_policy().num_retries().value(), 0u);
  EXPECT_FALSE(never.retry_policy().has_per_try_timeout());
  EXPECT_EQ(millisOf(never.timeout()), 15000);  // App Mesh's default
  EXPECT_FALSE(never.has_idle_timeout());
}

TEST(TranslateResilience, GrpcRetryEventsKeepTheirNames) {
  const std::string yaml = R"(
meshName: m
---
meshName: m
virtualNodeName: caller
spec: {backends: [{virtualService: {virtualServiceName: g.m.local}}]}
---
meshName: m
virtualServiceName: g.m.local
spec: {provider: {virtualRouter: {virtualRouterName: router}}}
---
meshName: m
virtualRouterName: router
spec: {listeners: [{portMapping: {port: 50051, protocol: grpc}}]}
---
meshName: m
virtualNodeName: g
spec: {listeners: [{portMapping: {port: 50051, protocol: grpc}}]}
---
meshName: m
virtualRouterName: router
routeName: rpc
spec:
  grpcRoute:
    match: {serviceName: pkg.Svc}
    action: {weightedTargets: [{virtualNode: g, weight: 1}]}
    retryPolicy:
      maxRetries: 3
      perRetryTimeout: {unit: s, value: 1}
      grpcRetryEvents: [unavailable, cancelled, resource-exhausted, internal, deadline-exceeded]
    timeout: {idle: {unit: s, value: 5}}
)";
  TranslateResult result = translateOk(meshOf(yaml));
  const auto& route = hostNamed(routesNamed(proxyOf(result, "caller"), "rds_egress_m_caller"),
                                "g.m.local:50051")
                          .routes(0)
                          .route();
  EXPECT_EQ(route.retry_policy().retry_on(),
            "cancelled,deadline-exceeded,internal,resource-exhausted,unavailable");
  EXPECT_EQ(route.retry_policy().num_retries().value(), 3u);
  EXPECT_EQ(millisOf(route.idle_timeout()), 5000);
  EXPECT_EQ(millisOf(route.timeout()), 15000);
}

void expectAppMeshDefaultRetries(const xroute::RetryPolicy& policy) {
  EXPECT_EQ(policy.retry_on(),
            "connect-failure,refused-stream,reset,retriable-status-codes,unavailable");
  EXPECT_EQ(policy.num_retries().value(), 2u);
  EXPECT_THAT(policy.retriable_status_codes(), ElementsAre(503));
  EXPECT_FALSE(policy.has_per_try_timeout());
  EXPECT_EQ(policy.host_selection_retry_max_attempts(), 5);
  ASSERT_EQ(policy.retry_host_predicate_size(), 1);
  EXPECT_EQ(policy.retry_host_predicate(0).name(), "envoy.retry_host_predicates.previous_hosts");
  namespace previous_hosts = envoy::extensions::retry::host::previous_hosts::v3;
  EXPECT_TRUE(
      policy.retry_host_predicate(0).typed_config().Is<previous_hosts::PreviousHostsPredicate>());
}

TEST(TranslateResilience, RoutesWithoutARetryPolicyGetAppMeshsDefault) {
  TranslateResult result = translateOk(meshOf(kResilience));
  const auto& routes = routesNamed(proxyOf(result, "caller"), "rds_egress_m_caller");
  expectAppMeshDefaultRetries(
      routeNamed(hostNamed(routes, "svc.m.local:9080"), "plain").route().retry_policy());
  // A virtual node provider's route too, with the node listener's timeouts.
  const auto& direct = hostNamed(routes, "direct.m.local:7000").routes(0).route();
  expectAppMeshDefaultRetries(direct.retry_policy());
  EXPECT_TRUE(direct.has_timeout());
  EXPECT_EQ(millisOf(direct.timeout()), 0);  // 0 disables
  EXPECT_EQ(millisOf(direct.idle_timeout()), 1500);
  // Not the route to the local app.
  const auto& local = routesNamed(proxyOf(result, "caller"), "rds_ingress_m_caller")
                          .virtual_hosts(0)
                          .routes(0)
                          .route();
  EXPECT_FALSE(local.has_retry_policy());

  // Turned off: no retry policy where none is given.
  TranslateOptions options;
  options.defaultRetryPolicy = false;
  TranslateResult off = translate(meshOf(kResilience), noDns(), options);
  const auto& offRoutes = routesNamed(proxyOf(off, "caller"), "rds_egress_m_caller");
  EXPECT_FALSE(
      routeNamed(hostNamed(offRoutes, "svc.m.local:9080"), "plain").route().has_retry_policy());
  EXPECT_FALSE(hostNamed(offRoutes, "direct.m.local:7000").routes(0).route().has_retry_policy());
  EXPECT_TRUE(routeNamed(hostNamed(offRoutes, "svc.m.local:9080"), "retried")
                  .route()
                  .has_retry_policy());
}

TEST(TranslateResilience, ListenerTimeoutsOnTheInboundRoute) {
  TranslateResult result = translateOk(meshOf(kResilience));
  const ProxyResources& caller = proxyOf(result, "caller");
  const auto& local =
      routesNamed(caller, "rds_ingress_m_caller").virtual_hosts(0).routes(0).route();
  EXPECT_EQ(millisOf(local.timeout()), 30000);
  EXPECT_EQ(millisOf(local.idle_timeout()), 90000);
  // The connection idle timeout stays on the inbound listener as well.
  EXPECT_EQ(managerOf(caller.listeners[1]).common_http_protocol_options().idle_timeout().seconds(),
            90);
}

// ------------------------------------------------------------------------ outbound routes

TEST(TranslateRoutes, PriorityFirstThenLongerMatchThenName) {
  const std::string yaml = absl::StrCat(
      kBase, simpleRoute("catch-all", "", "{prefix: /}"),
      simpleRoute("long-prefix", "", "{prefix: /api/v1}"),
      simpleRoute("b-short", "", "{prefix: /api}"), simpleRoute("a-short", "", "{prefix: /app}"),
      simpleRoute("late", "priority: 900, ", "{prefix: /z}"),
      simpleRoute("early", "priority: 2, ", "{prefix: /}"),
      simpleRoute("tie-long", "priority: 100, ", "{path: {exact: /exactly}}"),
      simpleRoute("tie-short", "priority: 100, ", "{prefix: /e}"));
  TranslateResult result = translateOk(meshOf(yaml));
  const auto& host =
      hostNamed(routesNamed(proxyOf(result, "caller"), "rds_egress_m_caller"), "svc.m.local:9080");
  EXPECT_THAT(routeNames(host), ElementsAre("early", "tie-long", "tie-short", "late", "long-prefix",
                                            "a-short", "b-short", "catch-all"));
  EXPECT_EQ(host.routes(1).match().path(), "/exactly");
  EXPECT_EQ(host.routes(7).match().prefix(), "/");
}

TEST(TranslateRoutes, HeadersMethodAndQueryParameters) {
  const std::string yaml = absl::StrCat(kBase, route("r", R"({httpRoute: {
    match: {prefix: /p, method: POST,
            headers: [{name: X-Exact, match: {exact: a}},
                      {name: x-prefix, match: {prefix: b}},
                      {name: x-suffix, match: {suffix: c}},
                      {name: x-regex, match: {regex: "d+"}},
                      {name: x-range, match: {range: {start: 5, end: 8}}},
                      {name: x-present},
                      {name: x-absent, invert: true}],
            queryParameters: [{name: q, match: {exact: "1"}}, {name: flag}]},
    action: {weightedTargets: [{virtualNode: one, weight: 1}]},
    timeout: {perRequest: {unit: ms, value: 2500}}}})"));
  TranslateResult result = translateOk(meshOf(yaml));
  const auto& host =
      hostNamed(routesNamed(proxyOf(result, "caller"), "rds_egress_m_caller"), "svc.m.local:9080");
  ASSERT_EQ(host.routes_size(), 1);
  const xroute::RouteMatch& match = host.routes(0).match();
  EXPECT_EQ(match.prefix(), "/p");
  ASSERT_EQ(match.headers_size(), 10);
  EXPECT_EQ(match.headers(0).name(), ":method");
  EXPECT_EQ(match.headers(0).string_match().exact(), "POST");
  EXPECT_EQ(match.headers(1).name(), "x-exact");
  EXPECT_EQ(match.headers(1).string_match().exact(), "a");
  EXPECT_EQ(match.headers(2).string_match().prefix(), "b");
  EXPECT_EQ(match.headers(3).string_match().suffix(), "c");
  EXPECT_EQ(match.headers(4).string_match().safe_regex().regex(), "d+");
  const std::string range = match.headers(5).string_match().safe_regex().regex();
  EXPECT_TRUE(RE2::FullMatch("7", range));
  EXPECT_FALSE(RE2::FullMatch("8", range));  // App Mesh excludes the end
  EXPECT_TRUE(match.headers(6).present_match());
  EXPECT_FALSE(match.headers(6).invert_match());
  EXPECT_TRUE(match.headers(7).present_match());
  EXPECT_TRUE(match.headers(7).invert_match());
  EXPECT_EQ(match.headers(8).name(), ":path");
  EXPECT_TRUE(RE2::FullMatch("/p?q=1", match.headers(8).string_match().safe_regex().regex()));
  EXPECT_EQ(match.headers(9).name(), ":path");
  EXPECT_TRUE(RE2::FullMatch("/p?a&flag", match.headers(9).string_match().safe_regex().regex()));
  EXPECT_EQ(host.routes(0).route().timeout().seconds(), 2);
  EXPECT_EQ(host.routes(0).route().timeout().nanos(), 500000000);
}

TEST(TranslateRoutes, PathRegexGrpcAndUnsupportedMatches) {
  const std::string yaml = absl::StrCat(
      kBase, simpleRoute("regex", "priority: 1, ", "{path: {regex: \"/v[0-9]+/.*\"}}"),
      route("grpc", R"({priority: 2, grpcRoute: {match: {serviceName: pkg.Svc, methodName: Get,
          metadata: [{name: tenant, match: {exact: t1}}]},
          action: {weightedTargets: [{virtualNode: one, weight: 1}]}}})"),
      route("scheme", R"({priority: 3, httpRoute: {match: {prefix: /, scheme: https},
          action: {weightedTargets: [{virtualNode: one, weight: 1}]}}})"),
      route("pseudo", R"({priority: 4, httpRoute: {match: {prefix: /,
          headers: [{name: ":scheme", match: {exact: http}}]},
          action: {weightedTargets: [{virtualNode: one, weight: 1}]}}})"));
  // The gRPC route does not fit the router's http listener: translate regardless of validation.
  TranslateResult result = translateOk(meshOf(yaml, /*valid=*/false));
  const auto& host =
      hostNamed(routesNamed(proxyOf(result, "caller"), "rds_egress_m_caller"), "svc.m.local:9080");
  EXPECT_THAT(routeNames(host), ElementsAre("regex", "grpc"));
  EXPECT_EQ(host.routes(0).match().safe_regex().regex(), "/v[0-9]+/.*");
  EXPECT_EQ(host.routes(1).match().path(), "/pkg.Svc/Get");
  EXPECT_EQ(host.routes(1).match().headers(0).name(), "tenant");
  EXPECT_THAT(result.warnings,
              ::testing::Contains(HasSubstr("spec.httpRoute.match.scheme: \"https\" never "
                                            "matches (the outbound listener is plaintext): route "
                                            "left out")));
  EXPECT_THAT(result.errors,
              ElementsAre("mesh.yaml (document 12): m/VirtualRouter/router/Route/pseudo: "
                          "spec.httpRoute.match.headers[0]: pseudo-header \":scheme\" cannot be "
                          "matched (trellis-proxy matches :method, :path, :authority): route "
                          "left out"));
}

TEST(TranslateRoutes, WeightedTargetsKeepZeroWeightsAndNeedAPositiveSum) {
  const std::string yaml = absl::StrCat(kBase, route("r", R"({priority: 1, httpRoute: {
    match: {prefix: /},
    action: {weightedTargets: [{virtualNode: one, weight: 0}, {virtualNode: two, weight: 7}]}}})"));
  TranslateResult result = translateOk(meshOf(yaml));
  const ProxyResources& caller = proxyOf(result, "caller");
  const auto& host = hostNamed(routesNamed(caller, "rds_egress_m_caller"), "svc.m.local:9080");
  ASSERT_EQ(host.routes_size(), 1);
  const auto& clusters = host.routes(0).route().weighted_clusters().clusters();
  ASSERT_EQ(clusters.size(), 2);
  EXPECT_EQ(clusters[0].name(), "cds_egress_m_one_9080");
  EXPECT_EQ(clusters[0].weight().value(), 0u);
  EXPECT_EQ(clusters[1].name(), "cds_egress_m_two_9080");
  EXPECT_EQ(clusters[1].weight().value(), 7u);
  EXPECT_EQ(host.routes(0).route().timeout().seconds(), 15);  // App Mesh's default
  // The zero-weight target's cluster is there, so a later shift changes only the routes.
  EXPECT_THAT(endpointsOf(caller, "cds_egress_m_one_9080"),
              ElementsAre("10.0.0.1:9080", "10.0.0.2:9080*3"));
  EXPECT_THAT(endpointsOf(caller, "cds_egress_m_two_9080"), ElementsAre("10.0.1.1:9999"));

  // All weights 0 (validation refuses it): the proxy would refuse the sum, so the route goes.
  const std::string zero = absl::StrCat(kBase, route("r", R"({httpRoute: {match: {prefix: /},
    action: {weightedTargets: [{virtualNode: one, weight: 0}]}}})"));
  TranslateResult none = translateOk(meshOf(zero, /*valid=*/false));
  EXPECT_EQ(
      hostNamed(routesNamed(proxyOf(none, "caller"), "rds_egress_m_caller"), "svc.m.local:9080")
          .routes_size(),
      0);
  EXPECT_THAT(none.errors, ElementsAre("mesh.yaml (document 9): m/VirtualRouter/router/Route/r: "
                                       "spec.httpRoute.action.weightedTargets: no target with a "
                                       "weight above 0: route left out"));
}

TEST(TranslateRoutes, ServiceProvidedByANodeAndSeveralPorts) {
  const std::string yaml = R"(
meshName: m
spec: {egressFilter: {type: ALLOW_ALL}}
---
meshName: m
virtualNodeName: caller
spec:
  backends: [{virtualService: {virtualServiceName: web.m.local}}]
---
meshName: m
virtualServiceName: web.m.local
spec: {provider: {virtualNode: {virtualNodeName: web}}}
---
meshName: m
virtualNodeName: web
spec:
  listeners:
    - portMapping: {port: 8443, protocol: http}
    - portMapping: {port: 80, protocol: http}
      timeout: {http: {perRequest: {unit: s, value: 0}, idle: {unit: s, value: 30}}}
---
apiVersion: trellis.dev/v1
kind: Endpoints
mesh: m
virtualNode: web
endpoints: [{address: "::1"}]
)";
  TranslateResult result = translateOk(meshOf(yaml));
  const ProxyResources& caller = proxyOf(result, "caller");
  const auto& routes = routesNamed(caller, "rds_egress_m_caller");
  // ALLOW_ALL: the catch-all goes through to the original destination.
  EXPECT_THAT(hostNames(routes),
              ElementsAre("web.m.local:80", "web.m.local:8443", "egress_allow_all"));
  const auto& port80 = hostNamed(routes, "web.m.local:80");
  EXPECT_THAT(port80.domains(), ElementsAre("web.m.local", "web.m.local:80"));
  ASSERT_EQ(port80.routes_size(), 1);
  EXPECT_EQ(port80.routes(0).match().prefix(), "/");
  EXPECT_EQ(port80.routes(0).route().cluster(), "cds_egress_m_web_80");
  EXPECT_TRUE(port80.routes(0).route().has_timeout());
  EXPECT_EQ(port80.routes(0).route().timeout().seconds(), 0);  // 0 disables it
  const auto& port8443 = hostNamed(routes, "web.m.local:8443");
  EXPECT_THAT(port8443.domains(), ElementsAre("web.m.local:8443"));
  EXPECT_EQ(port8443.routes(0).route().timeout().seconds(), 15);
  EXPECT_THAT(endpointsOf(caller, "cds_egress_m_web_8443"), ElementsAre("::1:8443"));
  // A caller without listeners has no inbound side.
  EXPECT_THAT(namesOf(caller),
              ElementsAre("lds_egress_0.0.0.0_15001", "rds_egress_m_caller", "cds_egress_m_web_80",
                          "cds_egress_m_web_8443", "egress_passthrough", "cla:cds_egress_m_web_80",
                          "cla:cds_egress_m_web_8443"));

  // web has two listeners: one inbound chain each, by the original destination port, each with
  // its own route configuration (the first keeps the unsuffixed name) and timeouts.
  const ProxyResources& web = proxyOf(result, "web");
  EXPECT_THAT(result.errors, IsEmpty());
  const auto& inbound = listenerNamed(web, "lds_ingress_0.0.0.0_15000");
  EXPECT_THAT(chainNames(inbound), ElementsAre("ingress_http_8443", "ingress_http_80"));
  EXPECT_EQ(matchOf(inbound.filter_chains(0)), "8443//");
  EXPECT_EQ(matchOf(inbound.filter_chains(1)), "80//");
  EXPECT_EQ(managerOf(inbound.filter_chains(0)).rds().route_config_name(), "rds_ingress_m_web");
  EXPECT_EQ(managerOf(inbound.filter_chains(1)).rds().route_config_name(), "rds_ingress_m_web_80");
  EXPECT_EQ(managerOf(inbound.filter_chains(1)).common_http_protocol_options().idle_timeout().seconds(),
            30);
  EXPECT_EQ(routesNamed(web, "rds_ingress_m_web").virtual_hosts(0).routes(0).route().cluster(),
            "cds_ingress_m_web_8443");
  const auto& port80Local = routesNamed(web, "rds_ingress_m_web_80").virtual_hosts(0).routes(0);
  EXPECT_EQ(port80Local.route().cluster(), "cds_ingress_m_web_80");
  EXPECT_EQ(port80Local.route().timeout().seconds(), 0);
  EXPECT_THAT(endpointsOf(web, "cds_ingress_m_web_80"), ElementsAre("127.0.0.1:80"));
  // A connection to 15000 itself (no iptables) reaches the first listener's app.
  ASSERT_TRUE(inbound.has_default_filter_chain());
  EXPECT_EQ(inbound.default_filter_chain().name(), "ingress_default");
  EXPECT_FALSE(inbound.default_filter_chain().has_filter_chain_match());
  EXPECT_EQ(managerOf(inbound.default_filter_chain()).rds().route_config_name(),
            "rds_ingress_m_web");
}

TEST(TranslateRoutes, RouterWithSeveralListenersRoutesByMatchPort) {
  const std::string yaml = absl::StrCat(
      R"(
meshName: m
---
meshName: m
virtualNodeName: caller
spec: {backends: [{virtualService: {virtualServiceName: svc.m.local}}]}
---
meshName: m
virtualServiceName: svc.m.local
spec: {provider: {virtualRouter: {virtualRouterName: router}}}
---
meshName: m
virtualRouterName: router
spec: {listeners: [{portMapping: {port: 9080, protocol: http}}, {portMapping: {port: 9090, protocol: http}}]}
---
meshName: m
virtualNodeName: one
spec: {listeners: [{portMapping: {port: 9080, protocol: http}}, {portMapping: {port: 9090, protocol: http}}]}
)",
      route("a", R"({httpRoute: {match: {prefix: /, port: 9080},
          action: {weightedTargets: [{virtualNode: one, weight: 1, port: 9080}]}}})"),
      route("b", R"({httpRoute: {match: {prefix: /, port: 9090},
          action: {weightedTargets: [{virtualNode: one, weight: 1, port: 9090}]}}})"));
  TranslateResult result = translateOk(meshOf(yaml));
  const auto& routes = routesNamed(proxyOf(result, "caller"), "rds_egress_m_caller");
  EXPECT_THAT(hostNames(routes),
              ElementsAre("svc.m.local:9080", "svc.m.local:9090", "egress_allowed_hosts"));
  const auto& first = hostNamed(routes, "svc.m.local:9080");
  EXPECT_THAT(first.domains(), ElementsAre("svc.m.local:9080"));  // no bare name: two ports
  EXPECT_THAT(routeNames(first), ElementsAre("a"));
  EXPECT_EQ(first.routes(0).route().weighted_clusters().clusters(0).name(),
            "cds_egress_m_one_9080");
  EXPECT_THAT(routeNames(hostNamed(routes, "svc.m.local:9090")), ElementsAre("b"));
  // "one" has no Endpoints document: its callers are warned.
  EXPECT_THAT(result.warnings, ::testing::Contains(HasSubstr("m/VirtualNode/one: no Endpoints "
                                                             "document lists its instances")));
}

// ------------------------------------------------------------------------ egress filter

TEST(TranslateEgress, DropAllExplainsRefusalsAndAllowsTheAllowList) {
  TranslateResult result =
      translateOk(meshOf(absl::StrCat(kBase, simpleRoute("r", "", "{prefix: /}"))));
  const ProxyResources& caller = proxyOf(result, "caller");
  const auto& outbound = listenerNamed(caller, "lds_egress_0.0.0.0_15001");
  EXPECT_EQ(outbound.traffic_direction(), envoy::config::core::v3::OUTBOUND);
  EXPECT_THAT(listenerFilterNames(outbound),
              ElementsAre("envoy.filters.listener.original_dst",
                          "envoy.filters.listener.tls_inspector"));
  EXPECT_EQ(millisOf(outbound.listener_filters_timeout()), 1000);
  EXPECT_TRUE(outbound.continue_on_listener_filters_timeout());
  // HTTP on port 80 (unknown hosts get the explanation), the backend's port and the listener's
  // own; TLS to allowed names; nothing else (no default chain: the proxy closes the rest).
  EXPECT_THAT(chainNames(outbound), ElementsAre("egress_http_80", "egress_http_9080",
                                                "egress_http_15001", "egress_http_direct", "egress_tls_allowed"));
  EXPECT_FALSE(outbound.has_default_filter_chain());
  EXPECT_EQ(matchOf(outbound.filter_chains(0)), "80/raw_buffer/");
  EXPECT_EQ(matchOf(outbound.filter_chains(1)), "9080/raw_buffer/");
  EXPECT_EQ(matchOf(outbound.filter_chains(2)), "15001/raw_buffer/");
  for (int i = 0; i < 3; ++i) {
    const hcm::HttpConnectionManager manager = managerOf(outbound.filter_chains(i));
    EXPECT_EQ(manager.stat_prefix(), "egress");
    EXPECT_EQ(manager.rds().route_config_name(), "rds_egress_m_caller");
    EXPECT_THAT(httpFilterNames(manager),
                ElementsAre("trellis.filters.http.egress_policy", "envoy.filters.http.router"));
    trellis::extensions::filters::http::egress_policy::v1::EgressPolicy policy;
    ASSERT_TRUE(manager.http_filters(0).typed_config().UnpackTo(&policy));
    EXPECT_EQ(policy.reason(),
              "mesh m has egressFilter DROP_ALL and the host is not a backend of virtual node "
              "caller");
  }
  const auto& tls = chainNamed(outbound, "egress_tls_allowed");
  EXPECT_EQ(matchOf(tls), "-/tls/*.amazonaws.com");
  EXPECT_EQ(tcpProxyOf(tls).stat_prefix(), "egress_tls_allowed");
  EXPECT_EQ(tcpProxyOf(tls).cluster(), "egress_passthrough");

  // The backends, then the allow-list to the pass-through; no catch-all (the policy filter
  // answers what matches no route).
  const auto& routes = routesNamed(caller, "rds_egress_m_caller");
  EXPECT_THAT(hostNames(routes), ElementsAre("svc.m.local:9080", "egress_allowed_hosts"));
  const auto& allowed = hostNamed(routes, "egress_allowed_hosts");
  EXPECT_THAT(allowed.domains(), ElementsAre("*.amazonaws.com"));
  ASSERT_EQ(allowed.routes_size(), 1);
  EXPECT_EQ(allowed.routes(0).match().prefix(), "/");
  EXPECT_EQ(allowed.routes(0).route().cluster(), "egress_passthrough");
  EXPECT_EQ(millisOf(allowed.routes(0).route().timeout()), 15000);
  EXPECT_FALSE(allowed.routes(0).route().has_retry_policy());

  const auto& passthrough = clusterNamed(caller, "egress_passthrough");
  EXPECT_EQ(passthrough.type(), envoy::config::cluster::v3::Cluster::ORIGINAL_DST);
  EXPECT_EQ(passthrough.lb_policy(), envoy::config::cluster::v3::Cluster::CLUSTER_PROVIDED);
  EXPECT_EQ(millisOf(passthrough.connect_timeout()), 1000);
  EXPECT_FALSE(passthrough.has_eds_cluster_config());
  for (const auto& cla : caller.endpoints) EXPECT_NE(cla.cluster_name(), "egress_passthrough");

  // A node without backends: the same egress filter on port 80 and its own port.
  const auto& one = listenerNamed(proxyOf(result, "one"), "lds_egress_0.0.0.0_15001");
  EXPECT_THAT(chainNames(one),
              ElementsAre("egress_http_80", "egress_http_15001", "egress_http_direct", "egress_tls_allowed"));
  EXPECT_THAT(hostNames(routesNamed(proxyOf(result, "one"), "rds_egress_m_one")),
              ElementsAre("egress_allowed_hosts"));
}

TEST(TranslateEgress, TheAllowListIsAnOption) {
  const std::string yaml = absl::StrCat(kBase, simpleRoute("r", "", "{prefix: /}"));
  // Empty: nothing outside the mesh, so no pass-through at all.
  TranslateOptions none;
  none.egressAllowedHosts = {};
  TranslateResult closed = translate(meshOf(yaml), noDns(), none);
  const ProxyResources& caller = proxyOf(closed, "caller");
  EXPECT_THAT(chainNames(listenerNamed(caller, "lds_egress_0.0.0.0_15001")),
              ElementsAre("egress_http_80", "egress_http_9080", "egress_http_15001", "egress_http_direct"));
  EXPECT_THAT(hostNames(routesNamed(caller, "rds_egress_m_caller")),
              ElementsAre("svc.m.local:9080"));
  for (const auto& cluster : caller.clusters) EXPECT_NE(cluster.name(), "egress_passthrough");

  // Entries are lower-cased and deduplicated; a bad one is left out with an error; a name that
  // is already a backend stays the backend's.
  TranslateOptions some;
  some.egressAllowedHosts = {"API.Example.com", "*.s3.amazonaws.com", "api.example.com", "*",
                             "svc.m.local"};
  TranslateResult open = translate(meshOf(yaml), noDns(), some);
  for (const auto& [key, proxy] : open.proxies) expectAccepted(proxy);
  const ProxyResources& opened = proxyOf(open, "caller");
  EXPECT_THAT(hostNamed(routesNamed(opened, "rds_egress_m_caller"), "egress_allowed_hosts")
                  .domains(),
              ElementsAre("api.example.com", "*.s3.amazonaws.com"));
  EXPECT_EQ(matchOf(chainNamed(listenerNamed(opened, "lds_egress_0.0.0.0_15001"),
                               "egress_tls_allowed")),
            "-/tls/api.example.com,*.s3.amazonaws.com");
  EXPECT_THAT(open.errors, ElementsAre("TranslateOptions.egressAllowedHosts: \"*\": '*' is "
                                       "allowed only as a leading \"*.\" (a suffix pattern, e.g. "
                                       "*.amazonaws.com): left out of every allow-list"));
}

TEST(TranslateEgress, ParseEgressAllowedHosts) {
  EXPECT_THAT(parseEgressAllowedHosts("").value(), IsEmpty());
  EXPECT_THAT(parseEgressAllowedHosts("  ").value(), IsEmpty());
  EXPECT_THAT(parseEgressAllowedHosts("*.AmazonAWS.com, api.example.com ,*.amazonaws.com").value(),
              ElementsAre("*.amazonaws.com", "api.example.com"));
  auto problem = [](const std::string& list) {
    absl::StatusOr<std::vector<std::string>> hosts = parseEgressAllowedHosts(list);
    EXPECT_FALSE(hosts.ok()) << list;
    EXPECT_EQ(hosts.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(hosts.status().message());
  };
  EXPECT_THAT(problem("a.example,,b.example"), HasSubstr("entry 2 \"\": empty entry"));
  EXPECT_THAT(problem("*"), HasSubstr("entry 1 \"*\": '*' is allowed only as a leading"));
  EXPECT_THAT(problem("api.*.example"), HasSubstr("'*' is allowed only as a leading \"*.\""));
  EXPECT_THAT(problem("*example.com"), HasSubstr("'*' is allowed only"));
  EXPECT_THAT(problem("*."), HasSubstr("nothing after \"*.\""));
  EXPECT_THAT(problem("a..b"), HasSubstr("empty label"));
  EXPECT_THAT(problem("host:443"), HasSubstr("':' is not a host name character"));
  EXPECT_THAT(problem("x.example,http://y"), HasSubstr("entry 2 \"http://y\""));
}

TEST(TranslateEgress, AllowAllPassesEverythingThrough) {
  std::string yaml = absl::StrCat(kBase, simpleRoute("r", "", "{prefix: /}"));
  yaml.replace(yaml.find("DROP_ALL"), 8, "ALLOW_ALL");
  TranslateResult result = translateOk(meshOf(yaml));
  const ProxyResources& caller = proxyOf(result, "caller");
  const auto& outbound = listenerNamed(caller, "lds_egress_0.0.0.0_15001");
  // No port-80 chain and no TLS chain: the default chain takes everything else untouched.
  EXPECT_THAT(chainNames(outbound), ElementsAre("egress_http_9080", "egress_http_15001", "egress_http_direct"));
  const hcm::HttpConnectionManager manager = managerOf(outbound.filter_chains(0));
  EXPECT_THAT(httpFilterNames(manager), ElementsAre("envoy.filters.http.router"));
  ASSERT_TRUE(outbound.has_default_filter_chain());
  EXPECT_EQ(outbound.default_filter_chain().name(), "egress_passthrough");
  const tcp::TcpProxy passthrough = tcpProxyOf(outbound.default_filter_chain());
  EXPECT_EQ(passthrough.stat_prefix(), "egress_passthrough");
  EXPECT_EQ(passthrough.cluster(), "egress_passthrough");
  EXPECT_FALSE(passthrough.has_idle_timeout());
  // HTTP to an unknown host on a backend's port goes through as well.
  const auto& routes = routesNamed(caller, "rds_egress_m_caller");
  EXPECT_THAT(hostNames(routes), ElementsAre("svc.m.local:9080", "egress_allow_all"));
  const auto& all = hostNamed(routes, "egress_allow_all");
  EXPECT_THAT(all.domains(), ElementsAre("*"));
  EXPECT_EQ(all.routes(0).route().cluster(), "egress_passthrough");
  EXPECT_EQ(clusterNamed(caller, "egress_passthrough").type(),
            envoy::config::cluster::v3::Cluster::ORIGINAL_DST);
  EXPECT_THAT(result.warnings, ::testing::Not(::testing::Contains(HasSubstr("ALLOW_ALL"))));
}

// ------------------------------------------------------------------------ tcp backends

TEST(TranslateTcp, TcpBackendsGetAChainPerPort) {
  absl::StatusOr<MeshSet> mesh = loadMeshDir(absl::StrCat(kTestdata, "tcp"));
  ASSERT_TRUE(mesh.ok()) << mesh.status();
  ASSERT_THAT(validate(*mesh), IsEmpty());
  TranslateResult result = translateOk(*mesh);
  const ProxyResources& app = proxyOf(result, "app", "tcp-mesh");
  const auto& outbound = listenerNamed(app, "lds_egress_0.0.0.0_15001");
  EXPECT_THAT(chainNames(outbound),
              ElementsAre("egress_http_80", "egress_http_9080", "egress_http_9100",
                          "egress_http_15001", "egress_http_direct", "egress_tcp_5432", "egress_tcp_6379",
                          "egress_tls_allowed"));
  // The router's tcp route: weighted clusters, its idle timeout; no transport match, so TLS to
  // the port is proxied too.
  const auto& db = chainNamed(outbound, "egress_tcp_5432");
  EXPECT_EQ(matchOf(db), "5432//");
  const tcp::TcpProxy dbProxy = tcpProxyOf(db);
  EXPECT_EQ(dbProxy.stat_prefix(), "egress_tcp_5432");
  EXPECT_EQ(targetsOf(dbProxy),
            "cds_egress_tcp-mesh_db-primary_5432*90,cds_egress_tcp-mesh_db-replica_5432*10");
  EXPECT_EQ(millisOf(dbProxy.idle_timeout()), 600000);
  // A node provider: its cluster, with the node listener's tcp idle timeout.
  const tcp::TcpProxy cache = tcpProxyOf(chainNamed(outbound, "egress_tcp_6379"));
  EXPECT_EQ(targetsOf(cache), "cds_egress_tcp-mesh_cache_6379");
  EXPECT_EQ(millisOf(cache.idle_timeout()), 30000);
  // The cache's HTTP port is a virtual host like any other.
  EXPECT_THAT(hostNames(routesNamed(app, "rds_egress_tcp-mesh_app")),
              ElementsAre("cache.tcp.local:9100", "web.tcp.local:9080", "egress_allowed_hosts"));
  // The EDS clusters are the HTTP side's, per target node and port; the left-out backends have
  // none.
  EXPECT_THAT(namesOf(app),
              ElementsAre("lds_egress_0.0.0.0_15001", "lds_ingress_0.0.0.0_15000",
                          "rds_egress_tcp-mesh_app", "rds_ingress_tcp-mesh_app",
                          "cds_egress_tcp-mesh_cache_6379", "cds_egress_tcp-mesh_cache_9100",
                          "cds_egress_tcp-mesh_db-primary_5432",
                          "cds_egress_tcp-mesh_db-replica_5432", "cds_egress_tcp-mesh_web_9080",
                          "cds_ingress_tcp-mesh_app_8080", "egress_passthrough",
                          "cla:cds_egress_tcp-mesh_cache_6379", "cla:cds_egress_tcp-mesh_cache_9100",
                          "cla:cds_egress_tcp-mesh_db-primary_5432",
                          "cla:cds_egress_tcp-mesh_db-replica_5432",
                          "cla:cds_egress_tcp-mesh_web_9080", "cla:cds_ingress_tcp-mesh_app_8080"));
  EXPECT_THAT(endpointsOf(app, "cds_egress_tcp-mesh_db-replica_5432"), ElementsAre("10.1.0.2:5432"));
  EXPECT_THAT(
      result.errors,
      ElementsAre(
          "mesh.yaml (document 6): tcp-mesh/VirtualRouter/db-router/Route/fallback: a tcp "
          "connection carries nothing to match on, so one tcp route serves port 5432 of "
          "VirtualRouter \"db-router\", and it is \"split\" (first by priority): route left "
          "out",
          "mesh.yaml (document 2): tcp-mesh/VirtualNode/app: spec.backends[3]: port 5432 of "
          "\"legacy-db.tcp.local\" is tcp, as is port 5432 of \"db.tcp.local\": two tcp backends "
          "on one port cannot be told apart (App Mesh could not either), \"db.tcp.local\" keeps "
          "the port and \"legacy-db.tcp.local\" is left out",
          "mesh.yaml (document 2): tcp-mesh/VirtualNode/app: spec.backends[4]: port 9080 of "
          "\"metrics.tcp.local\" is tcp, but an HTTP backend of this node uses that port too (a "
          "tcp backend is told apart by its port alone): the tcp backend is left out"));
}

TEST(TranslateTcp, SingleTargetAndZeroWeights) {
  const std::string yaml = R"(
meshName: m
spec: {egressFilter: {type: ALLOW_ALL}}
---
meshName: m
virtualNodeName: caller
spec: {backends: [{virtualService: {virtualServiceName: db.m.local}}]}
---
meshName: m
virtualServiceName: db.m.local
spec: {provider: {virtualRouter: {virtualRouterName: router}}}
---
meshName: m
virtualRouterName: router
spec: {listeners: [{portMapping: {port: 3306, protocol: tcp}}]}
---
meshName: m
virtualRouterName: router
routeName: r
spec:
  tcpRoute:
    action: {weightedTargets: [{virtualNode: a, weight: 0}, {virtualNode: b, weight: 5}]}
---
meshName: m
virtualNodeName: a
spec: {listeners: [{portMapping: {port: 3306, protocol: tcp}}]}
---
meshName: m
virtualNodeName: b
spec: {listeners: [{portMapping: {port: 3306, protocol: tcp}}]}
)";
  TranslateResult result = translateOk(meshOf(yaml));
  const ProxyResources& caller = proxyOf(result, "caller");
  const auto& outbound = listenerNamed(caller, "lds_egress_0.0.0.0_15001");
  EXPECT_THAT(chainNames(outbound), ElementsAre("egress_http_15001", "egress_http_direct", "egress_tcp_3306"));
  const tcp::TcpProxy proxy = tcpProxyOf(chainNamed(outbound, "egress_tcp_3306"));
  // One target with a weight: a plain cluster (the TCP proxy takes no weight 0); the weight-0
  // target's cluster is sent anyway, so shifting weight later changes only the listener.
  EXPECT_EQ(targetsOf(proxy), "cds_egress_m_b_3306");
  EXPECT_FALSE(proxy.has_idle_timeout());  // App Mesh: none; the proxy's default (1 h)
  clusterNamed(caller, "cds_egress_m_a_3306");
  EXPECT_EQ(outbound.default_filter_chain().name(), "egress_passthrough");
}

TEST(TranslateEgress, ANodeSeesOnlyTheClustersOfItsBackends) {
  const std::string yaml = absl::StrCat(kBase, R"(
---
meshName: m
virtualNodeName: other
spec:
  listeners: [{portMapping: {port: 7000, protocol: http}}]
  backends: [{virtualService: {virtualServiceName: two.m.local}}]
---
meshName: m
virtualServiceName: two.m.local
spec: {provider: {virtualNode: {virtualNodeName: two}}}
)",
                                        simpleRoute("r", "", "{prefix: /}"));
  TranslateResult result = translateOk(meshOf(yaml));
  EXPECT_THAT(
      namesOf(proxyOf(result, "caller")),
      ElementsAre("lds_egress_0.0.0.0_15001", "lds_ingress_0.0.0.0_15000", "rds_egress_m_caller",
                  "rds_ingress_m_caller", "cds_egress_m_one_9080", "cds_ingress_m_caller_8080",
                  "egress_passthrough", "cla:cds_egress_m_one_9080",
                  "cla:cds_ingress_m_caller_8080"));
  EXPECT_THAT(
      namesOf(proxyOf(result, "other")),
      ElementsAre("lds_egress_0.0.0.0_15001", "lds_ingress_0.0.0.0_15000", "rds_egress_m_other",
                  "rds_ingress_m_other", "cds_egress_m_two_9080", "cds_ingress_m_other_7000",
                  "egress_passthrough", "cla:cds_egress_m_two_9080",
                  "cla:cds_ingress_m_other_7000"));
  EXPECT_THAT(hostNames(routesNamed(proxyOf(result, "other"), "rds_egress_m_other")),
              ElementsAre("two.m.local:9080", "egress_allowed_hosts"));
}

// ------------------------------------------------------------------------ endpoints by DNS

constexpr char kDnsMesh[] = R"(
meshName: m
spec: {serviceDiscovery: {ipPreference: IPv4_PREFERRED}}
---
meshName: m
virtualNodeName: caller
spec:
  backends:
    - virtualService: {virtualServiceName: all.m.local}
    - virtualService: {virtualServiceName: lb.m.local}
    - virtualService: {virtualServiceName: v6.m.local}
    - virtualService: {virtualServiceName: gone.m.local}
---
meshName: m
virtualNodeName: other
spec: {backends: [{virtualService: {virtualServiceName: gone.m.local}}]}
)";

std::string dnsService(const std::string& name, const std::string& dns) {
  return absl::StrCat("---\nmeshName: m\nvirtualServiceName: ", name,
                      ".m.local\nspec: {provider: {virtualNode: {virtualNodeName: ", name,
                      "}}}\n---\nmeshName: m\nvirtualNodeName: ", name,
                      "\nspec: {listeners: [{portMapping: {port: 80, protocol: http}}], "
                      "serviceDiscovery: {dns: ",
                      dns, "}}\n");
}

TEST(TranslateDns, ResolvesOncePerHostnameWithPreferenceAndResponseType) {
  const std::string yaml =
      absl::StrCat(kDnsMesh, dnsService("all", "{hostname: multi.local, responseType: ENDPOINTS}"),
                   dnsService("lb", "{hostname: multi.local}"),
                   dnsService("v6",
                              "{hostname: multi.local, responseType: ENDPOINTS, "
                              "ipPreference: IPv6_ONLY}"),
                   dnsService("gone", "{hostname: gone.local}"));
  std::map<std::string, int> calls;
  Resolver fake = [&](const std::string& hostname) -> absl::StatusOr<std::vector<std::string>> {
    ++calls[hostname];
    if (hostname == "multi.local") {
      return std::vector<std::string>{"10.0.0.9", "2001:db8::1", "10.0.0.3"};
    }
    return absl::NotFoundError("NXDOMAIN");
  };
  TranslateResult result = translateOk(meshOf(yaml), fake);
  EXPECT_EQ(calls["multi.local"], 1);
  EXPECT_EQ(calls["gone.local"], 1);

  const ProxyResources& caller = proxyOf(result, "caller");
  // ENDPOINTS: every IPv4 address (the mesh prefers IPv4), sorted.
  EXPECT_THAT(endpointsOf(caller, "cds_egress_m_all_80"),
              ElementsAre("10.0.0.3:80", "10.0.0.9:80"));
  // LOADBALANCER (the default): the first preferred address only.
  EXPECT_THAT(endpointsOf(caller, "cds_egress_m_lb_80"), ElementsAre("10.0.0.9:80"));
  // The node's own preference wins over the mesh's.
  EXPECT_THAT(endpointsOf(caller, "cds_egress_m_v6_80"), ElementsAre("2001:db8::1:80"));
  // Unresolvable: the cluster is there without endpoints, and each caller gets an error.
  EXPECT_THAT(endpointsOf(caller, "cds_egress_m_gone_80"), IsEmpty());
  EXPECT_THAT(
      result.errors,
      ElementsAre("mesh.yaml (document 2): m/VirtualNode/caller: spec.backends[3]: cluster "
                  "cds_egress_m_gone_80 has no endpoints: VirtualNode \"gone\" (mesh.yaml "
                  "(document 11)) finds its instances by DNS, and \"gone.local\" did not resolve: "
                  "NOT_FOUND: NXDOMAIN",
                  "mesh.yaml (document 3): m/VirtualNode/other: spec.backends[0]: cluster "
                  "cds_egress_m_gone_80 has no endpoints: VirtualNode \"gone\" (mesh.yaml "
                  "(document 11)) finds its instances by DNS, and \"gone.local\" did not resolve: "
                  "NOT_FOUND: NXDOMAIN"));
}

TEST(TranslateDns, AnswerThatIsNotAnAddressIsAnError) {
  const std::string yaml = absl::StrCat(
      "meshName: m\n---\nmeshName: m\nvirtualNodeName: caller\nspec: {backends: "
      "[{virtualService: {virtualServiceName: odd.m.local}}]}\n",
      dnsService("odd", "{hostname: odd.local}"));
  Resolver fake = [](const std::string&) -> absl::StatusOr<std::vector<std::string>> {
    return std::vector<std::string>{"odd.example"};
  };
  TranslateResult result = translateOk(meshOf(yaml), fake);
  EXPECT_THAT(endpointsOf(proxyOf(result, "caller"), "cds_egress_m_odd_80"), IsEmpty());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_THAT(result.errors[0], HasSubstr("resolved to \"odd.example\", not an IP address"));
}

// ------------------------------------------------------------------------ inbound and Sidecar

TEST(TranslateInbound, DefaultsWithoutASidecar) {
  const std::string yaml = R"(
meshName: m
---
meshName: m
virtualNodeName: app
spec:
  listeners:
    - portMapping: {port: 9080, protocol: http}
      timeout: {http: {perRequest: {unit: ms, value: 1500}, idle: {unit: s, value: 60}}}
)";
  TranslateResult result = translateOk(meshOf(yaml));
  EXPECT_THAT(result.errors, IsEmpty());
  const ProxyResources& app = proxyOf(result, "app");
  ASSERT_EQ(app.listeners.size(), 2u);
  const auto& inbound = app.listeners[1];
  EXPECT_EQ(inbound.name(), "lds_ingress_0.0.0.0_15000");
  EXPECT_EQ(inbound.address().socket_address().address(), "0.0.0.0");
  EXPECT_EQ(inbound.address().socket_address().port_value(), 15000u);
  EXPECT_EQ(inbound.traffic_direction(), envoy::config::core::v3::INBOUND);
  EXPECT_THAT(listenerFilterNames(inbound), ElementsAre("envoy.filters.listener.original_dst"));
  EXPECT_THAT(chainNames(inbound), ElementsAre("ingress_http_9080"));
  EXPECT_EQ(matchOf(inbound.filter_chains(0)), "9080//");
  EXPECT_EQ(inbound.default_filter_chain().name(), "ingress_default");
  EXPECT_EQ(managerOf(inbound.default_filter_chain()).rds().route_config_name(),
            "rds_ingress_m_app");
  hcm::HttpConnectionManager manager = managerOf(inbound);
  EXPECT_EQ(manager.stat_prefix(), "ingress");
  EXPECT_EQ(manager.rds().route_config_name(), "rds_ingress_m_app");
  EXPECT_TRUE(manager.rds().config_source().has_ads());
  EXPECT_EQ(manager.common_http_protocol_options().idle_timeout().seconds(), 60);
  ASSERT_EQ(manager.http_filters_size(), 1);
  EXPECT_EQ(manager.http_filters(0).name(), "envoy.filters.http.router");
  const auto& host = routesNamed(app, "rds_ingress_m_app").virtual_hosts(0);
  EXPECT_THAT(host.domains(), ElementsAre("*"));
  EXPECT_EQ(host.routes(0).match().prefix(), "/");
  EXPECT_EQ(host.routes(0).route().cluster(), "cds_ingress_m_app_9080");
  EXPECT_EQ(host.routes(0).route().timeout().seconds(), 1);
  EXPECT_EQ(host.routes(0).route().timeout().nanos(), 500000000);
  EXPECT_THAT(endpointsOf(app, "cds_ingress_m_app_9080"), ElementsAre("127.0.0.1:9080"));
  EXPECT_EQ(app.listeners[0].address().socket_address().port_value(), 15001u);
  EXPECT_EQ(app.clusters[0].type(), envoy::config::cluster::v3::Cluster::EDS);
  EXPECT_EQ(app.clusters[0].eds_cluster_config().service_name(), "cds_ingress_m_app_9080");
}

TEST(TranslateInbound, SidecarOverridesAddressesAndAppPort) {
  const std::string yaml = R"(
meshName: m
---
meshName: m
virtualNodeName: app
spec: {listeners: [{portMapping: {port: 9080, protocol: http}}]}
---
apiVersion: trellis.dev/v1
kind: Sidecar
mesh: m
virtualNode: app
inbound: 127.0.0.1:15110
outbound: "[::1]:15111"
app: {address: 127.0.0.2, ports: {9080: 9081}}
)";
  TranslateResult result = translateOk(meshOf(yaml));
  const ProxyResources& app = proxyOf(result, "app");
  EXPECT_THAT(namesOf(app), ElementsAre("lds_egress_::1_15111", "lds_ingress_127.0.0.1_15110",
                                        "rds_egress_m_app", "rds_ingress_m_app",
                                        "cds_ingress_m_app_9080", "egress_passthrough",
                                        "cla:cds_ingress_m_app_9080"));
  EXPECT_EQ(app.listeners[0].address().socket_address().address(), "::1");
  EXPECT_EQ(app.listeners[1].address().socket_address().port_value(), 15110u);
  EXPECT_THAT(endpointsOf(app, "cds_ingress_m_app_9080"), ElementsAre("127.0.0.2:9081"));
  // The default idle timeout is the proxy's own (App Mesh: none given, none set).
  EXPECT_FALSE(managerOf(app.listeners[1]).has_common_http_protocol_options());
}

TEST(TranslateInbound, TcpListenersGetATcpProxyAndStrictTlsIsAnError) {
  const std::string yaml = R"(
meshName: m
---
meshName: m
virtualNodeName: db
spec:
  listeners:
    - portMapping: {port: 5432, protocol: tcp}
      timeout: {tcp: {idle: {unit: s, value: 120}}}
      connectionPool: {tcp: {maxConnections: 20}}
    - portMapping: {port: 8081, protocol: http}
---
meshName: m
virtualNodeName: secure
spec:
  listeners:
    - portMapping: {port: 443, protocol: http}
      tls: {mode: STRICT, certificate: {file: {certificateChain: /c.pem, privateKey: /k.pem}}}
---
meshName: m
virtualNodeName: half
spec:
  listeners:
    - portMapping: {port: 443, protocol: http}
      tls: {mode: STRICT, certificate: {file: {certificateChain: /c.pem, privateKey: /k.pem}}}
    - portMapping: {port: 8080, protocol: http}
)";
  TranslateResult result = translateOk(meshOf(yaml));
  const ProxyResources& db = proxyOf(result, "db");
  const auto& inbound = listenerNamed(db, "lds_ingress_0.0.0.0_15000");
  EXPECT_THAT(chainNames(inbound), ElementsAre("ingress_tcp_5432", "ingress_http_8081"));
  EXPECT_EQ(matchOf(inbound.filter_chains(0)), "5432//");
  const tcp::TcpProxy proxy = tcpProxyOf(inbound.filter_chains(0));
  EXPECT_EQ(proxy.stat_prefix(), "ingress_tcp_5432");
  EXPECT_EQ(proxy.cluster(), "cds_ingress_m_db_5432");
  EXPECT_EQ(millisOf(proxy.idle_timeout()), 120000);
  EXPECT_EQ(limitsOf(clusterNamed(db, "cds_ingress_m_db_5432")),
            "20/2147483647/2147483647/2147483647");
  EXPECT_THAT(endpointsOf(db, "cds_ingress_m_db_5432"), ElementsAre("127.0.0.1:5432"));
  // The HTTP port is the first HTTP one: the unsuffixed route configuration.
  EXPECT_EQ(managerOf(inbound.filter_chains(1)).rds().route_config_name(), "rds_ingress_m_db");
  // The default chain is the first listener's: here the TCP proxy.
  EXPECT_EQ(inbound.default_filter_chain().name(), "ingress_default");
  EXPECT_EQ(tcpProxyOf(inbound.default_filter_chain()).cluster(), "cds_ingress_m_db_5432");

  // STRICT: no chain for the port; with nothing else, no inbound listener at all.
  EXPECT_THAT(namesOf(proxyOf(result, "secure")),
              ElementsAre("lds_egress_0.0.0.0_15001", "rds_egress_m_secure", "egress_passthrough"));
  // With another listener, that one's chain, and no default (the first is the refused one).
  const auto& half = listenerNamed(proxyOf(result, "half"), "lds_ingress_0.0.0.0_15000");
  EXPECT_THAT(chainNames(half), ElementsAre("ingress_http_8080"));
  EXPECT_FALSE(half.has_default_filter_chain());
  EXPECT_THAT(result.errors,
              ElementsAre("mesh.yaml (document 3): m/VirtualNode/secure: "
                          "spec.listeners[0].tls.mode: STRICT is not supported yet (trellis-proxy "
                          "does not terminate TLS): no inbound filter chain for port 443, so "
                          "callers are refused rather than served in plaintext",
                          "mesh.yaml (document 4): m/VirtualNode/half: "
                          "spec.listeners[0].tls.mode: STRICT is not supported yet (trellis-proxy "
                          "does not terminate TLS): no inbound filter chain for port 443, so "
                          "callers are refused rather than served in plaintext"));
}

TEST(TranslateOutbound, EnforcedClientTlsRefusesTheBackend) {
  const std::string yaml = absl::StrCat(kBase, simpleRoute("r", "", "{prefix: /}"), R"(
---
meshName: m
virtualNodeName: strict
spec:
  backends: [{virtualService: {virtualServiceName: svc.m.local}}]
  backendDefaults:
    clientPolicy: {tls: {validation: {trust: {file: {certificateChain: /ca.pem}}}}}
)");
  TranslateResult result = translateOk(meshOf(yaml));
  EXPECT_THAT(hostNames(routesNamed(proxyOf(result, "strict"), "rds_egress_m_strict")),
              ElementsAre("egress_allowed_hosts"));
  EXPECT_THAT(result.errors,
              ElementsAre(HasSubstr("m/VirtualNode/strict: spec.backends[0]: client policy "
                                    "requires TLS to \"svc.m.local\" port 9080")));
}

// ------------------------------------------------------------------------ virtual gateways

Resolver gatewayDns() {
  return [](const std::string& hostname) -> absl::StatusOr<std::vector<std::string>> {
    if (hostname == "color-v1.color.local") return std::vector<std::string>{"10.0.1.1"};
    if (hostname == "color-v2.color.local") return std::vector<std::string>{"10.0.2.1"};
    return absl::NotFoundError(absl::StrCat("no DNS in this test for ", hostname));
  };
}

constexpr char kGatewayFolder[] = "formats/gateway/cli";

TEST(TranslateGateway, MatchesTheGoldenFiles) {
  absl::StatusOr<MeshSet> mesh = loadMeshDir(absl::StrCat(kTestdata, kGatewayFolder));
  ASSERT_TRUE(mesh.ok()) << mesh.status();
  ASSERT_THAT(validate(*mesh), IsEmpty());
  TranslateResult result = translateOk(*mesh, gatewayDns());
  EXPECT_THAT(result.errors, IsEmpty());
  ASSERT_EQ(result.proxies.size(), 3u);  // the gateway and the two nodes
  std::set<std::string> expectedFiles = {"report.txt"};
  for (const auto& [key, proxy] : result.proxies) {
    const std::string name = key.substr(key.rfind('/') + 1);
    expectGolden(absl::StrCat("gateway/", name, ".textproto"),
                 render(proxy, absl::StrCat("testdata/", kGatewayFolder)));
    expectedFiles.insert(absl::StrCat(name, ".textproto"));
  }
  std::string report = "# errors\n";
  for (const std::string& e : result.errors) absl::StrAppend(&report, e, "\n");
  absl::StrAppend(&report, "# warnings\n");
  for (const std::string& w : result.warnings) absl::StrAppend(&report, w, "\n");
  expectGolden("gateway/report.txt", report);
  if (std::getenv("TRELLIS_UPDATE_GOLDEN") == nullptr) {
    std::set<std::string> files;
    std::error_code ec;
    for (const auto& entry :
         std::filesystem::directory_iterator(absl::StrCat(kTestdata, "golden/gateway"), ec)) {
      files.insert(entry.path().filename().string());
    }
    EXPECT_EQ(files, expectedFiles);
  }
}

TEST(TranslateGateway, ListenerRoutesRewritesAndTheRoutersWeights) {
  absl::StatusOr<MeshSet> mesh = loadMeshDir(absl::StrCat(kTestdata, kGatewayFolder));
  ASSERT_TRUE(mesh.ok()) << mesh.status();
  TranslateResult result = translateOk(*mesh, gatewayDns());
  auto found = result.proxies.find(gatewayKey("color-mesh", "color-gateway"));
  ASSERT_NE(found, result.proxies.end());
  const ProxyResources& gateway = found->second;
  EXPECT_THAT(namesOf(gateway),
              ElementsAre("lds_gateway_0.0.0.0_8080", "rds_gateway_color-mesh_color-gateway_8080",
                          "cds_egress_color-mesh_color-v1_9080",
                          "cds_egress_color-mesh_color-v2_9080",
                          "cla:cds_egress_color-mesh_color-v1_9080",
                          "cla:cds_egress_color-mesh_color-v2_9080"));
  const ListenerProto& listener = listenerNamed(gateway, "lds_gateway_0.0.0.0_8080");
  EXPECT_EQ(listener.address().socket_address().port_value(), 8080u);
  EXPECT_THAT(chainNames(listener), ElementsAre("gateway_http_8080"));
  EXPECT_EQ(managerOf(listener).rds().route_config_name(),
            "rds_gateway_color-mesh_color-gateway_8080");
  const auto& host =
      hostNamed(routesNamed(gateway, "rds_gateway_color-mesh_color-gateway_8080"), "gateway_8080");
  EXPECT_THAT(host.domains(), ElementsAre("*"));
  EXPECT_THAT(routeNames(host), ElementsAre("health_check", "color-gateway-route/color-route"));
  EXPECT_EQ(host.routes(0).match().path(), "/healthz");
  EXPECT_EQ(host.routes(0).direct_response().status(), 200u);
  const xroute::Route& color = host.routes(1);
  EXPECT_EQ(color.match().prefix(), "/color");
  EXPECT_EQ(color.match().headers_size(), 0);  // the router's prefix "/" adds nothing
  EXPECT_EQ(color.route().prefix_rewrite(), "/");  // App Mesh's defaultPrefix ENABLED
  EXPECT_EQ(color.route().host_rewrite_literal(), "color.local");  // defaultTargetHostname
  ASSERT_EQ(color.route().weighted_clusters().clusters_size(), 2);
  EXPECT_EQ(color.route().weighted_clusters().clusters(0).name(),
            "cds_egress_color-mesh_color-v1_9080");
  EXPECT_EQ(color.route().weighted_clusters().clusters(0).weight().value(), 90u);
  EXPECT_EQ(color.route().weighted_clusters().clusters(1).weight().value(), 10u);
  EXPECT_THAT(endpointsOf(gateway, "cds_egress_color-mesh_color-v1_9080"),
              ElementsAre("10.0.1.1:9080"));
  // Origins: the route came from the gateway route and the router's route.
  const std::vector<Origin>& origins =
      gateway.origins.at("gateway_8080/color-gateway-route/color-route");
  ASSERT_EQ(origins.size(), 2u);
  EXPECT_EQ(origins[0].resource,
            "color-mesh/VirtualGateway/color-gateway/GatewayRoute/color-gateway-route");
  EXPECT_EQ(origins[0].source.file, "gateway-route.json");
  EXPECT_EQ(origins[1].resource, "color-mesh/VirtualRouter/color-router/Route/color-route");
  EXPECT_EQ(gateway.origins.at("cds_egress_color-mesh_color-v2_9080")[0].resource,
            "color-mesh/VirtualNode/color-v2");
}

// The gateway's route to a service carries exactly the action a node's outbound route to the
// same service has (one code path builds both).
TEST(TranslateGateway, SameActionAsANodesBackendRoute) {
  const std::string yaml = absl::StrCat(kBase, simpleRoute("r", "priority: 1, ", "{prefix: /}"), R"(
---
meshName: m
virtualGatewayName: gw
spec: {listeners: [{portMapping: {port: 8080, protocol: http}}]}
---
meshName: m
virtualGatewayName: gw
gatewayRouteName: to-svc
spec: {httpRoute: {match: {prefix: /}, action: {target: {virtualService: {virtualServiceName: svc.m.local}}}}}
)");
  TranslateResult result = translateOk(meshOf(yaml));
  const auto& nodeRoute =
      hostNamed(routesNamed(proxyOf(result, "caller"), "rds_egress_m_caller"), "svc.m.local:9080")
          .routes(0);
  const ProxyResources& gateway = result.proxies.at(gatewayKey("m", "gw"));
  const auto& gatewayRoute =
      hostNamed(routesNamed(gateway, "rds_gateway_m_gw_8080"), "gateway_8080").routes(0);
  xroute::RouteAction withoutRewrites = gatewayRoute.route();
  EXPECT_EQ(withoutRewrites.host_rewrite_literal(), "svc.m.local");
  EXPECT_EQ(withoutRewrites.prefix_rewrite(), "");  // prefix "/" to "/": nothing to rewrite
  withoutRewrites.clear_host_rewrite_literal();
  EXPECT_EQ(text(withoutRewrites), text(nodeRoute.route()));
  EXPECT_EQ(gatewayRoute.name(), "to-svc/r");
}

// A gateway over a router with path-matching routes: what each route matches after the rewrite.
std::string gatewayMesh(const std::string& gatewayRoutes, const std::string& listeners =
                            "[{portMapping: {port: 8080, protocol: http}}]") {
  return absl::StrCat(kBase, simpleRoute("v2", "priority: 1, ", "{prefix: /v2}"),
                      simpleRoute("exact", "priority: 2, ", "{path: {exact: /about}}"),
                      simpleRoute("rest", "priority: 3, ", "{prefix: /}"), R"(
---
meshName: m
virtualGatewayName: gw
spec: {listeners: )", listeners, "}\n", gatewayRoutes);
}

std::string gatewayRoute(const std::string& name, const std::string& spec) {
  return absl::StrCat("---\nmeshName: m\nvirtualGatewayName: gw\ngatewayRouteName: ", name,
                      "\nspec: ", spec, "\n");
}

const xroute::VirtualHost& gatewayHost(const TranslateResult& result, int port = 8080) {
  const ProxyResources& gateway = result.proxies.at(gatewayKey("m", "gw"));
  return hostNamed(routesNamed(gateway, absl::StrCat("rds_gateway_m_gw_", port)),
                   absl::StrCat("gateway_", port));
}

// "name prefix|path|regex=VALUE [:path prefix=X | :path regex=Y] rewrite=Z host=H" per route.
std::vector<std::string> describe(const xroute::VirtualHost& host) {
  std::vector<std::string> out;
  for (const auto& route : host.routes()) {
    std::string line = route.name();
    const auto& m = route.match();
    if (m.has_prefix()) absl::StrAppend(&line, " prefix=", m.prefix());
    if (m.has_path()) absl::StrAppend(&line, " path=", m.path());
    if (m.has_safe_regex()) absl::StrAppend(&line, " regex=", m.safe_regex().regex());
    for (const auto& h : m.headers()) {
      absl::StrAppend(&line, " ", h.name(),
                      h.string_match().has_prefix() ? absl::StrCat(" prefix=", h.string_match().prefix())
                                                    : absl::StrCat(" regex=", h.string_match().safe_regex().regex()));
    }
    if (!route.route().prefix_rewrite().empty()) {
      absl::StrAppend(&line, " rewrite=", route.route().prefix_rewrite());
    }
    if (route.route().has_regex_rewrite()) {
      absl::StrAppend(&line, " regex_rewrite=", route.route().regex_rewrite().pattern().regex(), "->",
                      route.route().regex_rewrite().substitution());
    }
    if (!route.route().host_rewrite_literal().empty()) {
      absl::StrAppend(&line, " host=", route.route().host_rewrite_literal());
    }
    out.push_back(line);
  }
  return out;
}

constexpr char kToSvc[] = "action: {target: {virtualService: {virtualServiceName: svc.m.local}}";

TEST(TranslateGateway, DefaultPrefixRewriteMapsTheRoutersPathMatches) {
  TranslateResult result = translateOk(meshOf(gatewayMesh(gatewayRoute(
      "g", absl::StrCat("{httpRoute: {match: {prefix: /shop/}, ", kToSvc, "}}}")))));
  EXPECT_THAT(describe(gatewayHost(result)),
              ElementsAre("g/v2 prefix=/shop/ :path prefix=/shop/v2 rewrite=/ host=svc.m.local",
                          "g/exact prefix=/shop/ :path regex=\\/shop\\/about(\\?.*)? rewrite=/ host=svc.m.local",
                          "g/rest prefix=/shop/ rewrite=/ host=svc.m.local"));
}

TEST(TranslateGateway, CustomPrefixDisabledPrefixAndNoHostRewrite) {
  TranslateResult result = translateOk(meshOf(gatewayMesh(absl::StrCat(
      gatewayRoute("custom", absl::StrCat("{priority: 1, httpRoute: {match: {prefix: /api/}, ", kToSvc,
                                          ", rewrite: {prefix: {value: /v2/}}}}}")),
      gatewayRoute("kept", absl::StrCat("{priority: 2, httpRoute: {match: {prefix: /about}, ", kToSvc,
                                        ", rewrite: {prefix: {defaultPrefix: DISABLED}, "
                                        "hostname: {defaultTargetHostname: DISABLED}}}}}"))))));
  EXPECT_THAT(describe(gatewayHost(result)),
              ElementsAre(
                  // /api/x -> /v2/x: the v2 route matches everything, "exact" never (/about
                  // does not start with /v2/), "rest" everything.
                  "custom/v2 prefix=/api/ rewrite=/v2/ host=svc.m.local",
                  "custom/rest prefix=/api/ rewrite=/v2/ host=svc.m.local",
                  // No rewrite: the router's matches apply to the request's own path.
                  "kept/v2 prefix=/about :path prefix=/v2",
                  "kept/exact prefix=/about :path regex=\\/about(\\?.*)?", "kept/rest prefix=/about"));
}

TEST(TranslateGateway, PathMatchWithExactRewriteIsDecidedAtTranslation) {
  TranslateResult result = translateOk(meshOf(gatewayMesh(absl::StrCat(
      gatewayRoute("p", absl::StrCat("{httpRoute: {match: {path: {exact: /info}}, ", kToSvc,
                                     ", rewrite: {path: {exact: /about}}}}}")),
      gatewayRoute("r", absl::StrCat("{httpRoute: {match: {path: {regex: \"/i.*\"}}, ", kToSvc,
                                     ", rewrite: {path: {exact: /about}}}}}"))))));
  // /info -> /about: only "exact" (priority 2) and "rest" match /about. Behind the regex match
  // the whole path is replaced with Envoy's regex_rewrite.
  EXPECT_THAT(describe(gatewayHost(result)),
              ElementsAre("p/exact path=/info rewrite=/about host=svc.m.local",
                          "p/rest path=/info rewrite=/about host=svc.m.local",
                          "r/exact regex=/i.* regex_rewrite=^.*$->/about host=svc.m.local",
                          "r/rest regex=/i.* regex_rewrite=^.*$->/about host=svc.m.local"));
  EXPECT_THAT(result.errors, IsEmpty());
}

TEST(TranslateGateway, HostnameMethodHeadersQueryAndOrder) {
  TranslateResult result = translateOk(meshOf(absl::StrCat(kBase, R"(
---
meshName: m
virtualGatewayName: gw
spec: {listeners: [{portMapping: {port: 8080, protocol: http}}]}
)",
      gatewayRoute("any", absl::StrCat("{httpRoute: {match: {prefix: /}, ", kToSvc, "}}}")),
      gatewayRoute("suffix", absl::StrCat("{httpRoute: {match: {prefix: /, hostname: {suffix: .example.com}}, ", kToSvc, "}}}")),
      gatewayRoute("exact", absl::StrCat("{httpRoute: {match: {prefix: /, hostname: {exact: Shop.Example.com}, method: POST, "
                                         "headers: [{name: x-v, match: {range: {start: 1, end: 3}}}], "
                                         "queryParameters: [{name: debug}]}, ", kToSvc, "}}}")),
      gatewayRoute("first", absl::StrCat("{priority: 5, httpRoute: {match: {prefix: /zzz}, ", kToSvc, "}}}")),
      "---\nmeshName: m\nvirtualRouterName: router\nrouteName: r\nspec: {httpRoute: {match: {prefix: /}, "
      "action: {weightedTargets: [{virtualNode: one, weight: 1}]}}}\n")));
  const xroute::VirtualHost& host = gatewayHost(result);
  // Priority first, then exact hostname, longer suffix, none.
  EXPECT_THAT(routeNames(host), ElementsAre("first/r", "exact/r", "suffix/r", "any/r"));
  const auto& exact = host.routes(1).match();
  ASSERT_EQ(exact.headers_size(), 4);
  EXPECT_EQ(exact.headers(0).name(), ":method");
  EXPECT_EQ(exact.headers(1).name(), "x-v");
  EXPECT_TRUE(RE2::FullMatch("2", exact.headers(1).string_match().safe_regex().regex()));
  EXPECT_FALSE(RE2::FullMatch("3", exact.headers(1).string_match().safe_regex().regex()));
  EXPECT_EQ(exact.headers(2).name(), ":path");
  EXPECT_TRUE(RE2::FullMatch("/a?debug", exact.headers(2).string_match().safe_regex().regex()));
  EXPECT_EQ(exact.headers(3).name(), ":authority");
  const std::string authority = exact.headers(3).string_match().safe_regex().regex();
  EXPECT_TRUE(RE2::FullMatch("shop.example.com", authority));
  EXPECT_TRUE(RE2::FullMatch("SHOP.example.com:8080", authority));
  EXPECT_FALSE(RE2::FullMatch("x.shop.example.com", authority));
  const std::string suffix = host.routes(2).match().headers(0).string_match().safe_regex().regex();
  EXPECT_TRUE(RE2::FullMatch("www.example.com:8080", suffix));
  EXPECT_FALSE(RE2::FullMatch("example.com", suffix));
  EXPECT_FALSE(RE2::FullMatch("www.example.org", suffix));
}

TEST(TranslateGateway, MatchPortSelectsTheListenerAndPoolsLimitTheClusters) {
  TranslateResult result = translateOk(meshOf(absl::StrCat(kBase, R"(
---
meshName: m
virtualGatewayName: gw
spec:
  listeners:
    - portMapping: {port: 8080, protocol: http}
      connectionPool: {http: {maxConnections: 7, maxPendingRequests: 3}}
    - portMapping: {port: 8443, protocol: http}
  logging: {accessLog: {file: {path: /dev/stdout}}}
)",
      gatewayRoute("only8443", absl::StrCat("{httpRoute: {match: {prefix: /, port: 8443}, ", kToSvc, "}}}")),
      gatewayRoute("both", absl::StrCat("{httpRoute: {match: {prefix: /b}, ", kToSvc, "}}}")),
      simpleRoute("r", "", "{prefix: /}"))));
  EXPECT_THAT(routeNames(gatewayHost(result, 8080)), ElementsAre("both/r"));
  EXPECT_THAT(routeNames(gatewayHost(result, 8443)), ElementsAre("both/r", "only8443/r"));
  const ProxyResources& gateway = result.proxies.at(gatewayKey("m", "gw"));
  ASSERT_EQ(gateway.clusters.size(), 1u);
  const auto& limits = gateway.clusters[0].circuit_breakers().thresholds(0);
  EXPECT_EQ(limits.max_connections().value(), 7u);
  EXPECT_EQ(limits.max_pending_requests().value(), 3u);
  const hcm::HttpConnectionManager manager = managerOf(listenerNamed(gateway, "lds_gateway_0.0.0.0_8443"));
  ASSERT_EQ(manager.access_log_size(), 1);
  EXPECT_EQ(manager.stat_prefix(), "gateway");
}

TEST(TranslateGateway, Http2AndGrpcAreReportedNotTranslated) {
  TranslateResult result = translateOk(meshOf(absl::StrCat(kBase, R"(
---
meshName: m
virtualGatewayName: gw
spec: {listeners: [{portMapping: {port: 8080, protocol: http}}, {portMapping: {port: 8081, protocol: grpc}}]}
)",
      gatewayRoute("g", R"({grpcRoute: {match: {serviceName: s, port: 8081}, action: {target: {virtualService: {virtualServiceName: svc.m.local}}}}})"),
      simpleRoute("r", "", "{prefix: /}"))));
  const ProxyResources& gateway = result.proxies.at(gatewayKey("m", "gw"));
  EXPECT_THAT(namesOf(gateway), ElementsAre("lds_gateway_0.0.0.0_8080", "rds_gateway_m_gw_8080"));
  EXPECT_THAT(result.errors,
              ::testing::Contains(HasSubstr("m/VirtualGateway/gw: spec.listeners[1].portMapping.protocol: "
                                            "grpc is not supported yet (trellis-proxy has no HTTP/2 yet)")));
  EXPECT_THAT(result.errors,
              ::testing::Contains(HasSubstr("m/VirtualGateway/gw/GatewayRoute/g: spec.grpcRoute: not "
                                            "supported yet")));
  EXPECT_THAT(result.warnings, ::testing::Contains(HasSubstr("no gateway route serves port 8080")));
}

// ------------------------------------------------------------------------ node ids

TEST(NodeKey, BothSpellingsMapToTheKey) {
  EXPECT_EQ(nodeKeyFromNodeId("mesh/color-mesh/virtualNode/front").value(),
            "mesh/color-mesh/virtualNode/front");
  EXPECT_EQ(
      nodeKeyFromNodeId("arn:aws:appmesh:us-west-2:123456789012:mesh/color-mesh/virtualNode/front")
          .value(),
      "mesh/color-mesh/virtualNode/front");
  EXPECT_EQ(
      nodeKeyFromNodeId("arn:aws-cn:appmesh:cn-north-1:123456789012:mesh/m/virtualNode/n").value(),
      nodeKey("m", "n"));
}

TEST(NodeKey, GatewaysHaveTheirOwnKey) {
  EXPECT_EQ(nodeKeyFromNodeId("mesh/m/virtualGateway/gw").value(), gatewayKey("m", "gw"));
  EXPECT_EQ(
      nodeKeyFromNodeId("arn:aws:appmesh:us-west-2:123456789012:mesh/m/virtualGateway/gw").value(),
      "mesh/m/virtualGateway/gw");
}

// The rules themselves are config/identity's (node_identity_test); here: the message keeps
// "node.id", the value and the accepted forms.
TEST(NodeKey, BadIdsSayWhatIsWrong) {
  auto message = [](const std::string& id) {
    absl::StatusOr<std::string> key = nodeKeyFromNodeId(id);
    EXPECT_FALSE(key.ok()) << id;
    EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(key.status().message());
  };
  EXPECT_THAT(message(""), HasSubstr("node.id \"\": empty (accepted: mesh/MESH/virtualNode/NODE"));
  EXPECT_THAT(message("mesh/m/virtualRouter/r"),
              HasSubstr("the resource type is \"virtualRouter\" (allowed: virtualNode, virtualGateway)"));
  EXPECT_THAT(message("arn:aws:ecs:us-west-2:123456789012:mesh/m/virtualNode/n"),
              HasSubstr("service \"ecs\" (allowed: appmesh)"));
}

}  // namespace
}  // namespace trellis::config::appmesh
