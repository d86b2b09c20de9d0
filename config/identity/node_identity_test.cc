// Every accepted spelling of a proxy's App Mesh identity, and every rejection with its message.
#include "config/identity/node_identity.h"

#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trellis::config::identity {
namespace {

using ::testing::HasSubstr;

TEST(NodeIdentity, ResourceSpellings) {
  absl::StatusOr<NodeIdentity> node = parseNodeId("mesh/color-mesh/virtualNode/front");
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->kind, ResourceKind::kVirtualNode);
  EXPECT_EQ(node->mesh, "color-mesh");
  EXPECT_EQ(node->name, "front");
  EXPECT_FALSE(node->arn.has_value());
  EXPECT_EQ(node->key(), "mesh/color-mesh/virtualNode/front");

  absl::StatusOr<NodeIdentity> gateway = parseNodeId("mesh/m/virtualGateway/ingress_gw");
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  EXPECT_EQ(gateway->kind, ResourceKind::kVirtualGateway);
  EXPECT_EQ(gateway->key(), "mesh/m/virtualGateway/ingress_gw");
}

TEST(NodeIdentity, ArnsOfEveryPartition) {
  for (const auto& [arn, partition, region] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"arn:aws:appmesh:us-west-2:123456789012:mesh/m/virtualNode/n", "aws", "us-west-2"},
           {"arn:aws-cn:appmesh:cn-north-1:123456789012:mesh/m/virtualNode/n", "aws-cn",
            "cn-north-1"},
           {"arn:aws-us-gov:appmesh:us-gov-west-1:123456789012:mesh/m/virtualNode/n",
            "aws-us-gov", "us-gov-west-1"}}) {
    absl::StatusOr<NodeIdentity> id = parseNodeId(arn);
    ASSERT_TRUE(id.ok()) << arn << ": " << id.status();
    ASSERT_TRUE(id->arn.has_value());
    EXPECT_EQ(id->arn->partition, partition);
    EXPECT_EQ(id->arn->region, region);
    EXPECT_EQ(id->arn->account, "123456789012");
    EXPECT_EQ(id->key(), "mesh/m/virtualNode/n");
  }
  absl::StatusOr<NodeIdentity> gateway =
      parseNodeId("arn:aws:appmesh:eu-west-1:210987654321:mesh/m/virtualGateway/g");
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  EXPECT_EQ(gateway->key(), "mesh/m/virtualGateway/g");
  EXPECT_EQ(gateway->arn->account, "210987654321");
}

TEST(NodeIdentity, NamesUpTo255AllowedCharacters) {
  const std::string longest(255, 'a');
  EXPECT_TRUE(parseNodeId("mesh/" + longest + "/virtualNode/" + longest).ok());
  EXPECT_TRUE(parseNodeId("mesh/A-b_9/virtualNode/x-Y_1").ok());
}

// Each rejection: the id, and a piece of the message that says what is wrong and what is allowed.
TEST(NodeIdentity, RejectionsNameTheValueAndWhatIsAllowed) {
  const std::string tooLong(256, 'a');
  for (const auto& [id, expected] : std::vector<std::pair<std::string, std::string>>{
           {"", "\"\": empty"},
           {"front", "resource \"front\" is not mesh/MESH/TYPE/NAME"},
           {"mesh/m/virtualNode", "is not mesh/MESH/TYPE/NAME"},
           {"mesh/m/virtualNode/n/extra", "is not mesh/MESH/TYPE/NAME"},
           {"mesh/m/route/r", "the resource type is \"route\" (allowed: virtualNode, virtualGateway)"},
           {"mesh/m/virtualService/s.local", "the resource type is \"virtualService\""},
           {"mesh//virtualNode/n", "mesh name \"\": empty"},
           {"mesh/m/virtualNode/", "virtualNode name \"\": empty"},
           {"mesh/m/virtualGateway/g.w", "virtualGateway name \"g.w\": '.' is not allowed (allowed: letters, digits, '-', '_')"},
           {"mesh/m m/virtualNode/n", "mesh name \"m m\": ' ' is not allowed"},
           {"mesh/m/virtualNode/" + tooLong, "256 characters (allowed: 1-255)"},
           {"arn:aws:appmesh:us-west-2:123456789012", "six ':'-separated fields"},
           {"arn:aws-xx:appmesh:us-west-2:123456789012:mesh/m/virtualNode/n",
            "partition \"aws-xx\" (allowed: aws, aws-cn, aws-us-gov)"},
           {"arn:aws:s3:us-west-2:123456789012:mesh/m/virtualNode/n", "service \"s3\" (allowed: appmesh)"},
           {"arn:aws:appmesh::123456789012:mesh/m/virtualNode/n", "region \"\" is not a region name"},
           {"arn:aws:appmesh:uswest2:123456789012:mesh/m/virtualNode/n", "region \"uswest2\""},
           {"arn:aws:appmesh:US-WEST-2:123456789012:mesh/m/virtualNode/n", "region \"US-WEST-2\""},
           {"arn:aws:appmesh:us-west-2:12345:mesh/m/virtualNode/n", "account \"12345\" (allowed: 12 digits)"},
           {"arn:aws:appmesh:us-west-2:12345678901x:mesh/m/virtualNode/n", "account \"12345678901x\""},
           {"arn:aws:appmesh:us-west-2:123456789012:mesh/m/virtualRouter/r", "the resource type is \"virtualRouter\""},
       }) {
    absl::StatusOr<NodeIdentity> parsed = parseNodeId(id);
    ASSERT_FALSE(parsed.ok()) << id;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << id;
    const std::string message(parsed.status().message());
    EXPECT_THAT(message, HasSubstr(expected)) << id;
    EXPECT_THAT(message, HasSubstr("accepted: mesh/MESH/virtualNode/NODE")) << id;
  }
}

TEST(NodeIdentity, LooksLikeAppMeshId) {
  EXPECT_TRUE(looksLikeAppMeshId("mesh/m/virtualNode/n"));
  EXPECT_TRUE(looksLikeAppMeshId("arn:aws:s3:::bucket"));
  EXPECT_FALSE(looksLikeAppMeshId("sidecar-1"));
  EXPECT_FALSE(looksLikeAppMeshId("itest"));
}

}  // namespace
}  // namespace trellis::config::identity
