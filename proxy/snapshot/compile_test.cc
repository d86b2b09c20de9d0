// What the snapshot compiler accepts, what it builds, and every rejection with its path.
#include "proxy/snapshot/compile.h"

#include <gtest/gtest.h>

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
  EXPECT_EQ(l.stat_prefix, "ingress");
  ASSERT_EQ(l.routes->virtual_hosts.size(), 1u);
  const Route& r = l.routes->virtual_hosts[0].routes[0];
  ASSERT_TRUE(r.forward.has_value());
  EXPECT_EQ(r.forward->total_weight, 100u);
  EXPECT_EQ(r.forward->timeout, Duration(2000));
  EXPECT_EQ(r.forward->targets[1].cluster, std::optional<uint32_t>(1));
  EXPECT_EQ(l.http.max_request_headers_bytes, 60u * 1024);
  EXPECT_EQ(l.http.max_headers_count, 100u);
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
  const auto& routes = (*snap)->listeners[0]->routes->virtual_hosts[0].routes;
  EXPECT_EQ(routes[0].forward->timeout, Duration(15000));
  EXPECT_EQ(routes[1].forward->timeout, Duration(0));
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
  const HttpOptions& o = (*snap)->listeners[0]->http;
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
        Reject{"eds_type_unsupported_lb", bootstrapYaml(kSimpleRoutes, "    lb_policy: LEAST_REQUEST\n"),
               "static_resources.clusters[0].lb_policy: LEAST_REQUEST is not supported yet (ROUND_ROBIN is)"},
        Reject{"strict_dns", bootstrapYaml(kSimpleRoutes, "    dns_lookup_family: V4_ONLY\n"),
               "static_resources.clusters[0].dns_lookup_family: is not supported yet"},
        Reject{"health_checks",
               bootstrapYaml(kSimpleRoutes, "    health_checks: [{timeout: 1s, interval: 5s, unhealthy_threshold: 2, "
                                            "healthy_threshold: 2, tcp_health_check: {}}]\n"),
               "static_resources.clusters[0].health_checks: is not supported yet"},
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
        Reject{"retry_policy", bootstrapYaml(routesWith("{match: {prefix: /}, route: {cluster: red, retry_policy: {num_retries: 2}}}")),
               "routes[0].route.retry_policy: is not supported yet"},
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

TEST(CompileTest, UnhealthyEndpointsAreNotScheduled) {
  StatsStore stats(2);
  std::string yaml = bootstrapYaml(kSimpleRoutes) + R"(
  - name: mixed
    type: STATIC
    load_assignment:
      cluster_name: mixed
      endpoints:
      - lb_endpoints:
        - {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 1}}}, health_status: UNHEALTHY}
        - {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 2}}}}
)";
  auto snap = compileYaml(yaml, stats);
  ASSERT_TRUE(snap.ok()) << snap.status();
  const Cluster& c = *(*snap)->clusters[2];
  ASSERT_EQ(c.schedule.size(), 1u);
  EXPECT_EQ(c.schedule[0], 1u);
}

}  // namespace
}  // namespace trellis::proxy
