// The proxy's admin documents as a client reads them: /config_dump, /server_info and
// /clusters?format=json parse back into their envoy.admin.v3 messages, names with a quote and
// non-ASCII letters survive the round trip, the HTML page at / escapes them, and /help keeps
// the plain-text index.
#include <string>

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "envoy/admin/v3/clusters.pb.h"
#include "envoy/admin/v3/config_dump.pb.h"
#include "envoy/admin/v3/config_dump_shared.pb.h"
#include "envoy/admin/v3/server_info.pb.h"
#include "tests/support/bootstrap_builder.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/proxy_under_test.h"
#include "tests/support/raw_client.h"

namespace trellis::tests {
namespace {

// A cluster name with a JSON-special and an HTML-special character and a non-ASCII letter.
const std::string kOddName = "bl\xC3\xBC\"e<b>";

ClientResponse get(uint16_t port, const std::string& path) {
  auto client = RawClient::connect(port);
  EXPECT_NE(client, nullptr);
  if (!client) return {};
  EXPECT_TRUE(client->send("GET " + path + " HTTP/1.1\r\nhost: admin\r\n\r\n"));
  auto resp = client->readResponse();
  EXPECT_TRUE(resp) << path << ": " << client->error();
  return resp ? *resp : ClientResponse{};
}

template <class Message>
Message parse(const std::string& json) {
  Message m;
  const auto st = google::protobuf::util::JsonStringToMessage(json, &m);
  EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << json;
  return m;
}

class AdminPagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string routes =
        R"({name: table, virtual_hosts: [{name: v, domains: ["*"], routes: [{name: split, match: {prefix: "/"},)"
        R"( route: {weighted_clusters: {clusters: [{name: red, weight: 80}, {name: ")" +
        std::string("bl\xC3\xBC\\\"e<b>") + R"(", weight: 20}]}}}]}]})";
    auto proxy = ProxyUnderTest::start(
        bootstrapYaml(routes, {{"red", {upstream_.port()}}, {kOddName, {upstream_.port()}}}), 1);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(*proxy);
  }
  FakeUpstream upstream_{replyWith(200, "ok")};
  std::unique_ptr<ProxyUnderTest> proxy_;
};

TEST_F(AdminPagesTest, ConfigDumpParsesBackWithTheBootstrapAndListeners) {
  auto r = get(proxy_->adminPort(), "/config_dump");
  ASSERT_EQ(r.status, 200);
  ASSERT_NE(r.header("content-type"), nullptr);
  EXPECT_NE(r.header("content-type")->find("application/json"), std::string::npos);
  auto dump = parse<envoy::admin::v3::ConfigDump>(r.body);
  ASSERT_EQ(dump.configs_size(), 5) << r.body;
  envoy::admin::v3::BootstrapConfigDump bootstrap;
  ASSERT_TRUE(dump.configs(0).UnpackTo(&bootstrap)) << dump.configs(0).type_url();
  ASSERT_EQ(bootstrap.bootstrap().static_resources().clusters_size(), 2);
  EXPECT_EQ(bootstrap.bootstrap().static_resources().clusters(1).name(), kOddName);
  envoy::admin::v3::ClustersConfigDump clusters;
  ASSERT_TRUE(dump.configs(1).UnpackTo(&clusters));
  EXPECT_EQ(clusters.static_clusters_size(), 2);
  envoy::admin::v3::ListenersConfigDump listeners;
  ASSERT_TRUE(dump.configs(2).UnpackTo(&listeners));
  EXPECT_EQ(listeners.static_listeners_size(), 1);
  EXPECT_EQ(dump.configs(3).type_url(), "type.googleapis.com/envoy.admin.v3.RoutesConfigDump");
  EXPECT_EQ(dump.configs(4).type_url(), "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump");
}

TEST_F(AdminPagesTest, ServerInfoParsesBack) {
  auto r = get(proxy_->adminPort(), "/server_info");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"state\": \"LIVE\""), std::string::npos) << r.body;
  auto info = parse<envoy::admin::v3::ServerInfo>(r.body);
  EXPECT_EQ(info.state(), envoy::admin::v3::ServerInfo::LIVE);
  EXPECT_EQ(info.version(), "trellis-proxy");
  EXPECT_EQ(info.command_line_options().concurrency(), 1u);
  EXPECT_EQ(info.command_line_options().drain_time().seconds(), 3);
}

TEST_F(AdminPagesTest, ClustersJsonHasHostsWithHealthAndWeight) {
  auto r = get(proxy_->adminPort(), "/clusters?format=json");
  ASSERT_EQ(r.status, 200);
  auto doc = parse<envoy::admin::v3::Clusters>(r.body);
  ASSERT_EQ(doc.cluster_statuses_size(), 2) << r.body;
  const auto& odd = doc.cluster_statuses(1);
  EXPECT_EQ(odd.name(), kOddName);
  ASSERT_EQ(odd.host_statuses_size(), 1);
  EXPECT_EQ(odd.host_statuses(0).address().socket_address().port_value(), upstream_.port());
  EXPECT_EQ(odd.host_statuses(0).weight(), 1u);
  EXPECT_FALSE(odd.host_statuses(0).health_status().failed_active_health_check());
  EXPECT_EQ(odd.circuit_breakers().thresholds(0).max_connections().value(), 1024u);
  // The text format is still the default.
  EXPECT_NE(get(proxy_->adminPort(), "/clusters").body.find("red::default_priority::max_connections::1024\n"),
            std::string::npos);
}

TEST_F(AdminPagesTest, StatusPageEscapesNamesAndShowsWeights) {
  auto r = get(proxy_->adminPort(), "/");
  ASSERT_EQ(r.status, 200);
  ASSERT_NE(r.header("content-type"), nullptr);
  EXPECT_NE(r.header("content-type")->find("text/html"), std::string::npos);
  EXPECT_NE(r.body.find("bl\xC3\xBC&quot;e&lt;b&gt;"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find(kOddName), std::string::npos) << "an unescaped name reached the page";
  EXPECT_NE(r.body.find("red <b>80</b> (80%)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(">healthy<"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("static bootstrap"), std::string::npos) << r.body;
  auto help = get(proxy_->adminPort(), "/help");
  EXPECT_NE(help.body.find("  /config_dump (GET): "), std::string::npos) << help.body;
}

}  // namespace
}  // namespace trellis::tests
