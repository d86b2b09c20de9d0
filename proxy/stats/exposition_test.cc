// /stats text, JSON and Prometheus from a StatsStore with known values; the Prometheus text is
// read back by Debian's python3-prometheus-client parser, a label value that needs escaping
// included.
#include "proxy/stats/exposition.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace trellis::proxy {
namespace {

StatsQuery query(std::string_view q) {
  auto parsed = parseStatsQuery(q);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : StatsQuery{};
}

class ExpositionTest : public ::testing::Test {
 protected:
  ExpositionTest() : store_(2) {
    ClusterStats* c = store_.cluster("backend");
    inc(c->shard(0).upstream_rq_total);
    inc(c->shard(1).upstream_rq_total);
    record(c->shard(0).upstream_rq_time, std::chrono::milliseconds(30));
    record(c->shard(1).upstream_rq_time, std::chrono::milliseconds(30));
    record(c->shard(1).upstream_rq_time, std::chrono::microseconds(400));
    store_.http("ingress");
    store_.server().concurrency.store(2);
  }
  StatsStore store_;
};

TEST_F(ExpositionTest, TextHasCountersAndEnvoysQuantileLine) {
  auto page = statsPage(store_, "");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("cluster.backend.upstream_rq_total: 2\n"), std::string::npos);
  EXPECT_NE(page.body.find("server.concurrency: 2\n"), std::string::npos);
  // Two of three values lie in (25, 50]: P100 is that bucket's bound, P0 the lower edge of
  // (0, 0.5]. Interval and cumulative agree on the first scrape.
  EXPECT_NE(page.body.find("cluster.backend.upstream_rq_time: P0(0,0) P25("), std::string::npos) << page.body;
  EXPECT_NE(page.body.find(" P100(50,50)\n"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("http.ingress.downstream_rq_time: No recorded values\n"), std::string::npos);
  // The next scrape's interval is empty.
  auto again = statsPage(store_, "filter=upstream_rq_time");
  EXPECT_NE(again.body.find("P100(nan,50)"), std::string::npos) << again.body;
}

TEST_F(ExpositionTest, FilterIsAPartialRegexAndUsedOnlyDropsUnwritten) {
  auto body = formatText(store_.collect(), store_.collectHistograms(false), query("filter=%5Ecluster%5C..*rq_t(otal|ime)$"));
  EXPECT_EQ(body.find("http."), std::string::npos);
  EXPECT_NE(body.find("cluster.backend.upstream_rq_total: 2"), std::string::npos);
  EXPECT_NE(body.find("cluster.backend.upstream_rq_time: P0"), std::string::npos);
  EXPECT_EQ(body.find("upstream_rq_timeout"), std::string::npos);

  auto used = formatText(store_.collect(), store_.collectHistograms(false), query("usedonly"));
  EXPECT_NE(used.find("cluster.backend.upstream_rq_total: 2"), std::string::npos);
  EXPECT_EQ(used.find("upstream_rq_5xx"), std::string::npos);
  EXPECT_EQ(used.find("downstream_rq_time"), std::string::npos);
}

TEST_F(ExpositionTest, InvalidRegexOrFormatIs400NamingIt) {
  auto page = statsPage(store_, "filter=(unclosed");
  EXPECT_EQ(page.status, 400);
  EXPECT_NE(page.body.find("invalid regex '(unclosed'"), std::string::npos) << page.body;
  EXPECT_EQ(statsPage(store_, "format=xml").status, 400);
  EXPECT_EQ(prometheusPage(store_, "filter=[").status, 400);
}

TEST_F(ExpositionTest, JsonHasEnvoysShape) {
  auto body = formatJson(store_.collect(), store_.collectHistograms(false), query("filter=upstream_rq_t(otal|ime)%24&format=json"));
  EXPECT_EQ(body.rfind("{\"stats\":[{\"name\":\"cluster.backend.upstream_rq_total\",\"value\":2},", 0), 0u) << body;
  EXPECT_NE(body.find("{\"histograms\":{\"supported_quantiles\":[0,25,50,75,90,95,99,99.5,99.9,100],"
                      "\"computed_quantiles\":[{\"name\":\"cluster.backend.upstream_rq_time\",\"values\":["
                      "{\"interval\":0,\"cumulative\":0},"),
            std::string::npos)
      << body;
  // Parsed by a real JSON parser.
  std::string path = ::testing::TempDir() + "/stats.json";
  std::ofstream(path) << body;
  std::string cmd = "/usr/bin/python3 -c \"import json,sys; d=json.load(open('" + path +
                    "')); h=d['stats'][-1]['histograms']; print(len(h['computed_quantiles'][0]['values']), "
                    "h['computed_quantiles'][0]['values'][-1]['cumulative'])\"";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[128] = {};
  size_t n = fread(buf, 1, sizeof(buf) - 1, p);
  EXPECT_EQ(pclose(p), 0);
  EXPECT_EQ(std::string(buf, n), "10 50\n");
}

TEST(EscapeLabelValueTest, EscapesBackslashQuoteAndNewline) {
  EXPECT_EQ(escapeLabelValue("plain-name_1.x"), "plain-name_1.x");
  EXPECT_EQ(escapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
}

// Runs the Prometheus text through prometheus_client's parser and prints one line per sample:
// name|label=value,...|value (labels sorted).
std::string parseWithPrometheusClient(const std::string& text) {
  std::string path = ::testing::TempDir() + "/metrics.txt";
  std::ofstream(path) << text;
  std::string script = ::testing::TempDir() + "/parse.py";
  std::ofstream(script) << "import sys\n"
                           "from prometheus_client.parser import text_string_to_metric_families\n"
                           "for fam in text_string_to_metric_families(open(sys.argv[1]).read()):\n"
                           "    for s in fam.samples:\n"
                           "        labels = ','.join(k + '=' + v for k, v in sorted(s.labels.items()))\n"
                           "        print(fam.type + ' ' + s.name + '|' + labels.replace('\\n', '<NL>') + '|' + repr(s.value))\n";
  FILE* p = popen(("/usr/bin/python3 " + script + " " + path + " 2>&1").c_str(), "r");
  if (!p) return "popen failed";
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  return rc == 0 ? out : "parser failed: " + out;
}

TEST_F(ExpositionTest, PrometheusHistogramsReadBackByARealParser) {
  ClusterStats* odd = store_.cluster("we\"ird\\name\nx");
  inc(odd->shard(0).upstream_rq_total);
  auto page = prometheusPage(store_, "");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("# TYPE envoy_cluster_upstream_rq_time histogram\n"), std::string::npos);
  EXPECT_NE(page.body.find("envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"backend\",le=\"0.5\"} 1\n"),
            std::string::npos);
  EXPECT_NE(page.body.find("envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"backend\",le=\"3600000\"} 3\n"),
            std::string::npos);

  std::string parsed = parseWithPrometheusClient(page.body);
  auto has = [&](const std::string& line) { return parsed.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has("histogram envoy_cluster_upstream_rq_time_bucket|envoy_cluster_name=backend,le=25.0|1.0") ||
              has("histogram envoy_cluster_upstream_rq_time_bucket|envoy_cluster_name=backend,le=25|1.0"))
      << parsed;
  EXPECT_TRUE(has("histogram envoy_cluster_upstream_rq_time_bucket|envoy_cluster_name=backend,le=50|3.0") ||
              has("histogram envoy_cluster_upstream_rq_time_bucket|envoy_cluster_name=backend,le=50.0|3.0"))
      << parsed;
  EXPECT_TRUE(has("histogram envoy_cluster_upstream_rq_time_bucket|envoy_cluster_name=backend,le=+Inf|3.0")) << parsed;
  EXPECT_TRUE(has("histogram envoy_cluster_upstream_rq_time_count|envoy_cluster_name=backend|3.0")) << parsed;
  EXPECT_TRUE(has("histogram envoy_cluster_upstream_rq_time_sum|envoy_cluster_name=backend|60.4")) << parsed;
  EXPECT_TRUE(has("counter envoy_cluster_upstream_rq_total|envoy_cluster_name=backend|2.0")) << parsed;
  // The odd name came back exactly: quote, backslash and newline survived the escaping.
  EXPECT_TRUE(has("counter envoy_cluster_upstream_rq_total|envoy_cluster_name=we\"ird\\name<NL>x|1.0")) << parsed;
  EXPECT_TRUE(has("gauge envoy_server_concurrency||2.0")) << parsed;

  auto filtered = prometheusPage(store_, "usedonly&filter=backend");
  EXPECT_EQ(filtered.body.find("upstream_rq_5xx"), std::string::npos);
  EXPECT_EQ(filtered.body.find("server"), std::string::npos);
  EXPECT_NE(filtered.body.find("envoy_cluster_upstream_rq_time_count{envoy_cluster_name=\"backend\"} 3\n"),
            std::string::npos);
}

}  // namespace
}  // namespace trellis::proxy
