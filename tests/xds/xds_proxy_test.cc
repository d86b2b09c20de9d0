// trellis-proxy as an xDS client, end to end in one process: a scripted ADS server drives a
// real proxy that forwards to real upstreams. Covers the initial fetch, ACKs, weight edits
// followed without touching open connections, a NACKed update that changes nothing, a
// cluster whose endpoints have not arrived (503 NC), and a control-plane restart.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>

#include <gtest/gtest.h>

#include "config/bootstrap/bootstrap.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/raw_client.h"
#include "tests/xds/fake_ads_server.h"
#include "proxy/server/server.h"

namespace trellis::tests {
namespace {

constexpr char kLds[] = "type.googleapis.com/envoy.config.listener.v3.Listener";
constexpr char kRds[] = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
constexpr char kCds[] = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
constexpr char kEds[] = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

envoy::config::cluster::v3::Cluster edsCluster(const std::string& name) {
  envoy::config::cluster::v3::Cluster c;
  c.set_name(name);
  c.set_type(envoy::config::cluster::v3::Cluster::EDS);
  c.mutable_eds_cluster_config()->mutable_eds_config()->mutable_ads();
  c.mutable_connect_timeout()->set_seconds(1);
  return c;
}

envoy::config::endpoint::v3::ClusterLoadAssignment endpoints(const std::string& name, uint16_t port) {
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  cla.set_cluster_name(name);
  auto* sa = cla.add_endpoints()->add_lb_endpoints()->mutable_endpoint()->mutable_address()->mutable_socket_address();
  sa->set_address("127.0.0.1");
  sa->set_port_value(port);
  return cla;
}

envoy::config::listener::v3::Listener listener(const std::string& name, const std::string& route_name) {
  namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;
  envoy::config::listener::v3::Listener l;
  l.set_name(name);
  auto* sa = l.mutable_address()->mutable_socket_address();
  sa->set_address("127.0.0.1");
  sa->set_port_value(0);
  hcm::HttpConnectionManager h;
  h.set_stat_prefix("egress");
  h.mutable_rds()->set_route_config_name(route_name);
  h.mutable_rds()->mutable_config_source()->mutable_ads();
  auto* f = h.add_http_filters();
  f->set_name("envoy.filters.http.router");
  f->mutable_typed_config()->PackFrom(envoy::extensions::filters::http::router::v3::Router());
  auto* filter = l.add_filter_chains()->add_filters();
  filter->set_name("envoy.filters.network.http_connection_manager");
  filter->mutable_typed_config()->PackFrom(h);
  return l;
}

envoy::config::route::v3::RouteConfiguration routes(const std::string& name,
                                                    std::vector<std::pair<std::string, uint32_t>> weights) {
  envoy::config::route::v3::RouteConfiguration rc;
  rc.set_name(name);
  auto* vh = rc.add_virtual_hosts();
  vh->set_name("colorteller");
  vh->add_domains("*");
  auto* r = vh->add_routes();
  r->mutable_match()->set_prefix("/");
  for (const auto& [cluster, w] : weights) {
    auto* cw = r->mutable_route()->mutable_weighted_clusters()->add_clusters();
    cw->set_name(cluster);
    cw->mutable_weight()->set_value(w);
  }
  return rc;
}

std::string bootstrapYaml(int ads_port) { return adsBootstrapYaml("mesh/color-mesh/virtualNode/front", ads_port); }

auto isType(const std::string& type) {
  return [type](const FakeAdsServer::Request& r) { return r.type_url() == type; };
}
auto isAck(const std::string& type, const std::string& nonce) {
  return [type, nonce](const FakeAdsServer::Request& r) {
    return r.type_url() == type && r.response_nonce() == nonce && !r.has_error_detail();
  };
}

class XdsProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ads_ = std::make_unique<FakeAdsServer>();
    auto b = config::parseBootstrap(bootstrapYaml(ads_->port()), "xds.yaml");
    ASSERT_TRUE(b.ok()) << b.status();
    proxy::ServerOptions opts;
    opts.concurrency = 2;
    opts.drain_time = std::chrono::milliseconds(1000);
    auto s = proxy::Server::create(*b, opts);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    ASSERT_TRUE(server_->start().ok());
    thread_ = std::thread([this] { server_->run(); });
  }

  void TearDown() override {
    if (server_) {
      server_->shutdown();
      thread_.join();
      server_.reset();
    }
    ads_.reset();
  }

  // Walks the initial fetch: CDS (red, blue), EDS, LDS, RDS with `weights`.
  void initialFetch(std::vector<std::pair<std::string, uint32_t>> weights) {
    ASSERT_TRUE(ads_->waitFor(isType(kCds)));
    ASSERT_TRUE(ads_->send(makeResponse(kCds, "c1", "n-c1", edsCluster("red"), edsCluster("blue"))));
    auto eds = ads_->waitFor([](const auto& r) { return r.type_url() == kEds && r.resource_names_size() == 2; });
    ASSERT_TRUE(eds) << "the proxy did not subscribe to the clusters' endpoints";
    EXPECT_EQ(eds->resource_names(0), "blue");
    ASSERT_TRUE(ads_->send(makeResponse(kEds, "e1", "n-e1", endpoints("red", red_.port()), endpoints("blue", blue_.port()))));
    ASSERT_TRUE(ads_->waitFor(isAck(kEds, "n-e1")));
    ASSERT_TRUE(ads_->send(makeResponse(kLds, "l1", "n-l1", listener("egress", "egress-routes"))));
    auto rds = ads_->waitFor([](const auto& r) { return r.type_url() == kRds && r.resource_names_size() == 1; });
    ASSERT_TRUE(rds) << "the proxy did not subscribe to its listener's route config";
    EXPECT_EQ(rds->resource_names(0), "egress-routes");
    ASSERT_TRUE(ads_->send(makeResponse(kRds, "r1", "n-r1", routes("egress-routes", weights))));
    ASSERT_TRUE(ads_->waitFor(isAck(kRds, "n-r1")));
  }

  uint16_t listenerPort() {
    uint16_t port = 0;
    server_->runOnMain([&] {
      for (const auto& l : server_->listeners()) {
        if (l.name == "egress") port = l.address.port();
      }
    });
    return port;
  }

  int64_t stat(const std::string& name) {
    for (const auto& v : server_->stats().collect()) {
      if (v.name == name) return v.value;
    }
    return -1;
  }

  // Sends n requests on `client` (keep-alive) and counts the bodies.
  std::map<std::string, int> sendRequests(RawClient& client, int n) {
    std::map<std::string, int> seen;
    for (int i = 0; i < n; ++i) {
      if (!client.send(makeRequest("GET", "/", "colorteller.local"))) break;
      auto resp = client.readResponse();
      if (!resp) break;
      seen[resp->status == 200 ? resp->body : std::to_string(resp->status)]++;
    }
    return seen;
  }

  FakeUpstream red_{replyWith(200, "red")};
  FakeUpstream blue_{replyWith(200, "blue")};
  std::unique_ptr<FakeAdsServer> ads_;
  std::unique_ptr<proxy::Server> server_;
  std::thread thread_;
};

TEST_F(XdsProxyTest, FirstRequestsCarryNodeAndWildcards) {
  auto first = ads_->waitFor([](const auto&) { return true; });
  ASSERT_TRUE(first);
  EXPECT_EQ(first->type_url(), kCds);  // clusters first
  EXPECT_EQ(first->node().id(), "mesh/color-mesh/virtualNode/front");
  EXPECT_EQ(first->resource_names_size(), 0);
  EXPECT_TRUE(ads_->waitFor(isType(kLds)));
  EXPECT_FALSE(server_->live());  // not ready before the first config
}

// An admin request on a fresh connection: status and body.
std::pair<int, std::string> adminCall(uint16_t port, const std::string& method, const std::string& path) {
  auto c = RawClient::connect(port);
  if (!c || !c->send(method + " " + path + " HTTP/1.1\r\nhost: admin\r\n\r\n")) return {0, ""};
  auto r = c->readResponse();
  return r ? std::pair<int, std::string>{r->status, r->body} : std::pair<int, std::string>{0, ""};
}

TEST_F(XdsProxyTest, HealthCheckOkBeforeTheFirstConfigDoesNotMakeItReady) {
  // No config yet (initialFetch below answers the proxy's first requests).
  EXPECT_EQ(adminCall(server_->adminPort(), "POST", "/healthcheck/ok").first, 200);
  EXPECT_EQ(adminCall(server_->adminPort(), "GET", "/ready"), (std::pair<int, std::string>{503, "INITIALIZING\n"}));
  EXPECT_EQ(server_->state(), proxy::ServerState::Initializing);
  initialFetch({{"red", 100}});
  EXPECT_EQ(adminCall(server_->adminPort(), "GET", "/ready"), (std::pair<int, std::string>{200, "LIVE\n"}));
}

TEST_F(XdsProxyTest, HealthCheckFailSurvivesAnXdsUpdate) {
  initialFetch({{"red", 100}});
  EXPECT_EQ(adminCall(server_->adminPort(), "POST", "/healthcheck/fail").first, 200);
  EXPECT_EQ(adminCall(server_->adminPort(), "GET", "/ready").first, 503);
  // The next updates of every kind leave the override in place.
  ASSERT_TRUE(ads_->send(makeResponse(kRds, "r2", "n-r2", routes("egress-routes", {{"blue", 100}}))));
  ASSERT_TRUE(ads_->waitFor(isAck(kRds, "n-r2")));
  ASSERT_TRUE(ads_->send(makeResponse(kCds, "c2", "n-c2", edsCluster("red"), edsCluster("blue"))));
  ASSERT_TRUE(ads_->waitFor(isAck(kCds, "n-c2")));
  EXPECT_EQ(adminCall(server_->adminPort(), "GET", "/ready"), (std::pair<int, std::string>{503, "DRAINING\n"}));
  EXPECT_FALSE(server_->live());
  EXPECT_EQ(adminCall(server_->adminPort(), "POST", "/healthcheck/ok").first, 200);
  EXPECT_EQ(adminCall(server_->adminPort(), "GET", "/ready").first, 200);
}

TEST_F(XdsProxyTest, FollowsWeightEditsOnTheSameConnection) {
  initialFetch({{"red", 100}, {"blue", 0}});
  EXPECT_TRUE(server_->live());
  auto client = RawClient::connect(listenerPort());
  ASSERT_TRUE(client);
  EXPECT_EQ(sendRequests(*client, 20), (std::map<std::string, int>{{"red", 20}}));

  ASSERT_TRUE(ads_->send(makeResponse(kRds, "r2", "n-r2", routes("egress-routes", {{"red", 0}, {"blue", 100}}))));
  auto ack = ads_->waitFor(isAck(kRds, "n-r2"));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->version_info(), "r2");
  // The listener did not change: the same connection now reaches blue.
  EXPECT_EQ(sendRequests(*client, 20), (std::map<std::string, int>{{"blue", 20}}));
  EXPECT_EQ(stat("server.xds.rds.update_success"), 2);
}

TEST_F(XdsProxyTest, NackedUpdateChangesNothing) {
  initialFetch({{"red", 100}});
  auto client = RawClient::connect(listenerPort());
  ASSERT_TRUE(client);
  // Weights summing to 0 cannot be served.
  ASSERT_TRUE(ads_->send(makeResponse(kRds, "r2", "n-r2", routes("egress-routes", {{"red", 0}, {"blue", 0}}))));
  auto nack = ads_->waitFor([](const auto& r) { return r.type_url() == kRds && r.response_nonce() == "n-r2"; });
  ASSERT_TRUE(nack);
  ASSERT_TRUE(nack->has_error_detail());
  EXPECT_EQ(nack->version_info(), "r1");  // the last accepted version
  EXPECT_NE(nack->error_detail().message().find("RouteConfiguration 'egress-routes'"), std::string::npos)
      << nack->error_detail().message();
  EXPECT_NE(nack->error_detail().message().find("the weights sum to 0"), std::string::npos);
  EXPECT_EQ(sendRequests(*client, 10), (std::map<std::string, int>{{"red", 10}}));
  EXPECT_EQ(stat("server.xds.rds.update_rejected"), 1);
  // An unsupported cluster type is NACKed too, naming the resource and field.
  auto bad = edsCluster("green");
  bad.set_type(envoy::config::cluster::v3::Cluster::STRICT_DNS);
  ASSERT_TRUE(ads_->send(makeResponse(kCds, "c2", "n-c2", edsCluster("red"), edsCluster("blue"), bad)));
  auto cnack = ads_->waitFor([](const auto& r) { return r.type_url() == kCds && r.response_nonce() == "n-c2"; });
  ASSERT_TRUE(cnack);
  EXPECT_EQ(cnack->error_detail().message(), "Cluster 'green'.type: STRICT_DNS is not supported yet (STATIC, EDS and ORIGINAL_DST are)");
  EXPECT_EQ(sendRequests(*client, 5), (std::map<std::string, int>{{"red", 5}}));
}

TEST_F(XdsProxyTest, ClusterWithoutEndpointsYetAnswers503NC) {
  initialFetch({{"red", 100}});
  // A new cluster arrives, the route moves to it before its endpoints did.
  ASSERT_TRUE(ads_->send(makeResponse(kCds, "c2", "n-c2", edsCluster("red"), edsCluster("blue"), edsCluster("green"))));
  ASSERT_TRUE(ads_->waitFor(isAck(kCds, "n-c2")));
  ASSERT_TRUE(ads_->send(makeResponse(kRds, "r2", "n-r2", routes("egress-routes", {{"green", 100}}))));
  ASSERT_TRUE(ads_->waitFor(isAck(kRds, "n-r2")));
  auto client = RawClient::connect(listenerPort());
  ASSERT_TRUE(client);
  EXPECT_EQ(sendRequests(*client, 3), (std::map<std::string, int>{{"503", 3}}));
  EXPECT_EQ(stat("http.egress.rq_response_flag_NC"), 3);
}

TEST_F(XdsProxyTest, KeepsServingThroughAControlPlaneRestart) {
  initialFetch({{"red", 100}});
  auto client = RawClient::connect(listenerPort());
  ASSERT_TRUE(client);
  int port = ads_->port();
  ads_.reset();  // the control plane goes away
  EXPECT_EQ(sendRequests(*client, 10), (std::map<std::string, int>{{"red", 10}}));
  ads_ = std::make_unique<FakeAdsServer>(port);
  // The proxy comes back by itself and tells the new server what it already has.
  auto cds = ads_->waitFor(isType(kCds), std::chrono::seconds(20));
  ASSERT_TRUE(cds);
  EXPECT_EQ(cds->version_info(), "c1");
  EXPECT_TRUE(cds->has_node());
  auto rds = ads_->waitFor(isType(kRds));
  ASSERT_TRUE(rds);
  EXPECT_EQ(rds->version_info(), "r1");
  EXPECT_EQ(rds->resource_names(0), "egress-routes");
  EXPECT_EQ(sendRequests(*client, 5), (std::map<std::string, int>{{"red", 5}}));
  ASSERT_TRUE(ads_->send(makeResponse(kRds, "r2", "n-r2", routes("egress-routes", {{"blue", 100}}))));
  ASSERT_TRUE(ads_->waitFor(isAck(kRds, "n-r2")));
  EXPECT_EQ(sendRequests(*client, 5), (std::map<std::string, int>{{"blue", 5}}));
}

TEST_F(XdsProxyTest, ChangedListenerDrainsOldConnectionsAndServesOnTheNewOne) {
  initialFetch({{"red", 100}});
  uint16_t old_port = listenerPort();
  auto client = RawClient::connect(old_port);
  ASSERT_TRUE(client);
  EXPECT_EQ(sendRequests(*client, 2), (std::map<std::string, int>{{"red", 2}}));
  // Same name, different settings: the listener is replaced.
  auto changed = listener("egress", "egress-routes");
  ASSERT_TRUE(ads_->send(makeResponse(kLds, "l2", "n-l2", changed, listener("other", "egress-routes"))));
  ASSERT_TRUE(ads_->waitFor(isAck(kLds, "n-l2")));
  // An unchanged listener ("egress" is byte-identical) keeps its socket and connection.
  EXPECT_EQ(listenerPort(), old_port);
  EXPECT_EQ(sendRequests(*client, 2), (std::map<std::string, int>{{"red", 2}}));
  // Now really change it: the idle connection is closed by the drain.
  auto http_changed = listener("egress", "egress-routes");
  http_changed.mutable_address()->mutable_socket_address()->set_port_value(0);
  http_changed.set_traffic_direction(envoy::config::core::v3::OUTBOUND);
  ASSERT_TRUE(ads_->send(makeResponse(kLds, "l3", "n-l3", http_changed)));
  ASSERT_TRUE(ads_->waitFor(isAck(kLds, "n-l3")));
  EXPECT_TRUE(client->closedByPeer());
  auto fresh = RawClient::connect(listenerPort());
  ASSERT_TRUE(fresh);
  EXPECT_EQ(sendRequests(*fresh, 2), (std::map<std::string, int>{{"red", 2}}));
}

TEST_F(XdsProxyTest, ListenerOnAPortInUseIsNackedAndDoesNotPoisonLaterUpdates) {
  initialFetch({{"red", 100}});
  // Something else holds a port; a listener asking for it cannot be bound.
  int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(holder, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  auto taken = listener("taken", "egress-routes");
  taken.mutable_address()->mutable_socket_address()->set_port_value(ntohs(addr.sin_port));
  ASSERT_TRUE(ads_->send(makeResponse(kLds, "l2", "n-l2", listener("egress", "egress-routes"), taken)));
  auto nack = ads_->waitFor([](const auto& r) { return r.type_url() == kLds && r.response_nonce() == "n-l2"; });
  ASSERT_TRUE(nack);
  ASSERT_TRUE(nack->has_error_detail());
  EXPECT_NE(nack->error_detail().message().find("listener 'taken': cannot listen on"), std::string::npos)
      << nack->error_detail().message();
  EXPECT_EQ(nack->version_info(), "l1");
  // The rejected listener is not kept: the next update of another type is accepted.
  ASSERT_TRUE(ads_->send(makeResponse(kRds, "r2", "n-r2", routes("egress-routes", {{"blue", 100}}))));
  ASSERT_TRUE(ads_->waitFor(isAck(kRds, "n-r2")));
  auto client = RawClient::connect(listenerPort());
  ASSERT_TRUE(client);
  EXPECT_EQ(sendRequests(*client, 3), (std::map<std::string, int>{{"blue", 3}}));
  ::close(holder);
}

TEST(XdsBootstrapTest, RejectsUnsupportedConfigSources) {
  auto yaml = bootstrapYaml(1);
  auto pos = yaml.find("lds_config: {ads: {}");
  yaml.replace(pos, std::string("lds_config: {ads: {}").size(), "lds_config: {path: /etc/lds.yaml");
  auto b = config::parseBootstrap(yaml, "x.yaml");
  ASSERT_TRUE(b.ok()) << b.status();
  auto s = proxy::Server::create(*b, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "dynamic_resources.lds_config: only ads: {} is supported (everything comes over one ADS stream)");
}

}  // namespace
}  // namespace trellis::tests
