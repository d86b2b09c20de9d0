// XdsState without a stream: what a re-warming EDS cluster serves while its new endpoints are
// fetched. Regression test for the "frozen" cluster that was rebuilt from compiled endpoints and
// so forgot the health_status EDS had sent (UNHEALTHY hosts got traffic while it re-warmed).
#include "proxy/server/xds_state.h"

#include <gtest/gtest.h>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "xds/api/known_types.h"

namespace trellis::proxy {
namespace {

using ClusterProto = envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;

const std::string kClusterType = xds::api::typeUrl(*ClusterProto::descriptor());
const std::string kEndpointType = xds::api::typeUrl(*ClusterLoadAssignment::descriptor());

ClusterProto edsCluster(const std::string& service) {
  ClusterProto c;
  c.set_name("backend");
  c.set_type(ClusterProto::EDS);
  c.mutable_eds_cluster_config()->set_service_name(service);
  return c;
}

void addEndpoint(ClusterLoadAssignment& cla, uint32_t port, envoy::config::core::v3::HealthStatus health) {
  auto* lbe = cla.mutable_endpoints()->Mutable(0)->add_lb_endpoints();
  auto* sa = lbe->mutable_endpoint()->mutable_address()->mutable_socket_address();
  sa->set_address("127.0.0.1");
  sa->set_port_value(port);
  lbe->set_health_status(health);
}

template <class T>
std::vector<google::protobuf::Any> pack(const T& m) {
  google::protobuf::Any any;
  any.PackFrom(m);
  return {any};
}

class XdsStateTest : public ::testing::Test {
 protected:
  absl::Status apply(const std::string& type, std::vector<google::protobuf::Any> resources, const std::string& version) {
    return state_.apply(type, resources, version, stats_, [&](std::shared_ptr<const Snapshot> s) {
      installed_ = std::move(s);
      return absl::OkStatus();
    });
  }
  const Cluster* backend() {
    for (const auto& c : installed_->clusters) {
      if (c->name == "backend") return c.get();
    }
    return nullptr;
  }

  envoy::config::bootstrap::v3::Bootstrap bootstrap_;
  XdsState state_{bootstrap_};
  StatsStore stats_{2};
  std::shared_ptr<const Snapshot> installed_;
};

TEST_F(XdsStateTest, ReWarmingClusterKeepsEdsHealth) {
  ASSERT_TRUE(apply(kClusterType, pack(edsCluster("backend-v1")), "1").ok());
  EXPECT_EQ(backend(), nullptr) << "warming: no endpoints yet";

  ClusterLoadAssignment cla;
  cla.set_cluster_name("backend-v1");
  cla.add_endpoints();
  addEndpoint(cla, 8001, envoy::config::core::v3::HEALTHY);
  addEndpoint(cla, 8002, envoy::config::core::v3::UNHEALTHY);
  addEndpoint(cla, 8003, envoy::config::core::v3::DRAINING);
  ASSERT_TRUE(apply(kEndpointType, pack(cla), "1").ok());
  ASSERT_NE(backend(), nullptr);

  // CDS moves the cluster to a service whose endpoints have not arrived: it re-warms and keeps
  // serving what it had, with the health EDS declared.
  ASSERT_TRUE(apply(kClusterType, pack(edsCluster("backend-v2")), "2").ok());
  const Cluster* c = backend();
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->endpoints.size(), 3u);
  EXPECT_EQ(c->endpoints[0].eds_health, EdsHealth::Healthy);
  EXPECT_EQ(c->endpoints[1].eds_health, EdsHealth::Unhealthy);
  EXPECT_EQ(c->endpoints[2].eds_health, EdsHealth::Draining);
  EXPECT_EQ(c->endpoints[1].address.port(), 8002);

  // Still re-warming after an unrelated CDS update: the kept assignment carries over.
  ASSERT_TRUE(apply(kClusterType, pack(edsCluster("backend-v2")), "3").ok());
  ASSERT_NE(backend(), nullptr);
  EXPECT_EQ(backend()->endpoints[1].eds_health, EdsHealth::Unhealthy);

  // The new service's endpoints arrive: they replace the kept ones.
  ClusterLoadAssignment v2;
  v2.set_cluster_name("backend-v2");
  v2.add_endpoints();
  addEndpoint(v2, 9001, envoy::config::core::v3::UNKNOWN);
  ASSERT_TRUE(apply(kEndpointType, pack(v2), "2").ok());
  ASSERT_EQ(backend()->endpoints.size(), 1u);
  EXPECT_EQ(backend()->endpoints[0].address.port(), 9001);
}

TEST_F(XdsStateTest, RejectedUpdateKeepsNoAssignment) {
  ASSERT_TRUE(apply(kClusterType, pack(edsCluster("backend-v1")), "1").ok());
  ClusterLoadAssignment cla;
  cla.set_cluster_name("backend-v1");
  cla.add_endpoints();
  addEndpoint(cla, 8001, envoy::config::core::v3::UNHEALTHY);
  // An install that fails (e.g. a port in use) must not make this assignment the kept one.
  auto st = state_.apply(kEndpointType, pack(cla), "1", stats_,
                         [](std::shared_ptr<const Snapshot>) { return absl::UnavailableError("install failed"); });
  ASSERT_FALSE(st.ok());
  ASSERT_TRUE(apply(kClusterType, pack(edsCluster("backend-v2")), "2").ok());
  EXPECT_EQ(backend(), nullptr) << "never compiled with endpoints: still warming";
}

}  // namespace
}  // namespace trellis::proxy
