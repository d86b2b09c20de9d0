// per_connection_buffer_limit_bytes on a listener and a cluster: with a limit far below
// Trellis's 16 KiB read block, each read takes at most that many bytes, and everything still
// arrives intact: a body many times the limit both ways, a request head larger than the limit
// (max_request_headers_kb bounds heads, as in Envoy), and keep-alive reuse after it. A limit of 0
// is refused with the field named.
#include <string>

#include <gtest/gtest.h>

#include "tests/support/bootstrap_builder.h"
#include "tests/support/byte_pattern.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/proxy_under_test.h"
#include "tests/support/raw_client.h"

namespace trellis::tests {
namespace {

// The bootstrap with the limit on the listener "main" and the cluster "a".
std::string withBufferLimits(std::string yaml, const std::string& listener_limit, const std::string& cluster_limit) {
  auto put = [&yaml](const std::string& after, const std::string& line) {
    const size_t at = yaml.find(after);
    if (at != std::string::npos) yaml.insert(at + after.size(), line);
  };
  put("  - name: main\n", "    per_connection_buffer_limit_bytes: " + listener_limit + "\n");
  put("  - name: a\n", "    per_connection_buffer_limit_bytes: " + cluster_limit + "\n");
  return yaml;
}

TEST(BufferLimitTest, SmallLimitsStillCarryLargeBodiesAndHeadsIntact) {
  FakeUpstream upstream(echoBody());
  auto proxy = ProxyUnderTest::start(
      withBufferLimits(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}}), "100", "128"));
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto c = RawClient::connect((*proxy)->port());
  ASSERT_NE(c, nullptr);

  std::string body(200 * 1000, '\0');
  fillPattern(body.data(), body.size(), 0);
  const std::string big_header(4000, 'h');  // the head is 40 times the listener's limit
  ASSERT_TRUE(c->send(makeRequest("POST", "/echo", "example.com",
                                  {{"x-big", big_header}}, body)));
  auto r = c->readResponse();
  ASSERT_TRUE(r) << c->error();
  EXPECT_EQ(r->status, 200) << r->body;
  ASSERT_EQ(r->body.size(), body.size());
  EXPECT_TRUE(r->body == body) << "the echoed body differs from what was sent";

  // The same connection serves the next request.
  ASSERT_TRUE(c->send(makeRequest("POST", "/again", "example.com", {}, "hello")));
  auto again = c->readResponse();
  ASSERT_TRUE(again) << c->error();
  EXPECT_EQ(again->body, "hello");
}

TEST(BufferLimitTest, ZeroIsRefusedNamingTheField) {
  FakeUpstream upstream(echoBody());
  const std::string base = bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}});
  auto listener_zero = ProxyUnderTest::start(withBufferLimits(base, "0", "1024"));
  ASSERT_FALSE(listener_zero.ok());
  EXPECT_NE(std::string(listener_zero.status().message())
                .find("static_resources.listeners[0].per_connection_buffer_limit_bytes: must be greater than 0"),
            std::string::npos)
      << listener_zero.status();
  auto cluster_zero = ProxyUnderTest::start(withBufferLimits(base, "1024", "0"));
  ASSERT_FALSE(cluster_zero.ok());
  EXPECT_NE(std::string(cluster_zero.status().message())
                .find("static_resources.clusters[0].per_connection_buffer_limit_bytes: must be greater than 0"),
            std::string::npos)
      << cluster_zero.status();
}

}  // namespace
}  // namespace trellis::tests
