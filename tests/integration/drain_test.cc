// Drain without loss: keep-alive clients sending back to back through the proxy while it shuts
// down, with every request counted; the sidecar's order (inbound first, outbound serving to the
// end of the window); and /drain_listeners.
//
// "Lost" is a request that was sent whole and got no response. A connect that is refused is a
// request never sent, and a client that got `connection: close` reconnects, as real clients do.
#include <atomic>
#include <cerrno>
#include <memory>
#include <string>
#include <thread>
#include <vector>

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

struct Tally {
  std::atomic<int64_t> sent{0}, answered{0}, lost{0}, closes{0};
};

// One client: requests back to back on one keep-alive connection, a new connection after each
// `connection: close`, until a connect is refused (the listener is gone).
void clientLoop(uint16_t port, Tally& tally, std::atomic<bool>& stop) {
  std::unique_ptr<RawClient> c;
  while (!stop.load()) {
    if (!c) {
      int error = 0;
      c = RawClient::connect(port, std::chrono::seconds(2), &error);
      if (!c) return;  // refused: nothing was sent
    }
    if (!c->send(makeRequest("GET", "/load"))) {
      // Nothing (or not all) reached the proxy before the close it had already sent.
      c.reset();
      continue;
    }
    tally.sent.fetch_add(1);
    auto resp = c->readResponse();
    if (!resp || resp->status != 200) {
      tally.lost.fetch_add(1);
      c.reset();
      continue;
    }
    tally.answered.fetch_add(1);
    if (resp->closes()) {
      tally.closes.fetch_add(1);
      c.reset();
    }
  }
}

TEST(DrainTest, ShutdownUnderLoadLosesNoRequest) {
  FakeUpstream upstream(replyWith(200, "ok"));
  constexpr int kRounds = 5;
  constexpr int kClients = 16;
  int64_t total_sent = 0;
  for (int round = 0; round < kRounds; ++round) {
    auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}}), 2,
                                       std::chrono::milliseconds(5000));
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    const uint16_t port = (*proxy)->port();
    Tally tally;
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int i = 0; i < kClients; ++i) clients.emplace_back([&] { clientLoop(port, tally, stop); });
    // Under load: every client has had answers before the drain starts (bounded poll).
    for (int i = 0; i < 2000 && tally.answered.load() < 50 * kClients; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_GE(tally.answered.load(), 50 * kClients) << "no load before the drain";
    (*proxy)->shutdown();
    // Every client ends by itself: its connection answers with close, its reconnect is refused.
    EXPECT_TRUE((*proxy)->waitStopped(std::chrono::seconds(4))) << "did not exit before the drain window ended";
    stop = true;
    for (auto& t : clients) t.join();
    EXPECT_EQ(tally.lost.load(), 0) << "round " << round << ": " << tally.sent.load() << " sent";
    EXPECT_EQ(tally.sent.load(), tally.answered.load());
    EXPECT_GE(tally.closes.load(), kClients) << "each client's last answer should carry connection: close";
    total_sent += tally.sent.load();
  }
  RecordProperty("requests", std::to_string(total_sent));
  std::printf("drains under load: %d rounds, %d clients, %lld requests, 0 lost\n", kRounds, kClients,
              static_cast<long long>(total_sent));
}

TEST(DrainTest, AnIdleConnectionStaysOpenUntilTheEndOfTheWindowAndItsNextRequestIsAnswered) {
  FakeUpstream upstream(replyWith(200, "ok"));
  auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}}), 1,
                                     std::chrono::milliseconds(5000));
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto idle = RawClient::connect((*proxy)->port());
  ASSERT_NE(idle, nullptr);
  ASSERT_TRUE(idle->send(makeRequest("GET", "/first")));
  ASSERT_TRUE(idle->readResponse());
  (*proxy)->shutdown();
  // The drain has begun once /ready says so.
  for (int i = 0; i < 1000 && (*proxy)->server().state() != proxy::ServerState::Draining; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ((*proxy)->server().state(), proxy::ServerState::Draining);
  EXPECT_FALSE((*proxy)->waitStopped(std::chrono::milliseconds(200))) << "an idle connection was dropped early";
  // The request its client sends now (as if sent just as the drain began) is answered, with close.
  ASSERT_TRUE(idle->send(makeRequest("GET", "/after")));
  auto resp = idle->readResponse();
  ASSERT_TRUE(resp) << idle->error();
  EXPECT_EQ(resp->status, 200);
  EXPECT_TRUE(resp->closes());
  EXPECT_TRUE(idle->closedByPeer());
  // That was the last connection: the proxy exits long before the 5 s window ends.
  EXPECT_TRUE((*proxy)->waitStopped(std::chrono::seconds(3)));
}

// A sidecar-shaped bootstrap: an INBOUND and an OUTBOUND listener, both to one upstream.
std::string sidecarYaml(uint16_t upstream_port) {
  auto listener = [](const std::string& name, const std::string& dir) {
    std::string y;
    y += "  - name: " + name + "\n";
    y += "    address: {socket_address: {address: 127.0.0.1, port_value: 0}}\n";
    y += "    traffic_direction: " + dir + "\n";
    y += "    filter_chains:\n";
    y += "    - filters:\n";
    y += "      - name: envoy.filters.network.http_connection_manager\n";
    y += "        typed_config:\n";
    y += "          \"@type\": type.googleapis.com/"
         "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n";
    y += "          stat_prefix: " + name + "\n";
    y += "          route_config: " + catchAllRoute("a") + "\n";
    y += "          http_filters:\n";
    y += "          - name: envoy.filters.http.router\n";
    y += "            typed_config: {\"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}\n";
    return y;
  };
  std::string y = bootstrapYaml(catchAllRoute("a"), {{"a", {upstream_port}}});
  // Replace the builder's one listener with the two.
  auto from = y.find("  listeners:\n");
  auto to = y.find("  clusters:\n");
  return y.substr(0, from) + "  listeners:\n" + listener("inbound", "INBOUND") + listener("outbound", "OUTBOUND") +
         y.substr(to);
}

uint16_t listenerPort(ProxyUnderTest& proxy, const std::string& name) {
  uint16_t port = 0;
  proxy.server().runOnMain([&] {
    for (const auto& b : proxy.server().listeners()) {
      if (b.name == name) port = b.address.port();
    }
  });
  return port;
}

TEST(DrainTest, ASidecarDrainsInboundFirstAndKeepsOutboundServingUntilTheWindowEnds) {
  FakeUpstream upstream(replyWith(200, "ok"));
  auto proxy = ProxyUnderTest::start(sidecarYaml(upstream.port()), 1, std::chrono::milliseconds(1500));
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  const uint16_t in_port = listenerPort(**proxy, "inbound");
  const uint16_t out_port = listenerPort(**proxy, "outbound");
  ASSERT_NE(in_port, 0);
  ASSERT_NE(out_port, 0);
  auto app_call = RawClient::connect(out_port);  // the app's keep-alive connection out
  ASSERT_NE(app_call, nullptr);
  ASSERT_TRUE(app_call->send(makeRequest("GET", "/out")));
  ASSERT_TRUE(app_call->readResponse());

  const auto began = std::chrono::steady_clock::now();
  (*proxy)->shutdown();
  // Inbound stops accepting (bounded poll until a connect is refused).
  int error = 0;
  for (int i = 0; i < 1000; ++i) {
    auto c = RawClient::connect(in_port, std::chrono::seconds(1), &error);
    if (!c) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(error, ECONNREFUSED) << "the inbound listener still accepts while draining";
  // Outbound keeps serving the app: its connection stays keep-alive, and new ones are accepted.
  ASSERT_TRUE(app_call->send(makeRequest("GET", "/out-again")));
  auto resp = app_call->readResponse();
  ASSERT_TRUE(resp) << app_call->error();
  EXPECT_EQ(resp->status, 200);
  EXPECT_FALSE(resp->closes()) << "outbound was discouraged before the window ended";
  auto fresh = RawClient::connect(out_port, std::chrono::seconds(1));
  ASSERT_NE(fresh, nullptr) << "the outbound listener stopped accepting before the window ended";
  ASSERT_TRUE(fresh->send(makeRequest("GET", "/out-new")));
  auto fresh_resp = fresh->readResponse();
  ASSERT_TRUE(fresh_resp) << fresh->error();
  EXPECT_EQ(fresh_resp->status, 200);
  // At the end of the window everything closes and the proxy exits.
  EXPECT_TRUE(app_call->closedByPeer());
  EXPECT_TRUE((*proxy)->waitStopped(std::chrono::seconds(5)));
  EXPECT_GE(std::chrono::steady_clock::now() - began, std::chrono::milliseconds(1400))
      << "outbound connections were closed before the window ended";
}

TEST(DrainTest, DrainListenersInboundOnlyStopsInboundAndLeavesTheProxyRunning) {
  FakeUpstream upstream(replyWith(200, "ok"));
  auto proxy = ProxyUnderTest::start(sidecarYaml(upstream.port()), 1);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  const uint16_t in_port = listenerPort(**proxy, "inbound");
  const uint16_t out_port = listenerPort(**proxy, "outbound");
  auto kept = RawClient::connect(in_port);  // an inbound connection from before
  ASSERT_NE(kept, nullptr);

  EXPECT_EQ(admin((*proxy)->adminPort(), "GET", "/drain_listeners").status, 405);
  EXPECT_EQ(admin((*proxy)->adminPort(), "POST", "/drain_listeners?bogus").status, 400);
  EXPECT_EQ(admin((*proxy)->adminPort(), "POST", "/drain_listeners?inboundonly").status, 200);
  int error = 0;
  for (int i = 0; i < 1000; ++i) {
    auto c = RawClient::connect(in_port, std::chrono::seconds(1), &error);
    if (!c) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(error, ECONNREFUSED);
  // Not graceful: the connection from before is served as usual (keep-alive), outbound too.
  ASSERT_TRUE(kept->send(makeRequest("GET", "/in")));
  auto resp = kept->readResponse();
  ASSERT_TRUE(resp) << kept->error();
  EXPECT_EQ(resp->status, 200);
  EXPECT_FALSE(resp->closes());
  auto out = RawClient::connect(out_port);
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->send(makeRequest("GET", "/out")));
  EXPECT_TRUE(out->readResponse());
  EXPECT_FALSE((*proxy)->waitStopped(std::chrono::milliseconds(0))) << "/drain_listeners must not exit";
}

TEST(DrainTest, DrainListenersGracefulAnswersWithCloseThenStopsAccepting) {
  FakeUpstream upstream(replyWith(200, "ok"));
  auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}}), 1,
                                     std::chrono::milliseconds(600));
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  const uint16_t port = (*proxy)->port();
  EXPECT_EQ(admin((*proxy)->adminPort(), "POST", "/drain_listeners?graceful").status, 200);
  // During the window the listener still accepts, and each answer closes its connection.
  auto c = RawClient::connect(port);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->send(makeRequest("GET", "/x")));
  auto resp = c->readResponse();
  ASSERT_TRUE(resp) << c->error();
  EXPECT_EQ(resp->status, 200);
  EXPECT_TRUE(resp->closes());
  // After it, the listener is stopped.
  int error = 0;
  for (int i = 0; i < 3000; ++i) {
    auto probe = RawClient::connect(port, std::chrono::seconds(1), &error);
    if (!probe) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(error, ECONNREFUSED);
  EXPECT_FALSE((*proxy)->waitStopped(std::chrono::milliseconds(0)));
}

}  // namespace
}  // namespace trellis::tests
