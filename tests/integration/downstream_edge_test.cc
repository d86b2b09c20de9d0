// Requests at the edges of what the proxy must accept, and clients that leave early: heads
// arriving a few bytes at a time and across the growth of the read buffer, heads just inside
// the limits, obs-text in values, a large response head, a client that aborts its body (the
// upstream connection is closed, not reused) and one that half-closes after its request (it
// still gets its response).
#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/bootstrap_builder.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/proxy_under_test.h"
#include "tests/support/raw_client.h"

namespace trellis::tests {
namespace {

class DownstreamEdgeTest : public ::testing::Test {
 protected:
  void start(FakeUpstream::Handler handler) {
    upstream_ = std::make_unique<FakeUpstream>(std::move(handler));
    auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream_->port()}}}), 2);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(*proxy);
  }
  std::unique_ptr<RawClient> connect() {
    auto c = RawClient::connect(proxy_->port());
    EXPECT_NE(c, nullptr);
    return c;
  }

  std::unique_ptr<FakeUpstream> upstream_;
  std::unique_ptr<ProxyUnderTest> proxy_;
};

TEST_F(DownstreamEdgeTest, HeadArrivingInTinyPiecesAcrossBufferGrowthIsForwardedIntact) {
  start(replyWith(200, "ok"));
  auto client = connect();
  ASSERT_NE(client, nullptr);
  // 40 KiB of header values: more than one 16 KiB read buffer, so the buffer grows (and moves)
  // while the head is still incomplete.
  std::string request = "GET /pieces HTTP/1.1\r\nhost: svc\r\n";
  for (int i = 0; i < 40; ++i) request += "x-fill-" + std::to_string(i) + ": " + std::string(1000, 'a' + i % 26) + "\r\n";
  request += "x-last: end\r\n\r\n";
  for (size_t at = 0; at < request.size(); at += 7) ASSERT_TRUE(client->send(request.substr(at, 7)));
  auto resp = client->readResponse();
  ASSERT_TRUE(resp) << client->error();
  EXPECT_EQ(resp->status, 200);
  ASSERT_EQ(upstream_->requestsReceived(), 1u);
  const UpstreamRequest got = upstream_->requests()[0];
  EXPECT_EQ(got.target, "/pieces");
  for (int i = 0; i < 40; ++i) {
    const std::string* v = got.head.find("x-fill-" + std::to_string(i));
    ASSERT_NE(v, nullptr) << i;
    EXPECT_EQ(*v, std::string(1000, 'a' + i % 26)) << i;
  }
  ASSERT_NE(got.head.find("x-last"), nullptr);
  EXPECT_EQ(*got.head.find("x-last"), "end");
}

TEST_F(DownstreamEdgeTest, HeadsJustInsideTheLimitsAreAccepted) {
  start(replyWith(200, "ok"));
  auto client = connect();
  ASSERT_NE(client, nullptr);
  // 100 header fields (the limit), host included.
  std::string many = "GET /many HTTP/1.1\r\nhost: svc\r\n";
  for (int i = 0; i < 99; ++i) many += "x-h" + std::to_string(i) + ": v\r\n";
  ASSERT_TRUE(client->send(many + "\r\n"));
  auto resp = client->readResponse();
  ASSERT_TRUE(resp) << client->error();
  EXPECT_EQ(resp->status, 200);

  // A head of 59 KiB (the limit is 60 KiB).
  std::string big = "GET /big HTTP/1.1\r\nhost: svc\r\nx-big: ";
  const size_t value_size = 59 * 1024 - big.size() - 4;
  big += std::string(value_size, 'b') + "\r\n\r\n";
  ASSERT_EQ(big.size(), 59u * 1024);
  ASSERT_TRUE(client->send(big));
  auto resp2 = client->readResponse();
  ASSERT_TRUE(resp2) << client->error();
  EXPECT_EQ(resp2->status, 200);
  ASSERT_TRUE(upstream_->waitForRequests(2));
  EXPECT_EQ(upstream_->requests()[1].head.find("x-big")->size(), value_size);
}

TEST_F(DownstreamEdgeTest, ObsTextInAHeaderValueIsForwardedUnchanged) {
  start(replyWith(200, "ok"));
  auto client = connect();
  ASSERT_NE(client, nullptr);
  const std::string value = "caf\xc3\xa9 \xff\x80";
  ASSERT_TRUE(client->send(makeRequest("GET", "/", "svc", {{"x-latin", value}})));
  auto resp = client->readResponse();
  ASSERT_TRUE(resp) << client->error();
  EXPECT_EQ(resp->status, 200);
  ASSERT_NE(upstream_->requests()[0].head.find("x-latin"), nullptr);
  EXPECT_EQ(*upstream_->requests()[0].head.find("x-latin"), value);
}

TEST_F(DownstreamEdgeTest, LargeResponseHeadIsRelayed) {
  const std::string cookie(40 * 1024, 'c');
  start(replyWith(200, "ok", {{"set-cookie", cookie}}));
  auto client = connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->send(makeRequest("GET", "/")));
  auto resp = client->readResponse();
  ASSERT_TRUE(resp) << client->error();
  EXPECT_EQ(resp->status, 200);
  ASSERT_NE(resp->header("set-cookie"), nullptr);
  EXPECT_EQ(*resp->header("set-cookie"), cookie);
  EXPECT_EQ(resp->body, "ok");
}

TEST_F(DownstreamEdgeTest, ClientAbortingItsBodyClosesTheUpstreamConnection) {
  start(replyWith(200, "ok"));
  auto keeper = connect();
  ASSERT_NE(keeper, nullptr);
  auto client = connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->send("POST /upload HTTP/1.1\r\nhost: svc\r\ncontent-length: 100000\r\n\r\n" +
                           std::string(1000, 'x')));
  ASSERT_TRUE(upstream_->waitForRequests(1));
  client->close();
  // The upstream connection is mid-message: it must be closed, never handed to another request.
  EXPECT_TRUE(upstream_->waitForConnectionsClosed(1));
  EXPECT_FALSE(upstream_->requests()[0].body_complete);
  ASSERT_TRUE(keeper->send(makeRequest("GET", "/next")));
  auto resp = keeper->readResponse();
  ASSERT_TRUE(resp) << keeper->error();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(upstream_->requests().back().target, "/next");
  EXPECT_EQ((*proxy_).stat("http.ingress.rq_response_flag_DC"), 1);
}

TEST_F(DownstreamEdgeTest, HalfClosedClientStillGetsItsResponse) {
  start(replyWith(200, "answered"));
  auto client = connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->send(makeRequest("POST", "/last", "svc", {}, "final words")));
  ASSERT_EQ(::shutdown(client->fd(), SHUT_WR), 0);
  auto resp = client->readResponse();
  ASSERT_TRUE(resp) << client->error();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "answered");
  EXPECT_TRUE(client->closedByPeer()) << client->error();
  EXPECT_EQ(upstream_->requests()[0].body, "final words");
}

TEST(DownstreamTimeoutTest, IdleConnectionIsClosedAtTheIdleTimeout) {
  FakeUpstream upstream(replyWith(200, "ok"));
  auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}},
                                                   {"common_http_protocol_options: {idle_timeout: 0.3s}"}),
                                     1);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto client = RawClient::connect((*proxy)->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->send(makeRequest("GET", "/")));
  ASSERT_TRUE(client->readResponse()) << client->error();
  const auto idle_since = std::chrono::steady_clock::now();
  EXPECT_TRUE(client->closedByPeer()) << client->error();
  const auto waited = std::chrono::steady_clock::now() - idle_since;
  EXPECT_GE(waited, std::chrono::milliseconds(250));
  EXPECT_LT(waited, std::chrono::seconds(5));
  EXPECT_EQ((*proxy)->stat("http.ingress.downstream_cx_idle_timeout"), 1);
}

TEST(DownstreamTimeoutTest, HeadNotCompleteInTimeGets408) {
  FakeUpstream upstream(replyWith(200, "ok"));
  auto proxy = ProxyUnderTest::start(
      bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}}, {"request_headers_timeout: 0.3s"}), 1);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto client = RawClient::connect((*proxy)->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->send("GET /slowloris HTTP/1.1\r\nhost: svc\r\nx-a: "));
  auto resp = client->readResponse();
  ASSERT_TRUE(resp) << client->error();
  EXPECT_EQ(resp->status, 408);
  EXPECT_TRUE(resp->closes());
  EXPECT_TRUE(client->closedByPeer()) << client->error();
  EXPECT_EQ(upstream.requestsReceived(), 0u);
}

}  // namespace
}  // namespace trellis::tests
