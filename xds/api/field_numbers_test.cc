// Checks, through the generated descriptors, that the subset keeps Envoy's field numbers and enum
// values: a typo here would silently break the wire format against Envoy and other xDS peers.
#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <string>

#include "xds/api/known_types.h"

namespace trellis::xds::api {
namespace {

using google::protobuf::DescriptorPool;

struct FieldNumber {
  const char* message;
  const char* field;
  int number;
};

// Each number is Envoy's (envoyproxy/envoy api/envoy/...).
constexpr FieldNumber kFields[] = {
    {"envoy.config.route.v3.RetryPolicy", "retry_host_predicate", 5},
    {"envoy.config.route.v3.RetryPolicy", "host_selection_retry_max_attempts", 6},
    {"envoy.config.route.v3.RetryPolicy.RetryHostPredicate", "typed_config", 3},
    {"envoy.config.route.v3.VirtualHost", "per_request_buffer_limit_bytes", 18},
    {"envoy.config.route.v3.Route", "per_request_buffer_limit_bytes", 16},
    {"envoy.config.cluster.v3.CircuitBreakers.Thresholds", "retry_budget", 8},
    {"envoy.config.cluster.v3.CircuitBreakers.Thresholds.RetryBudget", "min_retry_concurrency", 2},
    {"envoy.config.core.v3.HealthCheck", "reuse_connection", 7},
    {"envoy.config.core.v3.HealthCheck", "interval_jitter_percent", 18},
    {"envoy.config.core.v3.HealthCheck.HttpHealthCheck", "request_headers_to_remove", 8},
    {"envoy.config.cluster.v3.OutlierDetection", "max_ejection_time", 21},
    {"envoy.config.cluster.v3.Cluster", "least_request_lb_config", 37},
    {"envoy.config.cluster.v3.Cluster", "load_balancing_policy", 41},
    {"envoy.config.cluster.v3.LoadBalancingPolicy.Policy", "typed_extension_config", 4},
    {"envoy.config.core.v3.TypedExtensionConfig", "typed_config", 2},
    {"envoy.config.listener.v3.Listener", "use_original_dst", 4},
    {"envoy.config.listener.v3.Listener", "listener_filters", 9},
    {"envoy.config.listener.v3.Listener", "listener_filters_timeout", 15},
    {"envoy.config.listener.v3.Listener", "continue_on_listener_filters_timeout", 17},
    {"envoy.config.listener.v3.Listener", "default_filter_chain", 25},
    {"envoy.config.listener.v3.Listener", "bind_to_port", 26},
    {"envoy.config.listener.v3.FilterChainMatch", "destination_port", 8},
    {"envoy.config.listener.v3.FilterChainMatch", "prefix_ranges", 3},
    {"envoy.config.listener.v3.FilterChainMatch", "server_names", 11},
    {"envoy.config.listener.v3.FilterChainMatch", "transport_protocol", 9},
    {"envoy.config.listener.v3.FilterChainMatch", "application_protocols", 10},
    {"envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", "idle_timeout", 8},
    {"envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", "max_connect_attempts", 7},
    {"envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", "weighted_clusters", 10},
    {"envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector", "enable_ja3_fingerprinting", 1},
    {"envoy.config.cluster.v3.Cluster", "cleanup_interval", 20},
    {"envoy.config.cluster.v3.Cluster", "http2_protocol_options", 14},
    {"envoy.config.cluster.v3.Cluster", "typed_extension_protocol_options", 36},
    {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions", "explicit_http_config", 3},
    {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions", "common_http_protocol_options", 1},
    {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig", "http2_protocol_options", 2},
    {"envoy.config.core.v3.Http2ProtocolOptions", "max_concurrent_streams", 2},
    {"envoy.config.cluster.v3.Cluster", "original_dst_lb_config", 34},
    {"envoy.config.core.v3.SocketAddress", "protocol", 1},
    {"envoy.config.core.v3.SocketAddress", "address", 2},
    {"envoy.config.core.v3.SocketAddress", "port_value", 3},
    {"envoy.config.core.v3.SocketAddress", "named_port", 4},
    {"envoy.config.core.v3.SocketAddress", "resolver_name", 5},
    {"envoy.config.core.v3.SocketAddress", "ipv4_compat", 6},
    {"envoy.config.core.v3.Address", "pipe", 2},
    {"envoy.config.core.v3.CidrRange", "prefix_len", 2},
    {"envoy.config.core.v3.Node", "locality", 4},
    {"envoy.config.core.v3.Node", "user_agent_name", 6},
    {"envoy.config.core.v3.Node", "user_agent_version", 7},
    {"envoy.config.core.v3.HeaderValueOption", "append_action", 3},
    {"envoy.config.core.v3.DataSource", "environment_variable", 4},
    {"envoy.config.core.v3.ConfigSource", "ads", 3},
    {"envoy.config.core.v3.ConfigSource", "initial_fetch_timeout", 4},
    {"envoy.config.core.v3.ConfigSource", "resource_api_version", 6},
    {"envoy.config.core.v3.ApiConfigSource", "transport_api_version", 8},
    {"envoy.config.core.v3.ApiConfigSource", "grpc_services", 4},
    {"envoy.config.core.v3.ApiConfigSource", "set_node_on_first_message_only", 7},
    {"envoy.config.core.v3.GrpcService", "initial_metadata", 5},
    {"envoy.config.core.v3.HealthCheck", "initial_jitter", 20},
    {"envoy.config.core.v3.HealthCheck", "http_health_check", 8},
    {"envoy.config.core.v3.HealthCheck", "tcp_health_check", 9},
    {"envoy.config.core.v3.HealthCheck", "no_traffic_interval", 12},
    {"envoy.config.core.v3.HealthCheck", "unhealthy_interval", 14},
    {"envoy.config.core.v3.HealthCheck", "healthy_edge_interval", 16},
    {"envoy.config.core.v3.HealthCheck.HttpHealthCheck", "request_headers_to_add", 6},
    {"envoy.config.core.v3.HealthCheck.HttpHealthCheck", "expected_statuses", 9},
    {"envoy.config.core.v3.HttpProtocolOptions", "max_connection_duration", 3},
    {"envoy.config.core.v3.HttpProtocolOptions", "max_headers_count", 2},
    {"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", "access_log", 13},
    {"envoy.config.accesslog.v3.AccessLog", "filter", 2},
    {"envoy.config.accesslog.v3.AccessLog", "typed_config", 4},
    {"envoy.config.accesslog.v3.AccessLogFilter", "status_code_filter", 1},
    {"envoy.config.accesslog.v3.AccessLogFilter", "duration_filter", 2},
    {"envoy.config.accesslog.v3.AccessLogFilter", "not_health_check_filter", 3},
    {"envoy.config.accesslog.v3.AccessLogFilter", "and_filter", 6},
    {"envoy.config.accesslog.v3.AccessLogFilter", "or_filter", 7},
    {"envoy.config.accesslog.v3.AccessLogFilter", "response_flag_filter", 9},
    {"envoy.config.accesslog.v3.AccessLogFilter", "grpc_status_filter", 10},
    {"envoy.config.accesslog.v3.OrFilter", "filters", 2},
    {"envoy.config.accesslog.v3.ComparisonFilter", "value", 2},
    {"envoy.config.core.v3.RuntimeUInt32", "default_value", 2},
    {"envoy.config.core.v3.RuntimeUInt32", "runtime_key", 3},
    {"envoy.extensions.access_loggers.file.v3.FileAccessLog", "json_format", 3},
    {"envoy.extensions.access_loggers.file.v3.FileAccessLog", "typed_json_format", 4},
    {"envoy.extensions.access_loggers.file.v3.FileAccessLog", "log_format", 5},
    {"envoy.config.core.v3.SubstitutionFormatString", "json_format", 2},
    {"envoy.config.core.v3.SubstitutionFormatString", "omit_empty_values", 3},
    {"envoy.config.core.v3.SubstitutionFormatString", "content_type", 4},
    {"envoy.config.core.v3.SubstitutionFormatString", "text_format_source", 5},
    {"envoy.config.core.v3.HttpProtocolOptions", "headers_with_underscores_action", 5},
    {"envoy.type.matcher.v3.StringMatcher", "safe_regex", 5},
    {"envoy.type.matcher.v3.StringMatcher", "ignore_case", 6},
    {"envoy.type.matcher.v3.StringMatcher", "contains", 7},
    {"envoy.config.route.v3.RouteConfiguration", "request_headers_to_remove", 8},
    {"envoy.config.route.v3.RouteConfiguration", "validate_clusters", 7},
    {"envoy.config.route.v3.VirtualHost", "request_headers_to_remove", 13},
    {"envoy.config.route.v3.VirtualHost", "response_headers_to_add", 10},
    {"envoy.config.route.v3.VirtualHost", "retry_policy", 16},
    {"envoy.config.route.v3.Route", "name", 14},
    {"envoy.config.route.v3.Route", "direct_response", 7},
    {"envoy.config.route.v3.Route", "request_headers_to_add", 9},
    {"envoy.config.route.v3.RouteMatch", "safe_regex", 10},
    {"envoy.config.route.v3.RouteMatch", "path_separated_prefix", 14},
    {"envoy.config.route.v3.RouteMatch", "case_sensitive", 4},
    {"envoy.config.route.v3.RouteMatch", "headers", 6},
    {"envoy.config.route.v3.HeaderMatcher", "exact_match", 4},
    {"envoy.config.route.v3.HeaderMatcher", "safe_regex_match", 11},
    {"envoy.config.route.v3.HeaderMatcher", "contains_match", 12},
    {"envoy.config.route.v3.HeaderMatcher", "string_match", 13},
    {"envoy.config.route.v3.HeaderMatcher", "treat_missing_header_as_empty", 14},
    {"envoy.config.route.v3.QueryParameterMatcher", "string_match", 5},
    {"envoy.config.route.v3.RouteAction", "regex_rewrite", 32},
    {"envoy.config.route.v3.RouteAction", "idle_timeout", 24},
    {"envoy.config.route.v3.RouteAction", "priority", 11},
    {"envoy.config.route.v3.RouteAction", "max_stream_duration", 36},
    {"envoy.config.route.v3.WeightedCluster", "total_weight", 3},
    {"envoy.config.route.v3.WeightedCluster", "runtime_key_prefix", 2},
    {"envoy.config.route.v3.WeightedCluster.ClusterWeight", "request_headers_to_remove", 9},
    {"envoy.config.route.v3.RetryPolicy", "per_try_idle_timeout", 13},
    {"envoy.config.route.v3.RetryPolicy", "retriable_status_codes", 7},
    {"envoy.config.route.v3.RetryPolicy", "retry_back_off", 8},
    {"envoy.config.route.v3.RedirectAction", "port_redirect", 8},
    {"envoy.config.listener.v3.Listener", "default_filter_chain", 25},
    {"envoy.config.listener.v3.Listener", "listener_filters", 9},
    {"envoy.config.listener.v3.Listener", "traffic_direction", 16},
    {"envoy.config.listener.v3.Listener", "bind_to_port", 26},
    {"envoy.config.listener.v3.Filter", "typed_config", 4},
    {"envoy.config.listener.v3.ListenerFilter", "typed_config", 3},
    {"envoy.config.listener.v3.FilterChain", "name", 7},
    {"envoy.config.listener.v3.FilterChainMatch", "destination_port", 8},
    {"envoy.config.listener.v3.FilterChainMatch", "server_names", 11},
    {"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
     "common_http_protocol_options", 35},
    {"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
     "max_request_headers_kb", 29},
    {"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
     "stream_idle_timeout", 24},
    {"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
     "request_headers_timeout", 41},
    {"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
     "xff_num_trusted_hops", 19},
    {"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
     "preserve_external_request_id", 32},
    {"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
     "merge_slashes", 33},
    {"envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter", "is_optional", 6},
    {"envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter", "disabled", 7},
    {"envoy.extensions.filters.http.router.v3.Router", "suppress_envoy_headers", 4},
    {"envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", "weighted_clusters", 10},
    {"envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", "idle_timeout", 8},
    {"envoy.config.endpoint.v3.ClusterLoadAssignment", "policy", 4},
    {"envoy.config.endpoint.v3.ClusterLoadAssignment.Policy", "overprovisioning_factor", 3},
    {"envoy.config.endpoint.v3.LocalityLbEndpoints", "priority", 5},
    {"envoy.config.endpoint.v3.LbEndpoint", "load_balancing_weight", 4},
    {"envoy.config.endpoint.v3.Endpoint", "hostname", 3},
    {"envoy.config.cluster.v3.Cluster", "alt_stat_name", 28},
    {"envoy.config.cluster.v3.Cluster", "load_assignment", 33},
    {"envoy.config.cluster.v3.Cluster", "typed_extension_protocol_options", 36},
    {"envoy.config.cluster.v3.Cluster", "dns_lookup_family", 17},
    {"envoy.config.cluster.v3.Cluster", "outlier_detection", 19},
    {"envoy.config.cluster.v3.Cluster", "common_lb_config", 27},
    {"envoy.config.cluster.v3.Cluster", "close_connections_on_host_health_failure", 31},
    {"envoy.config.cluster.v3.Cluster", "ignore_health_on_host_removal", 32},
    {"envoy.config.cluster.v3.CircuitBreakers.Thresholds", "max_retries", 5},
    {"envoy.config.cluster.v3.OutlierDetection", "consecutive_gateway_failure", 10},
    {"envoy.config.cluster.v3.OutlierDetection", "enforcing_consecutive_gateway_failure", 11},
    {"envoy.config.bootstrap.v3.Bootstrap", "admin", 12},
    {"envoy.config.bootstrap.v3.Bootstrap", "stats_flush_interval", 7},
    {"envoy.config.bootstrap.v3.Bootstrap.DynamicResources", "ads_config", 3},
    {"envoy.config.bootstrap.v3.Admin", "ignore_global_conn_limit", 6},
    {"envoy.config.bootstrap.v3.Bootstrap", "overload_manager", 15},
    {"envoy.config.bootstrap.v3.Bootstrap", "layered_runtime", 17},
    {"envoy.config.bootstrap.v3.LayeredRuntime", "layers", 1},
    {"envoy.config.bootstrap.v3.RuntimeLayer", "static_layer", 2},
    {"envoy.config.overload.v3.OverloadManager", "resource_monitors", 2},
    {"envoy.config.overload.v3.OverloadManager", "actions", 3},
    {"envoy.config.overload.v3.ResourceMonitor", "typed_config", 3},
    {"envoy.config.overload.v3.Trigger", "threshold", 2},
    {"envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig",
     "max_active_downstream_connections", 1},
    {"envoy.service.discovery.v3.DiscoveryRequest", "error_detail", 6},
    {"envoy.service.discovery.v3.DiscoveryResponse", "control_plane", 6},
    {"google.rpc.Status", "details", 3},
};

struct EnumNumber {
  const char* enum_type;
  const char* value;
  int number;
};

constexpr EnumNumber kEnumValues[] = {
    {"envoy.config.core.v3.ApiVersion", "V3", 2},
    {"envoy.config.core.v3.ApiConfigSource.ApiType", "AGGREGATED_GRPC", 5},
    {"envoy.config.core.v3.ApiConfigSource.ApiType", "AGGREGATED_DELTA_GRPC", 6},
    {"envoy.config.core.v3.HealthStatus", "DEGRADED", 5},
    {"envoy.config.core.v3.TrafficDirection", "OUTBOUND", 2},
    {"envoy.config.core.v3.HealthStatus", "DEGRADED", 5},
    {"envoy.config.core.v3.HeaderValueOption.HeaderAppendAction", "OVERWRITE_IF_EXISTS", 3},
    {"envoy.config.cluster.v3.Cluster.LbPolicy", "MAGLEV", 5},
    {"envoy.config.cluster.v3.Cluster.LbPolicy", "LOAD_BALANCING_POLICY_CONFIG", 7},
    {"envoy.config.cluster.v3.Cluster.DiscoveryType", "ORIGINAL_DST", 4},
    {"envoy.config.cluster.v3.Cluster.DnsLookupFamily", "ALL", 4},
    {"envoy.config.route.v3.RedirectAction.RedirectResponseCode", "PERMANENT_REDIRECT", 4},
    {"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.CodecType",
     "HTTP3", 3},
};

class FieldNumbersTest : public ::testing::Test {
 protected:
  // Links every generated file so the generated pool can find them by name.
  void SetUp() override { ASSERT_FALSE(resourceTypes().empty()); }
};

TEST_F(FieldNumbersTest, FieldsKeepEnvoysNumbers) {
  for (const auto& expected : kFields) {
    SCOPED_TRACE(std::string(expected.message) + "." + expected.field);
    const auto* message = DescriptorPool::generated_pool()->FindMessageTypeByName(expected.message);
    ASSERT_NE(message, nullptr);
    const auto* field = message->FindFieldByName(expected.field);
    ASSERT_NE(field, nullptr);
    EXPECT_EQ(field->number(), expected.number);
  }
}

TEST_F(FieldNumbersTest, EnumsKeepEnvoysValues) {
  for (const auto& expected : kEnumValues) {
    SCOPED_TRACE(std::string(expected.enum_type) + "." + expected.value);
    const auto* type = DescriptorPool::generated_pool()->FindEnumTypeByName(expected.enum_type);
    ASSERT_NE(type, nullptr);
    const auto* value = type->FindValueByName(expected.value);
    ASSERT_NE(value, nullptr);
    EXPECT_EQ(value->number(), expected.number);
  }
}

TEST_F(FieldNumbersTest, LbPolicyKeepsFourUnused) {
  // Envoy reserves 4 (the removed ORIGINAL_DST_LB); reusing it would collide with old configs.
  const auto* type = DescriptorPool::generated_pool()->FindEnumTypeByName(
      "envoy.config.cluster.v3.Cluster.LbPolicy");
  ASSERT_NE(type, nullptr);
  EXPECT_EQ(type->FindValueByNumber(4), nullptr);
}

TEST_F(FieldNumbersTest, KnownTypesHaveTypeUrls) {
  ASSERT_EQ(resourceTypes().size(), 4u);
  EXPECT_EQ(typeUrl(*resourceTypes()[0]), "type.googleapis.com/envoy.config.listener.v3.Listener");
  ASSERT_EQ(extensionTypes().size(), 11u);
  EXPECT_EQ(typeUrl(*extensionTypes()[2]),
            "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router");
}

TEST_F(FieldNumbersTest, AdsServiceHasEnvoysMethodPath) {
  const auto* service = DescriptorPool::generated_pool()->FindServiceByName(
      "envoy.service.discovery.v3.AggregatedDiscoveryService");
  ASSERT_NE(service, nullptr);
  EXPECT_EQ(&adsService(), service);
  const auto* method = service->FindMethodByName("StreamAggregatedResources");
  ASSERT_NE(method, nullptr);
  EXPECT_TRUE(method->client_streaming());
  EXPECT_TRUE(method->server_streaming());
  EXPECT_EQ(method->input_type()->full_name(), "envoy.service.discovery.v3.DiscoveryRequest");
}

}  // namespace
}  // namespace trellis::xds::api
