// What the proxy changes in the heads it forwards: hop-by-hop headers (the fixed list and those
// named in Connection) are removed both ways, x-forwarded-proto is added, x-request-id is
// generated (a UUID v4) when absent and kept when present, and with use_remote_address the
// client's address is appended to x-forwarded-for.
#include <memory>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/bootstrap_builder.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/proxy_under_test.h"
#include "tests/support/raw_client.h"

namespace trellis::tests {
namespace {

bool isUuidV4(const std::string& s) {
  static const std::regex kUuid4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  return std::regex_match(s, kUuid4);
}

// Sends one request through a fresh proxy and returns what the upstream received.
UpstreamRequest forward(FakeUpstream& upstream, const std::string& request,
                        const std::vector<std::string>& hcm_fields = {}) {
  auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}}, hcm_fields), 1);
  EXPECT_TRUE(proxy.ok()) << proxy.status();
  if (!proxy.ok()) return {};
  auto client = RawClient::connect((*proxy)->port());
  EXPECT_NE(client, nullptr);
  if (!client) return {};
  size_t before = upstream.requestsReceived();
  EXPECT_TRUE(client->send(request));
  auto resp = client->readResponse();
  EXPECT_TRUE(resp) << client->error();
  if (resp) {
    EXPECT_EQ(resp->status, 200);
  }
  EXPECT_EQ(upstream.requestsReceived(), before + 1);
  return upstream.requests().back();
}

TEST(HeaderRewriteTest, HopByHopRequestHeadersAreRemoved) {
  FakeUpstream upstream(replyWith(200, "ok"));
  const std::string request =
      "GET /hop HTTP/1.1\r\n"
      "host: svc\r\n"
      "connection: keep-alive, X-Private-Hop\r\n"
      "keep-alive: timeout=5\r\n"
      "proxy-connection: keep-alive\r\n"
      "te: trailers\r\n"
      "upgrade: websocket\r\n"
      "x-private-hop: secret\r\n"
      "x-end-to-end: kept\r\n"
      "\r\n";
  UpstreamRequest got = forward(upstream, request);
  for (const char* name : {"connection", "keep-alive", "proxy-connection", "te", "upgrade", "x-private-hop"}) {
    EXPECT_FALSE(got.head.has(name)) << name << " was forwarded";
  }
  ASSERT_NE(got.head.find("x-end-to-end"), nullptr);
  EXPECT_EQ(*got.head.find("x-end-to-end"), "kept");
  ASSERT_NE(got.head.find("host"), nullptr);
  EXPECT_EQ(*got.head.find("host"), "svc");
  EXPECT_EQ(got.target, "/hop");
}

TEST(HeaderRewriteTest, ForwardedProtoIsAddedAndARequestIdGeneratedWhenAbsent) {
  FakeUpstream upstream(replyWith(200, "ok"));
  UpstreamRequest got = forward(upstream, makeRequest("GET", "/id"));
  ASSERT_NE(got.head.find("x-forwarded-proto"), nullptr);
  EXPECT_EQ(*got.head.find("x-forwarded-proto"), "http");
  ASSERT_EQ(got.head.count("x-request-id"), 1u);
  EXPECT_TRUE(isUuidV4(*got.head.find("x-request-id"))) << *got.head.find("x-request-id");
  // Without use_remote_address the proxy does not claim to know the client's address.
  EXPECT_FALSE(got.head.has("x-forwarded-for"));

  // Two requests get two different ids.
  UpstreamRequest second = forward(upstream, makeRequest("GET", "/id"));
  ASSERT_NE(second.head.find("x-request-id"), nullptr);
  EXPECT_NE(*second.head.find("x-request-id"), *got.head.find("x-request-id"));
}

TEST(HeaderRewriteTest, ARequestIdFromTheClientIsKept) {
  FakeUpstream upstream(replyWith(200, "ok"));
  UpstreamRequest got = forward(upstream, makeRequest("GET", "/id", "svc", {{"x-request-id", "client-chosen-42"}}));
  ASSERT_EQ(got.head.count("x-request-id"), 1u);
  EXPECT_EQ(*got.head.find("x-request-id"), "client-chosen-42");
}

TEST(HeaderRewriteTest, UseRemoteAddressAppendsTheClientToForwardedFor) {
  FakeUpstream upstream(replyWith(200, "ok"));
  UpstreamRequest got = forward(upstream, makeRequest("GET", "/xff", "svc", {{"x-forwarded-for", "203.0.113.7"}}),
                                {"use_remote_address: true"});
  ASSERT_EQ(got.head.count("x-forwarded-for"), 1u);
  EXPECT_EQ(*got.head.find("x-forwarded-for"), "203.0.113.7, 127.0.0.1");

  UpstreamRequest fresh = forward(upstream, makeRequest("GET", "/xff"), {"use_remote_address: true"});
  ASSERT_NE(fresh.head.find("x-forwarded-for"), nullptr);
  EXPECT_EQ(*fresh.head.find("x-forwarded-for"), "127.0.0.1");
  // 127.0.0.1 is an internal address: a request id it sends is trusted and kept.
  UpstreamRequest with_id = forward(upstream, makeRequest("GET", "/xff", "svc", {{"x-request-id", "inside-1"}}),
                                    {"use_remote_address: true"});
  ASSERT_NE(with_id.head.find("x-request-id"), nullptr);
  EXPECT_EQ(*with_id.head.find("x-request-id"), "inside-1");
}

TEST(HeaderRewriteTest, HopByHopResponseHeadersAreRemoved) {
  FakeUpstream upstream([](FakeUpstream::Exchange& ex) {
    if (!ex.readBody()) return false;
    return ex.write(responseHead(200, {{"content-length", "2"},
                                       {"connection", "x-upstream-hop"},
                                       {"x-upstream-hop", "private"},
                                       {"keep-alive", "timeout=9"},
                                       {"x-upstream-end", "public"}}) +
                    "ok");
  });
  auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}}), 1);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto client = RawClient::connect((*proxy)->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->send(makeRequest("GET", "/")));
  auto resp = client->readResponse();
  ASSERT_TRUE(resp) << client->error();
  EXPECT_EQ(resp->body, "ok");
  EXPECT_FALSE(resp->head.has("x-upstream-hop"));
  EXPECT_FALSE(resp->head.has("keep-alive"));
  EXPECT_FALSE(resp->head.hasToken("connection", "x-upstream-hop"));
  ASSERT_NE(resp->header("x-upstream-end"), nullptr);
  EXPECT_EQ(*resp->header("x-upstream-end"), "public");
  // The connection stays usable.
  ASSERT_TRUE(client->send(makeRequest("GET", "/")));
  auto again = client->readResponse();
  ASSERT_TRUE(again) << client->error();
  EXPECT_EQ(again->body, "ok");
}

}  // namespace
}  // namespace trellis::tests
