// The proxy's life: drain on shutdown (an in-flight request completes with connection: close,
// an idle connection's next request too, new connections are refused, run() returns), the
// state the admin endpoint reports (/ready, /server_info, /healthcheck/fail|ok, server.state)
// and /stats, /stats/prometheus, POST /quitquitquit.
#include <cerrno>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "config/bootstrap/bootstrap.h"
#include "proxy/server/server.h"
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
  // The worker stops accepting (bounded poll until a connect is refused).
  int error = 0;
  for (int i = 0; i < 1000; ++i) {
    auto probe = RawClient::connect(port, std::chrono::seconds(2), &error);
    if (!probe) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(error, ECONNREFUSED) << "a new connection was accepted while draining";
  // The idle keep-alive connection is not closed early (its client may be sending): its next
  // request is answered, with connection: close, and then it closes.
  ASSERT_TRUE(idle->send(makeRequest("GET", "/quick")));
  auto late = idle->readResponse();
  ASSERT_TRUE(late) << idle->error();
  EXPECT_EQ(late->status, 200);
  EXPECT_TRUE(late->closes());
  EXPECT_TRUE(idle->closedByPeer()) << idle->error();
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


TEST(LifecycleTest, HealthCheckFailAndOkMoveReadyAndTheReportedState) {
  FakeUpstream upstream(replyWith(200, "ok"));
  auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}}), 1);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  const uint16_t a = (*proxy)->adminPort();
  EXPECT_EQ(admin(a, "GET", "/ready").body, "LIVE\n");
  EXPECT_EQ((*proxy)->stat("server.state"), 0);  // Envoy's LIVE

  EXPECT_EQ(admin(a, "POST", "/healthcheck/fail").status, 200);
  auto ready = admin(a, "GET", "/ready");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.body, "DRAINING\n");  // as Envoy reports a failed health check
  EXPECT_NE(admin(a, "GET", "/server_info").body.find("\"state\": \"DRAINING\""), std::string::npos);
  EXPECT_EQ((*proxy)->stat("server.state"), 1);
  // Traffic is still served: the override only tells health checkers to go away.
  auto client = RawClient::connect((*proxy)->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->send(makeRequest("GET", "/still")));
  auto resp = client->readResponse();
  ASSERT_TRUE(resp) << client->error();
  EXPECT_EQ(resp->status, 200);

  EXPECT_EQ(admin(a, "POST", "/healthcheck/ok").status, 200);
  EXPECT_EQ(admin(a, "GET", "/ready").status, 200);
  EXPECT_EQ((*proxy)->stat("server.state"), 0);
}

TEST(LifecycleTest, ServerInfoShowsTheNodeTakenFromAppMeshEnvironment) {
  FakeUpstream upstream(replyWith(200, "ok"));
  auto bootstrap = config::parseBootstrap(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}}), "test.yaml");
  ASSERT_TRUE(bootstrap.ok()) << bootstrap.status();
  proxy::ServerOptions options;
  options.getenv = [](const char* name) -> const char* {
    return std::string(name) == "APPMESH_RESOURCE_ARN"
               ? "arn:aws:appmesh:eu-west-1:123456789012:mesh/shop/virtualNode/cart-v2"
               : nullptr;
  };
  auto server = proxy::Server::create(*bootstrap, options);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->start().ok());
  EXPECT_EQ((*server)->node().id(), "arn:aws:appmesh:eu-west-1:123456789012:mesh/shop/virtualNode/cart-v2");
  std::thread loop([&] { (*server)->run(); });
  auto info = admin((*server)->adminPort(), "GET", "/server_info");
  (*server)->shutdown();
  loop.join();
  EXPECT_NE(info.body.find("mesh/shop/virtualNode/cart-v2"), std::string::npos) << info.body;
  EXPECT_EQ(info.body.find("\"id\": \"itest\""), std::string::npos) << "the bootstrap's node id is shown: " << info.body;
}

}  // namespace
}  // namespace trellis::tests
