// Stats through a real in-process proxy: latencies of an upstream that answers after a known
// 30 ms delay land in the (25, 50] ms buckets of upstream_rq_time and downstream_rq_time (only
// the lower edge is exact: it is the upstream's delay, never the proxy's speed); /stats with a
// regex filter, an invalid regex, usedonly and JSON; /stats/prometheus with histogram lines; the
// declared server stats.
#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/controllable_upstream.h"
#include "tests/support/proxy_under_test.h"
#include "tests/support/raw_client.h"
#include "tests/support/resilience.h"

namespace trellis::tests {
namespace {

using std::chrono::milliseconds;
using B = ControllableUpstream::Behavior;

const char* kRoute = "{name: local, virtual_hosts: [{name: all, domains: [\"*\"], "
                     "routes: [{match: {prefix: \"/\"}, route: {cluster: svc}}]}]}";

// The value of one sample line "<metric>{<labels>} N" of a Prometheus page; -1 if missing.
int64_t sample(const std::string& page, const std::string& series) {
  size_t at = page.find(series + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(page.substr(at + series.size() + 1));
}

class StatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    upstream_.setData(B::slow(milliseconds(30)));
    auto p = ProxyUnderTest::start(envoyBootstrap(kRoute, staticCluster("svc", {upstream_.port()})), 1,
                                   milliseconds(300));
    ASSERT_TRUE(p.ok()) << p.status();
    proxy_ = std::move(*p);
    auto client = RawClient::connect(proxy_->port());
    ASSERT_NE(client, nullptr);
    for (int i = 0; i < kRequests; ++i) {
      ASSERT_TRUE(client->send(makeRequest("GET", "/x")));
      auto r = client->readResponse();
      ASSERT_TRUE(r) << client->error();
      ASSERT_EQ(r->status, 200);
    }
  }
  std::string admin(const std::string& path, int want_status = 200) {
    auto r = adminRequest(proxy_->adminPort(), path);
    EXPECT_TRUE(r) << path;
    if (!r) return "";
    EXPECT_EQ(r->status, want_status) << path << ": " << r->body;
    return r->body;
  }

  static constexpr int kRequests = 8;
  ControllableUpstream upstream_{"a"};
  std::unique_ptr<ProxyUnderTest> proxy_;
};

TEST_F(StatsTest, KnownUpstreamDelayLandsInItsBucket) {
  const std::string page = admin("/stats/prometheus");
  const std::string rq = "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"svc\",le=";
  // Every request waited 30 ms upstream: none is at or below 25 ms.
  EXPECT_EQ(sample(page, rq + "\"25\"}"), 0) << page;
  EXPECT_EQ(sample(page, rq + "\"+Inf\"}"), kRequests);
  EXPECT_EQ(sample(page, "envoy_cluster_upstream_rq_time_count{envoy_cluster_name=\"svc\"}"), kRequests);
  // Most land in (25, 50] (a loaded machine may push a few past 50 ms; that is not asserted).
  EXPECT_GE(sample(page, rq + "\"50\"}"), kRequests / 2);
  const std::string ds = "envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix=\"ingress\",le=";
  EXPECT_EQ(sample(page, ds + "\"25\"}"), 0);
  EXPECT_EQ(sample(page, ds + "\"+Inf\"}"), kRequests);
  // One connection was made (keep-alive reused it).
  EXPECT_EQ(sample(page, "envoy_cluster_upstream_cx_connect_ms_count{envoy_cluster_name=\"svc\"}"), 1);
  EXPECT_NE(page.find("# TYPE envoy_cluster_upstream_rq_time histogram\n"), std::string::npos);
  EXPECT_NE(page.find("envoy_cluster_upstream_rq_time_sum{envoy_cluster_name=\"svc\"} "), std::string::npos);
}

TEST_F(StatsTest, StatsTextFilterUsedOnlyAndJson) {
  const std::string text = admin("/stats?filter=%5Ecluster%5C.svc%5C.upstream_rq_(total%7Ctime)%24");
  EXPECT_EQ(text.rfind("cluster.svc.upstream_rq_total: " + std::to_string(kRequests) + "\n", 0), 0u) << text;
  // 30 ms upstream: the smallest value is in (25, 50], so P0's cumulative is at least 25.
  EXPECT_NE(text.find("cluster.svc.upstream_rq_time: P0("), std::string::npos) << text;
  EXPECT_EQ(text.find("http."), std::string::npos);

  const std::string bad = admin("/stats?filter=(oops", 400);
  EXPECT_NE(bad.find("invalid regex '(oops'"), std::string::npos) << bad;

  const std::string used = admin("/stats?usedonly");
  EXPECT_NE(used.find("cluster.svc.upstream_rq_2xx: " + std::to_string(kRequests)), std::string::npos);
  EXPECT_EQ(used.find("upstream_rq_5xx"), std::string::npos);
  EXPECT_EQ(used.find("No recorded values"), std::string::npos);

  const std::string json = admin("/stats?format=json&filter=upstream_rq_time%24");
  EXPECT_EQ(json.rfind("{\"stats\":[{\"histograms\":{\"supported_quantiles\":[0,25,50,75,90,95,99,99.5,99.9,100]", 0),
            0u)
      << json;
  EXPECT_NE(json.find("\"name\":\"cluster.svc.upstream_rq_time\""), std::string::npos);
}

TEST_F(StatsTest, ServerStatsAreDeclared) {
  EXPECT_EQ(proxy_->stat("server.live"), 1);
  EXPECT_EQ(proxy_->stat("server.state"), 0);  // LIVE
  EXPECT_EQ(proxy_->stat("server.concurrency"), 1);
  EXPECT_EQ(proxy_->stat("server.xds.lds.update_success"), 0);  // declared though static
  const std::string text = admin("/stats?filter=%5Eserver%5C.");
  EXPECT_NE(text.find("server.uptime: "), std::string::npos) << text;
  EXPECT_NE(text.find("server.total_connections: "), std::string::npos);
  EXPECT_NE(text.find("server.control_plane.connected_state: 0\n"), std::string::npos);
}

}  // namespace
}  // namespace trellis::tests
