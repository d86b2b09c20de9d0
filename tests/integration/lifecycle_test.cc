// The proxy's life: drain on shutdown (an in-flight request completes with connection: close,
// idle connections close, new connections are refused, run() returns) and the admin endpoint
// (/ready, /server_info, /stats, /stats/prometheus, POST /quitquitquit).
#include <cerrno>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/bootstrap_builder.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/gate.h"
#include "tests/support/proxy_under_test.h"
#include "tests/support/raw_client.h"
#include "tests/support/socket_util.h"

namespace trellis::tests {
namespace {

ClientResponse admin(uint16_t port, const std::string& method, const std::string& path) {
  auto client = RawClient::connect(port);
  EXPECT_NE(client, nullptr);
  if (!client) return {};
  EXPECT_TRUE(client->send(method + " " + path + " HTTP/1.1\r\nhost: admin\r\n\r\n"));
  auto resp = client->readResponse();
  EXPECT_TRUE(resp) << path << ": " << client->error();
  return resp ? *resp : ClientResponse{};
}

TEST(LifecycleTest, ShutdownDrainsTheRequestInFlightAndRefusesNewConnections) {
  Gate release;
  FakeUpstream upstream([&release](FakeUpstream::Exchange& ex) {
    if (!ex.readBody()) return false;
    if (ex.request().target == "/slow" && !release.wait()) return false;
    return ex.write(responseHead(200, {{"content-length", "4"}}) + "done");
  });
  // One worker: one listening socket, so "refused" does not depend on which socket the kernel
  // picks.
  auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}}), 1);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  const uint16_t port = (*proxy)->port();

  auto idle = RawClient::connect(port);
  ASSERT_NE(idle, nullptr);
  ASSERT_TRUE(idle->send(makeRequest("GET", "/quick")));
  auto quick = idle->readResponse();
  ASSERT_TRUE(quick) << idle->error();
  ASSERT_EQ(quick->status, 200);

  auto busy = RawClient::connect(port);
  ASSERT_NE(busy, nullptr);
  ASSERT_TRUE(busy->send(makeRequest("GET", "/slow")));
  ASSERT_TRUE(upstream.waitForRequests(2));  // the slow request is in flight

  (*proxy)->shutdown();
  // The worker closes its listening socket, then its idle connections: once the idle client
  // sees its close, the listener is gone.
  EXPECT_TRUE(idle->closedByPeer()) << idle->error();
  int error = 0;
  auto refused = RawClient::connect(port, std::chrono::seconds(2), &error);
  EXPECT_EQ(refused, nullptr) << "a new connection was accepted while draining";
  EXPECT_EQ(error, ECONNREFUSED);
  EXPECT_FALSE((*proxy)->waitStopped(std::chrono::milliseconds(0))) << "stopped with a request in flight";

  release.open();
  auto resp = busy->readResponse();
  ASSERT_TRUE(resp) << busy->error();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "done");
  EXPECT_TRUE(resp->closes());
  EXPECT_TRUE(busy->closedByPeer()) << busy->error();
  EXPECT_TRUE((*proxy)->waitStopped()) << "run() did not return after the drain";
}

TEST(LifecycleTest, DrainTimeOverClosesARequestStillInFlightAndStops) {
  FakeUpstream silent(neverAnswer());
  auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a", "timeout: 60s"), {{"a", {silent.port()}}}), 2,
                                     std::chrono::milliseconds(300));
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto client = RawClient::connect((*proxy)->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->send(makeRequest("GET", "/stuck")));
  ASSERT_TRUE(silent.waitForRequests(1));

  (*proxy)->shutdown();
  // After the drain time the proxy gives up on the request: the client's connection closes
  // (without a response), the upstream's too, and run() returns.
  EXPECT_TRUE(client->closedByPeer()) << client->error();
  EXPECT_TRUE(silent.waitForConnectionsClosed(1));
  EXPECT_TRUE((*proxy)->waitStopped());
  proxy->reset();  // tearing down after a forced close must not crash
}

TEST(LifecycleTest, AdminReportsReadinessStateAndStats) {
  FakeUpstream upstream(replyWith(200, "ok"));
  auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}}), 2);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto client = RawClient::connect((*proxy)->port());
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client->send(makeRequest("GET", "/counted")));
    auto resp = client->readResponse();
    ASSERT_TRUE(resp) << client->error();
  }
  const uint16_t admin_port = (*proxy)->adminPort();
  ASSERT_NE(admin_port, 0);

  auto ready = admin(admin_port, "GET", "/ready");
  EXPECT_EQ(ready.status, 200);

  auto info = admin(admin_port, "GET", "/server_info");
  EXPECT_EQ(info.status, 200);
  EXPECT_NE(info.body.find("\"state\": \"LIVE\""), std::string::npos) << info.body;

  auto stats = admin(admin_port, "GET", "/stats");
  EXPECT_EQ(stats.status, 200);
  EXPECT_NE(stats.body.find("cluster.a.upstream_rq_total: 3\n"), std::string::npos) << stats.body;
  EXPECT_NE(stats.body.find("http.ingress.downstream_rq_2xx: 3\n"), std::string::npos) << stats.body;
  EXPECT_NE(stats.body.find("http.ingress.rq_response_flag_NR: 0\n"), std::string::npos) << stats.body;

  auto prom = admin(admin_port, "GET", "/stats/prometheus");
  EXPECT_EQ(prom.status, 200);
  EXPECT_NE(prom.body.find("# TYPE envoy_cluster_upstream_rq_total counter\n"), std::string::npos) << prom.body;
  EXPECT_NE(prom.body.find("envoy_cluster_upstream_rq_total{envoy_cluster_name=\"a\"} 3\n"), std::string::npos)
      << prom.body;
  EXPECT_NE(prom.body.find("envoy_http_downstream_rq_2xx{envoy_http_conn_manager_prefix=\"ingress\"} 3\n"),
            std::string::npos)
      << prom.body;
}

TEST(LifecycleTest, QuitQuitQuitStopsTheServer) {
  FakeUpstream upstream(replyWith(200, "ok"));
  auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}}), 2);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  const uint16_t port = (*proxy)->port();

  auto get = admin((*proxy)->adminPort(), "GET", "/quitquitquit");
  EXPECT_EQ(get.status, 405) << "quitquitquit must be a POST";
  EXPECT_FALSE((*proxy)->waitStopped(std::chrono::milliseconds(0)));

  auto quit = admin((*proxy)->adminPort(), "POST", "/quitquitquit");
  EXPECT_EQ(quit.status, 200);
  EXPECT_TRUE((*proxy)->waitStopped()) << "run() did not return after /quitquitquit";
  int error = 0;
  EXPECT_EQ(RawClient::connect(port, std::chrono::seconds(2), &error), nullptr);
  EXPECT_EQ(error, ECONNREFUSED);
}

}  // namespace
}  // namespace trellis::tests
