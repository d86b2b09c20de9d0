// StreamState without gRPC: the protocol decisions one request at a time, and the type URL
// constants against the descriptors of xds/api.
#include "xds/server/stream_state.h"

#include <gtest/gtest.h>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "xds/api/known_types.h"
#include "xds/server/test_support.h"

namespace trellis::xds::server {
namespace {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

DiscoveryRequest req(std::string_view type, std::vector<std::string> names = {}, std::string version = "",
                     std::string nonce = "", std::string error = "") {
  DiscoveryRequest r;
  r.set_type_url(std::string(type));
  for (auto& n : names) r.add_resource_names(n);
  r.set_version_info(version);
  r.set_response_nonce(nonce);
  if (!error.empty()) r.mutable_error_detail()->set_message(error);
  return r;
}

std::shared_ptr<const NodeSnapshot> snapshotOf(NodeResources resources, uint64_t generation) {
  auto s = std::make_shared<NodeSnapshot>();
  s->generation = generation;
  s->types = versionTypes(std::move(resources));
  return s;
}

TEST(StreamStateTest, TypeUrlsMatchTheApi) {
  EXPECT_EQ(kListenerType, api::typeUrl(*envoy::config::listener::v3::Listener::descriptor()));
  EXPECT_EQ(kRouteType, api::typeUrl(*envoy::config::route::v3::RouteConfiguration::descriptor()));
  EXPECT_EQ(kClusterType, api::typeUrl(*envoy::config::cluster::v3::Cluster::descriptor()));
  EXPECT_EQ(kEndpointType, api::typeUrl(*envoy::config::endpoint::v3::ClusterLoadAssignment::descriptor()));
  for (const auto* type : api::resourceTypes()) EXPECT_TRUE(isServedType(api::typeUrl(*type)));
}

TEST(StreamStateTest, OneUnansweredResponsePerTypeAndCoalescing) {
  NodeResources r;
  r.by_type[std::string(kClusterType)]["a"] = testing::clusterAny("a", 1);
  auto v1 = snapshotOf(r, 1);
  r.by_type[std::string(kClusterType)]["a"] = testing::clusterAny("a", 2);
  auto v2 = snapshotOf(r, 2);
  r.by_type[std::string(kClusterType)]["a"] = testing::clusterAny("a", 3);
  auto v3 = snapshotOf(r, 3);

  StreamState state;
  EXPECT_EQ(state.onRequest(req(kClusterType)).kind, StreamState::Kind::kSubscribe);
  DiscoveryResponse first;
  ASSERT_TRUE(state.nextResponse(*v1, first));
  EXPECT_EQ(first.version_info(), v1->find(kClusterType)->version);
  // Two changes before the ACK: nothing is sent until the answer, then only the latest.
  DiscoveryResponse none;
  EXPECT_FALSE(state.nextResponse(*v2, none));
  EXPECT_FALSE(state.nextResponse(*v3, none));
  auto ack = state.onRequest(req(kClusterType, {}, first.version_info(), first.nonce()));
  EXPECT_EQ(ack.kind, StreamState::Kind::kAck);
  EXPECT_EQ(ack.version, first.version_info());
  DiscoveryResponse latest;
  ASSERT_TRUE(state.nextResponse(*v3, latest));
  EXPECT_EQ(latest.version_info(), v3->find(kClusterType)->version);
  EXPECT_NE(latest.nonce(), first.nonce());

  // A repeated ACK of the older response is stale; the NACK of the latest names its version.
  EXPECT_EQ(state.onRequest(req(kClusterType, {}, first.version_info(), first.nonce())).kind,
            StreamState::Kind::kStale);
  auto nack = state.onRequest(req(kClusterType, {}, first.version_info(), latest.nonce(), "no"));
  EXPECT_EQ(nack.kind, StreamState::Kind::kNack);
  EXPECT_EQ(nack.version, latest.version_info());
  EXPECT_EQ(nack.error, "no");
  EXPECT_FALSE(state.nextResponse(*v3, none));
  // Once answered, a repeat with the latest nonce is only an update.
  EXPECT_EQ(state.onRequest(req(kClusterType, {}, first.version_info(), latest.nonce())).kind,
            StreamState::Kind::kUpdate);
  EXPECT_FALSE(state.nextResponse(*v3, none));
}

TEST(StreamStateTest, EmptyNamesAreNothingForRoutesAndEverythingForClusters) {
  NodeResources r;
  r.by_type[std::string(kRouteType)]["r"] = testing::routeAny("r", "h");
  r.by_type[std::string(kClusterType)]["c"] = testing::clusterAny("c", 1);
  auto s = snapshotOf(r, 1);
  StreamState state;
  state.onRequest(req(kRouteType));
  state.onRequest(req(kClusterType));
  DiscoveryResponse a;
  DiscoveryResponse b;
  ASSERT_TRUE(state.nextResponse(*s, a));
  ASSERT_TRUE(state.nextResponse(*s, b));
  EXPECT_EQ(a.type_url(), kClusterType);
  EXPECT_EQ(a.resources_size(), 1);
  EXPECT_EQ(b.type_url(), kRouteType);
  EXPECT_EQ(b.resources_size(), 0);
  // "*" asks for everything of any type.
  state.onRequest(req(kRouteType, {"*"}, b.version_info(), b.nonce()));
  DiscoveryResponse c;
  ASSERT_TRUE(state.nextResponse(*s, c));
  EXPECT_EQ(c.resources_size(), 1);
}

}  // namespace
}  // namespace trellis::xds::server
