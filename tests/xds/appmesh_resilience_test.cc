// The App Mesh path of resilience, end to end in one process: App Mesh specs written to a
// folder are loaded, validated and translated by config/appmesh (what trellis-cp runs), the
// `front` proxy's resources are served over ADS by a scripted server to a real proxy, and a
// dead instance of the target virtual node is avoided under load without a client failure,
// then takes traffic again once it is back.
//
// The target listener's healthCheck uses App Mesh's smallest interval (5 s), and the translated
// cluster keeps Envoy's default no_traffic_interval (60 s: the first round runs while the
// cluster is warming, before any traffic), so active checks cannot notice a kill within a
// medium test. Here they are asserted as far as they can be quickly (translated, run by the
// proxy against both instances, which pass them); the quick detection comes from the
// listener's outlierDetection (2 consecutive server errors, a refused connect counting as 503)
// and the client-visible part from App Mesh's default retry policy on the route to a virtual
// node provider (connect-failure, reset, 503; previous-hosts predicate).
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "config/appmesh/loader.h"
#include "config/appmesh/translate.h"
#include "config/appmesh/validate.h"
#include "tests/support/controllable_upstream.h"
#include "tests/support/proxy_under_test.h"
#include "tests/support/resilience.h"
#include "tests/xds/fake_ads_server.h"

namespace trellis::tests {
namespace {

namespace am = config::appmesh;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr char kLds[] = "type.googleapis.com/envoy.config.listener.v3.Listener";
constexpr char kRds[] = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
constexpr char kCds[] = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
constexpr char kEds[] = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

constexpr char kFrontKey[] = "mesh/m/virtualNode/front";
constexpr char kCluster[] = "cds_egress_m_svc-node_8080";
constexpr char kEgressRoutes[] = "rds_egress_m_front";

// The outlier detection of svc-node's listener, in milliseconds where App Mesh takes durations.
constexpr int kMaxServerErrors = 2;
constexpr int kOdIntervalMs = 500;
constexpr int kBaseEjectionMs = 3000;

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

// The mesh of this test in App Mesh's CLI input form, YAML, one resource per document, plus
// the trellis.dev/v1 documents placing svc-node's two instances and front's sidecar.
std::string meshYaml() {
  return R"(meshName: m
---
meshName: m
virtualServiceName: svc
spec:
  provider:
    virtualNode: {virtualNodeName: svc-node}
---
meshName: m
virtualNodeName: front
spec:
  listeners:
    - portMapping: {port: 8080, protocol: http}
  backends:
    - virtualService: {virtualServiceName: svc}
---
meshName: m
virtualNodeName: svc-node
spec:
  listeners:
    - portMapping: {port: 8080, protocol: http}
      healthCheck:
        protocol: http
        path: /health
        port: 8080
        healthyThreshold: 2
        unhealthyThreshold: 2
        intervalMillis: 5000
        timeoutMillis: 2000
      outlierDetection:
        maxServerErrors: )" +
         std::to_string(kMaxServerErrors) + R"(
        interval: {unit: ms, value: )" +
         std::to_string(kOdIntervalMs) + R"(}
        baseEjectionDuration: {unit: ms, value: )" +
         std::to_string(kBaseEjectionMs) + R"(}
        maxEjectionPercent: 50
)";
}

std::string endpointsYaml(uint16_t a, uint16_t b) {
  return "apiVersion: trellis.dev/v1\nkind: Endpoints\nmesh: m\nvirtualNode: svc-node\nendpoints:\n"
         "  - {address: 127.0.0.1, port: " +
         std::to_string(a) + "}\n  - {address: 127.0.0.1, port: " + std::to_string(b) + "}\n";
}

// Loopback addresses for front's sidecar; the ports are replaced by 0 before serving (the
// Sidecar kind requires 1-65535), so the proxy binds free ones.
constexpr char kSidecarYaml[] = R"(apiVersion: trellis.dev/v1
kind: Sidecar
mesh: m
virtualNode: front
inbound: 127.0.0.1:15000
outbound: 127.0.0.1:15001
)";

std::string bootstrapYaml(int ads_port) { return adsBootstrapYaml(kFrontKey, ads_port); }

template <class M>
FakeAdsServer::Response responseOf(const std::string& type_url, const std::string& version,
                                   const std::vector<M>& resources) {
  FakeAdsServer::Response r;
  r.set_type_url(type_url);
  r.set_version_info(version);
  r.set_nonce("n-" + version);
  for (const auto& m : resources) r.add_resources()->PackFrom(m);
  return r;
}

auto isAck(const std::string& type, const std::string& nonce) {
  return [type, nonce](const FakeAdsServer::Request& r) {
    return r.type_url() == type && r.response_nonce() == nonce && !r.has_error_detail();
  };
}

TEST(AppMeshResilienceTest, DeadInstanceOfTargetNodeIsAvoidedWithoutClientFailuresAndTakenBack) {
  ControllableUpstream a("a"), b("b");
  ASSERT_NE(a.port(), 0);
  ASSERT_NE(b.port(), 0);

  // 1. The mesh, in a folder as trellis-cp reads it.
  const char* tmp = std::getenv("TEST_TMPDIR");
  ASSERT_NE(tmp, nullptr);
  const std::string dir = std::string(tmp) + "/mesh-" + std::to_string(::getpid());
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0) << dir;
  writeFile(dir + "/mesh.yaml", meshYaml());
  writeFile(dir + "/endpoints.yaml", endpointsYaml(a.port(), b.port()));
  writeFile(dir + "/sidecar.yaml", kSidecarYaml);

  // 2. Load, validate, translate; take front's resources.
  auto mesh = am::loadMeshDir(dir);
  ASSERT_TRUE(mesh.ok()) << mesh.status();
  const auto invalid = am::validate(*mesh);
  for (const auto& e : invalid) ADD_FAILURE() << e.toString();
  ASSERT_TRUE(invalid.empty());
  auto result = am::translate(*mesh, [](const std::string& host) -> absl::StatusOr<std::vector<std::string>> {
    return absl::NotFoundError("no DNS in this test: " + host);
  });
  for (const auto& e : result.errors) ADD_FAILURE() << e;
  ASSERT_TRUE(result.errors.empty());
  ASSERT_EQ(result.proxies.count(kFrontKey), 1u);
  am::ProxyResources front = result.proxies.at(kFrontKey);

  // The cluster front calls svc-node through carries svc-node's health check and outlier
  // detection; the route to it carries App Mesh's default retry policy.
  const envoy::config::cluster::v3::Cluster* cluster = nullptr;
  for (const auto& c : front.clusters) {
    if (c.name() == kCluster) cluster = &c;
  }
  ASSERT_NE(cluster, nullptr) << "front has no cluster " << kCluster;
  ASSERT_EQ(cluster->health_checks_size(), 1);
  const auto& hc = cluster->health_checks(0);
  EXPECT_EQ(hc.http_health_check().path(), "/health");
  EXPECT_EQ(hc.interval().seconds(), 5);
  EXPECT_EQ(hc.timeout().seconds(), 2);
  EXPECT_EQ(hc.unhealthy_threshold().value(), 2u);
  EXPECT_EQ(hc.healthy_threshold().value(), 2u);
  ASSERT_TRUE(cluster->has_outlier_detection());
  EXPECT_EQ(cluster->outlier_detection().consecutive_5xx().value(), static_cast<uint32_t>(kMaxServerErrors));

  const envoy::config::route::v3::Route* route = nullptr;
  for (const auto& rc : front.routes) {
    if (rc.name() != kEgressRoutes) continue;
    for (const auto& vh : rc.virtual_hosts()) {
      for (const auto& d : vh.domains()) {
        if (d == "svc" && vh.routes_size() > 0) route = &vh.routes(0);
      }
    }
  }
  ASSERT_NE(route, nullptr) << "no route for Host svc in " << kEgressRoutes;
  ASSERT_TRUE(route->route().has_retry_policy());
  const auto& retry = route->route().retry_policy();
  EXPECT_NE(retry.retry_on().find("connect-failure"), std::string::npos) << retry.retry_on();
  EXPECT_NE(retry.retry_on().find("reset"), std::string::npos) << retry.retry_on();
  EXPECT_EQ(retry.num_retries().value(), 2u);
  ASSERT_EQ(retry.retry_host_predicate_size(), 1);
  EXPECT_EQ(retry.retry_host_predicate(0).name(), "envoy.retry_host_predicates.previous_hosts");

  // Free ports for the proxy's listeners (the only edit to what was translated).
  for (auto& l : front.listeners) l.mutable_address()->mutable_socket_address()->set_port_value(0);

  // Served over ADS to a real proxy naming itself as front.
  FakeAdsServer ads;
  auto started = ProxyUnderTest::start(bootstrapYaml(ads.port()), 2, milliseconds(1000));
  ASSERT_TRUE(started.ok()) << started.status();
  ProxyUnderTest& p = **started;
  ASSERT_TRUE(ads.waitFor([](const auto& r) { return r.type_url() == kCds; }));
  ASSERT_TRUE(ads.send(responseOf(kCds, "c1", front.clusters)));
  ASSERT_TRUE(ads.waitFor([](const auto& r) { return r.type_url() == kEds && r.resource_names_size() > 0; }))
      << "the proxy did not subscribe to the clusters' endpoints";
  ASSERT_TRUE(ads.send(responseOf(kEds, "e1", front.endpoints)));
  ASSERT_TRUE(ads.waitFor(isAck(kEds, "n-e1"))) << "endpoints not accepted";
  ASSERT_TRUE(ads.send(responseOf(kLds, "l1", front.listeners)));
  ASSERT_TRUE(ads.waitFor([](const auto& r) { return r.type_url() == kRds && r.resource_names_size() > 0; }))
      << "the proxy did not subscribe to its listeners' route configs";
  ASSERT_TRUE(ads.send(responseOf(kRds, "r1", front.routes)));
  ASSERT_TRUE(ads.waitFor(isAck(kRds, "n-r1"))) << "route configs not accepted";
  for (const char* type : {"cds", "eds", "lds", "rds"}) {
    EXPECT_EQ(p.stat(std::string("server.xds.") + type + ".update_success"), 1) << type;
    EXPECT_LE(p.stat(std::string("server.xds.") + type + ".update_rejected"), 0) << type;  // -1: never
  }

  uint16_t egress = 0;
  ASSERT_TRUE(waitUntil([&] {
    p.server().runOnMain([&] {
      for (const auto& l : p.server().listeners()) {
        if (l.name.rfind("lds_egress_", 0) == 0) egress = l.address.port();
      }
    });
    return egress != 0;
  })) << "front's outbound listener is not bound";
  const uint16_t admin = p.adminPort();

  // The proxy runs svc-node's check against both instances, as translated, and both pass.
  for (auto* u : {&a, &b}) {
    ASSERT_TRUE(u->waitForHealthChecks(1)) << u->name() << " was never checked";
    const auto check = u->healthCheckList().front();
    EXPECT_EQ(check.method, "GET");
    EXPECT_EQ(check.target, "/health");
    ASSERT_TRUE(waitUntil([&] { return healthFlags(admin, kCluster, u->port()) == "healthy"; }))
        << u->name() << ": " << healthFlags(admin, kCluster, u->port());
  }
  const std::string stat_prefix = std::string("cluster.") + kCluster + ".";

  // 3. Paced load through front's outbound listener with Host svc; b dies mid-load.
  ClientLoad load(egress, 2, "/load", 40000, std::chrono::seconds(30), std::chrono::microseconds(1000));
  ASSERT_TRUE(load.waitForMore(200));
  ASSERT_TRUE(b.waitForDataRequests(20)) << "b takes its share before it dies";
  ASSERT_GT(a.dataRequests(), 20u);

  const auto killed = steady_clock::now();
  b.die();
  // Ejected after kMaxServerErrors refused connects to b (each one posted at once, no timer):
  // at this load that is a few milliseconds; the bound leaves room for a loaded machine.
  ASSERT_TRUE(waitUntil([&] { return healthFlags(admin, kCluster, b.port()) == "/failed_outlier_check"; },
                        milliseconds(2000)))
      << healthFlags(admin, kCluster, b.port());
  const auto ejected = steady_clock::now();
  const auto detect = std::chrono::duration_cast<milliseconds>(ejected - killed).count();
  EXPECT_EQ(healthFlags(admin, kCluster, a.port()), "healthy");

  // Avoided: the proxy picks b no more while traffic flows (checked well within the ejection).
  const int64_t b_picks = hostCounter(admin, kCluster, b.port(), "rq_total");
  ASSERT_GE(b_picks, 0);
  const size_t a_before = a.dataRequests();
  ASSERT_TRUE(load.waitForMore(100));
  EXPECT_EQ(hostCounter(admin, kCluster, b.port(), "rq_total"), b_picks);
  EXPECT_GE(a.dataRequests() + 2, a_before + 100);  // up to one answer per client was in flight
  EXPECT_EQ(p.stat(stat_prefix + "outlier_detection.ejections_enforced_total"), 1);

  // Back: after the ejection (base x 1, noticed on the next interval) b takes traffic again.
  const size_t b_before = b.dataRequests();
  ASSERT_TRUE(b.revive());
  ASSERT_TRUE(b.waitForDataRequests(b_before + 20, milliseconds(kBaseEjectionMs + kOdIntervalMs + 3000)))
      << "b not back " << std::chrono::duration_cast<milliseconds>(steady_clock::now() - ejected).count()
      << " ms after its ejection; flags " << healthFlags(admin, kCluster, b.port());
  const auto back = std::chrono::duration_cast<milliseconds>(steady_clock::now() - ejected).count();
  EXPECT_GE(back, kBaseEjectionMs - 200) << "b back before its ejection time";
  EXPECT_EQ(healthFlags(admin, kCluster, b.port()), "healthy");
  ASSERT_TRUE(load.waitForMore(100));
  load.stop();

  for (const auto& f : load.failures()) ADD_FAILURE() << "client request " << f.index << ": " << f.what;
  EXPECT_GT(load.done(), 400u);
  const auto by = load.byUpstream();
  EXPECT_GT(by.count("a") ? by.at("a") : 0, 0u);
  EXPECT_GT(by.count("b") ? by.at("b") : 0, 0u);
  // The refused connects to b were retried on a (the default policy's previous-hosts).
  EXPECT_GT(p.stat(stat_prefix + "upstream_rq_retry"), 0);
  EXPECT_EQ(p.stat("http.egress.downstream_rq_5xx"), 0);
  // No active check failed: the kill lasted less than the 60 s no-traffic interval.
  EXPECT_GE(p.stat(stat_prefix + "health_check.success"), 2);
  RecordProperty("detect_ms", static_cast<int>(detect));
  RecordProperty("back_ms", static_cast<int>(back));
}

}  // namespace
}  // namespace trellis::tests
