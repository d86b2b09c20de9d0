// Outlier detection (Envoy's Cluster.outlier_detection) through a real in-process proxy: a host
// answering five 503s in a row is ejected, takes no traffic while ejected and comes back after
// base_ejection_time; max_ejection_percent caps how many hosts go.
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

const char* kRoute = R"({name: local, virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: svc}}]}]})";

std::optional<ClientResponse> get(RawClient& c) {
  if (!c.send(makeRequest("GET", "/x"))) return std::nullopt;
  return c.readResponse();
}

TEST(OutlierDetectionTest, FiveConsecutive503sEjectTheHostUntilBaseEjectionTime) {
  ControllableUpstream a("a"), b("b");
  a.setData(B::answer(503));
  const std::string od = R"(    outlier_detection:
      consecutive_5xx: 5
      interval: 0.1s
      base_ejection_time: 1s
      max_ejection_percent: 50
)";
  auto proxy = ProxyUnderTest::start(envoyBootstrap(kRoute, staticCluster("svc", {a.port(), b.port()}, od)), 1,
                                     milliseconds(300));
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  ProxyUnderTest& p = **proxy;
  const uint16_t admin = p.adminPort();
  auto client = RawClient::connect(p.port());
  ASSERT_NE(client, nullptr);

  // Round robin over a and b until a has answered 503 five times (each to the client: no retry).
  int seen_503 = 0;
  for (int i = 0; i < 40 && a.dataRequests() < 5; ++i) {
    auto r = get(*client);
    ASSERT_TRUE(r) << client->error();
    if (r->status == 503) ++seen_503;
  }
  ASSERT_EQ(a.dataRequests(), 5u);
  EXPECT_EQ(seen_503, 5);
  EXPECT_EQ(healthFlags(admin, "svc", b.port()), "healthy");
  ASSERT_TRUE(waitUntil([&] { return healthFlags(admin, "svc", a.port()) == "/failed_outlier_check"; }))
      << healthFlags(admin, "svc", a.port());
  const auto ejected = steady_clock::now();
  EXPECT_EQ(p.stat("cluster.svc.outlier_detection.ejections_enforced_total"), 1);
  EXPECT_EQ(p.stat("cluster.svc.outlier_detection.ejections_enforced_consecutive_5xx"), 1);
  EXPECT_EQ(p.stat("cluster.svc.outlier_detection.ejections_active"), 1);

  // Ejected: every request goes to b.
  for (int i = 0; i < 30; ++i) {
    auto r = get(*client);
    ASSERT_TRUE(r) << client->error();
    ASSERT_EQ(r->status, 200) << "request " << i;
    ASSERT_EQ(*r->header("x-upstream"), "b");
  }
  const auto during = std::chrono::duration_cast<milliseconds>(steady_clock::now() - ejected);
  ASSERT_LT(during.count(), 900) << "the loop outlasted the ejection; the check above proves nothing";
  EXPECT_EQ(a.dataRequests(), 5u);

  // Back after base_ejection_time (1 s, checked every interval of 100 ms), now answering 200.
  a.setData(B::ok());
  ASSERT_TRUE(waitUntil([&] { return healthFlags(admin, "svc", a.port()) == "healthy"; }, std::chrono::seconds(5)));
  const auto back = std::chrono::duration_cast<milliseconds>(steady_clock::now() - ejected);
  EXPECT_GE(back.count(), 900) << "returned before base_ejection_time";
  EXPECT_LE(back.count(), 1000 + 100 + 900) << "returned late";  // + one interval + scheduling slack
  EXPECT_EQ(p.stat("cluster.svc.outlier_detection.ejections_active"), 0);
  for (int i = 0; i < 10; ++i) {
    auto r = get(*client);
    ASSERT_TRUE(r) << client->error();
    ASSERT_EQ(r->status, 200);
  }
  EXPECT_GT(a.dataRequests(), 5u) << "a takes traffic again";
}

TEST(OutlierDetectionTest, MaxEjectionPercentLeavesTheOtherFailingHostsIn) {
  ControllableUpstream a("a"), b("b"), c("c");
  for (auto* u : {&a, &b, &c}) u->setData(B::answer(503));
  // 34%: one host of three (33%) may go, two (67%) may not.
  const std::string od = R"(    outlier_detection:
      consecutive_5xx: 5
      interval: 0.1s
      base_ejection_time: 10s
      max_ejection_percent: 34
)";
  auto proxy = ProxyUnderTest::start(
      envoyBootstrap(kRoute, staticCluster("svc", {a.port(), b.port(), c.port()}, od)), 1, milliseconds(300));
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  ProxyUnderTest& p = **proxy;
  auto client = RawClient::connect(p.port());
  ASSERT_NE(client, nullptr);
  // 15 requests give every host its five 503s; 15 more give the two left in service five more.
  for (int i = 0; i < 30; ++i) {
    auto r = get(*client);
    ASSERT_TRUE(r) << client->error();
    EXPECT_EQ(r->status, 503);
    if (i == 14) {
      ASSERT_TRUE(waitUntil([&] { return p.stat("cluster.svc.outlier_detection.ejections_total") >= 3; }));
    }
  }
  ASSERT_TRUE(waitUntil([&] { return p.stat("cluster.svc.outlier_detection.ejections_overflow") >= 2; }));
  EXPECT_EQ(p.stat("cluster.svc.outlier_detection.ejections_enforced_total"), 1);
  EXPECT_EQ(p.stat("cluster.svc.outlier_detection.ejections_active"), 1);
  int ejected = 0;
  for (auto* u : {&a, &b, &c}) {
    const std::string f = healthFlags(p.adminPort(), "svc", u->port());
    if (f == "/failed_outlier_check") {
      ++ejected;
    } else {
      EXPECT_EQ(f, "healthy") << u->name();
    }
  }
  EXPECT_EQ(ejected, 1);
}

TEST(OutlierDetectionTest, GatewayFailuresEjectWhenEnforced) {
  ControllableUpstream a("a"), b("b");
  a.setData(B::answer(502));
  // consecutive_5xx not enforced; gateway failures enforced at 100% (Envoy's default is 0%).
  const std::string od = R"(    outlier_detection:
      enforcing_consecutive_5xx: 0
      consecutive_gateway_failure: 3
      enforcing_consecutive_gateway_failure: 100
      interval: 0.1s
      base_ejection_time: 10s
      max_ejection_percent: 50
)";
  auto proxy = ProxyUnderTest::start(envoyBootstrap(kRoute, staticCluster("svc", {a.port(), b.port()}, od)), 1,
                                     milliseconds(300));
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  ProxyUnderTest& p = **proxy;
  auto client = RawClient::connect(p.port());
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 20 && a.dataRequests() < 3; ++i) ASSERT_TRUE(get(*client));
  ASSERT_EQ(a.dataRequests(), 3u);
  ASSERT_TRUE(waitUntil([&] { return healthFlags(p.adminPort(), "svc", a.port()) == "/failed_outlier_check"; }));
  EXPECT_EQ(p.stat("cluster.svc.outlier_detection.ejections_enforced_consecutive_gateway_failure"), 1);
  EXPECT_EQ(p.stat("cluster.svc.outlier_detection.ejections_enforced_consecutive_5xx"), 0);
  for (int i = 0; i < 10; ++i) {
    auto r = get(*client);
    ASSERT_TRUE(r) << client->error();
    ASSERT_EQ(r->status, 200);
  }
  EXPECT_EQ(a.dataRequests(), 3u);
}

}  // namespace
}  // namespace trellis::tests
