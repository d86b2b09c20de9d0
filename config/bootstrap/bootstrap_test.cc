// The bootstrap loader on a typical Envoy static bootstrap (YAML and JSON) and on every rejection
// path, asserting the exact message including the source name and the path in the document.
#include "config/bootstrap/bootstrap.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace trellis::config {
namespace {

using envoy::config::bootstrap::v3::Bootstrap;
using envoy::config::cluster::v3::Cluster;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using ::testing::StartsWith;

constexpr const char* kStaticYaml = R"(
node:
  id: sidecar-1
  cluster: colorteller
admin:
  address:
    socket_address: {address: 127.0.0.1, port_value: 9901}
static_resources:
  listeners:
  - name: ingress
    address:
      socket_address: {address: 0.0.0.0, port_value: 15000}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          codec_type: AUTO
          route_config:
            name: local_route
            virtual_hosts:
            - name: backend
              domains: ["*"]
              routes:
              - match: {prefix: "/"}
                route:
                  weighted_clusters:
                    clusters:
                    - {name: blue, weight: 80}
                    - {name: green, weight: 20}
                  timeout: 15s
                  retry_policy: {retry_on: "5xx,reset", num_retries: 2, per_try_timeout: 0.5s}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: blue
    type: STATIC
    connect_timeout: 0.25s
    lb_policy: ROUND_ROBIN
    load_assignment:
      cluster_name: blue
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8081}}}
          load_balancing_weight: 2
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8082}}}
          load_balancing_weight: 1
  - name: green
    type: STATIC
    connect_timeout: 1s
    lb_policy: ROUND_ROBIN
    load_assignment:
      cluster_name: green
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8083}}}
          load_balancing_weight: 5
)";

// The same bootstrap as JSON, mixing camelCase keys and numbers given as strings.
constexpr const char* kStaticJson = R"({
  "node": {"id": "sidecar-1", "cluster": "colorteller"},
  "admin": {"address": {"socketAddress": {"address": "127.0.0.1", "portValue": 9901}}},
  "staticResources": {
    "listeners": [{
      "name": "ingress",
      "address": {"socket_address": {"address": "0.0.0.0", "port_value": "15000"}},
      "filterChains": [{"filters": [{
        "name": "envoy.filters.network.http_connection_manager",
        "typedConfig": {
          "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
          "statPrefix": "ingress_http",
          "codecType": "AUTO",
          "routeConfig": {
            "name": "local_route",
            "virtualHosts": [{
              "name": "backend",
              "domains": ["*"],
              "routes": [{
                "match": {"prefix": "/"},
                "route": {
                  "weightedClusters": {"clusters": [{"name": "blue", "weight": 80},
                                                    {"name": "green", "weight": "20"}]},
                  "timeout": "15s",
                  "retryPolicy": {"retryOn": "5xx,reset", "numRetries": 2, "perTryTimeout": "0.5s"}
                }
              }]
            }]
          },
          "httpFilters": [{
            "name": "envoy.filters.http.router",
            "typedConfig": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}
          }]
        }
      }]}]
    }],
    "clusters": [
      {"name": "blue", "type": "STATIC", "connectTimeout": "0.25s", "lbPolicy": "ROUND_ROBIN",
       "loadAssignment": {"clusterName": "blue", "endpoints": [{"lbEndpoints": [
         {"endpoint": {"address": {"socketAddress": {"address": "127.0.0.1", "portValue": 8081}}},
          "loadBalancingWeight": 2},
         {"endpoint": {"address": {"socketAddress": {"address": "127.0.0.1", "portValue": 8082}}},
          "loadBalancingWeight": "1"}]}]}},
      {"name": "green", "type": "STATIC", "connect_timeout": "1s", "lb_policy": "ROUND_ROBIN",
       "load_assignment": {"cluster_name": "green", "endpoints": [{"lb_endpoints": [
         {"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 8083}}},
          "load_balancing_weight": 5}]}]}}
    ]
  }
})";

// `base` with the first `from` replaced by `to`; fails the test if `from` is absent.
std::string edited(std::string base, const std::string& from, const std::string& to) {
  const size_t at = base.find(from);
  EXPECT_NE(at, std::string::npos) << "test edit target missing: " << from;
  if (at != std::string::npos) base.replace(at, from.size(), to);
  return base;
}

std::string errorOf(const std::string& text) {
  const auto result = parseBootstrap(text, "bootstrap.yaml");
  if (result.ok()) return "OK";
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(result.status().message());
}

void expectTypicalStaticBootstrap(const Bootstrap& bootstrap) {
  EXPECT_EQ(bootstrap.node().id(), "sidecar-1");
  EXPECT_EQ(bootstrap.node().cluster(), "colorteller");
  EXPECT_EQ(bootstrap.admin().address().socket_address().address(), "127.0.0.1");
  EXPECT_EQ(bootstrap.admin().address().socket_address().port_value(), 9901u);

  ASSERT_EQ(bootstrap.static_resources().listeners_size(), 1);
  const auto& listener = bootstrap.static_resources().listeners(0);
  EXPECT_EQ(listener.address().socket_address().port_value(), 15000u);
  ASSERT_EQ(listener.filter_chains_size(), 1);
  ASSERT_EQ(listener.filter_chains(0).filters_size(), 1);
  HttpConnectionManager hcm;
  ASSERT_TRUE(listener.filter_chains(0).filters(0).typed_config().UnpackTo(&hcm));
  EXPECT_EQ(hcm.stat_prefix(), "ingress_http");
  EXPECT_EQ(hcm.codec_type(), HttpConnectionManager::AUTO);
  ASSERT_EQ(hcm.route_config().virtual_hosts_size(), 1);
  const auto& route = hcm.route_config().virtual_hosts(0).routes(0);
  EXPECT_EQ(route.match().prefix(), "/");
  ASSERT_EQ(route.route().weighted_clusters().clusters_size(), 2);
  EXPECT_EQ(route.route().weighted_clusters().clusters(1).name(), "green");
  EXPECT_EQ(route.route().weighted_clusters().clusters(1).weight().value(), 20u);
  EXPECT_EQ(route.route().timeout().seconds(), 15);
  EXPECT_EQ(route.route().retry_policy().num_retries().value(), 2u);
  EXPECT_EQ(route.route().retry_policy().per_try_timeout().nanos(), 500000000);
  ASSERT_EQ(hcm.http_filters_size(), 1);
  EXPECT_TRUE(hcm.http_filters(0)
                  .typed_config()
                  .Is<envoy::extensions::filters::http::router::v3::Router>());

  ASSERT_EQ(bootstrap.static_resources().clusters_size(), 2);
  const Cluster& blue = bootstrap.static_resources().clusters(0);
  EXPECT_EQ(blue.type(), Cluster::STATIC);
  EXPECT_EQ(blue.lb_policy(), Cluster::ROUND_ROBIN);
  EXPECT_EQ(blue.connect_timeout().nanos(), 250000000);
  const auto& blue_endpoints = blue.load_assignment().endpoints(0).lb_endpoints();
  ASSERT_EQ(blue_endpoints.size(), 2);
  EXPECT_EQ(blue_endpoints[0].endpoint().address().socket_address().port_value(), 8081u);
  EXPECT_EQ(blue_endpoints[0].load_balancing_weight().value(), 2u);
  EXPECT_EQ(blue_endpoints[1].load_balancing_weight().value(), 1u);
  const Cluster& green = bootstrap.static_resources().clusters(1);
  EXPECT_EQ(green.connect_timeout().seconds(), 1);
  EXPECT_EQ(green.load_assignment().endpoints(0).lb_endpoints(0).load_balancing_weight().value(),
            5u);
}

TEST(BootstrapTest, ReadsATypicalStaticBootstrapFromYaml) {
  const auto bootstrap = parseBootstrap(kStaticYaml, "bootstrap.yaml");
  ASSERT_TRUE(bootstrap.ok()) << bootstrap.status();
  expectTypicalStaticBootstrap(*bootstrap);
}

TEST(BootstrapTest, ReadsTheSameBootstrapFromJson) {
  const auto from_json = parseBootstrap(kStaticJson, "bootstrap.json");
  ASSERT_TRUE(from_json.ok()) << from_json.status();
  expectTypicalStaticBootstrap(*from_json);
  const auto from_yaml = parseBootstrap(kStaticYaml, "bootstrap.yaml");
  ASSERT_TRUE(from_yaml.ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*from_json, *from_yaml));
}

TEST(BootstrapTest, ReadsJsonIndentedWithTabs) {
  std::string tabbed = kStaticJson;
  for (size_t at = tabbed.find("\n  "); at != std::string::npos; at = tabbed.find("\n  ", at)) {
    tabbed.replace(at, 3, "\n\t");
  }
  ASSERT_NE(tabbed.find('\t'), std::string::npos);
  const auto bootstrap = parseBootstrap(tabbed, "bootstrap.json");
  ASSERT_TRUE(bootstrap.ok()) << bootstrap.status();
  expectTypicalStaticBootstrap(*bootstrap);
}

TEST(BootstrapTest, ReadsAnAdsBootstrap) {
  const auto bootstrap = parseBootstrap(R"(
node: {id: sidecar-1, cluster: colorteller}
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 9901}}}
dynamic_resources:
  lds_config: {ads: {}, resource_api_version: V3}
  cds_config: {ads: {}, resource_api_version: V3}
  ads_config:
    api_type: GRPC
    transport_api_version: V3
    grpc_services:
    - envoy_grpc: {cluster_name: xds}
static_resources:
  clusters:
  - name: xds
    type: STATIC
    load_assignment:
      cluster_name: xds
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 15010}}}
)",
                                        "ads.yaml");
  ASSERT_TRUE(bootstrap.ok()) << bootstrap.status();
  EXPECT_TRUE(bootstrap->dynamic_resources().lds_config().has_ads());
  EXPECT_EQ(bootstrap->dynamic_resources().ads_config().api_type(),
            envoy::config::core::v3::ApiConfigSource::GRPC);
  EXPECT_EQ(
      bootstrap->dynamic_resources().ads_config().grpc_services(0).envoy_grpc().cluster_name(),
      "xds");
}

// Every Envoy xDS bootstrap declares HTTP/2 on its control-plane cluster, in one of two spellings.
constexpr const char* kAdsHttp2Yaml = R"(
node: {id: mesh/m/virtualNode/n}
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 9901}}}
dynamic_resources:
  lds_config: {ads: {}, resource_api_version: V3}
  cds_config: {ads: {}, resource_api_version: V3}
  ads_config:
    api_type: GRPC
    transport_api_version: V3
    grpc_services: [{envoy_grpc: {cluster_name: xds}}]
static_resources:
  clusters:
  - name: xds
    type: STATIC
    PROTOCOL
    load_assignment:
      cluster_name: xds
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 15010}}}}]}]
)";

constexpr const char* kTypedHttp2 = R"(typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {max_concurrent_streams: 100}})";

TEST(BootstrapTest, AcceptsTheXdsClustersHttp2OptionsInBothSpellings) {
  for (const char* protocol : {kTypedHttp2, "http2_protocol_options: {}"}) {
    auto bootstrap = parseBootstrap(edited(kAdsHttp2Yaml, "PROTOCOL", protocol), "ads.yaml");
    ASSERT_TRUE(bootstrap.ok()) << protocol << ": " << bootstrap.status();
    // Consumed: the gRPC client speaks HTTP/2 itself, and the compiler never sees the options.
    const auto& xds = bootstrap->static_resources().clusters(0);
    EXPECT_FALSE(xds.has_http2_protocol_options());
    EXPECT_TRUE(xds.typed_extension_protocol_options().empty());
  }
}

TEST(BootstrapTest, RefusesAProtocolOtherThanHttp2OnTheXdsCluster) {
  const std::string http1 = R"(typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http_protocol_options: {}})";
  EXPECT_EQ(errorOf(edited(kAdsHttp2Yaml, "PROTOCOL", http1)),
            "bootstrap.yaml: static_resources.clusters[0].typed_extension_protocol_options"
            "[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"]: cluster 'xds' carries the ADS "
            "stream, which is gRPC over HTTP/2: only explicit_http_config.http2_protocol_options applies to it");
}

TEST(BootstrapTest, NamesTheFileAndPathOfAnUnknownField) {
  EXPECT_EQ(errorOf(edited(kStaticYaml, "  - name: green\n",
                           "  - name: green\n    circuit_breakrs: {}\n")),
            "bootstrap.yaml: static_resources.clusters[1].circuit_breakrs: unknown field "
            "(envoy.config.cluster.v3.Cluster has no field 'circuit_breakrs'; did you mean "
            "'circuit_breakers'?)");
  // A field of Envoy's API outside Trellis's subset is unknown too.
  EXPECT_EQ(errorOf(edited(kStaticYaml, "  - name: green\n",
                           "  - name: green\n    transport_socket: {name: tls}\n")),
            "bootstrap.yaml: static_resources.clusters[1].transport_socket: unknown field "
            "(envoy.config.cluster.v3.Cluster has no field 'transport_socket')");
}

TEST(BootstrapTest, RejectsAnUnsupportedTypedConfigListingTheSupportedOnes) {
  EXPECT_EQ(
      errorOf(edited(kStaticYaml,
                     "envoy.extensions.filters.network.http_connection_manager.v3."
                     "HttpConnectionManager\n",
                     "envoy.extensions.filters.network.redis_proxy.v3.RedisProxy\n")),
      "bootstrap.yaml: static_resources.listeners[0].filter_chains[0].filters[0].typed_config: "
      "unknown type \"type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3."
      "RedisProxy\" (supported: type.googleapis.com/envoy.extensions.filters.network."
      "http_connection_manager.v3.HttpConnectionManager, type.googleapis.com/"
      "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, type.googleapis.com/"
      "envoy.extensions.filters.http.router.v3.Router, type.googleapis.com/"
      "envoy.extensions.filters.listener.original_dst.v3.OriginalDst, type.googleapis.com/"
      "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector, type.googleapis.com/"
      "trellis.extensions.filters.http.egress_policy.v1.EgressPolicy, type.googleapis.com/"
      "envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate, type.googleapis.com/"
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions, type.googleapis.com/"
            "envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig, "
            "type.googleapis.com/"
      "trellis.extensions.load_balancing_policies.peak_ewma.v1.PeakEwma, type.googleapis.com/"
      "envoy.extensions.access_loggers.file.v3.FileAccessLog)");
}

TEST(BootstrapTest, RejectsWrongScalarsEnumsAndDurationsWithTheirPaths) {
  EXPECT_EQ(errorOf(edited(kStaticYaml, "port_value: 8082", "port_value: abc")),
            "bootstrap.yaml: static_resources.clusters[0].load_assignment.endpoints[0]."
            "lb_endpoints[1].endpoint.address.socket_address.port_value: expected an integer, got "
            "\"abc\"");
  EXPECT_EQ(errorOf(edited(kStaticYaml,
                           "lb_policy: ROUND_ROBIN\n    load_assignment:\n      "
                           "cluster_name: green",
                           "lb_policy: WEIGHTED\n    load_assignment:\n      cluster_name: green")),
            "bootstrap.yaml: static_resources.clusters[1].lb_policy: unknown value \"WEIGHTED\" "
            "for envoy.config.cluster.v3.Cluster.LbPolicy (allowed: ROUND_ROBIN, LEAST_REQUEST, "
            "RING_HASH, RANDOM, MAGLEV, CLUSTER_PROVIDED, LOAD_BALANCING_POLICY_CONFIG)");
  EXPECT_EQ(errorOf(edited(kStaticYaml, "timeout: 15s", "timeout: 15")),
            "bootstrap.yaml: static_resources.listeners[0].filter_chains[0].filters[0]."
            "typed_config.route_config.virtual_hosts[0].routes[0].route.timeout: invalid duration "
            "\"15\" (expected seconds with an 's' suffix and at most 9 decimals, e.g. \"5s\", "
            "\"0.5s\" or \"1.5s\")");
}

TEST(BootstrapTest, RejectsDocumentsThatAreNotOneMapping) {
  EXPECT_EQ(errorOf(""),
            "bootstrap.yaml: the document is empty (expected an Envoy bootstrap with node, admin "
            "and static_resources or dynamic_resources)");
  EXPECT_EQ(errorOf("- node: {}\n"),
            "bootstrap.yaml: the document must be a mapping (an Envoy bootstrap), got a list");
  EXPECT_EQ(errorOf("just text"),
            "bootstrap.yaml: the document must be a mapping (an Envoy bootstrap), got the scalar "
            "\"just text\"");
  EXPECT_EQ(errorOf("node: {id: a}\n---\nnode: {id: b}\n"),
            "bootstrap.yaml: holds 2 YAML documents; a bootstrap is a single document");
  EXPECT_THAT(errorOf("node: {id: a\nadmin: x\n"),
              StartsWith("bootstrap.yaml: invalid YAML at line "));
}

TEST(BootstrapTest, NodeIsOptionalAdminSocketAddressIsRequired) {
  const std::string admin =
      "admin:\n  address:\n    socket_address: {address: 127.0.0.1, port_value: 9901}\n";
  // As in Envoy, a static config runs without a node identity.
  EXPECT_TRUE(
      parseBootstrap(edited(kStaticYaml, "node:\n  id: sidecar-1\n  cluster: colorteller\n", ""), "b.yaml")
          .ok());
  EXPECT_EQ(errorOf(edited(kStaticYaml, admin, "")),
            "bootstrap.yaml: admin: required (the admin endpoint, e.g. admin: {address: "
            "{socket_address: {address: 127.0.0.1, port_value: 9901}}})");
  EXPECT_EQ(errorOf(edited(kStaticYaml, admin, "admin: {profile_path: /tmp/prof}\n")),
            "bootstrap.yaml: admin.address: required (the admin endpoint, e.g. admin: {address: "
            "{socket_address: {address: 127.0.0.1, port_value: 9901}}})");
  EXPECT_EQ(errorOf(edited(kStaticYaml, admin, "admin: {address: {pipe: {path: /tmp/admin}}}\n")),
            "bootstrap.yaml: admin.address: must be a socket_address (the admin endpoint listens "
            "on TCP), got a pipe");
  EXPECT_EQ(errorOf(edited(kStaticYaml, admin,
                           "admin: {address: {socket_address: {address: 127.0.0.1, named_port: "
                           "admin}}}\n")),
            "bootstrap.yaml: admin.address.socket_address: port_value required (named ports "
            "cannot be bound)");
  EXPECT_EQ(errorOf(edited(kStaticYaml, admin,
                           "admin: {address: {socket_address: {port_value: 9901}}}\n")),
            "bootstrap.yaml: admin.address.socket_address.address: required (an IP address such "
            "as 127.0.0.1)");
}

TEST(BootstrapTest, RequiresResourcesAndAnAdsServerWhenAdsIsUsed) {
  const std::string head =
      "node: {id: a}\nadmin: {address: {socket_address: {address: 127.0.0.1, port_value: 9901}}}\n";
  EXPECT_EQ(errorOf(head),
            "bootstrap.yaml: neither static_resources nor dynamic_resources is set, so the proxy "
            "would have nothing to serve");
  EXPECT_EQ(errorOf(head + "dynamic_resources: {cds_config: {ads: {}}}\n"),
            "bootstrap.yaml: dynamic_resources.cds_config: uses ads, but "
            "dynamic_resources.ads_config (the ADS server) is not set");
}

TEST(BootstrapTest, LoadsAFileAndNamesItInErrors) {
  const std::string path = ::testing::TempDir() + "/bootstrap_test_ok.yaml";
  {
    std::ofstream out(path);
    out << kStaticYaml;
  }
  const auto bootstrap = loadBootstrapFile(path);
  ASSERT_TRUE(bootstrap.ok()) << bootstrap.status();
  expectTypicalStaticBootstrap(*bootstrap);

  const std::string bad_path = ::testing::TempDir() + "/bootstrap_test_bad.yaml";
  {
    std::ofstream out(bad_path);
    out << edited(kStaticYaml, "connect_timeout: 1s", "connect_timeout: soon");
  }
  const auto bad = loadBootstrapFile(bad_path);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              StartsWith(bad_path + ": static_resources.clusters[1].connect_timeout: invalid "
                                    "duration \"soon\""));

  const std::string missing = ::testing::TempDir() + "/no_such_bootstrap.yaml";
  const auto none = loadBootstrapFile(missing);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(none.status().message(), missing + ": cannot read: No such file or directory");

  const auto directory = loadBootstrapFile(::testing::TempDir());
  EXPECT_FALSE(directory.ok());
  EXPECT_THAT(std::string(directory.status().message()), StartsWith(::testing::TempDir()));
}

}  // namespace
}  // namespace trellis::config
