// What the snapshot compiler accepts, what it builds, and every rejection with its path.
#include "proxy/snapshot/compile.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "config/bootstrap/bootstrap.h"

namespace trellis::proxy {
namespace {

// A bootstrap with one listener (route_config given by the caller) and two STATIC clusters.
std::string bootstrapYaml(const std::string& route_config, const std::string& cluster_extra = "",
                          const std::string& hcm_extra = "") {
  return R"(
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 9901}}}
static_resources:
  listeners:
  - name: ingress
    address: {socket_address: {address: 127.0.0.1, port_value: 15001}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
)" + hcm_extra + R"(
          route_config:
)" + route_config + R"(
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
  clusters:
  - name: red
    connect_timeout: 0.25s
    type: STATIC
    load_assignment:
      cluster_name: red
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 9081}}}
          load_balancing_weight: 3
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 9082}}}
)" + cluster_extra + R"(
  - name: blue
    type: STATIC
    load_assignment:
      cluster_name: blue
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: "::1", port_value: 9083}}}}]}]
)";
}

const std::string kSimpleRoutes = R"(
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {prefix: "/"}
                route: {weighted_clusters: {clusters: [{name: red, weight: 80}, {name: blue, weight: 20}]}, timeout: 2s}
)";

absl::StatusOr<std::shared_ptr<const Snapshot>> compileYaml(const std::string& yaml, StatsStore& stats) {
  auto b = config::parseBootstrap(yaml, "test.yaml");
  if (!b.ok()) return b.status();
  CompileInput in;
  for (int i = 0; i < b->static_resources().listeners_size(); ++i) {
    in.listeners.push_back({b->static_resources().listeners(i), "static_resources.listeners[" + std::to_string(i) + "]"});
  }
  for (int i = 0; i < b->static_resources().clusters_size(); ++i) {
    in.clusters.push_back({b->static_resources().clusters(i), "static_resources.clusters[" + std::to_string(i) + "]"});
  }
  return compileSnapshot(in, stats);
}

TEST(CompileTest, BuildsListenersRoutesAndClusters) {
  StatsStore stats(2);
  auto snap = compileYaml(bootstrapYaml(kSimpleRoutes), stats);
  ASSERT_TRUE(snap.ok()) << snap.status();
  const Snapshot& s = **snap;
  ASSERT_EQ(s.clusters.size(), 2u);
  const Cluster& red = *s.clusters[0];
  EXPECT_EQ(red.name, "red");
  EXPECT_EQ(red.connect_timeout, Duration(250));
  ASSERT_EQ(red.endpoints.size(), 2u);
  EXPECT_EQ(red.endpoints[0].weight, 3u);
  EXPECT_EQ(red.schedule.size(), 4u);
  EXPECT_EQ(s.clusters[1]->endpoints[0].address.address().to_string(), "::1");
  ASSERT_EQ(s.listeners.size(), 1u);
  const Listener& l = *s.listeners[0];
  EXPECT_EQ(l.address.port(), 15001);
  ASSERT_EQ(l.filter_chains.size(), 1u);
  ASSERT_TRUE(l.filter_chains[0].http.has_value());
  EXPECT_EQ(l.filter_chains[0].http->stat_prefix, "ingress");
  ASSERT_EQ(l.filter_chains[0].http->routes->virtual_hosts.size(), 1u);
  const Route& r = l.filter_chains[0].http->routes->virtual_hosts[0].routes[0];
  ASSERT_TRUE(r.forward.has_value());
  EXPECT_EQ(r.forward->total_weight, 100u);
  EXPECT_EQ(r.forward->timeout, Duration(2000));
  EXPECT_EQ(r.forward->targets[1].cluster, std::optional<uint32_t>(1));
  EXPECT_EQ(l.filter_chains[0].http->http.max_request_headers_bytes, 60u * 1024);
  EXPECT_EQ(l.filter_chains[0].http->http.max_headers_count, 100u);
}

TEST(CompileTest, DefaultRouteTimeoutIsFifteenSecondsAndZeroDisables) {
  StatsStore stats(2);
  auto snap = compileYaml(bootstrapYaml(R"(
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - {match: {prefix: "/a"}, route: {cluster: red}}
              - {match: {prefix: "/b"}, route: {cluster: red, timeout: 0s}}
)"),
                          stats);
  ASSERT_TRUE(snap.ok()) << snap.status();
  const auto& routes = (*snap)->listeners[0]->filter_chains[0].http->routes->virtual_hosts[0].routes;
  EXPECT_EQ(routes[0].forward->timeout, Duration(15000));
  EXPECT_EQ(routes[1].forward->timeout, Duration(0));
}

TEST(CompileTest, HostRewriteLiteral) {
  StatsStore stats(2);
  auto snap = compileYaml(bootstrapYaml(R"(
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - {match: {prefix: "/a/"}, route: {cluster: red, prefix_rewrite: "/", host_rewrite_literal: "color.local"}}
)"),
                          stats);
  ASSERT_TRUE(snap.ok()) << snap.status();
  const auto& route = (*snap)->listeners[0]->filter_chains[0].http->routes->virtual_hosts[0].routes[0];
  EXPECT_EQ(route.forward->host_rewrite_literal, std::optional<std::string>("color.local"));
  EXPECT_EQ(route.forward->prefix_rewrite, std::optional<std::string>("/"));
  auto bad = compileYaml(bootstrapYaml(R"(
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - {match: {prefix: "/"}, route: {cluster: red, host_rewrite_literal: "a b"}}
)"),
                         stats);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("host_rewrite_literal: 'a b' holds whitespace"), std::string::npos)
      << bad.status();
}

TEST(CompileTest, RegexRewrite) {
  StatsStore stats(2);
  auto snap = compileYaml(bootstrapYaml(R"Y(
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - {match: {safe_regex: {regex: "/i.*"}}, route: {cluster: red, regex_rewrite: {pattern: {regex: "^.*$"}, substitution: "/about"}}}
)Y"),
                          stats);
  ASSERT_TRUE(snap.ok()) << snap.status();
  const auto& route = (*snap)->listeners[0]->filter_chains[0].http->routes->virtual_hosts[0].routes[0];
  ASSERT_NE(route.forward->regex_rewrite, nullptr);
  EXPECT_EQ(route.forward->regex_rewrite_substitution, "/about");
  auto bad = compileYaml(bootstrapYaml(R"Y(
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - {match: {prefix: "/"}, route: {cluster: red, regex_rewrite: {pattern: {regex: "(a)"}, substitution: "\\2"}}}
)Y"),
                         stats);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("regex_rewrite.substitution"), std::string::npos) << bad.status();
}

TEST(CompileTest, HttpOptions) {
  StatsStore stats(2);
  auto snap = compileYaml(bootstrapYaml(kSimpleRoutes, "", R"(
          common_http_protocol_options: {idle_timeout: 30s, max_headers_count: 50}
          request_headers_timeout: 5s
          max_request_headers_kb: 16
          use_remote_address: true
)"),
                          stats);
  ASSERT_TRUE(snap.ok()) << snap.status();
  const HttpOptions& o = (*snap)->listeners[0]->filter_chains[0].http->http;
  EXPECT_EQ(o.idle_timeout, Duration(30000));
  EXPECT_EQ(o.max_headers_count, 50u);
  EXPECT_EQ(o.request_headers_timeout, Duration(5000));
  EXPECT_EQ(o.max_request_headers_bytes, 16u * 1024);
  EXPECT_TRUE(o.use_remote_address);
}

struct Reject {
  const char* name;
  std::string yaml;
  std::string message;  // must appear in the error
};

class CompileRejects : public ::testing::TestWithParam<Reject> {};

TEST_P(CompileRejects, NamingThePath) {
  StatsStore stats(2);
  auto snap = compileYaml(GetParam().yaml, stats);
  ASSERT_FALSE(snap.ok()) << GetParam().name << " was accepted";
  EXPECT_NE(std::string(snap.status().message()).find(GetParam().message), std::string::npos)
      << "got: " << snap.status().message();
}

std::string routesWith(const std::string& route) {
  return R"(
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - )" + route + "\n";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CompileRejects,
    ::testing::Values(
        Reject{"unsupported_lb", bootstrapYaml(kSimpleRoutes, "    lb_policy: MAGLEV\n"),
               "static_resources.clusters[0].lb_policy: MAGLEV is not supported yet (ROUND_ROBIN, LEAST_REQUEST and "
               "RANDOM are; the Trellis peak-EWMA policy is set through load_balancing_policy)"},
        Reject{"strict_dns", bootstrapYaml(kSimpleRoutes, "    dns_lookup_family: V4_ONLY\n"),
               "static_resources.clusters[0].dns_lookup_family: is not supported yet"},
        Reject{"unknown_cluster", bootstrapYaml(routesWith("{match: {prefix: /}, route: {cluster: nosuch}}")),
               "virtual_hosts[0].routes[0].route.cluster: unknown cluster 'nosuch'"},
        Reject{"weights_sum_zero",
               bootstrapYaml(routesWith("{match: {prefix: /}, route: {weighted_clusters: {clusters: [{name: red, weight: 0}]}}}")),
               "weighted_clusters.clusters: the weights sum to 0"},
        Reject{"total_weight_mismatch",
               bootstrapYaml(routesWith("{match: {prefix: /}, route: {weighted_clusters: {total_weight: 90, clusters: [{name: red, weight: 50}, {name: blue, weight: 50}]}}}")),
               "weighted_clusters.total_weight: 90 does not equal the sum of the weights (100)"},
        Reject{"bad_regex", bootstrapYaml(routesWith("{match: {safe_regex: {regex: \"([a-z\"}}, route: {cluster: red}}")),
               "routes[0].match.safe_regex.regex: '([a-z' is not a valid RE2 expression"},
        Reject{"redirect", bootstrapYaml(routesWith("{match: {prefix: /}, redirect: {host_redirect: x}}")),
               "routes[0].redirect: is not supported yet"},
        Reject{"range_match", bootstrapYaml(routesWith("{match: {prefix: /, headers: [{name: x, range_match: {start: 1, end: 2}}]}, route: {cluster: red}}")),
               "match.headers[0].range_match: is not supported yet"},
        Reject{"bad_wildcard", bootstrapYaml(R"(
            virtual_hosts:
            - {name: a, domains: ["foo.*.com"], routes: []}
)"),
               "virtual_hosts[0].domains[0]: 'foo.*.com': a wildcard may only be the first or last character"},
        Reject{"duplicate_domain", bootstrapYaml(R"(
            virtual_hosts:
            - {name: a, domains: ["x.com"], routes: []}
            - {name: b, domains: ["X.com"], routes: []}
)"),
               "virtual_hosts[1].domains[0]: domain 'x.com' appears in more than one virtual host"},
        Reject{"unsupported_http_filter", bootstrapYaml(kSimpleRoutes, "", R"(
          http_filters:
          - name: envoy.filters.http.fault
)"),
               ""},
        Reject{"direct_response_status", bootstrapYaml(routesWith("{match: {prefix: /}, direct_response: {status: 100}}")),
               "direct_response.status: 100 is not a final status (200-599)"},
        Reject{"max_headers_kb", bootstrapYaml(kSimpleRoutes, "", "          max_request_headers_kb: 9000\n"),
               "max_request_headers_kb: 9000 is out of range (1-8192)"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CompileTest, AnExplicitHttp1ChoiceIsWhatDataClustersSpeak) {
  StatsStore stats(2);
  auto snap = compileYaml(bootstrapYaml(kSimpleRoutes, R"(    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http_protocol_options: {}}
)"),
                          stats);
  EXPECT_TRUE(snap.ok()) << snap.status();
}

TEST(CompileTest, DuplicateClusterNames) {
  StatsStore stats(2);
  std::string yaml = bootstrapYaml(kSimpleRoutes) + R"(
  - name: red
    type: STATIC
)";
  auto snap = compileYaml(yaml, stats);
  ASSERT_FALSE(snap.ok());
  EXPECT_NE(std::string(snap.status().message()).find("static_resources.clusters[2].name: duplicate cluster name 'red'"),
            std::string::npos)
      << snap.status().message();
}

TEST(CompileTest, EveryEndpointIsScheduledWithItsEdsHealth) {
  StatsStore stats(2);
  std::string yaml = bootstrapYaml(kSimpleRoutes) + R"(
  - name: mixed
    type: STATIC
    load_assignment:
      cluster_name: mixed
      endpoints:
      - lb_endpoints:
        - {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 1}}}, health_status: UNHEALTHY}
        - {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 2}}}, load_balancing_weight: 2}
        - {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 3}}}, health_status: HEALTHY}
        - {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 4}}}, health_status: DRAINING}
        - {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 5}}}, health_status: TIMEOUT}
        - {endpoint: {address: {socket_address: {address: "::1", port_value: 6}}}, health_status: DEGRADED}
)";
  auto snap = compileYaml(yaml, stats);
  ASSERT_TRUE(snap.ok()) << snap.status();
  const Cluster& c = *(*snap)->clusters[2];
  ASSERT_EQ(c.endpoints.size(), 6u);
  const EdsHealth want[] = {EdsHealth::Unhealthy, EdsHealth::Unknown,  EdsHealth::Healthy,
                            EdsHealth::Draining,  EdsHealth::Timeout, EdsHealth::Degraded};
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(c.endpoints[i].eds_health, want[i]) << i;
  // Health is applied at pick time: the schedule holds every host by weight (7 slots).
  ASSERT_EQ(c.schedule.size(), 7u);
  EXPECT_EQ(std::count(c.schedule.begin(), c.schedule.end(), 0u), 1);
  EXPECT_EQ(std::count(c.schedule.begin(), c.schedule.end(), 1u), 2);
  // Shared per-host counters, keyed "ip:port" (IPv6 in brackets), and cluster resources.
  EXPECT_EQ(c.endpoints[0].counters, stats.host("mixed", "127.0.0.1:1"));
  EXPECT_EQ(c.endpoints[5].counters, stats.host("mixed", "[::1]:6"));
  EXPECT_NE(c.endpoints[0].counters, c.endpoints[1].counters);
  EXPECT_EQ(c.resources, stats.resources("mixed"));
  EXPECT_NE(c.resources, nullptr);
}

// A cluster and routes with every resilience field Trellis reads, in Envoy's format.
const std::string kResilientRed = R"(
    lb_policy: LEAST_REQUEST
    least_request_lb_config: {choice_count: 3}
    common_lb_config: {healthy_panic_threshold: {value: 25}}
    health_checks:
    - timeout: 2s
      interval: 5s
      initial_jitter: 1s
      interval_jitter: 0.5s
      interval_jitter_percent: 10
      unhealthy_threshold: 3
      healthy_threshold: 2
      reuse_connection: false
      no_traffic_interval: 30s
      unhealthy_interval: 10s
      unhealthy_edge_interval: 1s
      healthy_edge_interval: 0.0005s
      http_health_check:
        host: health.local
        path: /healthz
        request_headers_to_add:
        - {header: {key: x-probe, value: trellis}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
        expected_statuses: [{start: 200, end: 300}, {start: 404, end: 405}]
    outlier_detection:
      consecutive_5xx: 3
      consecutive_gateway_failure: 2
      enforcing_consecutive_5xx: 50
      enforcing_consecutive_gateway_failure: 100
      interval: 5s
      base_ejection_time: 10s
      max_ejection_time: 60s
      max_ejection_percent: 30
    circuit_breakers:
      thresholds:
      - {priority: HIGH, max_connections: 1}
      - max_connections: 100
        max_pending_requests: 50
        max_requests: 200
        max_retries: 5
        retry_budget: {budget_percent: {value: 30}, min_retry_concurrency: 4})";

const std::string kEwmaCluster = R"(
  - name: ewma
    type: STATIC
    load_balancing_policy:
      policies:
      - typed_extension_config:
          name: trellis.load_balancing_policies.peak_ewma
          typed_config:
            "@type": type.googleapis.com/trellis.extensions.load_balancing_policies.peak_ewma.v1.PeakEwma
            decay_time: 2s
    health_checks:
    - timeout: 1s
      interval: 3s
      unhealthy_threshold: 1
      healthy_threshold: 1
      tcp_health_check: {send: {text: "50494e47"}, receive: [{binary: "UE9ORw=="}, {text: "0a"}]}
    outlier_detection: {}
    circuit_breakers: {thresholds: [{retry_budget: {}}]}
    load_assignment:
      cluster_name: ewma
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 9090}}}}]}]
)";

const std::string kRetryRoutes = R"(
            virtual_hosts:
            - name: all
              domains: ["*"]
              retry_policy: {retry_on: "5xx", num_retries: 4}
              per_request_buffer_limit_bytes: 1024
              routes:
              - match: {prefix: "/own"}
                per_request_buffer_limit_bytes: 2048
                route:
                  cluster: red
                  idle_timeout: 30s
                  retry_policy:
                    retry_on: " gateway-error , reset,connect-failure,refused-stream,retriable-status-codes,retriable-4xx,cancelled,deadline-exceeded,internal,resource-exhausted,unavailable"
                    num_retries: 3
                    per_try_timeout: 0.5s
                    retriable_status_codes: [409, 503]
                    retry_host_predicate: [{name: envoy.retry_host_predicates.previous_hosts}]
                    host_selection_retry_max_attempts: 5
                    retry_back_off: {base_interval: 0.1s}
              - match: {prefix: "/inherit"}
                route: {cluster: blue}
              - match: {prefix: "/typed"}
                route:
                  cluster: blue
                  retry_policy:
                    retry_host_predicate:
                    - name: anything
                      typed_config: {"@type": type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate}
                    retry_back_off: {base_interval: 0.01s, max_interval: 1s}
            - name: plain
              domains: ["plain.local"]
              routes:
              - {match: {prefix: "/"}, route: {cluster: red}}
)";

TEST(CompileTest, ResilienceConfig) {
  StatsStore stats(2);
  auto snap = compileYaml(bootstrapYaml(kRetryRoutes, kResilientRed) + kEwmaCluster, stats);
  ASSERT_TRUE(snap.ok()) << snap.status();
  const Snapshot& s = **snap;
  ASSERT_EQ(s.clusters.size(), 3u);

  const Cluster& red = *s.clusters[0];
  EXPECT_EQ(red.lb_policy, LbPolicy::LeastRequest);
  EXPECT_EQ(red.least_request_choice_count, 3u);
  EXPECT_EQ(red.healthy_panic_threshold, 25.0);
  ASSERT_EQ(red.health_checks.size(), 1u);
  const HealthCheckConfig& hc = red.health_checks[0];
  EXPECT_EQ(hc.kind, HealthCheckConfig::Kind::Http);
  EXPECT_EQ(hc.timeout, Duration(2000));
  EXPECT_EQ(hc.interval, Duration(5000));
  EXPECT_EQ(hc.initial_jitter, Duration(1000));
  EXPECT_EQ(hc.interval_jitter, Duration(500));
  EXPECT_EQ(hc.interval_jitter_percent, 10u);
  EXPECT_EQ(hc.unhealthy_threshold, 3u);
  EXPECT_EQ(hc.healthy_threshold, 2u);
  EXPECT_FALSE(hc.reuse_connection);
  EXPECT_EQ(hc.no_traffic_interval, Duration(30000));
  EXPECT_EQ(hc.unhealthy_interval, std::optional<Duration>(Duration(10000)));
  EXPECT_EQ(hc.unhealthy_edge_interval, std::optional<Duration>(Duration(1000)));
  EXPECT_EQ(hc.healthy_edge_interval, std::optional<Duration>(Duration(1)));  // 0.5 ms rounds up to 1 ms
  EXPECT_EQ(hc.host, "health.local");
  EXPECT_EQ(hc.path, "/healthz");
  ASSERT_EQ(hc.request_headers.size(), 1u);
  EXPECT_EQ(hc.request_headers[0], std::make_pair(std::string("x-probe"), std::string("trellis")));
  ASSERT_EQ(hc.expected_statuses.size(), 2u);
  EXPECT_EQ(hc.expected_statuses[1], std::make_pair(int64_t{404}, int64_t{405}));
  ASSERT_TRUE(red.outlier_detection.has_value());
  const OutlierDetectionConfig& od = *red.outlier_detection;
  EXPECT_EQ(od.consecutive_5xx, 3u);
  EXPECT_EQ(od.consecutive_gateway_failure, 2u);
  EXPECT_EQ(od.enforcing_consecutive_5xx, 50u);
  EXPECT_EQ(od.enforcing_consecutive_gateway_failure, 100u);
  EXPECT_EQ(od.interval, Duration(5000));
  EXPECT_EQ(od.base_ejection_time, Duration(10000));
  EXPECT_EQ(od.max_ejection_time, Duration(60000));
  EXPECT_EQ(od.max_ejection_percent, 30u);
  // The DEFAULT entry, not the HIGH one before it.
  const CircuitBreakerConfig& cb = red.circuit_breakers;
  EXPECT_EQ(cb.max_connections, 100u);
  EXPECT_EQ(cb.max_pending_requests, 50u);
  EXPECT_EQ(cb.max_requests, 200u);
  EXPECT_EQ(cb.max_retries, 5u);
  EXPECT_TRUE(cb.has_retry_budget);
  EXPECT_EQ(cb.retry_budget_percent, 30.0);
  EXPECT_EQ(cb.min_retry_concurrency, 4u);

  const Cluster& ewma = *s.clusters[2];
  EXPECT_EQ(ewma.lb_policy, LbPolicy::PeakEwma);
  EXPECT_EQ(ewma.ewma_decay, Duration(2000));
  ASSERT_EQ(ewma.health_checks.size(), 1u);
  const HealthCheckConfig& tcp = ewma.health_checks[0];
  EXPECT_EQ(tcp.kind, HealthCheckConfig::Kind::Tcp);
  EXPECT_EQ(tcp.send, "PING");
  EXPECT_EQ(tcp.receive, (std::vector<std::string>{"PONG", "\n"}));
  // Envoy's defaults where the config is silent.
  EXPECT_EQ(tcp.initial_jitter, Duration(0));
  EXPECT_EQ(tcp.interval_jitter, Duration(0));
  EXPECT_EQ(tcp.no_traffic_interval, Duration(60000));
  EXPECT_FALSE(tcp.unhealthy_interval.has_value());
  EXPECT_TRUE(tcp.reuse_connection);
  ASSERT_TRUE(ewma.outlier_detection.has_value());
  EXPECT_EQ(ewma.outlier_detection->consecutive_5xx, 5u);
  EXPECT_EQ(ewma.outlier_detection->consecutive_gateway_failure, 5u);
  EXPECT_EQ(ewma.outlier_detection->enforcing_consecutive_5xx, 100u);
  EXPECT_EQ(ewma.outlier_detection->enforcing_consecutive_gateway_failure, 0u);
  EXPECT_EQ(ewma.outlier_detection->interval, Duration(10000));
  EXPECT_EQ(ewma.outlier_detection->base_ejection_time, Duration(30000));
  EXPECT_EQ(ewma.outlier_detection->max_ejection_time, Duration(300000));
  EXPECT_EQ(ewma.outlier_detection->max_ejection_percent, 10u);
  EXPECT_EQ(ewma.circuit_breakers.max_connections, 1024u);
  EXPECT_EQ(ewma.circuit_breakers.max_retries, 3u);
  EXPECT_TRUE(ewma.circuit_breakers.has_retry_budget);
  EXPECT_EQ(ewma.circuit_breakers.retry_budget_percent, 20.0);
  EXPECT_EQ(ewma.circuit_breakers.min_retry_concurrency, 3u);

  const Cluster& blue = *s.clusters[1];
  EXPECT_EQ(blue.lb_policy, LbPolicy::RoundRobin);
  EXPECT_EQ(blue.healthy_panic_threshold, 50.0);
  EXPECT_TRUE(blue.health_checks.empty());
  EXPECT_FALSE(blue.outlier_detection.has_value());
  EXPECT_FALSE(blue.circuit_breakers.has_retry_budget);
  EXPECT_EQ(blue.circuit_breakers.max_requests, 1024u);

  const auto& vhosts = s.listeners[0]->filter_chains[0].http->routes->virtual_hosts;
  const ForwardAction& own = *vhosts[0].routes[0].forward;
  ASSERT_TRUE(own.retry_policy.has_value());
  const RetryPolicy& rp = *own.retry_policy;
  EXPECT_EQ(rp.retry_on, RetryPolicy::kGatewayError | RetryPolicy::kReset | RetryPolicy::kConnectFailure |
                             RetryPolicy::kRefusedStream | RetryPolicy::kRetriableStatusCodes |
                             RetryPolicy::kRetriable4xx | RetryPolicy::kGrpcCancelled |
                             RetryPolicy::kGrpcDeadlineExceeded | RetryPolicy::kGrpcInternal |
                             RetryPolicy::kGrpcResourceExhausted | RetryPolicy::kGrpcUnavailable);
  EXPECT_EQ(rp.num_retries, 3u);
  EXPECT_EQ(rp.per_try_timeout, Duration(500));
  EXPECT_EQ(rp.retriable_status_codes, (std::vector<uint16_t>{409, 503}));
  EXPECT_TRUE(rp.avoid_previous_hosts);
  EXPECT_EQ(rp.host_selection_retry_max_attempts, 5u);
  EXPECT_EQ(rp.back_off_base, Duration(100));
  EXPECT_EQ(rp.back_off_max, Duration(1000));  // 10 x base
  EXPECT_EQ(own.idle_timeout, Duration(30000));
  EXPECT_EQ(own.retry_buffer_limit, 2048u);

  // No policy of its own: the virtual host's, whole, and its buffer limit.
  const ForwardAction& inherit = *vhosts[0].routes[1].forward;
  ASSERT_TRUE(inherit.retry_policy.has_value());
  EXPECT_EQ(inherit.retry_policy->retry_on, RetryPolicy::k5xx);
  EXPECT_EQ(inherit.retry_policy->num_retries, 4u);
  EXPECT_EQ(inherit.retry_policy->back_off_base, Duration(25));
  EXPECT_EQ(inherit.retry_policy->back_off_max, Duration(250));
  EXPECT_EQ(inherit.retry_buffer_limit, 1024u);
  EXPECT_EQ(inherit.idle_timeout, Duration(0));

  // Its own policy replaces the virtual host's entirely (retry_on is not inherited).
  const RetryPolicy& typed = *vhosts[0].routes[2].forward->retry_policy;
  EXPECT_EQ(typed.retry_on, 0u);
  EXPECT_EQ(typed.num_retries, 1u);
  EXPECT_TRUE(typed.avoid_previous_hosts);
  EXPECT_EQ(typed.host_selection_retry_max_attempts, 1u);
  EXPECT_EQ(typed.per_try_timeout, Duration(0));
  EXPECT_EQ(typed.back_off_base, Duration(10));
  EXPECT_EQ(typed.back_off_max, Duration(1000));

  const ForwardAction& plain = *vhosts[1].routes[0].forward;
  EXPECT_FALSE(plain.retry_policy.has_value());
  EXPECT_EQ(plain.retry_buffer_limit, 64u * 1024);
}

// Rejections of the resilience config: the whole message, path first.
struct RejectExactly {
  const char* name;
  std::string yaml;
  std::string message;
};

class CompileRejectsExactly : public ::testing::TestWithParam<RejectExactly> {};

TEST_P(CompileRejectsExactly, WithThisMessage) {
  StatsStore stats(2);
  auto snap = compileYaml(GetParam().yaml, stats);
  ASSERT_FALSE(snap.ok()) << GetParam().name << " was accepted";
  EXPECT_EQ(std::string(snap.status().message()), GetParam().message);
}

const std::string kC0 = "static_resources.clusters[0].";
const std::string kR0 =
    "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].";

std::string redWith(const std::string& extra) { return bootstrapYaml(kSimpleRoutes, extra); }

// A valid health check plus `extra` (its own fields, 6 spaces in) and an HTTP checker.
std::string healthCheck(const std::string& fields) {
  return redWith("    health_checks:\n    - " + fields + "\n");
}
const std::string kHcBase = "{timeout: 1s, interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1, ";

std::string routeRetry(const std::string& policy) {
  return bootstrapYaml(routesWith("{match: {prefix: /}, route: {cluster: red, retry_policy: " + policy + "}}"));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CompileRejectsExactly,
    ::testing::Values(
        RejectExactly{"data_cluster_http2", redWith("    http2_protocol_options: {}\n"),
                      kC0 + "http2_protocol_options: HTTP/2 upstreams are not supported yet (only the xDS cluster "
                            "named in dynamic_resources.ads_config, whose gRPC client speaks HTTP/2 itself, may set "
                            "it)"},
        RejectExactly{"data_cluster_typed_http2",
                      redWith("    typed_extension_protocol_options:\n"
                              "      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n"
                              "        \"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n"
                              "        explicit_http_config: {http2_protocol_options: {}}\n"),
                      kC0 + "typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"]"
                            ".explicit_http_config.http2_protocol_options: HTTP/2 upstreams are not supported yet "
                            "(only the xDS cluster named in dynamic_resources.ads_config, whose gRPC client speaks "
                            "HTTP/2 itself, may set it)"},
        RejectExactly{"lb_policy_config_alone", redWith("    lb_policy: LOAD_BALANCING_POLICY_CONFIG\n"),
                      kC0 + "lb_policy: LOAD_BALANCING_POLICY_CONFIG needs load_balancing_policy"},
        RejectExactly{"lb_policy_and_load_balancing_policy",
                      redWith("    lb_policy: RANDOM\n    load_balancing_policy: {policies: []}\n"),
                      kC0 + "lb_policy: RANDOM cannot be combined with load_balancing_policy (set one of them)"},
        RejectExactly{"choice_count_one",
                      redWith("    lb_policy: LEAST_REQUEST\n    least_request_lb_config: {choice_count: 1}\n"),
                      kC0 + "least_request_lb_config.choice_count: 1 is less than 2 (a pick compares at least two hosts)"},
        RejectExactly{"least_request_config_without_policy", redWith("    least_request_lb_config: {choice_count: 2}\n"),
                      kC0 + "least_request_lb_config: only applies to lb_policy LEAST_REQUEST"},
        RejectExactly{"no_policies", redWith("    load_balancing_policy: {}\n"),
                      kC0 + "load_balancing_policy.policies: at least one policy is required"},
        RejectExactly{"policy_without_config", redWith("    load_balancing_policy: {policies: [{}]}\n"),
                      kC0 + "load_balancing_policy.policies[0].typed_extension_config: is required"},
        RejectExactly{"policy_unknown_type",
                      redWith("    load_balancing_policy: {policies: [{typed_extension_config: {name: rr, typed_config: "
                              "{\"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}}]}\n"),
                      kC0 + "load_balancing_policy.policies[0].typed_extension_config.typed_config: type "
                            "'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' is not supported "
                            "(type.googleapis.com/trellis.extensions.load_balancing_policies.peak_ewma.v1.PeakEwma is)"},
        RejectExactly{"ewma_decay_zero",
                      redWith("    load_balancing_policy: {policies: [{typed_extension_config: {typed_config: "
                              "{\"@type\": type.googleapis.com/trellis.extensions.load_balancing_policies.peak_ewma.v1."
                              "PeakEwma, decay_time: 0s}}}]}\n"),
                      kC0 + "load_balancing_policy.policies[0].typed_extension_config.typed_config.decay_time: 0s must "
                            "be greater than 0"},
        RejectExactly{"panic_threshold", redWith("    common_lb_config: {healthy_panic_threshold: {value: 150}}\n"),
                      kC0 + "common_lb_config.healthy_panic_threshold.value: 150 is not a percentage (0-100)"},
        RejectExactly{"common_lb_config_other", redWith("    common_lb_config: {update_merge_window: 1s}\n"),
                      kC0 + "common_lb_config.update_merge_window: is not supported yet (supported fields of "
                            "envoy.config.cluster.v3.Cluster.CommonLbConfig: healthy_panic_threshold)"},
        RejectExactly{"two_health_checks",
                      redWith("    health_checks: [" + kHcBase + "tcp_health_check: {}}, " + kHcBase +
                              "tcp_health_check: {}}]\n"),
                      kC0 + "health_checks: 2 entries; Trellis runs one health check per cluster"},
        RejectExactly{"hc_timeout_required",
                      healthCheck("{interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1, tcp_health_check: {}}"),
                      kC0 + "health_checks[0].timeout: is required"},
        RejectExactly{"hc_interval_required",
                      healthCheck("{timeout: 1s, unhealthy_threshold: 1, healthy_threshold: 1, tcp_health_check: {}}"),
                      kC0 + "health_checks[0].interval: is required"},
        RejectExactly{"hc_unhealthy_threshold_required",
                      healthCheck("{timeout: 1s, interval: 1s, healthy_threshold: 1, tcp_health_check: {}}"),
                      kC0 + "health_checks[0].unhealthy_threshold: is required"},
        RejectExactly{"hc_healthy_threshold_required",
                      healthCheck("{timeout: 1s, interval: 1s, unhealthy_threshold: 1, tcp_health_check: {}}"),
                      kC0 + "health_checks[0].healthy_threshold: is required"},
        RejectExactly{"hc_threshold_zero",
                      healthCheck("{timeout: 1s, interval: 1s, unhealthy_threshold: 0, healthy_threshold: 1, "
                                  "tcp_health_check: {}}"),
                      kC0 + "health_checks[0].unhealthy_threshold: 0 is less than 1"},
        RejectExactly{"hc_timeout_zero",
                      healthCheck("{timeout: 0s, interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1, "
                                  "tcp_health_check: {}}"),
                      kC0 + "health_checks[0].timeout: 0s must be greater than 0"},
        RejectExactly{"hc_negative_jitter", healthCheck(kHcBase + "interval_jitter: -1s, tcp_health_check: {}}"),
                      kC0 + "health_checks[0].interval_jitter: -1s must not be negative"},
        RejectExactly{"hc_unhealthy_interval_zero", healthCheck(kHcBase + "unhealthy_interval: 0s, tcp_health_check: {}}"),
                      kC0 + "health_checks[0].unhealthy_interval: 0s must be greater than 0"},
        RejectExactly{"hc_no_checker", healthCheck(kHcBase + "reuse_connection: true}"),
                      kC0 + "health_checks[0]: one of http_health_check or tcp_health_check is required"},
        RejectExactly{"hc_always_log", healthCheck(kHcBase + "always_log_health_check_failures: true, tcp_health_check: {}}"),
                      kC0 + "health_checks[0].always_log_health_check_failures: is not supported yet (supported fields "
                            "of envoy.config.core.v3.HealthCheck: timeout, interval, initial_jitter, interval_jitter, "
                            "unhealthy_threshold, healthy_threshold, reuse_connection, interval_jitter_percent, "
                            "http_health_check, tcp_health_check, no_traffic_interval, unhealthy_interval, "
                            "unhealthy_edge_interval, healthy_edge_interval)"},
        RejectExactly{"http_path_required", healthCheck(kHcBase + "http_health_check: {host: x}}"),
                      kC0 + "health_checks[0].http_health_check.path: is required"},
        RejectExactly{"http_path_slash", healthCheck(kHcBase + "http_health_check: {path: healthz}}"),
                      kC0 + "health_checks[0].http_health_check.path: 'healthz' must start with '/'"},
        RejectExactly{"http_headers_to_remove",
                      healthCheck(kHcBase + "http_health_check: {path: /, request_headers_to_remove: [x]}}"),
                      kC0 + "health_checks[0].http_health_check.request_headers_to_remove: is not supported yet "
                            "(supported fields of envoy.config.core.v3.HealthCheck.HttpHealthCheck: host, path, "
                            "request_headers_to_add, expected_statuses)"},
        RejectExactly{"http_header_key_required",
                      healthCheck(kHcBase + "http_health_check: {path: /, request_headers_to_add: [{header: {value: v}}]}}"),
                      kC0 + "health_checks[0].http_health_check.request_headers_to_add[0].header.key: is required"},
        RejectExactly{"http_expected_statuses",
                      healthCheck(kHcBase + "http_health_check: {path: /, expected_statuses: [{start: 200, end: 201}, "
                                            "{start: 200, end: 200}]}}"),
                      kC0 + "health_checks[0].http_health_check.expected_statuses[1]: [200, 200) is not a range of "
                            "statuses (100 <= start < end <= 600)"},
        RejectExactly{"http_expected_statuses_end", healthCheck(kHcBase + "http_health_check: {path: /, expected_statuses: "
                                                                          "[{start: 500, end: 601}]}}"),
                      kC0 + "health_checks[0].http_health_check.expected_statuses[0]: [500, 601) is not a range of "
                            "statuses (100 <= start < end <= 600)"},
        RejectExactly{"tcp_bad_hex", healthCheck(kHcBase + "tcp_health_check: {send: {text: \"0g\"}}}"),
                      kC0 + "health_checks[0].tcp_health_check.send.text: '0g' is not hex (an even number of digits "
                            "0-9, a-f, A-F)"},
        RejectExactly{"tcp_odd_hex", healthCheck(kHcBase + "tcp_health_check: {send: {text: \"abc\"}}}"),
                      kC0 + "health_checks[0].tcp_health_check.send.text: 'abc' is not hex (an even number of digits "
                            "0-9, a-f, A-F)"},
        RejectExactly{"tcp_empty_payload", healthCheck(kHcBase + "tcp_health_check: {receive: [{}]}}"),
                      kC0 + "health_checks[0].tcp_health_check.receive[0]: one of text or binary is required"},
        RejectExactly{"outlier_enforcing", redWith("    outlier_detection: {enforcing_consecutive_5xx: 101}\n"),
                      kC0 + "outlier_detection.enforcing_consecutive_5xx: 101 is not a percentage (0-100)"},
        RejectExactly{"outlier_max_ejection_percent", redWith("    outlier_detection: {max_ejection_percent: 200}\n"),
                      kC0 + "outlier_detection.max_ejection_percent: 200 is not a percentage (0-100)"},
        RejectExactly{"outlier_consecutive_zero", redWith("    outlier_detection: {consecutive_gateway_failure: 0}\n"),
                      kC0 + "outlier_detection.consecutive_gateway_failure: 0 is less than 1 (set "
                            "enforcing_consecutive_gateway_failure to 0 to disable it)"},
        RejectExactly{"outlier_interval_zero", redWith("    outlier_detection: {interval: 0s}\n"),
                      kC0 + "outlier_detection.interval: 0s must be greater than 0"},
        RejectExactly{"outlier_max_below_base", redWith("    outlier_detection: {base_ejection_time: 400s}\n"),
                      kC0 + "outlier_detection.max_ejection_time: 300000ms is less than base_ejection_time (400000ms)"},
        RejectExactly{"outlier_other", redWith("    outlier_detection: {consecutive_5xx: 2}\n    dns_refresh_rate: 1s\n"),
                      kC0 + "dns_refresh_rate: is not supported yet (supported fields of envoy.config.cluster.v3.Cluster: "
                            "name, type, connect_timeout, lb_policy, load_assignment, eds_cluster_config, "
                            "least_request_lb_config, load_balancing_policy, common_lb_config, health_checks, "
                            "outlier_detection, circuit_breakers, cleanup_interval, original_dst_lb_config, "
                            "http2_protocol_options, typed_extension_protocol_options, per_connection_buffer_limit_bytes)"},
        RejectExactly{"breaker_two_defaults",
                      redWith("    circuit_breakers: {thresholds: [{max_connections: 1}, {priority: DEFAULT}]}\n"),
                      kC0 + "circuit_breakers.thresholds[1].priority: a second entry for DEFAULT (one entry per priority)"},
        RejectExactly{"breaker_two_highs",
                      redWith("    circuit_breakers: {thresholds: [{priority: HIGH}, {priority: HIGH}]}\n"),
                      kC0 + "circuit_breakers.thresholds[1].priority: a second entry for HIGH (one entry per priority)"},
        RejectExactly{"breaker_track_remaining", redWith("    circuit_breakers: {thresholds: [{track_remaining: true}]}\n"),
                      kC0 + "circuit_breakers.thresholds[0].track_remaining: is not supported yet (supported fields of "
                            "envoy.config.cluster.v3.CircuitBreakers.Thresholds: priority, max_connections, "
                            "max_pending_requests, max_requests, max_retries, retry_budget)"},
        RejectExactly{"breaker_high_checked_too",
                      redWith("    circuit_breakers: {thresholds: [{priority: HIGH, max_connection_pools: 1}]}\n"),
                      kC0 + "circuit_breakers.thresholds[0].max_connection_pools: is not supported yet (supported "
                            "fields of envoy.config.cluster.v3.CircuitBreakers.Thresholds: priority, max_connections, "
                            "max_pending_requests, max_requests, max_retries, retry_budget)"},
        RejectExactly{"breaker_budget_percent",
                      redWith("    circuit_breakers: {thresholds: [{retry_budget: {budget_percent: {value: 120}}}]}\n"),
                      kC0 + "circuit_breakers.thresholds[0].retry_budget.budget_percent.value: 120 is not a percentage "
                            "(0-100)"},
        RejectExactly{"retry_on_unknown", routeRetry("{retry_on: \"5xx, retriable-headers\"}"),
                      kR0 + "route.retry_policy.retry_on: 'retriable-headers' is not supported (5xx, gateway-error, "
                            "reset, connect-failure, refused-stream, retriable-status-codes, retriable-4xx, cancelled, "
                            "deadline-exceeded, internal, resource-exhausted, unavailable are)"},
        RejectExactly{"retriable_status_code", routeRetry("{retriable_status_codes: [503, 700]}"),
                      kR0 + "route.retry_policy.retriable_status_codes[1]: 700 is not an HTTP status (100-599)"},
        RejectExactly{"host_predicate_name", routeRetry("{retry_host_predicate: [{name: envoy.retry_host_predicates.omit_canary_hosts}]}"),
                      kR0 + "route.retry_policy.retry_host_predicate[0].name: 'envoy.retry_host_predicates.omit_canary_hosts' "
                            "is not supported (envoy.retry_host_predicates.previous_hosts is)"},
        RejectExactly{"host_predicate_type",
                      routeRetry("{retry_host_predicate: [{name: envoy.retry_host_predicates.previous_hosts, typed_config: "
                                 "{\"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]}"),
                      kR0 + "route.retry_policy.retry_host_predicate[0].typed_config: type "
                            "'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' is not supported "
                            "(type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate is)"},
        RejectExactly{"host_selection_attempts", routeRetry("{host_selection_retry_max_attempts: -1}"),
                      kR0 + "route.retry_policy.host_selection_retry_max_attempts: -1 is out of range (1-4294967295)"},
        RejectExactly{"back_off_base_required", routeRetry("{retry_back_off: {max_interval: 1s}}"),
                      kR0 + "route.retry_policy.retry_back_off.base_interval: is required"},
        RejectExactly{"back_off_base_zero", routeRetry("{retry_back_off: {base_interval: 0s}}"),
                      kR0 + "route.retry_policy.retry_back_off.base_interval: 0s must be greater than 0"},
        RejectExactly{"back_off_max_below_base", routeRetry("{retry_back_off: {base_interval: 0.1s, max_interval: 0.01s}}"),
                      kR0 + "route.retry_policy.retry_back_off.max_interval: 10ms is less than base_interval (100ms)"},
        RejectExactly{"per_try_timeout_negative", routeRetry("{per_try_timeout: -1s}"),
                      kR0 + "route.retry_policy.per_try_timeout: -1s must not be negative"},
        RejectExactly{"per_try_idle_timeout", routeRetry("{per_try_idle_timeout: 1s}"),
                      kR0 + "route.retry_policy.per_try_idle_timeout: is not supported yet (supported fields of "
                            "envoy.config.route.v3.RetryPolicy: retry_on, num_retries, per_try_timeout, "
                            "retry_host_predicate, host_selection_retry_max_attempts, retriable_status_codes, "
                            "retry_back_off)"},
        RejectExactly{"virtual_host_retry_policy", bootstrapYaml(R"(
            virtual_hosts:
            - {name: a, domains: ["*"], retry_policy: {retry_on: "5xx,bogus"}, routes: []}
)"),
                      "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config."
                      "virtual_hosts[0].retry_policy.retry_on: 'bogus' is not supported (5xx, gateway-error, reset, "
                      "connect-failure, refused-stream, retriable-status-codes, retriable-4xx, cancelled, "
                      "deadline-exceeded, internal, resource-exhausted, unavailable are)"},
        RejectExactly{"idle_timeout_zero",
                      bootstrapYaml(routesWith("{match: {prefix: /}, route: {cluster: red, idle_timeout: 0s}}")),
                      kR0 + "route.idle_timeout: 0s (no idle timeout) is not supported yet; leave idle_timeout unset "
                            "for the listener's"}),
    [](const auto& info) { return std::string(info.param.name); });


// ---- listeners: filter chains, listener filters, tcp_proxy, ORIGINAL_DST ----------------------

// A bootstrap with one listener "l" on 127.0.0.1:15001 whose remaining fields are `listener` (block
// YAML, four spaces in), the clusters red (0) and blue (1), and `clusters_extra` (block YAML
// entries, "  - name: ..."; the first is clusters[2]).
std::string listenerYaml(const std::string& listener, const std::string& clusters_extra = "") {
  return R"(
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 9901}}}
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 127.0.0.1, port_value: 15001}}
)" + listener + R"(
  clusters:
  - name: red
    type: STATIC
    load_assignment:
      cluster_name: red
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 9081}}}}]}]
  - name: blue
    type: STATIC
    load_assignment:
      cluster_name: blue
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 9082}}}}]}]
)" + clusters_extra;
}

// One tcp_proxy network filter, flow style; `fields` follow stat_prefix.
std::string tcpFilter(const std::string& fields = "cluster: red") {
  return "{name: envoy.filters.network.tcp_proxy, typed_config: {\"@type\": "
         "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, " +
         fields + "}}";
}

// A filter chain with `match` (flow-style fields of filter_chain_match; empty: none) and a tcp_proxy.
std::string tcpChain(const std::string& match, const std::string& tcp_fields = "cluster: red") {
  return "{" + (match.empty() ? std::string() : "filter_chain_match: {" + match + "}, ") + "filters: [" +
         tcpFilter(tcp_fields) + "]}";
}

const std::string kRouterFilter =
    "{name: envoy.filters.http.router, typed_config: {\"@type\": "
    "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}";
const std::string kEgressFilter =
    "{name: trellis.filters.http.egress_policy, typed_config: {\"@type\": "
    "type.googleapis.com/trellis.extensions.filters.http.egress_policy.v1.EgressPolicy, reason: not in the mesh}}";

// A filter chain with an HTTP connection manager with `http_filters` (flow-style list entries)
// and one virtual host answering 200 directly.
std::string httpChain(const std::string& match, const std::string& http_filters) {
  return "{" + (match.empty() ? std::string() : "filter_chain_match: {" + match + "}, ") +
         "filters: [{name: envoy.filters.network.http_connection_manager, typed_config: {\"@type\": "
         "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager, "
         "stat_prefix: h, route_config: {virtual_hosts: [{name: known, domains: [known], routes: [{match: {prefix: "
         "/}, direct_response: {status: 200}}]}]}, http_filters: [" +
         http_filters + "]}}]}";
}

std::string chains(const std::vector<std::string>& list) {
  std::string out = "    filter_chains:\n";
  for (const auto& c : list) out += "    - " + c + "\n";
  return out;
}

const std::string kTlsInspector = "    listener_filters: [{name: envoy.filters.listener.tls_inspector}]\n";

// An ORIGINAL_DST cluster "passthrough" (clusters[2]) with `extra` block YAML (four spaces in).
std::string originalDst(const std::string& extra) {
  return "  - name: passthrough\n    type: ORIGINAL_DST\n" + extra;
}

const std::string kL0 = "static_resources.listeners[0].";
const std::string kTcp0 = kL0 + "filter_chains[0].filters[0].typed_config.";
const std::string kM0 = kL0 + "filter_chains[0].filter_chain_match.";
const std::string kC2 = "static_resources.clusters[2].";

INSTANTIATE_TEST_SUITE_P(
    Listeners, CompileRejectsExactly,
    ::testing::Values(
        RejectExactly{"same_match_twice",
                      listenerYaml(chains({tcpChain("destination_port: 80"), tcpChain("destination_port: 443"),
                                           tcpChain("destination_port: 80", "cluster: blue")})),
                      kL0 + "filter_chains[2].filter_chain_match: the same match as filter_chains[0]: one of them "
                            "could never be chosen"},
        RejectExactly{"same_match_in_another_order",
                      listenerYaml(kTlsInspector +
                                   chains({tcpChain("server_names: [a.com, b.com]"),
                                           tcpChain("server_names: [B.com, a.com]", "cluster: blue")})),
                      kL0 + "filter_chains[1].filter_chain_match: the same match as filter_chains[0]: one of them "
                            "could never be chosen"},
        RejectExactly{"two_chains_without_match", listenerYaml(chains({tcpChain(""), tcpChain("", "cluster: blue")})),
                      kL0 + "filter_chains[1].filter_chain_match: the same match as filter_chains[0]: one of them "
                            "could never be chosen"},
        RejectExactly{"server_names_without_tls_inspector", listenerYaml(chains({tcpChain("server_names: [a.com]")})),
                      kL0 + "filter_chains[0].filter_chain_match: server_names, transport_protocol tls and "
                            "application_protocols need the envoy.filters.listener.tls_inspector listener filter"},
        RejectExactly{"application_protocols_without_tls_inspector",
                      listenerYaml(chains({tcpChain("destination_port: 1"), tcpChain("application_protocols: [h2]")})),
                      kL0 + "filter_chains[1].filter_chain_match: server_names, transport_protocol tls and "
                            "application_protocols need the envoy.filters.listener.tls_inspector listener filter"},
        RejectExactly{"transport_tls_without_tls_inspector", listenerYaml(chains({tcpChain("transport_protocol: tls")})),
                      kL0 + "filter_chains[0].filter_chain_match: server_names, transport_protocol tls and "
                            "application_protocols need the envoy.filters.listener.tls_inspector listener filter"},
        RejectExactly{"server_name_inner_wildcard",
                      listenerYaml(kTlsInspector + chains({tcpChain("server_names: [ok.com, \"a.*.com\"]")})),
                      kM0 + "server_names[1]: 'a.*.com': a wildcard must be a leading \"*.\" (e.g. *.example.com)"},
        RejectExactly{"server_name_star_alone", listenerYaml(kTlsInspector + chains({tcpChain("server_names: [\"*\"]")})),
                      kM0 + "server_names[0]: '*': a wildcard must be a leading \"*.\" (e.g. *.example.com)"},
        RejectExactly{"server_name_two_stars",
                      listenerYaml(kTlsInspector + chains({tcpChain("server_names: [\"*.*.com\"]")})),
                      kM0 + "server_names[0]: '*.*.com': a wildcard must be a leading \"*.\" (e.g. *.example.com)"},
        RejectExactly{"server_name_empty", listenerYaml(kTlsInspector + chains({tcpChain("server_names: [\"\"]")})),
                      kM0 + "server_names[0]: an empty server name matches nothing"},
        RejectExactly{"transport_quic", listenerYaml(kTlsInspector + chains({tcpChain("transport_protocol: quic")})),
                      kM0 + "transport_protocol: 'quic' is not known (raw_buffer and tls are)"},
        RejectExactly{"destination_port_zero", listenerYaml(chains({tcpChain("destination_port: 0")})),
                      kM0 + "destination_port: 0 is not a port (1-65535)"},
        RejectExactly{"destination_port_too_big", listenerYaml(chains({tcpChain("destination_port: 70000")})),
                      kM0 + "destination_port: 70000 is not a port (1-65535)"},
        RejectExactly{"prefix_range_bad_address",
                      listenerYaml(chains({tcpChain("prefix_ranges: [{address_prefix: 10.0.0.300, prefix_len: 8}]")})),
                      kM0 + "prefix_ranges[0].address_prefix: '10.0.0.300' is not an IP address"},
        RejectExactly{"prefix_range_len_33",
                      listenerYaml(chains({tcpChain("prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}, "
                                                    "{address_prefix: 10.0.0.0, prefix_len: 33}]")})),
                      kM0 + "prefix_ranges[1].prefix_len: 33 is longer than the address (at most 32)"},
        RejectExactly{"prefix_range_v6_len_129",
                      listenerYaml(chains({tcpChain("prefix_ranges: [{address_prefix: \"fd00::\", prefix_len: 129}]")})),
                      kM0 + "prefix_ranges[0].prefix_len: 129 is longer than the address (at most 128)"},
        RejectExactly{"match_source_prefix_ranges",
                      listenerYaml(chains({tcpChain("source_prefix_ranges: [{address_prefix: 10.0.0.0}]")})),
                      // Outside Trellis's subset of the API: refused by the parser, with the path.
                      "test.yaml: " + kM0 + "source_prefix_ranges: unknown field "
                      "(envoy.config.listener.v3.FilterChainMatch has no field 'source_prefix_ranges')"},
        RejectExactly{"unknown_listener_filter",
                      listenerYaml("    listener_filters: [{name: envoy.filters.listener.original_dst}, "
                                   "{name: envoy.filters.listener.http_inspector}]\n" +
                                   chains({tcpChain("")})),
                      kL0 + "listener_filters[1].name: listener filter 'envoy.filters.listener.http_inspector' is not "
                            "supported yet (envoy.filters.listener.original_dst and "
                            "envoy.filters.listener.tls_inspector are)"},
        RejectExactly{"tls_inspector_twice",
                      listenerYaml("    listener_filters: [{name: envoy.filters.listener.tls_inspector}, "
                                   "{name: envoy.filters.listener.tls_inspector}]\n" +
                                   chains({tcpChain("")})),
                      kL0 + "listener_filters[1]: tls_inspector appears twice"},
        RejectExactly{"ja3_fingerprinting",
                      listenerYaml("    listener_filters: [{name: envoy.filters.listener.tls_inspector, typed_config: "
                                   "{\"@type\": type.googleapis.com/"
                                   "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector, "
                                   "enable_ja3_fingerprinting: true}}]\n" +
                                   chains({tcpChain("")})),
                      kL0 + "listener_filters[0].typed_config.enable_ja3_fingerprinting: JA3 fingerprinting is not "
                            "supported yet"},
        RejectExactly{"tcp_proxy_without_cluster", listenerYaml(chains({tcpChain("", "idle_timeout: 1s")})),
                      kTcp0.substr(0, kTcp0.size() - 1) + ": one of cluster or weighted_clusters is required"},
        RejectExactly{"tcp_proxy_unknown_cluster", listenerYaml(chains({tcpChain("", "cluster: nosuch")})),
                      kTcp0 + "cluster: unknown cluster 'nosuch'"},
        RejectExactly{"tcp_proxy_unknown_weighted_cluster",
                      listenerYaml(chains({tcpChain("", "weighted_clusters: {clusters: [{name: red, weight: 1}, "
                                                        "{name: nosuch, weight: 1}]}")})),
                      kTcp0 + "weighted_clusters.clusters[1].name: unknown cluster 'nosuch'"},
        RejectExactly{"tcp_proxy_weight_zero",
                      listenerYaml(chains({tcpChain("", "weighted_clusters: {clusters: [{name: red, weight: 2}, "
                                                        "{name: blue, weight: 0}]}")})),
                      kTcp0 + "weighted_clusters.clusters[1].weight: must be at least 1"},
        RejectExactly{"tcp_proxy_no_weighted_clusters",
                      listenerYaml(chains({tcpChain("", "weighted_clusters: {clusters: []}")})),
                      kTcp0 + "weighted_clusters.clusters: at least one cluster is required"},
        RejectExactly{"tcp_proxy_max_connect_attempts_zero",
                      listenerYaml(chains({tcpChain("", "cluster: red, max_connect_attempts: 0")})),
                      kTcp0 + "max_connect_attempts: must be at least 1"},
        RejectExactly{"tcp_proxy_stat_prefix_required",
                      listenerYaml(chains({"{filters: [{name: envoy.filters.network.tcp_proxy, typed_config: {\"@type\": "
                                           "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, "
                                           "cluster: red}}]}"})),
                      kTcp0 + "stat_prefix: a stat_prefix is required"},
        RejectExactly{"default_chain_with_match",
                      listenerYaml(chains({tcpChain("destination_port: 80")}) + "    default_filter_chain: " +
                                   tcpChain("destination_port: 81", "cluster: blue") + "\n"),
                      kL0 + "default_filter_chain.filter_chain_match: the default filter chain takes no match"},
        RejectExactly{"no_chain_at_all", listenerYaml("    traffic_direction: OUTBOUND\n"),
                      kL0 + "filter_chains: at least one filter chain (or a default_filter_chain) is required"},
        RejectExactly{"use_original_dst_on_unbound_listener",
                      listenerYaml("    use_original_dst: true\n    bind_to_port: false\n" + chains({tcpChain("")})),
                      kL0 + "use_original_dst: a listener that is not bound (bind_to_port false) receives no "
                            "connections to hand off"},
        RejectExactly{"original_dst_round_robin",
                      listenerYaml(chains({tcpChain("")}), originalDst("    lb_policy: ROUND_ROBIN\n")),
                      kC2 + "lb_policy: ROUND_ROBIN is not valid for type ORIGINAL_DST (only CLUSTER_PROVIDED is)"},
        RejectExactly{"original_dst_default_lb_policy", listenerYaml(chains({tcpChain("")}), originalDst("")),
                      kC2 + "lb_policy: ROUND_ROBIN is not valid for type ORIGINAL_DST (only CLUSTER_PROVIDED is)"},
        RejectExactly{"original_dst_load_assignment",
                      listenerYaml(chains({tcpChain("")}),
                                   originalDst("    lb_policy: CLUSTER_PROVIDED\n    load_assignment:\n"
                                               "      cluster_name: passthrough\n"
                                               "      endpoints: [{lb_endpoints: [{endpoint: {address: "
                                               "{socket_address: {address: 127.0.0.1, port_value: 1}}}}]}]\n")),
                      kC2 + "load_assignment: does not apply to type ORIGINAL_DST"},
        RejectExactly{"original_dst_health_checks",
                      listenerYaml(chains({tcpChain("")}),
                                   originalDst("    lb_policy: CLUSTER_PROVIDED\n    health_checks: [" + kHcBase +
                                               "tcp_health_check: {}}]\n")),
                      kC2 + "health_checks: does not apply to type ORIGINAL_DST"},
        RejectExactly{"original_dst_use_http_header",
                      listenerYaml(chains({tcpChain("")}),
                                   originalDst("    lb_policy: CLUSTER_PROVIDED\n"
                                               "    original_dst_lb_config: {use_http_header: true}\n")),
                      kC2 + "original_dst_lb_config: use_http_header, http_header_name and upstream_port_override "
                            "are not supported yet (the destination is always the connection's original destination)"},
        RejectExactly{"original_dst_cleanup_interval_zero",
                      listenerYaml(chains({tcpChain("")}),
                                   originalDst("    lb_policy: CLUSTER_PROVIDED\n    cleanup_interval: 0s\n")),
                      kC2 + "cleanup_interval: 0s must be greater than 0"},
        RejectExactly{"cleanup_interval_on_static", redWith("    cleanup_interval: 5s\n"),
                      kC0 + "cleanup_interval: only applies to type ORIGINAL_DST"},
        RejectExactly{"original_dst_lb_config_on_static", redWith("    original_dst_lb_config: {}\n"),
                      kC0 + "original_dst_lb_config: only applies to type ORIGINAL_DST"},
        RejectExactly{"egress_policy_after_router",
                      listenerYaml(chains({httpChain("", kRouterFilter + ", " + kEgressFilter)})),
                      kL0 + "filter_chains[0].filters[0].typed_config.http_filters[0]: the router filter must be the "
                            "last HTTP filter"},
        RejectExactly{"egress_policy_alone", listenerYaml(chains({httpChain("", kEgressFilter)})),
                      kL0 + "filter_chains[0].filters[0].typed_config.http_filters[0]: the router filter must be the "
                            "last HTTP filter"},
        RejectExactly{"egress_policy_twice",
                      listenerYaml(chains({httpChain("", kEgressFilter + ", " + kEgressFilter + ", " + kRouterFilter)})),
                      kL0 + "filter_chains[0].filters[0].typed_config.http_filters[1]: a second egress_policy filter"},
        RejectExactly{"two_network_filters",
                      listenerYaml(chains({"{filters: [" + tcpFilter() + ", " + tcpFilter() + "]}"})),
                      kL0 + "filter_chains[0].filters: exactly one network filter "
                            "(envoy.filters.network.http_connection_manager or envoy.filters.network.tcp_proxy) is "
                            "supported, got 2"},
        RejectExactly{"duplicate_chain_name",
                      listenerYaml(chains({"{name: a, filter_chain_match: {destination_port: 1}, filters: [" +
                                               tcpFilter() + "]}",
                                           "{name: a, filters: [" + tcpFilter() + "]}"})),
                      kL0 + "filter_chains[1].name: duplicate filter chain name 'a'"}),
    [](const auto& info) { return std::string(info.param.name); });

// Everything a listener with several chains compiles to: an outbound listener with the listener
// filters, an HTTP chain, a TLS chain by SNI and destination range, a default chain to an
// ORIGINAL_DST cluster; an unbound inbound listener it hands off to.
TEST(CompileTest, ListenerWithChainsFiltersAndDefault) {
  const std::string yaml = R"(
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 9901}}}
static_resources:
  listeners:
  - name: outbound
    address: {socket_address: {address: 0.0.0.0, port_value: 15001}}
    traffic_direction: OUTBOUND
    use_original_dst: true
    listener_filters:
    - name: envoy.filters.listener.tls_inspector
      typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector}
    - name: envoy.filters.listener.original_dst
    listener_filters_timeout: 2s
    continue_on_listener_filters_timeout: true
    filter_chains:
    - name: http
      filter_chain_match: {destination_port: 80, transport_protocol: raw_buffer}
      filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: egress_http
          route_config: {virtual_hosts: [{name: known, domains: [known], routes: [{match: {prefix: /}, route: {cluster: red}}]}]}
          http_filters:
          - name: trellis.filters.http.egress_policy
            typed_config: {"@type": type.googleapis.com/trellis.extensions.filters.http.egress_policy.v1.EgressPolicy, reason: not in the mesh}
          - name: envoy.filters.http.router
    - name: tls
      filter_chain_match:
        server_names: ["*.Example.com", api.example.com]
        application_protocols: [h2]
        prefix_ranges: [{address_prefix: 10.1.2.3, prefix_len: 8}, {address_prefix: "2001:db8:ff::1", prefix_len: 33}, {address_prefix: 192.168.1.1}]
      filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: egress_tls
          weighted_clusters: {clusters: [{name: red, weight: 3}, {name: blue, weight: 1}]}
          idle_timeout: 30s
          max_connect_attempts: 3
    default_filter_chain:
      name: passthrough
      filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: passthrough
          cluster: passthrough
  - name: inbound
    address: {socket_address: {address: 127.0.0.1, port_value: 9080}}
    traffic_direction: INBOUND
    bind_to_port: false
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: in, cluster: red, idle_timeout: 0s}
  clusters:
  - name: red
    type: STATIC
    load_assignment:
      cluster_name: red
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 9081}}}}]}]
  - name: blue
    type: STATIC
    load_assignment:
      cluster_name: blue
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 9082}}}}]}]
  - name: passthrough
    type: ORIGINAL_DST
    lb_policy: CLUSTER_PROVIDED
    connect_timeout: 2s
    cleanup_interval: 10s
)";
  StatsStore stats(2);
  auto snap = compileYaml(yaml, stats);
  ASSERT_TRUE(snap.ok()) << snap.status();
  const Snapshot& s = **snap;
  ASSERT_EQ(s.clusters.size(), 3u);
  EXPECT_EQ(s.clusters[2]->type, DiscoveryType::OriginalDst);
  EXPECT_TRUE(s.clusters[2]->endpoints.empty());
  EXPECT_EQ(s.clusters[2]->connect_timeout, Duration(2000));
  ASSERT_EQ(s.listeners.size(), 2u);

  const Listener& out = *s.listeners[0];
  EXPECT_EQ(out.direction, TrafficDirection::Outbound);
  EXPECT_TRUE(out.use_original_dst);
  EXPECT_TRUE(out.bind_to_port);
  EXPECT_TRUE(out.original_dst_filter);
  EXPECT_TRUE(out.tls_inspector);
  EXPECT_EQ(out.listener_filters_timeout, Duration(2000));
  EXPECT_TRUE(out.continue_on_listener_filters_timeout);
  EXPECT_TRUE(out.chains_need_tls);
  ASSERT_EQ(out.filter_chains.size(), 3u);
  EXPECT_EQ(out.default_filter_chain, std::optional<uint32_t>(2));

  const FilterChain& http = out.filter_chains[0];
  EXPECT_EQ(http.name, "http");
  ASSERT_TRUE(http.http.has_value());
  EXPECT_FALSE(http.tcp.has_value());
  EXPECT_EQ(http.match.destination_port, std::optional<uint16_t>(80));
  EXPECT_EQ(http.match.transport_protocol, "raw_buffer");
  EXPECT_EQ(http.http->egress_deny_reason, std::optional<std::string>("not in the mesh"));
  EXPECT_EQ(http.http->stat_prefix, "egress_http");

  const FilterChain& tls = out.filter_chains[1];
  EXPECT_EQ(tls.name, "tls");
  ASSERT_TRUE(tls.tcp.has_value());
  EXPECT_FALSE(tls.http.has_value());
  EXPECT_EQ(tls.match.server_names, (std::vector<std::string>{"*.example.com", "api.example.com"}));
  EXPECT_EQ(tls.match.application_protocols, (std::vector<std::string>{"h2"}));
  EXPECT_FALSE(tls.match.destination_port.has_value());
  ASSERT_EQ(tls.match.prefix_ranges.size(), 3u);
  EXPECT_EQ(tls.match.prefix_ranges[0].address.to_string(), "10.0.0.0");
  EXPECT_EQ(tls.match.prefix_ranges[0].prefix_len, 8);
  EXPECT_EQ(tls.match.prefix_ranges[1].address.to_string(), "2001:db8::");
  EXPECT_EQ(tls.match.prefix_ranges[1].prefix_len, 33);
  EXPECT_EQ(tls.match.prefix_ranges[2].address.to_string(), "192.168.1.1");  // no prefix_len: the whole address
  EXPECT_EQ(tls.match.prefix_ranges[2].prefix_len, 32);
  const TcpProxy& tp = *tls.tcp;
  EXPECT_EQ(tp.stat_prefix, "egress_tls");
  ASSERT_EQ(tp.targets.size(), 2u);
  EXPECT_EQ(tp.targets[0].cluster_name, "red");
  EXPECT_EQ(tp.targets[0].cluster, std::optional<uint32_t>(0));
  EXPECT_EQ(tp.targets[0].weight, 3u);
  EXPECT_EQ(tp.targets[1].cluster_name, "blue");
  EXPECT_EQ(tp.targets[1].cluster, std::optional<uint32_t>(1));
  EXPECT_EQ(tp.targets[1].weight, 1u);
  EXPECT_EQ(tp.total_weight, 4u);
  EXPECT_EQ(tp.idle_timeout, Duration(30000));
  EXPECT_EQ(tp.max_connect_attempts, 3u);
  EXPECT_NE(tp.stats, nullptr);

  const FilterChain& def = out.filter_chains[2];
  EXPECT_EQ(def.name, "passthrough");
  ASSERT_TRUE(def.tcp.has_value());
  ASSERT_EQ(def.tcp->targets.size(), 1u);
  EXPECT_EQ(def.tcp->targets[0].cluster, std::optional<uint32_t>(2));
  EXPECT_EQ(def.tcp->total_weight, 1u);
  // Envoy's defaults: an hour of idleness, one connect attempt.
  EXPECT_EQ(def.tcp->idle_timeout, Duration(3600 * 1000));
  EXPECT_EQ(def.tcp->max_connect_attempts, 1u);

  const Listener& in = *s.listeners[1];
  EXPECT_EQ(in.direction, TrafficDirection::Inbound);
  EXPECT_FALSE(in.bind_to_port);
  EXPECT_FALSE(in.use_original_dst);
  EXPECT_FALSE(in.tls_inspector);
  EXPECT_FALSE(in.original_dst_filter);
  EXPECT_FALSE(in.chains_need_tls);
  EXPECT_FALSE(in.default_filter_chain.has_value());
  EXPECT_EQ(in.listener_filters_timeout, Duration(15000));
  EXPECT_FALSE(in.continue_on_listener_filters_timeout);
  ASSERT_EQ(in.filter_chains.size(), 1u);
  EXPECT_EQ(in.filter_chains[0].tcp->idle_timeout, Duration(0));  // 0s disables
  EXPECT_NE(in.listener_stats, out.listener_stats);
  // The unbound listener is the hand-off target for its address.
  EXPECT_EQ(s.findHandoffListener(in.address, &out), &in);
}

// A listener of nothing but a default chain; a chain matching only raw_buffer needs no inspector.
TEST(CompileTest, DefaultChainAloneAndRawBufferWithoutInspector) {
  StatsStore stats(2);
  auto snap = compileYaml(listenerYaml("    default_filter_chain: " + tcpChain("") + "\n"), stats);
  ASSERT_TRUE(snap.ok()) << snap.status();
  const Listener& l = *(*snap)->listeners[0];
  ASSERT_EQ(l.filter_chains.size(), 1u);
  EXPECT_EQ(l.default_filter_chain, std::optional<uint32_t>(0));
  EXPECT_EQ(l.direction, TrafficDirection::Unspecified);
  EXPECT_FALSE(l.chains_need_tls);

  auto raw = compileYaml(listenerYaml(chains({tcpChain("transport_protocol: raw_buffer")})), stats);
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ((*raw)->listeners[0]->filter_chains[0].match.transport_protocol, "raw_buffer");
  EXPECT_FALSE((*raw)->listeners[0]->tls_inspector);
}

// Not yet delivered (xDS): a tcp_proxy cluster that is unknown compiles to a target without an
// index, as a route's does.
TEST(CompileTest, TcpProxyUnknownClusterWhenNotRequired) {
  StatsStore stats(2);
  auto b = config::parseBootstrap(listenerYaml(chains({tcpChain("", "cluster: later")})), "test.yaml");
  ASSERT_TRUE(b.ok()) << b.status();
  CompileInput in;
  in.listeners.push_back({b->static_resources().listeners(0), "listeners[0]"});
  in.require_known_clusters = false;
  auto snap = compileSnapshot(in, stats);
  ASSERT_TRUE(snap.ok()) << snap.status();
  const TcpProxy& tp = *(*snap)->listeners[0]->filter_chains[0].tcp;
  ASSERT_EQ(tp.targets.size(), 1u);
  EXPECT_EQ(tp.targets[0].cluster_name, "later");
  EXPECT_FALSE(tp.targets[0].cluster.has_value());
}

}  // namespace
}  // namespace trellis::proxy
