// Upstreams that misbehave: one that closes half-way through a response (the client sees its
// connection closed, not a hang, and other connections carry on), one that refuses
// connections (503, flag UF), and one that never answers (504 at the route timeout, flag UT).
#include <chrono>
#include <memory>
#include <string>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/bootstrap_builder.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/proxy_under_test.h"
#include "tests/support/raw_client.h"
#include "tests/support/socket_util.h"

namespace trellis::tests {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Routes /broken to cluster "broken" (with `route_extra` in its action), the rest to "good".
std::string twoRoutes(const std::string& route_extra = "") {
  return R"({name: local, virtual_hosts: [{name: all, domains: ["*"], routes: [)"
         R"({match: {prefix: "/broken"}, route: {cluster: broken)" +
         (route_extra.empty() ? "" : ", " + route_extra) +
         R"(}}, {match: {prefix: "/"}, route: {cluster: good}}]}]})";
}

void expectGoodStillAnswers(RawClient& client) {
  ASSERT_TRUE(client.send(makeRequest("GET", "/fine")));
  auto resp = client.readResponse();
  ASSERT_TRUE(resp) << client.error();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "good");
}

TEST(UpstreamFailureTest, UpstreamClosingMidResponseClosesTheClientConnection) {
  FakeUpstream good(replyWith(200, "good"));
  FakeUpstream broken(closeMidResponse(100000, 1000));
  auto proxy = ProxyUnderTest::start(
      bootstrapYaml(twoRoutes(), {{"good", {good.port()}}, {"broken", {broken.port()}}}), 2);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto other = RawClient::connect((*proxy)->port());
  ASSERT_NE(other, nullptr);
  expectGoodStillAnswers(*other);

  auto client = RawClient::connect((*proxy)->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->send(makeRequest("GET", "/broken")));
  auto resp = client->readResponse();
  ASSERT_FALSE(resp) << "a truncated response was delivered as complete";
  // The head and the bytes the upstream sent arrived, then the connection closed (not a timeout).
  EXPECT_NE(client->error().find("(1000 of 100000 bytes): connection closed by peer"), std::string::npos)
      << client->error();

  expectGoodStillAnswers(*other);
  auto fresh = RawClient::connect((*proxy)->port());
  ASSERT_NE(fresh, nullptr);
  expectGoodStillAnswers(*fresh);
  EXPECT_EQ((*proxy)->stat("http.ingress.rq_response_flag_UC"), 1);
}

TEST(UpstreamFailureTest, RefusedConnectionGives503WithFlagUF) {
  FakeUpstream good(replyWith(200, "good"));
  const ReservedPort dead_port_held;
  const uint16_t dead_port = dead_port_held.port();
  ASSERT_NE(dead_port, 0);
  auto proxy = ProxyUnderTest::start(bootstrapYaml(twoRoutes(), {{"good", {good.port()}}, {"broken", {dead_port}}}), 2);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto client = RawClient::connect((*proxy)->port());
  ASSERT_NE(client, nullptr);

  for (int i = 1; i <= 2; ++i) {
    ASSERT_TRUE(client->send(makeRequest("GET", "/broken")));
    auto resp = client->readResponse();
    ASSERT_TRUE(resp) << client->error();
    EXPECT_EQ(resp->status, 503);
    EXPECT_EQ((*proxy)->stat("http.ingress.rq_response_flag_UF"), i);
  }
  EXPECT_EQ((*proxy)->stat("cluster.broken.upstream_cx_connect_fail"), 2);
  EXPECT_EQ((*proxy)->stat("http.ingress.downstream_rq_5xx"), 2);
  // A request without a body leaves the connection usable after a local reply.
  expectGoodStillAnswers(*client);
}

TEST(UpstreamFailureTest, SilentUpstreamGives504AtTheRouteTimeoutWithFlagUT) {
  FakeUpstream good(replyWith(200, "good"));
  FakeUpstream silent(neverAnswer());
  auto proxy = ProxyUnderTest::start(
      bootstrapYaml(twoRoutes("timeout: 0.5s"), {{"good", {good.port()}}, {"broken", {silent.port()}}}), 2);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto other = RawClient::connect((*proxy)->port());
  ASSERT_NE(other, nullptr);
  expectGoodStillAnswers(*other);

  auto client = RawClient::connect((*proxy)->port());
  ASSERT_NE(client, nullptr);
  const auto started = steady_clock::now();
  ASSERT_TRUE(client->send(makeRequest("GET", "/broken/slow")));
  auto resp = client->readResponse();
  const auto waited = std::chrono::duration_cast<milliseconds>(steady_clock::now() - started);
  ASSERT_TRUE(resp) << client->error();
  EXPECT_EQ(resp->status, 504);
  EXPECT_GE(waited.count(), 450);
  EXPECT_LT(waited.count(), 3000);
  EXPECT_EQ((*proxy)->stat("http.ingress.rq_response_flag_UT"), 1);
  EXPECT_EQ((*proxy)->stat("cluster.broken.upstream_rq_timeout"), 1);
  // The silent upstream's connection is given up, not pooled.
  EXPECT_TRUE(silent.waitForConnectionsClosed(1));
  expectGoodStillAnswers(*other);
}

TEST(UpstreamFailureTest, RouteIdleTimeoutGives408WithFlagSIBeforeTheRouteTimeout) {
  // Envoy's route idle_timeout (the stream idle timeout for this route): no byte from the
  // upstream for that long ends the request with 408, flag SI, well before the route timeout.
  FakeUpstream good(replyWith(200, "good"));
  FakeUpstream silent(neverAnswer());
  auto proxy = ProxyUnderTest::start(
      bootstrapYaml(twoRoutes("timeout: 10s, idle_timeout: 0.3s"),
                    {{"good", {good.port()}}, {"broken", {silent.port()}}}),
      2);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto client = RawClient::connect((*proxy)->port());
  ASSERT_NE(client, nullptr);
  const auto started = steady_clock::now();
  ASSERT_TRUE(client->send(makeRequest("GET", "/broken/idle")));
  auto resp = client->readResponse();
  const auto waited = std::chrono::duration_cast<milliseconds>(steady_clock::now() - started);
  ASSERT_TRUE(resp) << client->error();
  EXPECT_EQ(resp->status, 408);
  EXPECT_GE(waited.count(), 250);
  EXPECT_LT(waited.count(), 5000);
  EXPECT_EQ((*proxy)->stat("http.ingress.rq_response_flag_SI"), 1);
  EXPECT_EQ((*proxy)->stat("http.ingress.rq_response_flag_UT"), 0);
  auto other = RawClient::connect((*proxy)->port());
  ASSERT_NE(other, nullptr);
  expectGoodStillAnswers(*other);
}

TEST(UpstreamFailureTest, InvalidResponseHeadGives502WithFlagUPE) {
  FakeUpstream good(replyWith(200, "good"));
  FakeUpstream garbage([](FakeUpstream::Exchange& ex) {
    if (!ex.readBody()) return false;
    ex.write("HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 7\r\n\r\nhello");
    return false;
  });
  auto proxy = ProxyUnderTest::start(
      bootstrapYaml(twoRoutes(), {{"good", {good.port()}}, {"broken", {garbage.port()}}}), 2);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto client = RawClient::connect((*proxy)->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->send(makeRequest("GET", "/broken")));
  auto resp = client->readResponse();
  ASSERT_TRUE(resp) << client->error();
  EXPECT_EQ(resp->status, 502);
  EXPECT_EQ((*proxy)->stat("http.ingress.rq_response_flag_UPE"), 1);
  EXPECT_EQ((*proxy)->stat("cluster.broken.upstream_cx_protocol_error"), 1);
  auto other = RawClient::connect((*proxy)->port());
  ASSERT_NE(other, nullptr);
  expectGoodStillAnswers(*other);
}

TEST(UpstreamFailureTest, UpstreamClosingEachConnectionAfterItsResponseIsRetriedNotFailed) {
  // A keep-alive response, then the upstream closes without saying so: a pooled connection
  // may be taken just before its close is noticed. The proxy must resend such an idempotent
  // request (sent whole, nothing received) on a fresh connection instead of failing it.
  FakeUpstream closer([](FakeUpstream::Exchange& ex) {
    if (!ex.readBody()) return false;
    ex.write(responseHead(200, {{"content-length", "6"}}) + "closed");
    return false;
  });
  auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {closer.port()}}}), 1);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto client = RawClient::connect((*proxy)->port());
  ASSERT_NE(client, nullptr);
  constexpr int kRequests = 200;
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(client->send(makeRequest("PUT", "/again", "svc", {}, "payload")));
    auto resp = client->readResponse();
    ASSERT_TRUE(resp) << "request " << i << ": " << client->error();
    ASSERT_EQ(resp->status, 200) << "request " << i;
    ASSERT_EQ(resp->body, "closed");
  }
  EXPECT_EQ(closer.requestsReceived(), static_cast<size_t>(kRequests));
  EXPECT_EQ((*proxy)->stat("http.ingress.downstream_rq_5xx"), 0);
}

TEST(UpstreamFailureTest, EarlyAnswerBeforeTheBodyIsRelayedAndTheClientConnectionCloses) {
  // The upstream refuses a large upload from its head alone: it answers 413 and closes
  // without reading the body. The client gets that 413, not a 503.
  FakeUpstream refuser([](FakeUpstream::Exchange& ex) {
    ex.write(responseHead(413, {{"content-length", "9"}, {"connection", "close"}}) + "too large");
    return false;
  });
  auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {refuser.port()}}}), 1);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto client = RawClient::connect((*proxy)->port());
  ASSERT_NE(client, nullptr);
  const std::string body(8 << 20, 'x');  // far more than the socket buffers hold
  ASSERT_TRUE(client->send(makeRequest("PUT", "/upload", "svc", {{"content-length", std::to_string(body.size())}})));
  // Send the body from another thread: the proxy stops reading it once the upstream is gone.
  std::thread sender([&] { client->send(body); });
  auto resp = client->readResponse();
  sender.join();
  ASSERT_TRUE(resp) << client->error();
  EXPECT_EQ(resp->status, 413);
  EXPECT_EQ(resp->body, "too large");
  EXPECT_TRUE(resp->closes());
}

TEST(UpstreamFailureTest, ResendIsForIdempotentRequestsOnly) {
  // The second request on a connection is read and then dropped without an answer. A GET is
  // resent on a fresh connection; a POST, which the upstream may have applied, is not.
  for (const char* method : {"GET", "POST"}) {
    std::atomic<int> seen{0};
    FakeUpstream dropper([&seen](FakeUpstream::Exchange& ex) {
      if (!ex.readBody()) return false;
      if (++seen == 2) return false;  // read it, close without a response
      ex.write(responseHead(200, {{"content-length", "2"}}) + "ok");
      return true;
    });
    auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {dropper.port()}}}), 1);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    auto client = RawClient::connect((*proxy)->port());
    ASSERT_NE(client, nullptr);
    ASSERT_TRUE(client->send(makeRequest(method, "/1", "svc", {}, "body")));
    auto first = client->readResponse();
    ASSERT_TRUE(first) << client->error();
    EXPECT_EQ(first->status, 200);
    ASSERT_TRUE(client->send(makeRequest(method, "/2", "svc", {}, "body")));
    auto second = client->readResponse();
    ASSERT_TRUE(second) << method << ": " << client->error();
    if (std::string(method) == "GET") {
      EXPECT_EQ(second->status, 200) << "a GET is resent";
      EXPECT_EQ(dropper.requestsReceived(), 3u);
    } else {
      EXPECT_EQ(second->status, 503) << "a POST is not resent";
      EXPECT_EQ(dropper.requestsReceived(), 2u);
      EXPECT_EQ((*proxy)->stat("http.ingress.rq_response_flag_UC"), 1);
    }
  }
}

}  // namespace
}  // namespace trellis::tests
