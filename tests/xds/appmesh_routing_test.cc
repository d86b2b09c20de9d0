// App Mesh route matches through the whole chain: specs translated by config/appmesh, compiled
// by trellis-proxy's snapshot compiler, and requests matched by its router, so each claim is
// about what the proxy does with the mesh, not about the xDS it is sent. Covers the virtual
// gateway fixture (a gateway route in front of a 90/10 router) and the route matches the
// tracker listed as gaps: query parameters, header `range`, `match.port` on a router with
// several listeners, and a node with several HTTP listeners (each port served by its own chain).
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/appmesh/loader.h"
#include "config/appmesh/translate.h"
#include "config/appmesh/validate.h"
#include "proxy/router/router.h"
#include "proxy/snapshot/compile.h"
#include "proxy/stats/stats.h"

namespace trellis::tests {
namespace {

namespace am = config::appmesh;
using proxy::http::HeaderField;
using proxy::http::MessageHead;

struct Compiled {
  std::unique_ptr<proxy::StatsStore> stats = std::make_unique<proxy::StatsStore>(1);
  std::shared_ptr<const proxy::Snapshot> snapshot;
};

Compiled compile(const am::ProxyResources& r) {
  proxy::CompileInput in;
  for (const auto& l : r.listeners) in.listeners.push_back({l, "Listener '" + l.name() + "'"});
  for (const auto& c : r.clusters) in.clusters.push_back({c, "Cluster '" + c.name() + "'"});
  for (const auto& rc : r.routes) in.route_configs.push_back({rc, "RouteConfiguration '" + rc.name() + "'"});
  for (const auto& e : r.endpoints) in.load_assignments.push_back({e, "CLA '" + e.cluster_name() + "'"});
  in.require_known_clusters = true;
  Compiled out;
  auto snap = proxy::compileSnapshot(in, *out.stats);
  EXPECT_TRUE(snap.ok()) << snap.status();
  if (snap.ok()) out.snapshot = *snap;
  return out;
}

const proxy::Listener* listenerNamed(const proxy::Snapshot& s, const std::string& name) {
  for (const auto& l : s.listeners) {
    if (l->name == name) return l.get();
  }
  ADD_FAILURE() << "no listener " << name;
  return nullptr;
}

// The HTTP chain of `listener` that serves destination port `port` (by its filter chain match).
const proxy::FilterChain* chainFor(const proxy::Listener& listener, const std::string& chain_name) {
  for (const auto& fc : listener.filter_chains) {
    if (fc.name == chain_name) return &fc;
  }
  ADD_FAILURE() << "no chain " << chain_name << " in " << listener.name;
  return nullptr;
}

MessageHead request(std::string_view method, std::string_view target, std::vector<HeaderField> headers) {
  MessageHead h;
  h.method = method;
  h.target = target;
  h.headers = std::move(headers);
  return h;
}

// The route of `chain` a request gets: "ROUTE -> cluster*weight,..." or "" when none matches.
std::string routeFor(const proxy::FilterChain& chain, std::string_view method, std::string_view target,
                     std::string_view host, std::vector<HeaderField> headers = {}) {
  headers.push_back({"Host", host});
  const MessageHead head = request(method, target, headers);
  const auto* vhost = chain.http->routes->lookup->find(host);
  if (vhost == nullptr) return "";
  const proxy::Route* route = proxy::matchRoute(*vhost, head);
  if (route == nullptr) return "";
  std::string out = route->name;
  if (route->forward) {
    out += " ->";
    for (const auto& t : route->forward->targets) out += " " + t.cluster_name + "*" + std::to_string(t.weight);
    if (route->forward->prefix_rewrite) out += " rewrite=" + *route->forward->prefix_rewrite;
    if (route->forward->host_rewrite_literal) out += " host=" + *route->forward->host_rewrite_literal;
  }
  if (route->direct) out += " direct=" + std::to_string(route->direct->status);
  return out;
}

am::TranslateResult translateFolder(const std::string& dir) {
  auto mesh = am::loadMeshDir(dir);
  EXPECT_TRUE(mesh.ok()) << mesh.status();
  if (!mesh.ok()) return {};
  for (const auto& e : am::validate(*mesh)) ADD_FAILURE() << e.toString();
  return am::translate(*mesh, [](const std::string& host) -> absl::StatusOr<std::vector<std::string>> {
    if (host == "color-v1.color.local") return std::vector<std::string>{"127.0.0.1"};
    if (host == "color-v2.color.local") return std::vector<std::string>{"127.0.0.2"};
    return absl::NotFoundError("no DNS in this test: " + host);
  });
}

am::TranslateResult translateYaml(const std::string& yaml) {
  am::LoadResult loaded = am::loadMeshFiles({{"mesh.yaml", yaml}});
  for (const auto& e : loaded.errors) ADD_FAILURE() << e;
  for (const auto& e : am::validate(loaded.mesh)) ADD_FAILURE() << e.toString();
  return am::translate(loaded.mesh, [](const std::string& host) -> absl::StatusOr<std::vector<std::string>> {
    return absl::NotFoundError("no DNS in this test: " + host);
  });
}

TEST(AppMeshRoutingTest, GatewayRoutesColorToTheRoutersWeightsWithItsRewrites) {
  am::TranslateResult result = translateFolder("config/appmesh/testdata/formats/gateway/cli");
  EXPECT_TRUE(result.errors.empty()) << result.errors.front();
  for (const auto& [key, resources] : result.proxies) {
    Compiled c = compile(resources);
    EXPECT_NE(c.snapshot, nullptr) << key;
  }
  Compiled gateway = compile(result.proxies.at("mesh/color-mesh/virtualGateway/color-gateway"));
  ASSERT_NE(gateway.snapshot, nullptr);
  const proxy::Listener* listener = listenerNamed(*gateway.snapshot, "lds_gateway_0.0.0.0_8080");
  ASSERT_NE(listener, nullptr);
  EXPECT_EQ(listener->address.port(), 8080);
  const proxy::FilterChain* chain = chainFor(*listener, "gateway_http_8080");
  ASSERT_NE(chain, nullptr);
  const std::string weighted =
      "color-gateway-route/color-route -> cds_egress_color-mesh_color-v1_9080*90 "
      "cds_egress_color-mesh_color-v2_9080*10 rewrite=/ host=color.local";
  EXPECT_EQ(routeFor(*chain, "GET", "/color", "gateway.example.com"), weighted);
  EXPECT_EQ(routeFor(*chain, "GET", "/color/x?y=1", "gateway.example.com:8080"), weighted);
  EXPECT_EQ(routeFor(*chain, "GET", "/healthz", "10.0.0.1:8080"), "health_check direct=200");
  EXPECT_EQ(routeFor(*chain, "GET", "/other", "gateway.example.com"), "");  // 404
}

constexpr char kRouterMesh[] = R"(
meshName: m
---
meshName: m
virtualNodeName: caller
spec:
  listeners: [{portMapping: {port: 8080, protocol: http}}, {portMapping: {port: 8081, protocol: http}}]
  backends: [{virtualService: {virtualServiceName: svc.m.local}}]
---
apiVersion: trellis.dev/v1
kind: Sidecar
mesh: m
virtualNode: caller
inbound: 127.0.0.1:15000
outbound: 127.0.0.1:15001
app: {address: 127.0.0.1, ports: {8080: 18080, 8081: 18081}}
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
---
meshName: m
virtualNodeName: two
spec: {listeners: [{portMapping: {port: 9080, protocol: http}}]}
---
apiVersion: trellis.dev/v1
kind: Endpoints
mesh: m
virtualNode: one
endpoints: [{address: 10.0.0.1}]
---
apiVersion: trellis.dev/v1
kind: Endpoints
mesh: m
virtualNode: two
endpoints: [{address: 10.0.0.2}]
---
meshName: m
virtualRouterName: router
routeName: query
spec:
  priority: 1
  httpRoute:
    match: {prefix: /, port: 9080, queryParameters: [{name: version, match: {exact: "2"}}]}
    action: {weightedTargets: [{virtualNode: two, weight: 1}]}
---
meshName: m
virtualRouterName: router
routeName: range
spec:
  priority: 2
  httpRoute:
    match: {prefix: /, port: 9080, headers: [{name: x-build, match: {range: {start: 100, end: 200}}}]}
    action: {weightedTargets: [{virtualNode: two, weight: 1}]}
---
meshName: m
virtualRouterName: router
routeName: default
spec:
  priority: 3
  httpRoute:
    match: {prefix: /, port: 9080}
    action: {weightedTargets: [{virtualNode: one, weight: 1, port: 9080}]}
---
meshName: m
virtualRouterName: router
routeName: other-port
spec:
  httpRoute:
    match: {prefix: /, port: 9090}
    action: {weightedTargets: [{virtualNode: one, weight: 1, port: 9090}]}
)";

TEST(AppMeshRoutingTest, QueryParametersHeaderRangeAndMatchPortSelectRoutes) {
  am::TranslateResult result = translateYaml(kRouterMesh);
  EXPECT_TRUE(result.errors.empty()) << result.errors.front();
  Compiled caller = compile(result.proxies.at("mesh/m/virtualNode/caller"));
  ASSERT_NE(caller.snapshot, nullptr);
  const proxy::Listener* outbound = listenerNamed(*caller.snapshot, "lds_egress_127.0.0.1_15001");
  ASSERT_NE(outbound, nullptr);
  const proxy::FilterChain* chain = chainFor(*outbound, "egress_http_9080");
  ASSERT_NE(chain, nullptr);
  const std::string two = " -> cds_egress_m_two_9080*1";
  EXPECT_EQ(routeFor(*chain, "GET", "/a?version=2", "svc.m.local:9080"), "query" + two);
  EXPECT_EQ(routeFor(*chain, "GET", "/a?x=1&version=2", "svc.m.local:9080"), "query" + two);
  EXPECT_EQ(routeFor(*chain, "GET", "/a?version=20", "svc.m.local:9080"), "default -> cds_egress_m_one_9080*1");
  EXPECT_EQ(routeFor(*chain, "GET", "/a", "svc.m.local:9080", {{"x-build", "150"}}), "range" + two);
  EXPECT_EQ(routeFor(*chain, "GET", "/a", "svc.m.local:9080", {{"x-build", "200"}}),
            "default -> cds_egress_m_one_9080*1");  // the end is excluded
  // match.port: the 9090 virtual host has only the route for that port.
  EXPECT_EQ(routeFor(*chain, "GET", "/a?version=2", "svc.m.local:9090"), "other-port -> cds_egress_m_one_9090*1");
}

TEST(AppMeshRoutingTest, EveryHttpListenerOfANodeGetsItsOwnInboundChain) {
  am::TranslateResult result = translateYaml(kRouterMesh);
  Compiled caller = compile(result.proxies.at("mesh/m/virtualNode/caller"));
  ASSERT_NE(caller.snapshot, nullptr);
  const proxy::Listener* inbound = listenerNamed(*caller.snapshot, "lds_ingress_127.0.0.1_15000");
  ASSERT_NE(inbound, nullptr);
  for (const auto& [port, cluster] : std::map<int, std::string>{{8080, "cds_ingress_m_caller_8080"},
                                                                {8081, "cds_ingress_m_caller_8081"}}) {
    const proxy::FilterChain* chain = chainFor(*inbound, "ingress_http_" + std::to_string(port));
    ASSERT_NE(chain, nullptr);
    ASSERT_TRUE(chain->match.destination_port.has_value());
    EXPECT_EQ(*chain->match.destination_port, port);
    EXPECT_EQ(routeFor(*chain, "GET", "/", "anything"), "local_app -> " + cluster + "*1");
  }
  // Each local-app cluster reaches the app's own port for that listener.
  for (const auto& c : caller.snapshot->clusters) {
    if (c->name == "cds_ingress_m_caller_8081") {
      ASSERT_EQ(c->endpoints.size(), 1u);
      EXPECT_EQ(c->endpoints[0].address.port(), 18081);
    }
  }
}

}  // namespace
}  // namespace trellis::tests
