// Envoy's downstream connection limits on a real proxy: the overload manager's global limit
// (envoy.resource_monitors.global_downstream_max_connections) and a listener's runtime limit
// (envoy.resource_limits.listener.<name>.connection_limit). Connections beyond a limit are closed
// at once and counted (listener.<addr>.downstream_global_cx_overflow / downstream_cx_overflow);
// the connections already open keep being served, and a place freed is taken again.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/bootstrap_builder.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/proxy_under_test.h"
#include "tests/support/raw_client.h"

namespace trellis::tests {
namespace {

constexpr char kListener[] = "listener.127.0.0.1_0.";

std::string globalLimit(int64_t n) {
  return "overload_manager:\n"
         "  resource_monitors:\n"
         "  - name: envoy.resource_monitors.global_downstream_max_connections\n"
         "    typed_config:\n"
         "      \"@type\": type.googleapis.com/"
         "envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig\n"
         "      max_active_downstream_connections: " +
         std::to_string(n) + "\n";
}

std::optional<ClientResponse> get(RawClient& c, const std::string& path) {
  if (!c.send(makeRequest("GET", path))) return std::nullopt;
  return c.readResponse();
}

// Opens a connection and has one request served on it (so the proxy has counted it).
std::unique_ptr<RawClient> servedConnection(uint16_t port, const std::string& path) {
  auto c = RawClient::connect(port);
  if (!c) return nullptr;
  auto r = get(*c, path);
  if (!r || r->status != 200) return nullptr;
  return c;
}

TEST(ConnectionLimitTest, GlobalLimitClosesConnectionsBeyondItAndAdmitsAgainWhenOneCloses) {
  FakeUpstream upstream(replyWith(200, "ok"));
  auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}}) + globalLimit(2));
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  const uint16_t port = (*proxy)->port();

  auto first = servedConnection(port, "/1");
  auto second = servedConnection(port, "/2");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);

  // The third is over the limit: the kernel completes the handshake, the proxy closes it
  // without reading a byte.
  auto third = RawClient::connect(port);
  ASSERT_NE(third, nullptr);
  EXPECT_TRUE(third->closedByPeer()) << third->error();
  EXPECT_TRUE((*proxy)->waitForStat(std::string(kListener) + "downstream_global_cx_overflow", 1));
  EXPECT_EQ((*proxy)->stat(std::string(kListener) + "downstream_cx_overflow"), 0);

  // The two admitted connections are still served.
  auto again = get(*first, "/1-again");
  ASSERT_TRUE(again) << first->error();
  EXPECT_EQ(again->status, 200);

  // One closes; once the proxy has seen it, a new connection is admitted.
  second.reset();
  ASSERT_TRUE((*proxy)->waitForStat(std::string(kListener) + "downstream_cx_active", 1));
  auto fourth = servedConnection(port, "/4");
  EXPECT_NE(fourth, nullptr) << "a connection was refused although a place was free";
  EXPECT_EQ((*proxy)->stat(std::string(kListener) + "downstream_global_cx_overflow"), 1);
}

TEST(ConnectionLimitTest, ListenerRuntimeLimitHoldsForThatListener) {
  FakeUpstream upstream(replyWith(200, "ok"));
  const std::string runtime =
      "layered_runtime:\n"
      "  layers:\n"
      "  - name: static\n"
      "    static_layer:\n"
      "      envoy.resource_limits.listener.main.connection_limit: 1\n";
  auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}}) + runtime);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  const uint16_t port = (*proxy)->port();

  auto first = servedConnection(port, "/1");
  ASSERT_NE(first, nullptr);
  auto second = RawClient::connect(port);
  ASSERT_NE(second, nullptr);
  EXPECT_TRUE(second->closedByPeer()) << second->error();
  EXPECT_TRUE((*proxy)->waitForStat(std::string(kListener) + "downstream_cx_overflow", 1));
  EXPECT_EQ((*proxy)->stat(std::string(kListener) + "downstream_global_cx_overflow"), 0);

  first.reset();
  ASSERT_TRUE((*proxy)->waitForStat(std::string(kListener) + "downstream_cx_active", 0));
  EXPECT_NE(servedConnection(port, "/3"), nullptr);
}

TEST(ConnectionLimitTest, OverloadFeaturesTrellisLacksAreRefusedByName) {
  FakeUpstream upstream(replyWith(200, "ok"));
  const std::string base = bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}});
  struct Case {
    std::string extra;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"overload_manager:\n  resource_monitors:\n  - name: envoy.resource_monitors.fixed_heap\n",
       "overload_manager.resource_monitors[0].name: resource monitor \"envoy.resource_monitors.fixed_heap\" is not "
       "supported"},
      {globalLimit(0), "overload_manager.resource_monitors[0].typed_config.max_active_downstream_connections: must be "
                       "greater than 0, got 0"},
      {globalLimit(5) + "  actions:\n  - name: envoy.overload_actions.stop_accepting_requests\n",
       "overload_manager.actions[0]: overload action \"envoy.overload_actions.stop_accepting_requests\" is not "
       "supported"},
      {"layered_runtime:\n  layers:\n  - name: s\n    static_layer:\n"
       "      envoy.resource_limits.listener.main.connection_limit: -3\n",
       "layered_runtime.layers[0].static_layer[\"envoy.resource_limits.listener.main.connection_limit\"]: expected a "
       "whole number of connections from 0, got -3"},
  };
  for (const Case& c : cases) {
    auto proxy = ProxyUnderTest::start(base + c.extra);
    ASSERT_FALSE(proxy.ok()) << c.extra;
    EXPECT_NE(std::string(proxy.status().message()).find(c.message), std::string::npos)
        << proxy.status().message() << "\nexpected: " << c.message;
  }
}

}  // namespace
}  // namespace trellis::tests
