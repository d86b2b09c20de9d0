// Each malformed or smuggling-shaped request gets its 4xx and a closed connection, while
// another keep-alive connection, opened before, keeps working through the same proxy.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/bootstrap_builder.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/proxy_under_test.h"
#include "tests/support/raw_client.h"

namespace trellis::tests {
namespace {

struct Malformed {
  const char* name;
  std::string bytes;
  int status;
};

std::string manyHeaders(int n) {
  std::string out = "GET / HTTP/1.1\r\nhost: svc\r\n";
  for (int i = 0; i < n; ++i) out += "x-h" + std::to_string(i) + ": v\r\n";
  return out + "\r\n";
}

std::vector<Malformed> cases() {
  using namespace std::string_literals;
  return {
      {"ContentLengthAndTransferEncoding",
       "POST / HTTP/1.1\r\nhost: svc\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"TwoDifferentContentLengths", "POST / HTTP/1.1\r\nhost: svc\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!",
       400},
      {"BadChunkSize", "POST / HTTP/1.1\r\nhost: svc\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400},
      {"ObsFold", "GET / HTTP/1.1\r\nhost: svc\r\nx-folded: first\r\n second\r\n\r\n", 400},
      {"BareLfLineEnds", "GET / HTTP/1.1\nhost: svc\n\n", 400},
      {"BareLfInOneHeaderLine", "GET / HTTP/1.1\r\nhost: svc\nx-a: b\r\n\r\n", 400},
      {"SpaceBeforeColon", "GET / HTTP/1.1\r\nhost : svc\r\n\r\n", 400},
      {"NulInHeaderValue", "GET / HTTP/1.1\r\nhost: svc\r\nx-nul: a\0b\r\n\r\n"s, 400},
      {"OversizeHeaders", "GET / HTTP/1.1\r\nhost: svc\r\nx-big: " + std::string(61 * 1024, 'b') + "\r\n\r\n", 431},
      {"MoreThan100Headers", manyHeaders(101), 431},
      {"Http11WithoutHost", "GET / HTTP/1.1\r\nx-a: b\r\n\r\n", 400},
  };
}

class MalformedRequestTest : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedRequestTest, GetsItsStatusAndAClosedConnectionWhileOthersCarryOn) {
  const Malformed& m = GetParam();
  FakeUpstream upstream(replyWith(200, "fine"));
  auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}}), 2);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto keeper = RawClient::connect((*proxy)->port());
  ASSERT_NE(keeper, nullptr);
  ASSERT_TRUE(keeper->send(makeRequest("GET", "/before")));
  auto before = keeper->readResponse();
  ASSERT_TRUE(before) << keeper->error();
  ASSERT_EQ(before->status, 200);

  auto bad = RawClient::connect((*proxy)->port());
  ASSERT_NE(bad, nullptr);
  ASSERT_TRUE(bad->send(m.bytes));
  auto resp = bad->readResponse();
  ASSERT_TRUE(resp) << bad->error();
  EXPECT_EQ(resp->status, m.status);
  EXPECT_TRUE(resp->closes());
  EXPECT_TRUE(bad->closedByPeer()) << bad->error();

  ASSERT_TRUE(keeper->send(makeRequest("GET", "/after")));
  auto after = keeper->readResponse();
  ASSERT_TRUE(after) << keeper->error();
  EXPECT_EQ(after->status, 200);
  EXPECT_EQ(after->body, "fine");
  // Nothing of the malformed request reached the upstream.
  EXPECT_EQ(upstream.requestsReceived(), 2u);
  EXPECT_EQ((*proxy)->stat("http.ingress.downstream_rq_4xx"), 1);
}

// A bad chunk that arrives after the head went upstream: the client still gets its 400 and a
// closed connection, and the upstream connection, left in mid-message, is closed, not reused.
TEST(MalformedBodyTest, BadChunkAfterTheHeadWasForwardedClosesBothConnections) {
  FakeUpstream upstream(replyWith(200, "fine"));
  auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}}), 2);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto keeper = RawClient::connect((*proxy)->port());
  ASSERT_NE(keeper, nullptr);
  ASSERT_TRUE(keeper->send(makeRequest("GET", "/before")));
  ASSERT_TRUE(keeper->readResponse()) << keeper->error();

  auto bad = RawClient::connect((*proxy)->port());
  ASSERT_NE(bad, nullptr);
  ASSERT_TRUE(bad->send("POST /upload HTTP/1.1\r\nhost: svc\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n"));
  ASSERT_TRUE(upstream.waitForRequests(2));  // the head (and first chunk) went upstream
  ASSERT_TRUE(bad->send("zz\r\nworld\r\n0\r\n\r\n"));
  auto resp = bad->readResponse();
  ASSERT_TRUE(resp) << bad->error();
  EXPECT_EQ(resp->status, 400);
  EXPECT_TRUE(resp->closes());
  EXPECT_TRUE(bad->closedByPeer()) << bad->error();
  EXPECT_TRUE(upstream.waitForConnectionsClosed(1));
  const auto got = upstream.requests();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].target, "/upload");
  EXPECT_FALSE(got[1].body_complete);

  ASSERT_TRUE(keeper->send(makeRequest("GET", "/after")));
  auto after = keeper->readResponse();
  ASSERT_TRUE(after) << keeper->error();
  EXPECT_EQ(after->body, "fine");
}

INSTANTIATE_TEST_SUITE_P(Shapes, MalformedRequestTest, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace trellis::tests
