// Weighted clusters and upstream keep-alive, measured through a real proxy on real sockets:
// the 80/20 split holds over 10,000 requests, and sequential requests reuse pooled upstream
// connections instead of opening one each.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/bootstrap_builder.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/proxy_under_test.h"
#include "tests/support/raw_client.h"

namespace trellis::tests {
namespace {

TEST(TrafficSplitTest, EightyTwentySplitHoldsOverTenThousandRequests) {
  FakeUpstream blue(replyWith(200, "blue"));
  FakeUpstream green(replyWith(200, "green"));
  ASSERT_NE(blue.port(), 0);
  ASSERT_NE(green.port(), 0);
  const std::string routes =
      R"({name: local, virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, )"
      R"(route: {weighted_clusters: {clusters: [{name: blue, weight: 80}, {name: green, weight: 20}]}}}]}]})";
  auto proxy = ProxyUnderTest::start(bootstrapYaml(routes, {{"blue", {blue.port()}}, {"green", {green.port()}}}), 2);
  ASSERT_TRUE(proxy.ok()) << proxy.status();

  // Several keep-alive connections, so both workers take part.
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(RawClient::connect((*proxy)->port()));
    ASSERT_NE(clients.back(), nullptr);
  }
  constexpr int kRequests = 10000;
  int to_blue = 0;
  int to_green = 0;
  const std::string request = makeRequest("GET", "/split");
  for (int i = 0; i < kRequests; ++i) {
    RawClient& c = *clients[i % clients.size()];
    ASSERT_TRUE(c.send(request)) << "request " << i;
    auto resp = c.readResponse();
    ASSERT_TRUE(resp) << "request " << i << ": " << c.error();
    ASSERT_EQ(resp->status, 200) << "request " << i;
    if (resp->body == "blue") {
      ++to_blue;
    } else if (resp->body == "green") {
      ++to_green;
    } else {
      FAIL() << "unexpected body '" << resp->body << "'";
    }
  }
  EXPECT_EQ(to_blue + to_green, kRequests);
  // ±2 percentage points: about five standard deviations of a fair 80/20 draw at this size.
  EXPECT_NEAR(to_blue, 0.80 * kRequests, 0.02 * kRequests);
  EXPECT_NEAR(to_green, 0.20 * kRequests, 0.02 * kRequests);
  // The upstreams saw exactly what the client saw.
  EXPECT_EQ(blue.requestsReceived(), static_cast<size_t>(to_blue));
  EXPECT_EQ(green.requestsReceived(), static_cast<size_t>(to_green));
  EXPECT_EQ((*proxy)->stat("cluster.blue.upstream_rq_total"), to_blue);
  EXPECT_EQ((*proxy)->stat("cluster.green.upstream_rq_total"), to_green);
  EXPECT_EQ((*proxy)->stat("http.ingress.downstream_rq_2xx"), kRequests);
}

TEST(KeepAliveTest, SequentialRequestsOnOneConnectionReuseOneUpstreamConnection) {
  FakeUpstream upstream(replyWith(200, "ok"));
  constexpr uint32_t kConcurrency = 2;
  auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}}), kConcurrency);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto client = RawClient::connect((*proxy)->port());
  ASSERT_NE(client, nullptr);

  constexpr int kRequests = 1000;
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(client->send(makeRequest("GET", "/ka/" + std::to_string(i))));
    auto resp = client->readResponse();
    ASSERT_TRUE(resp) << "request " << i << ": " << client->error();
    ASSERT_EQ(resp->status, 200);
    ASSERT_FALSE(resp->closes()) << "the proxy closed a keep-alive connection at request " << i;
  }
  EXPECT_EQ(upstream.requestsReceived(), static_cast<size_t>(kRequests));
  EXPECT_LE(upstream.connectionsAccepted(), kConcurrency);
  EXPECT_GE((*proxy)->stat("cluster.a.upstream_cx_pool_reuse"),
            static_cast<int64_t>(kRequests - upstream.connectionsAccepted()));
  EXPECT_EQ((*proxy)->stat("cluster.a.upstream_cx_total"), static_cast<int64_t>(upstream.connectionsAccepted()));
}

TEST(KeepAliveTest, InterleavedClientConnectionsShareThePerWorkerPools) {
  FakeUpstream upstream(replyWith(200, "ok"));
  constexpr uint32_t kConcurrency = 2;
  auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}}), kConcurrency);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(RawClient::connect((*proxy)->port()));
    ASSERT_NE(clients.back(), nullptr);
  }
  // One request in flight at a time across all client connections: each worker never needs
  // more than one upstream connection.
  constexpr int kRequests = 1000;
  for (int i = 0; i < kRequests; ++i) {
    RawClient& c = *clients[i % clients.size()];
    ASSERT_TRUE(c.send(makeRequest("GET", "/")));
    auto resp = c.readResponse();
    ASSERT_TRUE(resp) << "request " << i << ": " << c.error();
    ASSERT_EQ(resp->status, 200);
  }
  EXPECT_LE(upstream.connectionsAccepted(), kConcurrency);
  EXPECT_GE((*proxy)->stat("cluster.a.upstream_cx_pool_reuse"), kRequests - static_cast<int64_t>(kConcurrency));
}

}  // namespace
}  // namespace trellis::tests
