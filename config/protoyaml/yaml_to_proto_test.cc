// yamlToProto on Trellis's xDS messages: accepted forms (snake/camel case, numbers as strings,
// durations, wrappers, Struct, Any, maps, bytes) and the exact message of every rejection.
#include "config/protoyaml/yaml_to_proto.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/core/v3/base.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "envoy/type/v3/percent.pb.h"
#include "envoy/type/v3/range.pb.h"
#include "google/protobuf/struct.pb.h"
#include "xds/api/known_types.h"

namespace trellis::config {
namespace {

using envoy::config::cluster::v3::Cluster;
using ::testing::StartsWith;

absl::Status parse(const std::string& yaml, google::protobuf::Message& out,
                   const YamlToProtoOptions& options = {}) {
  return yamlToProto(YAML::Load(yaml), out, "", options);
}

// The error message of parsing `yaml` into a fresh M, or "OK".
template <class M>
std::string errorOf(const std::string& yaml, const YamlToProtoOptions& options = {}) {
  M message;
  const absl::Status status = parse(yaml, message, options);
  if (status.ok()) return "OK";
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  return std::string(status.message());
}

constexpr const char* kCluster = R"(
name: backend
type: STATIC
connect_timeout: 0.25s
lb_policy: ROUND_ROBIN
per_connection_buffer_limit_bytes: 32768
circuit_breakers:
  thresholds:
  - priority: HIGH
    max_connections: 100
    max_retries: "3"
load_assignment:
  cluster_name: backend
  endpoints:
  - lb_endpoints:
    - endpoint:
        address:
          socket_address: {address: 10.0.0.1, port_value: 8080}
      load_balancing_weight: 3
    - endpoint:
        address:
          socket_address: {address: 10.0.0.2, port_value: "8081"}
health_checks:
- timeout: 1s
  interval: 5s
  unhealthy_threshold: 2
  healthy_threshold: 1
  http_health_check: {path: /healthz}
)";

TEST(YamlToProtoTest, ReadsAClusterWithNestedMessagesWrappersAndDurations) {
  Cluster cluster;
  ASSERT_TRUE(parse(kCluster, cluster).ok());
  EXPECT_EQ(cluster.name(), "backend");
  EXPECT_EQ(cluster.type(), Cluster::STATIC);
  EXPECT_EQ(cluster.connect_timeout().seconds(), 0);
  EXPECT_EQ(cluster.connect_timeout().nanos(), 250000000);
  EXPECT_EQ(cluster.per_connection_buffer_limit_bytes().value(), 32768u);
  ASSERT_EQ(cluster.circuit_breakers().thresholds_size(), 1);
  const auto& thresholds = cluster.circuit_breakers().thresholds(0);
  EXPECT_EQ(thresholds.priority(), envoy::config::core::v3::HIGH);
  EXPECT_EQ(thresholds.max_connections().value(), 100u);
  EXPECT_EQ(thresholds.max_retries().value(), 3u);
  EXPECT_FALSE(thresholds.has_max_requests());
  const auto& endpoints = cluster.load_assignment().endpoints(0);
  ASSERT_EQ(endpoints.lb_endpoints_size(), 2);
  EXPECT_EQ(endpoints.lb_endpoints(0).endpoint().address().socket_address().address(), "10.0.0.1");
  EXPECT_EQ(endpoints.lb_endpoints(0).load_balancing_weight().value(), 3u);
  EXPECT_EQ(endpoints.lb_endpoints(1).endpoint().address().socket_address().port_value(), 8081u);
  EXPECT_FALSE(endpoints.lb_endpoints(1).has_load_balancing_weight());
  ASSERT_EQ(cluster.health_checks_size(), 1);
  EXPECT_EQ(cluster.health_checks(0).interval().seconds(), 5);
  EXPECT_EQ(cluster.health_checks(0).http_health_check().path(), "/healthz");
}

TEST(YamlToProtoTest, AcceptsCamelCaseKeysLikeEnvoy) {
  Cluster snake;
  Cluster camel;
  ASSERT_TRUE(parse(kCluster, snake).ok());
  ASSERT_TRUE(parse(R"(
name: backend
type: STATIC
connectTimeout: 0.25s
lbPolicy: ROUND_ROBIN
perConnectionBufferLimitBytes: 32768
circuitBreakers:
  thresholds:
  - {priority: HIGH, maxConnections: 100, maxRetries: 3}
loadAssignment:
  clusterName: backend
  endpoints:
  - lbEndpoints:
    - endpoint: {address: {socketAddress: {address: 10.0.0.1, portValue: 8080}}}
      loadBalancingWeight: 3
    - endpoint: {address: {socketAddress: {address: 10.0.0.2, portValue: 8081}}}
healthChecks:
- {timeout: 1s, interval: 5s, unhealthyThreshold: 2, healthyThreshold: 1,
   httpHealthCheck: {path: /healthz}}
)",
                    camel)
                  .ok());
  EXPECT_EQ(snake.SerializeAsString(), camel.SerializeAsString());
}

TEST(YamlToProtoTest, ReadsDurations) {
  envoy::config::core::v3::HealthCheck check;
  ASSERT_TRUE(parse("{timeout: 5s, interval: 0.5s, interval_jitter: 1.5s, "
                    "initial_jitter: \"0.000000001s\"}",
                    check)
                  .ok());
  EXPECT_EQ(check.timeout().seconds(), 5);
  EXPECT_EQ(check.timeout().nanos(), 0);
  EXPECT_EQ(check.interval().seconds(), 0);
  EXPECT_EQ(check.interval().nanos(), 500000000);
  EXPECT_EQ(check.interval_jitter().seconds(), 1);
  EXPECT_EQ(check.interval_jitter().nanos(), 500000000);
  EXPECT_EQ(check.initial_jitter().nanos(), 1);
}

TEST(YamlToProtoTest, RejectsBadDurations) {
  const std::string expected_form =
      " (expected seconds with an 's' suffix and at most 9 decimals, e.g. \"5s\", \"0.5s\" or "
      "\"1.5s\")";
  EXPECT_EQ(errorOf<Cluster>("connect_timeout: 5"),
            "connect_timeout: invalid duration \"5\"" + expected_form);
  EXPECT_EQ(errorOf<Cluster>("connect_timeout: 5ms"),
            "connect_timeout: invalid duration \"5ms\"" + expected_form);
  EXPECT_EQ(errorOf<Cluster>("connect_timeout: 0.1234567891s"),
            "connect_timeout: invalid duration \"0.1234567891s\"" + expected_form);
  EXPECT_EQ(errorOf<Cluster>("connect_timeout: {seconds: 5}"),
            "connect_timeout: expected a duration such as \"5s\" or \"0.25s\", got a mapping");
  EXPECT_EQ(errorOf<Cluster>("connect_timeout: 999999999999s"),
            "connect_timeout: duration \"999999999999s\" is out of range (at most 315576000000s)");
}

TEST(YamlToProtoTest, AcceptsNumbersAndEnumNumbersGivenAsStrings) {
  Cluster cluster;
  ASSERT_TRUE(parse("{lb_policy: 1, dns_lookup_family: \"2\", per_connection_buffer_limit_bytes: "
                    "\"1024\"}",
                    cluster)
                  .ok());
  EXPECT_EQ(cluster.lb_policy(), Cluster::LEAST_REQUEST);
  EXPECT_EQ(cluster.dns_lookup_family(), Cluster::V6_ONLY);
  EXPECT_EQ(cluster.per_connection_buffer_limit_bytes().value(), 1024u);

  envoy::type::v3::Int64Range range;
  ASSERT_TRUE(parse("{start: \"-5\", end: 9007199254740993}", range).ok());
  EXPECT_EQ(range.start(), -5);
  EXPECT_EQ(range.end(), 9007199254740993);  // 2^53 + 1 survives: no trip through a double.

  envoy::type::v3::Percent percent;
  ASSERT_TRUE(parse("value: \"12.5\"", percent).ok());
  EXPECT_DOUBLE_EQ(percent.value(), 12.5);
}

TEST(YamlToProtoTest, RejectsWrongScalars) {
  EXPECT_EQ(errorOf<Cluster>(R"(
load_assignment:
  endpoints:
  - lb_endpoints:
    - endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: abc}}}
)"),
            "load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address."
            "port_value: expected an integer, got \"abc\"");
  EXPECT_EQ(errorOf<envoy::config::core::v3::SocketAddress>("port_value: -1"),
            "port_value: expected a non-negative integer, got \"-1\"");
  EXPECT_EQ(errorOf<envoy::config::core::v3::SocketAddress>("port_value: 4294967296"),
            "port_value: value 4294967296 is out of range for uint32 (0 to 4294967295)");
  EXPECT_EQ(errorOf<Cluster>("per_connection_buffer_limit_bytes: 1.5"),
            "per_connection_buffer_limit_bytes: expected an integer, got \"1.5\"");
  EXPECT_EQ(errorOf<envoy::config::listener::v3::Listener>("bind_to_port: maybe"),
            "bind_to_port: expected true or false, got \"maybe\"");
  EXPECT_EQ(errorOf<envoy::type::v3::Percent>("value: lots"),
            "value: expected a number, got \"lots\"");
  EXPECT_EQ(errorOf<Cluster>("name: [a, b]"), "name: expected a string, got a list");
  EXPECT_EQ(errorOf<envoy::config::core::v3::DataSource>("inline_bytes: \"not base64!\""),
            "inline_bytes: expected base64-encoded bytes, got \"not base64!\"");
}

TEST(YamlToProtoTest, RejectsUnknownEnumNamesListingTheAllowedOnes) {
  EXPECT_EQ(errorOf<Cluster>("lb_policy: ROUND_ROBN"),
            "lb_policy: unknown value \"ROUND_ROBN\" for envoy.config.cluster.v3.Cluster.LbPolicy "
            "(allowed: ROUND_ROBIN, LEAST_REQUEST, RING_HASH, RANDOM, MAGLEV, CLUSTER_PROVIDED, "
            "LOAD_BALANCING_POLICY_CONFIG)");
  // 4 is reserved in Envoy's LbPolicy, so it is not a value.
  EXPECT_THAT(
      errorOf<Cluster>("lb_policy: 4"),
      StartsWith("lb_policy: unknown value \"4\" for envoy.config.cluster.v3.Cluster.LbPolicy"));
}

TEST(YamlToProtoTest, RejectsUnknownFieldsSuggestingTheClosestName) {
  EXPECT_EQ(errorOf<Cluster>("circuit_breakrs: {}"),
            "circuit_breakrs: unknown field (envoy.config.cluster.v3.Cluster has no field "
            "'circuit_breakrs'; did you mean 'circuit_breakers'?)");
  EXPECT_EQ(errorOf<Cluster>("transport_socket: {}"),
            "transport_socket: unknown field (envoy.config.cluster.v3.Cluster has no field "
            "'transport_socket')");
}

TEST(YamlToProtoTest, RejectsAFieldGivenTwiceAndTwoMembersOfAOneof) {
  EXPECT_EQ(errorOf<Cluster>("{connect_timeout: 1s, connectTimeout: 2s}"),
            "connectTimeout: field given twice (as 'connect_timeout' and 'connectTimeout')");
  EXPECT_EQ(errorOf<envoy::config::route::v3::RouteMatch>("{prefix: /a, path: /b}"),
            "path: only one of 'prefix', 'path', 'safe_regex', 'path_separated_prefix' may be set "
            "(oneof 'path_specifier'), and 'prefix' is already set");
}

TEST(YamlToProtoTest, NullMeansNotSet) {
  Cluster cluster;
  ASSERT_TRUE(
      parse("{name: a, eds_cluster_config: null, health_checks: ~, type: null}", cluster).ok());
  EXPECT_FALSE(cluster.has_eds_cluster_config());
  EXPECT_EQ(cluster.health_checks_size(), 0);
  EXPECT_EQ(cluster.cluster_discovery_type_case(), Cluster::CLUSTER_DISCOVERY_TYPE_NOT_SET);
}

TEST(YamlToProtoTest, RejectsWrongShapes) {
  EXPECT_EQ(errorOf<envoy::config::listener::v3::Listener>("filter_chains: {name: x}"),
            "filter_chains: expected a list, got a mapping");
  EXPECT_EQ(errorOf<Cluster>("load_assignment: [1]"),
            "load_assignment: expected a mapping (envoy.config.endpoint.v3.ClusterLoadAssignment), "
            "got a list");
  EXPECT_EQ(errorOf<Cluster>("[1, 2]"),
            "expected a mapping (envoy.config.cluster.v3.Cluster), got a list");
}

TEST(YamlToProtoTest, ReadsStructsAsFreeFormYaml) {
  envoy::config::core::v3::Node node;
  ASSERT_TRUE(parse(R"(
id: sidecar-1
metadata:
  count: 3
  ratio: 0.5
  quoted: "3"
  flag: true
  nothing: null
  list: [a, 1, false]
  nested: {deep: {deeper: yes}}
)",
                    node)
                  .ok());
  const auto& fields = node.metadata().fields();
  EXPECT_EQ(fields.at("count").number_value(), 3);
  EXPECT_EQ(fields.at("ratio").number_value(), 0.5);
  EXPECT_EQ(fields.at("quoted").string_value(), "3");
  EXPECT_TRUE(fields.at("flag").bool_value());
  EXPECT_EQ(fields.at("nothing").kind_case(), google::protobuf::Value::kNullValue);
  ASSERT_EQ(fields.at("list").list_value().values_size(), 3);
  EXPECT_EQ(fields.at("list").list_value().values(0).string_value(), "a");
  EXPECT_EQ(fields.at("list").list_value().values(1).number_value(), 1);
  EXPECT_FALSE(fields.at("list").list_value().values(2).bool_value());
  // YAML 1.2: "yes" is a string, not a boolean.
  EXPECT_EQ(fields.at("nested")
                .struct_value()
                .fields()
                .at("deep")
                .struct_value()
                .fields()
                .at("deeper")
                .string_value(),
            "yes");
  EXPECT_EQ(errorOf<envoy::config::core::v3::Node>("metadata: [1]"),
            "metadata: expected a mapping, got a list");
}

TEST(YamlToProtoTest, ReadsMapsAndNamesTheirEntriesInPaths) {
  envoy::config::core::v3::Metadata metadata;
  ASSERT_TRUE(parse("filter_metadata: {envoy.lb: {canary: true}}", metadata).ok());
  EXPECT_TRUE(metadata.filter_metadata().at("envoy.lb").fields().at("canary").bool_value());

  YamlToProtoOptions options;
  options.any_types = xds::api::extensionTypes();
  EXPECT_THAT(errorOf<Cluster>(R"(
typed_extension_protocol_options:
  envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions:
    "@type": type.googleapis.com/envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions
)",
                               options),
              StartsWith("typed_extension_protocol_options[\"envoy.extensions.upstreams.tcp.v3."
                         "TcpProtocolOptions\"]: unknown type \"type.googleapis.com/"
                         "envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions\" (supported: "));
}

TEST(YamlToProtoTest, ResolvesAnyByTypeUrl) {
  envoy::config::listener::v3::Filter filter;
  ASSERT_TRUE(parse(R"(
name: envoy.filters.network.tcp_proxy
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
  stat_prefix: egress
  cluster: backend
  idle_timeout: 30s
)",
                    filter)
                  .ok());
  envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy tcp_proxy;
  ASSERT_TRUE(filter.typed_config().UnpackTo(&tcp_proxy));
  EXPECT_EQ(tcp_proxy.cluster(), "backend");
  EXPECT_EQ(tcp_proxy.idle_timeout().seconds(), 30);

  // Errors inside the Any name the path through it.
  EXPECT_EQ(errorOf<envoy::config::listener::v3::Filter>(R"(
typed_config:
  "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  suppress_envoy_headers: sometimes
)"),
            "typed_config.suppress_envoy_headers: expected true or false, got \"sometimes\"");
}

TEST(YamlToProtoTest, RejectsUnknownOrMissingAnyTypes) {
  YamlToProtoOptions options;
  options.any_types = xds::api::extensionTypes();
  EXPECT_EQ(errorOf<envoy::config::listener::v3::Filter>(
                "typed_config: {\"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster}",
                options),
            "typed_config: unknown type \"type.googleapis.com/envoy.config.cluster.v3.Cluster\" "
            "(supported: type.googleapis.com/envoy.extensions.filters.network."
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
  EXPECT_EQ(errorOf<envoy::config::listener::v3::Filter>(
                "typed_config: {\"@type\": type.googleapis.com/no.such.Type}"),
            "typed_config: unknown type \"type.googleapis.com/no.such.Type\" (no message type of "
            "that name is linked into this program)");
  EXPECT_EQ(errorOf<envoy::config::listener::v3::Filter>("typed_config: {stat_prefix: x}"),
            "typed_config: missing \"@type\" (the embedded message's type URL, e.g. "
            "\"type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\")");
  EXPECT_EQ(errorOf<envoy::config::listener::v3::Filter>("{\"@type\": x.y.Filter, name: a}"),
            "@type: \"@type\" belongs in a google.protobuf.Any, and "
            "envoy.config.listener.v3.Filter is not one");
}

TEST(YamlToProtoTest, ReadsJsonAsYaml) {
  Cluster from_yaml;
  Cluster from_json;
  ASSERT_TRUE(parse("{name: a, connect_timeout: 1.5s, lb_policy: RANDOM}", from_yaml).ok());
  ASSERT_TRUE(
      parse(R"({"name": "a", "connectTimeout": "1.5s", "lbPolicy": "RANDOM"})", from_json).ok());
  EXPECT_EQ(from_yaml.SerializeAsString(), from_json.SerializeAsString());
}

TEST(YamlToProtoTest, PrefixesPathsAndClearsTheOutputOnError) {
  Cluster cluster;
  cluster.set_name("stale");
  const absl::Status status =
      yamlToProto(YAML::Load("{name: b, lb_policy: NOPE}"), cluster, "clusters[2]");
  EXPECT_THAT(std::string(status.message()),
              StartsWith("clusters[2].lb_policy: unknown value \"NOPE\" for "));
  EXPECT_EQ(cluster.name(), "");
}

TEST(YamlToProtoTest, RefusesPathologicalNesting) {
  std::string deep = "metadata: {k: ";
  for (int i = 0; i < 150; ++i) deep += "[";
  for (int i = 0; i < 150; ++i) deep += "]";
  deep += "}";
  const std::string message = errorOf<envoy::config::core::v3::Node>(deep);
  EXPECT_NE(message.find("nested more than 100 levels deep"), std::string::npos) << message;
}

}  // namespace
}  // namespace trellis::config
