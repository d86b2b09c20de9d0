// The client's protocol state against a scripted server: ACK, NACK with the last accepted
// version, nonces, subscriptions, and the requests of a new stream. Plus the backoff.
#include "xds/client/ads_mux.h"

#include <gtest/gtest.h>

#include "xds/client/backoff.h"

namespace trellis::xds::client {
namespace {

using Request = AdsMux::Request;
using Response = AdsMux::Response;

class AdsMuxTest : public ::testing::Test {
 protected:
  AdsMuxTest()
      : mux_(node(), [this](const Request& r) { sent_.push_back(r); },
             [this](const std::string& type, const std::vector<google::protobuf::Any>& res, const std::string& v) {
               seen_.push_back({type, res.size(), v});
               return reject_ ? absl::InvalidArgumentError("Cluster 'x': type: STRICT_DNS is not supported yet")
                              : absl::OkStatus();
             }) {}

  static envoy::config::core::v3::Node node() {
    envoy::config::core::v3::Node n;
    n.set_id("mesh/m/virtualNode/front");
    return n;
  }

  // A response of `type` with n (empty) resources of that type; `resource_type` overrides the
  // resources' type to make a malformed response.
  static Response response(const std::string& type, const std::string& version, const std::string& nonce, int n = 1,
                           const std::string& resource_type = "") {
    Response r;
    r.set_type_url(type);
    r.set_version_info(version);
    r.set_nonce(nonce);
    for (int i = 0; i < n; ++i) r.add_resources()->set_type_url(resource_type.empty() ? type : resource_type);
    return r;
  }

  struct Seen {
    std::string type;
    size_t count;
    std::string version;
  };
  std::vector<Request> sent_;
  std::vector<Seen> seen_;
  bool reject_ = false;
  AdsMux mux_;
};

TEST_F(AdsMuxTest, NewStreamSendsWildcardsFirstWithNodeOnce) {
  mux_.subscribeWildcard(kListenerType);
  mux_.subscribeWildcard(kClusterType);
  EXPECT_TRUE(sent_.empty());  // not connected yet
  mux_.onStreamEstablished();
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[0].type_url(), kClusterType);  // clusters before listeners
  EXPECT_EQ(sent_[1].type_url(), kListenerType);
  EXPECT_TRUE(sent_[0].has_node());
  EXPECT_EQ(sent_[0].node().id(), "mesh/m/virtualNode/front");
  EXPECT_FALSE(sent_[1].has_node());
  EXPECT_EQ(sent_[0].resource_names_size(), 0);
  EXPECT_EQ(sent_[0].version_info(), "");
  EXPECT_EQ(sent_[0].response_nonce(), "");
}

TEST_F(AdsMuxTest, AckCarriesVersionAndNonce) {
  mux_.subscribeWildcard(kClusterType);
  mux_.onStreamEstablished();
  sent_.clear();
  mux_.onResponse(response(kClusterType, "v1", "n1", 2));
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_EQ(seen_[0].count, 2u);
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].version_info(), "v1");
  EXPECT_EQ(sent_[0].response_nonce(), "n1");
  EXPECT_FALSE(sent_[0].has_error_detail());
  EXPECT_EQ(mux_.types().at(kClusterType).accepted, 1u);
}

TEST_F(AdsMuxTest, NackKeepsTheLastAcceptedVersionAndSaysWhy) {
  mux_.subscribeWildcard(kClusterType);
  mux_.onStreamEstablished();
  mux_.onResponse(response(kClusterType, "v1", "n1"));
  sent_.clear();
  reject_ = true;
  mux_.onResponse(response(kClusterType, "v2", "n2"));
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].version_info(), "v1");
  EXPECT_EQ(sent_[0].response_nonce(), "n2");
  ASSERT_TRUE(sent_[0].has_error_detail());
  EXPECT_EQ(sent_[0].error_detail().code(), 3);  // INVALID_ARGUMENT
  EXPECT_EQ(sent_[0].error_detail().message(), "Cluster 'x': type: STRICT_DNS is not supported yet");
  EXPECT_EQ(mux_.types().at(kClusterType).version, "v1");
  EXPECT_EQ(mux_.types().at(kClusterType).rejected, 1u);
  // The next good response is ACKed with its own version.
  reject_ = false;
  sent_.clear();
  mux_.onResponse(response(kClusterType, "v3", "n3"));
  EXPECT_EQ(sent_[0].version_info(), "v3");
  EXPECT_FALSE(sent_[0].has_error_detail());
}

TEST_F(AdsMuxTest, ResourceOfTheWrongTypeIsNacked) {
  mux_.subscribeWildcard(kListenerType);
  mux_.onStreamEstablished();
  sent_.clear();
  mux_.onResponse(response(kListenerType, "v1", "n1", 1, kClusterType));
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_TRUE(sent_[0].has_error_detail());
  EXPECT_TRUE(seen_.empty());
}

TEST_F(AdsMuxTest, NamedSubscriptionsFollowReferences) {
  mux_.subscribeWildcard(kListenerType);
  mux_.onStreamEstablished();
  sent_.clear();
  mux_.setNames(kRouteType, {"outbound", "inbound"});
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].type_url(), kRouteType);
  ASSERT_EQ(sent_[0].resource_names_size(), 2);
  EXPECT_EQ(sent_[0].resource_names(0), "inbound");
  sent_.clear();
  mux_.setNames(kRouteType, {"outbound", "inbound"});  // unchanged: nothing sent
  EXPECT_TRUE(sent_.empty());
  mux_.onResponse(response(kRouteType, "r1", "rn1"));
  sent_.clear();
  mux_.setNames(kRouteType, {"outbound"});
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].version_info(), "r1");
  EXPECT_EQ(sent_[0].response_nonce(), "rn1");
  EXPECT_EQ(sent_[0].resource_names_size(), 1);
}

TEST_F(AdsMuxTest, ReconnectResendsAcceptedVersionsAndSubscriptions) {
  mux_.subscribeWildcard(kClusterType);
  mux_.setNames(kEndpointType, {"red", "blue"});
  mux_.onStreamEstablished();
  mux_.onResponse(response(kClusterType, "c7", "n1"));
  mux_.onStreamClosed();
  sent_.clear();
  mux_.setNames(kEndpointType, {"red", "blue", "green"});  // while down: remembered, not sent
  EXPECT_TRUE(sent_.empty());
  mux_.onStreamEstablished();
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[0].type_url(), kClusterType);
  EXPECT_EQ(sent_[0].version_info(), "c7");
  EXPECT_EQ(sent_[0].response_nonce(), "");  // nonces belong to the old stream
  EXPECT_TRUE(sent_[0].has_node());
  EXPECT_EQ(sent_[1].type_url(), kEndpointType);
  EXPECT_EQ(sent_[1].resource_names_size(), 3);
}

TEST_F(AdsMuxTest, UnrequestedTypesAreIgnored) {
  mux_.onStreamEstablished();
  mux_.onResponse(response(kClusterType, "v1", "n1"));
  EXPECT_TRUE(sent_.empty());
  EXPECT_TRUE(seen_.empty());
}

TEST(BackoffTest, JitteredExponentialCappedAndReset) {
  Backoff b(std::chrono::milliseconds(500), std::chrono::milliseconds(30000), 7);
  int64_t expected_base = 500;
  for (int i = 0; i < 12; ++i) {
    auto d = b.next().count();
    EXPECT_GE(d, expected_base / 2) << i;
    EXPECT_LE(d, expected_base) << i;
    expected_base = std::min<int64_t>(30000, expected_base * 2);
  }
  b.reset();
  EXPECT_LE(b.next().count(), 500);
}

}  // namespace
}  // namespace trellis::xds::client
