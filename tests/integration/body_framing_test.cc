// Message framing through the proxy: chunked bodies both ways (extensions and trailers kept),
// de-chunking for HTTP/1.0 clients, bodiless responses (HEAD, 204, 304) on a connection that
// stays usable, Expect: 100-continue, and pipelined requests answered in order.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/bootstrap_builder.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/proxy_under_test.h"
#include "tests/support/raw_client.h"

namespace trellis::tests {
namespace {

std::unique_ptr<ProxyUnderTest> startProxy(const FakeUpstream& upstream) {
  auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}}), 2);
  EXPECT_TRUE(proxy.ok()) << proxy.status();
  return proxy.ok() ? std::move(*proxy) : nullptr;
}

TEST(BodyFramingTest, ChunkedRequestAndResponseKeepTheirFramingAndExtensions) {
  FakeUpstream upstream(replyChunked({"hello ", "chunked ", "world"}, ";src=up", "x-trailer: t1\r\n"));
  auto proxy = startProxy(upstream);
  ASSERT_NE(proxy, nullptr);
  auto client = RawClient::connect(proxy->port());
  ASSERT_NE(client, nullptr);

  const std::string head = "POST /upload HTTP/1.1\r\nhost: svc\r\ntransfer-encoding: chunked\r\n\r\n";
  const std::string body = "5;name=value\r\nhello\r\n7;flag\r\n, there\r\n0\r\n\r\n";
  // In several writes, so the body is streamed rather than arriving with the head.
  ASSERT_TRUE(client->send(head));
  ASSERT_TRUE(client->send(body.substr(0, 9)));
  ASSERT_TRUE(client->send(body.substr(9)));
  auto resp = client->readResponse();
  ASSERT_TRUE(resp) << client->error();
  EXPECT_EQ(resp->status, 200);
  EXPECT_TRUE(resp->chunked);
  EXPECT_FALSE(resp->head.has("content-length"));
  EXPECT_EQ(resp->body, "hello chunked world");
  EXPECT_NE(resp->raw_body.find("6;src=up\r\nhello \r\n"), std::string::npos) << resp->raw_body;
  EXPECT_NE(resp->raw_body.find("x-trailer: t1\r\n"), std::string::npos) << resp->raw_body;
  EXPECT_FALSE(resp->closes());

  ASSERT_EQ(upstream.requestsReceived(), 1u);
  const UpstreamRequest got = upstream.requests()[0];
  EXPECT_TRUE(got.chunked);
  EXPECT_TRUE(got.head.hasToken("transfer-encoding", "chunked"));
  EXPECT_FALSE(got.head.has("content-length"));
  EXPECT_EQ(got.body, "hello, there");
  EXPECT_EQ(got.raw_body, body);

  // The connection is still in step for a second exchange.
  ASSERT_TRUE(client->send(head + "3\r\nabc\r\n0\r\n\r\n"));
  auto again = client->readResponse();
  ASSERT_TRUE(again) << client->error();
  EXPECT_EQ(again->body, "hello chunked world");
  ASSERT_TRUE(upstream.waitForRequests(2));
  EXPECT_EQ(upstream.requests()[1].body, "abc");
}

TEST(BodyFramingTest, Http10ClientGetsAChunkedResponseDechunkedAndTheConnectionClosed) {
  FakeUpstream upstream(replyChunked({"abc", "defgh", std::string(20000, 'z')}, ";ext=1"));
  auto proxy = startProxy(upstream);
  ASSERT_NE(proxy, nullptr);

  for (const std::string request : {"GET /old HTTP/1.0\r\nhost: svc\r\n\r\n", "GET /old HTTP/1.0\r\n\r\n"}) {
    SCOPED_TRACE(request);
    auto client = RawClient::connect(proxy->port());
    ASSERT_NE(client, nullptr);
    ASSERT_TRUE(client->send(request));
    auto resp = client->readResponse();
    ASSERT_TRUE(resp) << client->error();
    EXPECT_EQ(resp->status, 200);
    EXPECT_FALSE(resp->head.has("transfer-encoding"));
    EXPECT_FALSE(resp->chunked);
    EXPECT_EQ(resp->body, "abcdefgh" + std::string(20000, 'z'));
    EXPECT_TRUE(resp->closes());
    // A body without length is delimited by the close: readResponse read up to EOF.
    EXPECT_TRUE(resp->until_close || resp->head.has("content-length"));
    if (!resp->until_close) {
      EXPECT_TRUE(client->closedByPeer()) << client->error();
    }
  }
}

TEST(BodyFramingTest, Http10KeepAliveClientKeepsItsConnection) {
  FakeUpstream upstream(replyWith(200, "sized"));
  auto proxy = startProxy(upstream);
  ASSERT_NE(proxy, nullptr);
  auto client = RawClient::connect(proxy->port());
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client->send("GET /ka HTTP/1.0\r\nhost: svc\r\nconnection: keep-alive\r\n\r\n"));
    auto resp = client->readResponse();
    ASSERT_TRUE(resp) << client->error();
    EXPECT_EQ(resp->body, "sized");
    EXPECT_TRUE(resp->head.hasToken("connection", "keep-alive")) << "an HTTP/1.0 client needs it said";
    EXPECT_FALSE(resp->closes());
  }
}

TEST(BodyFramingTest, EmptyContentLengthResponseEndsAtItsHeadAndKeepAliveContinues) {
  FakeUpstream upstream(replyWith(200, ""));
  auto proxy = startProxy(upstream);
  ASSERT_NE(proxy, nullptr);
  auto client = RawClient::connect(proxy->port());
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client->send(makeRequest("GET", "/empty")));
    auto resp = client->readResponse();
    ASSERT_TRUE(resp) << "request " << i << ": " << client->error();
    EXPECT_EQ(resp->status, 200);
    EXPECT_EQ(resp->body, "");
    EXPECT_FALSE(resp->closes());
  }
  EXPECT_EQ(upstream.connectionsAccepted(), 1u);
  EXPECT_EQ(proxy->stat("cluster.a.upstream_rq_timeout"), 0);
}

TEST(BodyFramingTest, HeadAnd204And304CarryNoBodyAndKeepAliveContinues) {
  FakeUpstream upstream([](FakeUpstream::Exchange& ex) {
    if (!ex.readBody()) return false;
    const std::string& target = ex.request().target;
    if (target == "/head") {
      // A HEAD response announces the length the GET would have, and sends no body.
      return ex.write(responseHead(200, {{"content-length", "1234"}, {"content-type", "text/plain"}}));
    }
    if (target == "/no-content") return ex.write(responseHead(204, {{"x-kind", "204"}}));
    if (target == "/not-modified") {
      return ex.write(responseHead(304, {{"etag", "\"v1\""}, {"content-length", "5678"}}));
    }
    return ex.write(responseHead(200, {{"content-length", "5"}}) + "after");
  });
  auto proxy = startProxy(upstream);
  ASSERT_NE(proxy, nullptr);
  auto client = RawClient::connect(proxy->port());
  ASSERT_NE(client, nullptr);

  ASSERT_TRUE(client->send(makeRequest("HEAD", "/head")));
  auto head = client->readResponse(/*head_request=*/true);
  ASSERT_TRUE(head) << client->error();
  EXPECT_EQ(head->status, 200);
  ASSERT_NE(head->header("content-length"), nullptr);
  EXPECT_EQ(*head->header("content-length"), "1234");
  EXPECT_FALSE(head->closes());

  ASSERT_TRUE(client->send(makeRequest("GET", "/no-content")));
  auto no_content = client->readResponse();
  ASSERT_TRUE(no_content) << client->error();
  EXPECT_EQ(no_content->status, 204);
  EXPECT_FALSE(no_content->closes());

  ASSERT_TRUE(client->send(makeRequest("GET", "/not-modified", "svc", {{"if-none-match", "\"v1\""}})));
  auto not_modified = client->readResponse();
  ASSERT_TRUE(not_modified) << client->error();
  EXPECT_EQ(not_modified->status, 304);
  EXPECT_FALSE(not_modified->closes());

  // Had any body bytes been invented or left over, this response would not parse.
  ASSERT_TRUE(client->send(makeRequest("GET", "/after")));
  auto after = client->readResponse();
  ASSERT_TRUE(after) << client->error();
  EXPECT_EQ(after->status, 200);
  EXPECT_EQ(after->body, "after");
  EXPECT_EQ(upstream.requestsReceived(), 4u);
  EXPECT_EQ(upstream.requests()[0].method, "HEAD");
}

TEST(BodyFramingTest, ExpectContinueGets100ThenTheFinalResponseAndIsNotForwarded) {
  FakeUpstream upstream(echoBody());
  auto proxy = startProxy(upstream);
  ASSERT_NE(proxy, nullptr);
  auto client = RawClient::connect(proxy->port());
  ASSERT_NE(client, nullptr);

  ASSERT_TRUE(client->send("POST /put HTTP/1.1\r\nhost: svc\r\nexpect: 100-continue\r\ncontent-length: 11\r\n\r\n"));
  // Nothing of the body has been sent: the proxy must invite it.
  auto interim = client->readResponse();
  ASSERT_TRUE(interim) << client->error();
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client->send("hello world"));
  auto final_resp = client->readResponse();
  ASSERT_TRUE(final_resp) << client->error();
  EXPECT_EQ(final_resp->status, 200);
  EXPECT_EQ(final_resp->body, "hello world");

  ASSERT_EQ(upstream.requestsReceived(), 1u);
  const UpstreamRequest got = upstream.requests()[0];
  EXPECT_FALSE(got.head.has("expect"));
  EXPECT_EQ(got.body, "hello world");
}

TEST(BodyFramingTest, CloseDelimitedResponseIsRelayedAndClosesTheClientConnection) {
  FakeUpstream upstream(replyUntilClose(std::string(50000, 'u')));
  auto proxy = startProxy(upstream);
  ASSERT_NE(proxy, nullptr);
  auto client = RawClient::connect(proxy->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->send(makeRequest("GET", "/stream")));
  auto resp = client->readResponse();
  ASSERT_TRUE(resp) << client->error();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, std::string(50000, 'u'));
  // Relayed as it came: the body ends when the proxy closes the client's connection.
  EXPECT_TRUE(resp->until_close);
  EXPECT_TRUE(resp->closes());
}

TEST(BodyFramingTest, InterimResponsesFromTheUpstreamAreNotRelayed) {
  FakeUpstream upstream([](FakeUpstream::Exchange& ex) {
    if (!ex.readBody()) return false;
    return ex.write("HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n"
                    "HTTP/1.1 100 Continue\r\n\r\n" +
                    responseHead(200, {{"content-length", "5"}}) + "final");
  });
  auto proxy = startProxy(upstream);
  ASSERT_NE(proxy, nullptr);
  auto client = RawClient::connect(proxy->port());
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(client->send(makeRequest("GET", "/hints")));
    auto resp = client->readResponse();
    ASSERT_TRUE(resp) << client->error();
    EXPECT_EQ(resp->status, 200);
    EXPECT_EQ(resp->body, "final");
  }
}

TEST(BodyFramingTest, PipelinedRequestsAreAnsweredInOrder) {
  FakeUpstream upstream(replyWithRequestLine());
  auto proxy = startProxy(upstream);
  ASSERT_NE(proxy, nullptr);
  auto client = RawClient::connect(proxy->port());
  ASSERT_NE(client, nullptr);

  std::string three = makeRequest("GET", "/first") + makeRequest("POST", "/second", "svc", {}, "body-2") +
                      makeRequest("GET", "/third");
  ASSERT_TRUE(client->send(three));  // one write
  for (const char* expected : {"GET /first", "POST /second", "GET /third"}) {
    auto resp = client->readResponse();
    ASSERT_TRUE(resp) << expected << ": " << client->error();
    EXPECT_EQ(resp->status, 200);
    EXPECT_EQ(resp->body, expected);
  }
  ASSERT_EQ(upstream.requestsReceived(), 3u);
  EXPECT_EQ(upstream.requests()[1].body, "body-2");
}

}  // namespace
}  // namespace trellis::tests
