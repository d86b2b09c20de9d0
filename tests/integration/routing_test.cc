// Routing end to end: virtual host by Host, routes by path prefix and header, direct
// responses, prefix rewrite, and 404 with flag NR when no virtual host or no route matches.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/bootstrap_builder.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/proxy_under_test.h"
#include "tests/support/raw_client.h"

namespace trellis::tests {
namespace {

class RoutingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string routes =
        R"({name: local, virtual_hosts: [{name: api, domains: ["api.local"], routes: [)"
        R"({match: {prefix: "/direct"}, direct_response: {status: 403, body: {inline_string: "direct answer"}}},)"
        R"({match: {prefix: "/old/"}, route: {cluster: stable, prefix_rewrite: "/new/"}},)"
        R"({match: {prefix: "/gw/"}, route: {cluster: stable, prefix_rewrite: "/", host_rewrite_literal: "color.local"}},)"
        R"({match: {safe_regex: {regex: "/item/[0-9]+"}}, route: {cluster: stable, regex_rewrite: {pattern: {regex: "^/item/([0-9]+)$"}, substitution: "/items/\\1"}}},)"
        R"({match: {prefix: "/app", headers: [{name: x-canary, exact_match: "yes"}]}, route: {cluster: canary}},)"
        R"({match: {prefix: "/app"}, route: {cluster: stable}}]}]})";
    auto proxy = ProxyUnderTest::start(
        bootstrapYaml(routes, {{"stable", {stable_.port()}}, {"canary", {canary_.port()}}}), 2);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(*proxy);
    client_ = RawClient::connect(proxy_->port());
    ASSERT_NE(client_, nullptr);
  }

  ClientResponse exchange(const std::string& request) {
    EXPECT_TRUE(client_->send(request));
    auto resp = client_->readResponse();
    EXPECT_TRUE(resp) << client_->error();
    return resp ? *resp : ClientResponse{};
  }

  FakeUpstream stable_{replyWithRequestLine()};
  FakeUpstream canary_{replyWith(200, "canary")};
  std::unique_ptr<ProxyUnderTest> proxy_;
  std::unique_ptr<RawClient> client_;
};

TEST_F(RoutingTest, UnknownHostGets404WithFlagNR) {
  auto resp = exchange(makeRequest("GET", "/app", "elsewhere.local"));
  EXPECT_EQ(resp.status, 404);
  EXPECT_EQ(proxy_->stat("http.ingress.rq_response_flag_NR"), 1);
  EXPECT_EQ(proxy_->stat("http.ingress.no_route"), 1);
  EXPECT_EQ(stable_.requestsReceived() + canary_.requestsReceived(), 0u);
}

TEST_F(RoutingTest, KnownHostWithoutMatchingRouteGets404WithFlagNR) {
  auto resp = exchange(makeRequest("GET", "/nothing-here", "api.local"));
  EXPECT_EQ(resp.status, 404);
  EXPECT_EQ(proxy_->stat("http.ingress.rq_response_flag_NR"), 1);
  // The 404 leaves the connection open; the next request is routed normally.
  auto ok = exchange(makeRequest("GET", "/app/x", "api.local"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "GET /app/x");
}

TEST_F(RoutingTest, DirectResponseIsAnsweredByTheProxy) {
  auto resp = exchange(makeRequest("GET", "/direct/anything", "api.local"));
  EXPECT_EQ(resp.status, 403);
  EXPECT_EQ(resp.body.rfind("direct answer", 0), 0u) << resp.body;
  EXPECT_EQ(proxy_->stat("http.ingress.rq_direct_response"), 1);
  EXPECT_EQ(stable_.requestsReceived() + canary_.requestsReceived(), 0u);
}

TEST_F(RoutingTest, PrefixRewriteChangesOnlyThePrefix) {
  auto resp = exchange(makeRequest("GET", "/old/path/page?q=1&r=2", "api.local"));
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body, "GET /new/path/page?q=1&r=2");
  ASSERT_EQ(stable_.requestsReceived(), 1u);
  EXPECT_EQ(stable_.requests()[0].target, "/new/path/page?q=1&r=2");
}

// A virtual gateway's route: the matched prefix becomes "/" and Host the target service's name.
TEST_F(RoutingTest, HostRewriteLiteralAndPrefixRewriteTogether) {
  auto resp = exchange(makeRequest("GET", "/gw/color?x=1", "api.local"));
  EXPECT_EQ(resp.status, 200);
  ASSERT_EQ(stable_.requestsReceived(), 1u);
  const UpstreamRequest seen = stable_.requests()[0];
  EXPECT_EQ(seen.target, "/color?x=1");
  ASSERT_NE(seen.head.find("host"), nullptr);
  EXPECT_EQ(*seen.head.find("host"), "color.local");
  EXPECT_EQ(seen.head.count("host"), 1u);
}

// Envoy's regex_rewrite: the path (not the query) rewritten with the capture groups.
TEST_F(RoutingTest, RegexRewriteReplacesThePathAndKeepsTheQuery) {
  auto resp = exchange(makeRequest("GET", "/item/42", "api.local"));
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body, "GET /items/42");
  auto with_query = exchange(makeRequest("GET", "/item/7?x=1", "api.local"));
  EXPECT_EQ(with_query.body, "GET /items/7?x=1");
}

TEST_F(RoutingTest, HeaderMatchSelectsTheRoute) {
  auto canary = exchange(makeRequest("GET", "/app/feature", "api.local", {{"x-canary", "yes"}}));
  EXPECT_EQ(canary.body, "canary");
  auto not_canary = exchange(makeRequest("GET", "/app/feature", "api.local", {{"x-canary", "no"}}));
  EXPECT_EQ(not_canary.body, "GET /app/feature");
  auto absent = exchange(makeRequest("GET", "/app/feature", "api.local"));
  EXPECT_EQ(absent.body, "GET /app/feature");
  EXPECT_EQ(canary_.requestsReceived(), 1u);
  EXPECT_EQ(stable_.requestsReceived(), 2u);
}

TEST_F(RoutingTest, HostMatchIgnoresCaseAndPort) {
  auto resp = exchange(makeRequest("GET", "/app/y", "API.Local:8080"));
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body, "GET /app/y");
}

}  // namespace
}  // namespace trellis::tests
