// Active health checking (Envoy's Cluster.health_checks) through a real in-process proxy:
// a host killed under load is marked unhealthy in time and then avoided, with retries hiding
// the episode from clients; it takes traffic again once it passes healthy_threshold checks.
// The HTTP check's request, a TCP connect-only check, panic routing when every host failed
// (and 503 UH with the panic threshold at 0), and /ready waiting for the first round.
#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/controllable_upstream.h"
#include "tests/support/proxy_under_test.h"
#include "tests/support/raw_client.h"
#include "tests/support/resilience.h"

namespace trellis::tests {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using B = ControllableUpstream::Behavior;

// interval 100 ms, timeout 100 ms, thresholds 2. no_traffic_interval is short too: Envoy's
// default (60 s) applies until the cluster has carried traffic, and the first checks run before.
const char* kHttpCheck = R"(    health_checks:
    - timeout: 0.1s
      interval: 0.1s
      unhealthy_threshold: 2
      healthy_threshold: 2
      no_traffic_interval: 0.1s
      http_health_check: {path: /healthz, host: hc.example}
)";

std::string retryRoute(const std::string& cluster) {
  return "{name: local, virtual_hosts: [{name: all, domains: [\"*\"], routes: [{match: {prefix: \"/\"}, route: "
         "{cluster: " + cluster +
         ", retry_policy: {retry_on: \"5xx,reset,connect-failure\", num_retries: 2, "
         "retry_host_predicate: [{name: envoy.retry_host_predicates.previous_hosts}], "
         "host_selection_retry_max_attempts: 3, retry_back_off: {base_interval: 0.005s}}}}]}]}";
}

std::string plainRoute(const std::string& cluster) {
  return "{name: local, virtual_hosts: [{name: all, domains: [\"*\"], routes: [{match: {prefix: \"/\"}, route: "
         "{cluster: " + cluster + "}}]}]}";
}

bool ready(ProxyUnderTest& p) {
  auto r = adminRequest(p.adminPort(), "/ready");
  return r && r->status == 200;
}

TEST(HealthCheckTest, KilledHostIsMarkedUnhealthyAvoidedAndTakenBackWithoutClientFailures) {
  ControllableUpstream a("a"), b("b"), c("c");
  ASSERT_NE(a.port(), 0);
  ASSERT_NE(b.port(), 0);
  ASSERT_NE(c.port(), 0);
  // Three hosts: with one down, 2/3 are healthy, above the 50% panic threshold.
  const std::string yaml = envoyBootstrap(
      retryRoute("svc"),
      staticCluster("svc", {a.port(), b.port(), c.port()},
                    std::string(kHttpCheck) + "    circuit_breakers: {thresholds: [{max_retries: 100}]}\n"));
  auto proxy = ProxyUnderTest::start(yaml, 2);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  ProxyUnderTest& p = **proxy;
  const uint16_t admin = p.adminPort();
  ASSERT_TRUE(waitUntil([&] { return ready(p); }));
  for (auto* u : {&a, &b, &c}) {
    ASSERT_TRUE(waitUntil([&] { return healthFlags(admin, "svc", u->port()) == "healthy"; })) << u->name();
  }
  EXPECT_EQ(p.stat("cluster.svc.membership_healthy"), 3);

  ClientLoad load(p.port(), 3, "/load", 200000, std::chrono::seconds(15));
  ASSERT_TRUE(load.waitForMore(300));
  ASSERT_TRUE(b.waitForDataRequests(20)) << "b takes its share before it dies";

  const auto killed = steady_clock::now();
  b.die();
  ASSERT_TRUE(waitUntil([&] { return healthFlags(admin, "svc", b.port()) == "/failed_active_hc"; }))
      << healthFlags(admin, "svc", b.port());
  const auto detect = std::chrono::duration_cast<milliseconds>(steady_clock::now() - killed);
  // Envoy's bound: the next check starts within one interval and each of the two failing checks
  // ends within its timeout (here a refused connect fails at once): interval x unhealthy_threshold
  // + timeout = 300 ms. The tolerance (900 ms) covers timer and thread scheduling on two cores
  // shared with other builds, plus this poll of /clusters; it is still far below anything a broken
  // threshold, interval or no_traffic_interval (60 s) would give.
  EXPECT_LE(detect.count(), 300 + 900) << "detected after " << detect.count() << " ms";
  EXPECT_EQ(p.stat("cluster.svc.membership_healthy"), 2);

  // Unhealthy: picked no more (the proxy's own per-host count stands still while load flows).
  const int64_t b_picks = hostCounter(admin, "svc", b.port(), "rq_total");
  ASSERT_GE(b_picks, 0);
  const int64_t connect_fails = p.stat("cluster.svc.upstream_cx_connect_fail");
  ASSERT_TRUE(load.waitForMore(500));
  EXPECT_EQ(hostCounter(admin, "svc", b.port(), "rq_total"), b_picks);
  EXPECT_EQ(p.stat("cluster.svc.upstream_cx_connect_fail"), connect_fails);

  // Restarted: healthy after healthy_threshold (2) passing checks, then it takes traffic again.
  const size_t b_before = b.dataRequests();
  const size_t hc_before = b.healthChecks();
  const auto revived = steady_clock::now();
  ASSERT_TRUE(b.revive());
  ASSERT_TRUE(waitUntil([&] { return healthFlags(admin, "svc", b.port()) == "healthy"; }))
      << healthFlags(admin, "svc", b.port());
  const auto recover = std::chrono::duration_cast<milliseconds>(steady_clock::now() - revived);
  EXPECT_GE(b.healthChecks(), hc_before + 2) << "healthy before healthy_threshold checks passed";
  EXPECT_LE(recover.count(), 300 + 900) << "healthy after " << recover.count() << " ms";
  EXPECT_TRUE(b.waitForDataRequests(b_before + 20));
  EXPECT_TRUE(waitUntil([&] { return p.stat("cluster.svc.membership_healthy") == 3; }));
  load.stop();

  for (const auto& f : load.failures()) ADD_FAILURE() << "client request " << f.index << ": " << f.what;
  EXPECT_GT(load.done(), 800u);
  // The kill was noticed by the data path too (a reset or refused connect) and retried.
  EXPECT_GT(p.stat("cluster.svc.upstream_rq_retry"), 0);
  EXPECT_GE(p.stat("cluster.svc.health_check.failure"), 2);
  EXPECT_GT(p.stat("cluster.svc.health_check.success"), 6);
  EXPECT_GE(p.stat("cluster.svc.health_check.attempt"),
            p.stat("cluster.svc.health_check.success") + p.stat("cluster.svc.health_check.failure"));
  EXPECT_EQ(p.stat("http.ingress.downstream_rq_5xx"), 0);
}

TEST(HealthCheckTest, HttpCheckCarriesUserAgentPathAndHostAndAFailingCheckTakesTheHostOut) {
  ControllableUpstream a("a"), b("b");
  // a fails its checks (503) while its data requests would succeed: the check alone decides.
  a.setHealth(B::answer(503));
  auto proxy = ProxyUnderTest::start(
      envoyBootstrap(plainRoute("svc"), staticCluster("svc", {a.port(), b.port()}, kHttpCheck)), 2);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  ProxyUnderTest& p = **proxy;
  ASSERT_TRUE(b.waitForHealthChecks(1));
  const auto hc = b.healthCheckList().front();
  EXPECT_EQ(hc.method, "GET");
  EXPECT_EQ(hc.target, "/healthz");
  ASSERT_TRUE(hc.head.has("host"));
  EXPECT_EQ(*hc.head.find("host"), "hc.example");
  ASSERT_TRUE(hc.head.has("user-agent"));
  EXPECT_EQ(*hc.head.find("user-agent"), "Envoy/HC");

  ASSERT_TRUE(waitUntil([&] { return ready(p); }));
  ASSERT_TRUE(waitUntil([&] { return healthFlags(p.adminPort(), "svc", a.port()) == "/failed_active_hc"; }));
  ASSERT_TRUE(waitUntil([&] { return healthFlags(p.adminPort(), "svc", b.port()) == "healthy"; }));
  // 1 of 2 healthy is not below the 50% panic threshold: everything goes to b.
  auto client = RawClient::connect(p.port());
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(client->send(makeRequest("GET", "/x")));
    auto r = client->readResponse();
    ASSERT_TRUE(r) << client->error();
    ASSERT_EQ(r->status, 200);
    ASSERT_EQ(*r->header("x-upstream"), "b") << "request " << i;
  }
  EXPECT_EQ(a.dataRequests(), 0u);
  EXPECT_EQ(p.stat("cluster.svc.lb_healthy_panic"), 0);
  EXPECT_GE(p.stat("cluster.svc.health_check.failure"), 1);
}

TEST(HealthCheckTest, TcpConnectOnlyCheckFollowsTheHostDownAndUp) {
  ControllableUpstream a("a"), b("b");
  const std::string tcp = R"(    health_checks:
    - timeout: 0.1s
      interval: 0.1s
      unhealthy_threshold: 2
      healthy_threshold: 2
      no_traffic_interval: 0.1s
      tcp_health_check: {}
)";
  auto proxy =
      ProxyUnderTest::start(envoyBootstrap(plainRoute("svc"), staticCluster("svc", {a.port(), b.port()}, tcp)), 2);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  ProxyUnderTest& p = **proxy;
  const uint16_t admin = p.adminPort();
  ASSERT_TRUE(waitUntil([&] { return ready(p); }));
  ASSERT_TRUE(waitUntil([&] { return healthFlags(admin, "svc", a.port()) == "healthy"; }));
  ASSERT_TRUE(waitUntil([&] { return healthFlags(admin, "svc", b.port()) == "healthy"; }));
  // A connect-only check passes once the kernel completes the handshake, which can be before
  // the upstream's own accept loop has counted the connection.
  EXPECT_TRUE(waitUntil([&] { return a.connectionsAccepted() >= 1u; }));
  EXPECT_EQ(a.requests().size(), 0u) << "a connect-only check sends no request";

  a.die();
  ASSERT_TRUE(waitUntil([&] { return healthFlags(admin, "svc", a.port()) == "/failed_active_hc"; }))
      << healthFlags(admin, "svc", a.port());
  EXPECT_GE(p.stat("cluster.svc.health_check.failure"), 2);
  EXPECT_EQ(p.stat("cluster.svc.membership_healthy"), 1);
  auto client = RawClient::connect(p.port());
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(client->send(makeRequest("GET", "/x")));
    auto r = client->readResponse();
    ASSERT_TRUE(r) << client->error();
    ASSERT_EQ(r->status, 200) << "request " << i << ": " << r->body;
    ASSERT_EQ(*r->header("x-upstream"), "b");
  }

  const size_t accepted = a.connectionsAccepted();
  ASSERT_TRUE(a.revive());
  ASSERT_TRUE(waitUntil([&] { return healthFlags(admin, "svc", a.port()) == "healthy"; }));
  EXPECT_GT(a.connectionsAccepted(), accepted);
  EXPECT_EQ(p.stat("cluster.svc.membership_healthy"), 2);
}

TEST(HealthCheckTest, EveryHostFailedItsChecksPanicRoutingStillServes) {
  ControllableUpstream a("a"), b("b");
  a.setHealth(B::answer(503));
  b.setHealth(B::answer(503));
  auto proxy = ProxyUnderTest::start(
      envoyBootstrap(plainRoute("svc"), staticCluster("svc", {a.port(), b.port()}, kHttpCheck)), 2);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  ProxyUnderTest& p = **proxy;
  ASSERT_TRUE(waitUntil([&] { return ready(p); }));
  ASSERT_EQ(healthFlags(p.adminPort(), "svc", a.port()), "/failed_active_hc");
  ASSERT_EQ(healthFlags(p.adminPort(), "svc", b.port()), "/failed_active_hc");
  EXPECT_EQ(p.stat("cluster.svc.membership_healthy"), 0);

  auto client = RawClient::connect(p.port());
  ASSERT_NE(client, nullptr);
  constexpr int kRequests = 40;
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(client->send(makeRequest("GET", "/x")));
    auto r = client->readResponse();
    ASSERT_TRUE(r) << client->error();
    ASSERT_EQ(r->status, 200) << "request " << i << ": " << r->body;
  }
  // Panic: balanced over all hosts, as if healthy.
  EXPECT_EQ(p.stat("cluster.svc.lb_healthy_panic"), kRequests);
  EXPECT_GT(a.dataRequests(), 0u);
  EXPECT_GT(b.dataRequests(), 0u);
  EXPECT_EQ(a.dataRequests() + b.dataRequests(), static_cast<size_t>(kRequests));
}

TEST(HealthCheckTest, PanicThresholdZeroAnswers503WithFlagUHWhenEveryHostFailed) {
  ControllableUpstream a("a"), b("b");
  a.setHealth(B::answer(503));
  b.setHealth(B::answer(503));
  auto proxy = ProxyUnderTest::start(
      envoyBootstrap(plainRoute("svc"),
                     staticCluster("svc", {a.port(), b.port()},
                                   std::string(kHttpCheck) +
                                       "    common_lb_config: {healthy_panic_threshold: {value: 0}}\n")),
      2);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  ProxyUnderTest& p = **proxy;
  ASSERT_TRUE(waitUntil([&] { return ready(p); }));
  ASSERT_EQ(healthFlags(p.adminPort(), "svc", a.port()), "/failed_active_hc");
  ASSERT_EQ(healthFlags(p.adminPort(), "svc", b.port()), "/failed_active_hc");

  auto client = RawClient::connect(p.port());
  ASSERT_NE(client, nullptr);
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(client->send(makeRequest("GET", "/x")));
    auto r = client->readResponse();
    ASSERT_TRUE(r) << client->error();
    EXPECT_EQ(r->status, 503);
    EXPECT_EQ(p.stat("http.ingress.rq_response_flag_UH"), i);
  }
  EXPECT_EQ(p.stat("cluster.svc.lb_healthy_panic"), 0);
  EXPECT_EQ(a.dataRequests() + b.dataRequests(), 0u);

  // A host passing again (healthy_threshold 2) ends it.
  b.setHealth(B::ok());
  ASSERT_TRUE(waitUntil([&] { return healthFlags(p.adminPort(), "svc", b.port()) == "healthy"; }));
  ASSERT_TRUE(client->send(makeRequest("GET", "/x")));
  auto r = client->readResponse();
  ASSERT_TRUE(r) << client->error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(*r->header("x-upstream"), "b");
}

TEST(HealthCheckTest, ReadyWaitsForTheFirstRoundOfChecks) {
  ControllableUpstream a("a");
  // The first check hangs at the upstream: the round cannot complete before its timeout.
  a.setHealth(B::hang());
  const std::string slow_check = R"(    health_checks:
    - timeout: 0.6s
      interval: 0.1s
      unhealthy_threshold: 2
      healthy_threshold: 2
      no_traffic_interval: 0.1s
      http_health_check: {path: /healthz}
)";
  const auto started = steady_clock::now();
  auto proxy =
      ProxyUnderTest::start(envoyBootstrap(plainRoute("svc"), staticCluster("svc", {a.port()}, slow_check)), 2);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  ProxyUnderTest& p = **proxy;
  ASSERT_TRUE(a.waitForHealthChecks(1));
  auto r = adminRequest(p.adminPort(), "/ready");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << "ready while the first check is still in flight";
  EXPECT_EQ(healthFlags(p.adminPort(), "svc", a.port()), "/failed_active_hc/pending_active_hc");

  a.setHealth(B::ok());
  ASSERT_TRUE(waitUntil([&] { return ready(p); }));
  const auto took = std::chrono::duration_cast<milliseconds>(steady_clock::now() - started);
  EXPECT_GE(took.count(), 550) << "ready before the first check's timeout ended it";
  // The failed first check ends pending; the passing ones then make the host healthy.
  ASSERT_TRUE(waitUntil([&] { return healthFlags(p.adminPort(), "svc", a.port()) == "healthy"; }));
  auto client = RawClient::connect(p.port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->send(makeRequest("GET", "/x")));
  auto resp = client->readResponse();
  ASSERT_TRUE(resp) << client->error();
  EXPECT_EQ(resp->status, 200);
}

}  // namespace
}  // namespace trellis::tests
