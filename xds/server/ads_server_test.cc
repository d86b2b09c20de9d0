// The ADS server over real gRPC on 127.0.0.1: subscriptions, ACK/NACK, nonces, reconnects and push
// order, observed through a blocking client. "Nothing was sent" is proven without waiting: the
// client then asks for something else, and the next response must be that one (a stream answers
// its requests in order).
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "xds/server/ads_server.h"
#include "xds/server/snapshot_cache.h"
#include "xds/server/test_support.h"

namespace trellis::xds::server {
namespace {

using envoy::service::discovery::v3::DiscoveryResponse;
using testing::AckWaiter;
using testing::AdsTestClient;
using testing::clusterAny;
using testing::endpointsAny;
using testing::listenerAny;
using testing::resourceNames;
using testing::routeAny;

const std::string kLds(kListenerType);
const std::string kRds(kRouteType);
const std::string kCds(kClusterType);
const std::string kEds(kEndpointType);

// Two resources of each type; `generation` changes the content of the types listed in `bump`.
NodeResources twoOfEach(int listener_port = 8080, int timeout = 1, const std::string& vhost = "a",
                        int endpoint_port = 9000) {
  NodeResources r;
  r.by_type[kLds]["in"] = listenerAny("in", listener_port);
  r.by_type[kLds]["out"] = listenerAny("out", 15001);
  r.by_type[kCds]["blue"] = clusterAny("blue", timeout);
  r.by_type[kCds]["green"] = clusterAny("green", 2);
  r.by_type[kRds]["r1"] = routeAny("r1", vhost);
  r.by_type[kRds]["r2"] = routeAny("r2", "b");
  r.by_type[kEds]["blue"] = endpointsAny("blue", endpoint_port);
  r.by_type[kEds]["green"] = endpointsAny("green", 9001);
  return r;
}

class AdsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    auto started = AdsServer::start(cache_, "127.0.0.1:0");
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    ASSERT_GT(server_->port(), 0);
  }
  void TearDown() override {
    if (server_) server_->shutdown();
  }

  const SnapshotCache::TypeStatus* typeStatus(const std::string& node, const std::string& type_url) {
    statuses_ = cache_.status();
    for (const auto& n : statuses_) {
      if (n.node_id != node) continue;
      for (const auto& t : n.types) {
        if (t.type_url == type_url) return &t;
      }
    }
    return nullptr;
  }

  // Subscribes to all four types (RDS r1, EDS blue) and ACKs each first response; returns them.
  std::map<std::string, DiscoveryResponse> subscribeAll(AdsTestClient& client) {
    std::map<std::string, DiscoveryResponse> got;
    const std::vector<std::pair<std::string, std::vector<std::string>>> subscriptions = {
        {kCds, {}}, {kEds, {"blue"}}, {kLds, {}}, {kRds, {"r1"}}};
    for (const auto& [type, names] : subscriptions) {
      client.request(type, names);
      DiscoveryResponse response = client.read();
      EXPECT_EQ(response.type_url(), type);
      client.ack(response, names);
      got[type] = response;
    }
    return got;
  }

  SnapshotCache cache_;
  AckWaiter acks_{cache_};  // declared before the server: outlives every stream
  std::unique_ptr<AdsServer> server_;
  std::vector<SnapshotCache::NodeStatus> statuses_;
};

TEST_F(AdsServerTest, WildcardTypesGetEverythingNamedTypesOnlyWhatWasAsked) {
  cache_.setResources("n1", twoOfEach());
  AdsTestClient client(server_->port(), "n1");

  client.request(kLds, {});
  DiscoveryResponse lds = client.read();
  EXPECT_EQ(lds.type_url(), kLds);
  EXPECT_EQ(resourceNames(lds), (std::set<std::string>{"in", "out"}));
  EXPECT_FALSE(lds.nonce().empty());
  EXPECT_EQ(lds.version_info(), typeStatus("n1", kLds)->version);
  client.ack(lds);

  client.request(kCds, {"*"});
  DiscoveryResponse cds = client.read();
  EXPECT_EQ(resourceNames(cds), (std::set<std::string>{"blue", "green"}));
  EXPECT_NE(cds.nonce(), lds.nonce());
  client.ack(cds, {"*"});

  client.request(kRds, {"r1"});
  DiscoveryResponse rds = client.read();
  EXPECT_EQ(resourceNames(rds), (std::set<std::string>{"r1"}));
  client.ack(rds, {"r1"});

  client.request(kEds, {"green", "no-such-cluster"});
  DiscoveryResponse eds = client.read();
  EXPECT_EQ(resourceNames(eds), (std::set<std::string>{"green"}));

  // The ACK of EDS widens the subscription: a new response with the new set, same version.
  client.ack(eds, {"green", "blue"});
  DiscoveryResponse eds2 = client.read();
  EXPECT_EQ(eds2.type_url(), kEds);
  EXPECT_EQ(resourceNames(eds2), (std::set<std::string>{"blue", "green"}));
  EXPECT_EQ(eds2.version_info(), eds.version_info());
  EXPECT_NE(eds2.nonce(), eds.nonce());
  client.ack(eds2, {"green", "blue"});

  // Narrowing RDS to nothing of what exists is answered too (with no resources).
  client.request(kRds, {"r9"}, rds.version_info(), rds.nonce());
  DiscoveryResponse rds2 = client.read();
  EXPECT_EQ(rds2.type_url(), kRds);
  EXPECT_TRUE(rds2.resources().empty());
  EXPECT_TRUE(client.close().ok());
}

TEST_F(AdsServerTest, NodeWithoutResourcesIsServedWhenTheyArrive) {
  AdsTestClient client(server_->port(), "late");
  client.request(kCds, {});
  client.request(kLds, {});
  // Whenever the requests are processed relative to setResources, CDS is due first (it was asked
  // first, or both are due and clusters go before listeners).
  cache_.setResources("late", twoOfEach());
  DiscoveryResponse first = client.read();
  DiscoveryResponse second = client.read();
  EXPECT_EQ(first.type_url(), kCds);
  EXPECT_EQ(second.type_url(), kLds);
  EXPECT_EQ(resourceNames(first), (std::set<std::string>{"blue", "green"}));
  EXPECT_EQ(resourceNames(second), (std::set<std::string>{"in", "out"}));
}

TEST_F(AdsServerTest, UnknownTypeIsNotAnsweredAndStreamWithoutNodeIsRefused) {
  cache_.setResources("n1", twoOfEach());
  AdsTestClient client(server_->port(), "n1");
  client.request("type.googleapis.com/envoy.config.core.v3.Secret", {});
  client.request(kLds, {});
  EXPECT_EQ(client.read().type_url(), kLds);

  AdsTestClient anonymous(server_->port(), "");
  anonymous.request(kLds, {});
  grpc::Status status = anonymous.close();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("node.id"), std::string::npos) << status.error_message();
}

TEST_F(AdsServerTest, NewResourcesPushOnlyTheChangedTypesWithNewVersionsAndNonces) {
  cache_.setResources("n1", twoOfEach());
  AdsTestClient client(server_->port(), "n1");
  auto first = subscribeAll(client);
  ASSERT_TRUE(acks_.waitFor("n1", kRds, first[kRds].version_info()));
  const auto* cds_status = typeStatus("n1", kCds);
  ASSERT_NE(cds_status, nullptr);
  EXPECT_EQ(cds_status->version_acked, first[kCds].version_info());

  // Same content again: nothing changes.
  cache_.setResources("n1", twoOfEach());
  // Only the clusters change.
  cache_.setResources("n1", twoOfEach(8080, /*timeout=*/7));
  DiscoveryResponse cds = client.read();
  EXPECT_EQ(cds.type_url(), kCds);
  EXPECT_NE(cds.version_info(), first[kCds].version_info());
  for (const auto& [type, response] : first) EXPECT_NE(cds.nonce(), response.nonce());
  client.ack(cds);
  ASSERT_TRUE(acks_.waitFor("n1", kCds, cds.version_info()));

  // Nothing else was due: the next response answers a new subscription, not LDS/RDS/EDS.
  client.request(kEds, {"blue", "green"}, first[kEds].version_info(), first[kEds].nonce());
  DiscoveryResponse eds = client.read();
  EXPECT_EQ(eds.type_url(), kEds);
  EXPECT_EQ(eds.version_info(), first[kEds].version_info());

  SnapshotCache::Totals totals = cache_.totals();
  EXPECT_EQ(totals.responses_sent, 6u);
  EXPECT_EQ(totals.acks, 5u);
  EXPECT_EQ(totals.nacks, 0u);
}

TEST_F(AdsServerTest, NackIsRecordedNotResentAndTheNextChangeIsSent) {
  cache_.setResources("n1", twoOfEach());
  AdsTestClient client(server_->port(), "n1");
  client.request(kCds, {});
  DiscoveryResponse v1 = client.read();
  client.ack(v1);

  cache_.setResources("n1", twoOfEach(8080, 3));
  DiscoveryResponse v2 = client.read();
  ASSERT_EQ(v2.type_url(), kCds);
  client.nack(v2, v1.version_info(), "cluster 'blue': unsupported field");

  // Not resent: the next response answers the LDS subscription.
  client.request(kLds, {});
  DiscoveryResponse lds = client.read();
  EXPECT_EQ(lds.type_url(), kLds);
  client.ack(lds);

  const auto* status = typeStatus("n1", kCds);
  ASSERT_NE(status, nullptr);
  ASSERT_TRUE(status->last_nack.has_value());
  EXPECT_EQ(status->last_nack->version, v2.version_info());
  EXPECT_EQ(status->last_nack->message, "cluster 'blue': unsupported field");
  EXPECT_EQ(status->version_acked, v1.version_info());
  EXPECT_EQ(status->version_sent, v2.version_info());
  EXPECT_EQ(status->nacks, 1u);
  EXPECT_EQ(cache_.totals().nacks, 1u);

  // A later change is sent.
  cache_.setResources("n1", twoOfEach(8080, 4));
  DiscoveryResponse v3 = client.read();
  EXPECT_EQ(v3.type_url(), kCds);
  EXPECT_NE(v3.version_info(), v2.version_info());
  EXPECT_NE(v3.version_info(), v1.version_info());
  client.ack(v3);
  EXPECT_TRUE(acks_.waitFor("n1", kCds, v3.version_info()));
}

TEST_F(AdsServerTest, StaleNonceIsIgnored) {
  cache_.setResources("n1", twoOfEach());
  AdsTestClient client(server_->port(), "n1");
  client.request(kRds, {"r1"});
  DiscoveryResponse r1 = client.read();
  client.ack(r1, {"r1"});

  cache_.setResources("n1", twoOfEach(8080, 1, "changed"));
  DiscoveryResponse r2 = client.read();
  ASSERT_EQ(r2.type_url(), kRds);
  ASSERT_NE(r2.version_info(), r1.version_info());

  // Requests that answer the older response: a NACK and a subscription change. Both ignored.
  client.request(kRds, {"r1"}, r1.version_info(), r1.nonce(), "late complaint");
  client.request(kRds, {"r1", "r2"}, r1.version_info(), r1.nonce());
  client.request(kLds, {});
  DiscoveryResponse lds = client.read();
  EXPECT_EQ(lds.type_url(), kLds);
  EXPECT_EQ(cache_.totals().stale_requests, 2u);
  EXPECT_EQ(cache_.totals().nacks, 0u);
  EXPECT_FALSE(typeStatus("n1", kRds)->last_nack.has_value());

  // The ACK of the latest response carries the new subscription and is answered.
  client.ack(r2, {"r1", "r2"});
  DiscoveryResponse r3 = client.read();
  EXPECT_EQ(r3.type_url(), kRds);
  EXPECT_EQ(resourceNames(r3), (std::set<std::string>{"r1", "r2"}));
  EXPECT_EQ(r3.version_info(), r2.version_info());
  EXPECT_TRUE(acks_.waitFor("n1", kRds, r2.version_info()));
}

TEST_F(AdsServerTest, ReconnectWithCurrentVersionIsNotResentWithOldVersionIs) {
  cache_.setResources("n1", twoOfEach());
  std::string lds_version;
  std::string cds_version;
  {
    AdsTestClient client(server_->port(), "n1");
    client.request(kLds, {});
    DiscoveryResponse lds = client.read();
    client.ack(lds);
    client.request(kCds, {});
    DiscoveryResponse cds = client.read();
    client.ack(cds);
    lds_version = lds.version_info();
    cds_version = cds.version_info();
    EXPECT_TRUE(client.close().ok());
  }
  // Clusters change while the proxy is away.
  cache_.setResources("n1", twoOfEach(8080, 9));

  AdsTestClient again(server_->port(), "n1");
  again.request(kLds, {}, lds_version, "1");  // holds the current listeners
  again.request(kCds, {}, cds_version, "2");  // holds old clusters
  DiscoveryResponse cds = again.read();
  EXPECT_EQ(cds.type_url(), kCds);
  EXPECT_NE(cds.version_info(), cds_version);
  again.ack(cds);

  // The listener subscription is live: a change is pushed.
  cache_.setResources("n1", twoOfEach(8081, 9));
  DiscoveryResponse lds = again.read();
  EXPECT_EQ(lds.type_url(), kLds);
  EXPECT_NE(lds.version_info(), lds_version);
}

TEST_F(AdsServerTest, AllTypesChangingArePushedClustersEndpointsListenersRoutes) {
  cache_.setResources("n1", twoOfEach());
  AdsTestClient client(server_->port(), "n1");
  auto first = subscribeAll(client);
  ASSERT_TRUE(acks_.waitFor("n1", kRds, first[kRds].version_info()));

  cache_.setResources("n1", twoOfEach(8090, 5, "z", 9100));
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) {
    DiscoveryResponse response = client.read();
    EXPECT_NE(response.version_info(), first[response.type_url()].version_info());
    order.push_back(response.type_url());
  }
  EXPECT_EQ(order, (std::vector<std::string>{kCds, kEds, kLds, kRds}));
}

TEST_F(AdsServerTest, RemovedNodeKeepsItsStreamAndIsServedAgain) {
  cache_.setResources("n1", twoOfEach());
  AdsTestClient client(server_->port(), "n1");
  client.request(kLds, {});
  DiscoveryResponse lds = client.read();
  client.ack(lds);
  ASSERT_TRUE(acks_.waitFor("n1", kLds, lds.version_info()));

  cache_.removeNode("n1");
  auto statuses = cache_.status();
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_FALSE(statuses[0].has_resources);
  EXPECT_EQ(statuses[0].connected_streams, 1);

  // Back with the same listeners: nothing to send; with new ones: sent.
  cache_.setResources("n1", twoOfEach());
  cache_.setResources("n1", twoOfEach(8081));
  DiscoveryResponse next = client.read();
  EXPECT_EQ(next.type_url(), kLds);
  EXPECT_NE(next.version_info(), lds.version_info());
}

TEST(SnapshotCacheTest, VersionsFollowContentPerType) {
  SnapshotCache cache;
  cache.setResources("n", twoOfEach());
  auto before = cache.status();
  cache.setResources("n", twoOfEach(8080, 1, "a", 9999));
  auto after = cache.status();
  ASSERT_EQ(before.size(), 1u);
  ASSERT_EQ(before[0].types.size(), 4u);
  std::map<std::string, std::string> v1;
  std::map<std::string, std::string> v2;
  for (const auto& t : before[0].types) v1[t.type_url] = t.version;
  for (const auto& t : after[0].types) v2[t.type_url] = t.version;
  EXPECT_EQ(v1[kLds], v2[kLds]);
  EXPECT_EQ(v1[kCds], v2[kCds]);
  EXPECT_EQ(v1[kRds], v2[kRds]);
  EXPECT_NE(v1[kEds], v2[kEds]);
  // Push order in the status too.
  EXPECT_EQ(after[0].types[0].type_url, kCds);
  EXPECT_EQ(after[0].types[3].type_url, kRds);

  // Another cache with the same content computes the same versions (restart-stable).
  SnapshotCache other;
  other.setResources("n", twoOfEach(8080, 1, "a", 9999));
  const auto other_status = other.status();
  for (const auto& t : other_status[0].types) EXPECT_EQ(v2[t.type_url], t.version);

  cache.removeNode("n");
  EXPECT_TRUE(cache.status().empty());
}

}  // namespace
}  // namespace trellis::xds::server
