// The node identity from App Mesh's environment variables.
#include "proxy/server/node_identity.h"

#include <map>

#include <gtest/gtest.h>

namespace trellis::proxy {
namespace {

EnvLookup env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(NodeIdentityTest, BootstrapNodeWhenNoEnvironment) {
  envoy::config::core::v3::Node n;
  n.set_id("sidecar-1");
  n.set_cluster("front");
  auto r = resolveNode(n, env({}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id(), "sidecar-1");
  EXPECT_EQ(r->cluster(), "front");
}

TEST(NodeIdentityTest, ResourceArnWins) {
  auto r = resolveNode({}, env({{"APPMESH_RESOURCE_ARN", "arn:aws:appmesh:us-west-2:123456789012:mesh/color-mesh/virtualNode/front"},
                                {"APPMESH_VIRTUAL_NODE_NAME", "mesh/other/virtualNode/x"}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id(), "arn:aws:appmesh:us-west-2:123456789012:mesh/color-mesh/virtualNode/front");
  EXPECT_EQ(r->cluster(), "front");
}

TEST(NodeIdentityTest, GatewayArnAndOlderVariable) {
  auto g = resolveNode({}, env({{"APPMESH_RESOURCE_ARN", "arn:aws:appmesh:eu-west-1:123456789012:mesh/m/virtualGateway/ingress"}}));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->cluster(), "ingress");
  auto v = resolveNode({}, env({{"APPMESH_VIRTUAL_NODE_NAME", "mesh/m/virtualNode/colorteller-red"}}));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->id(), "mesh/m/virtualNode/colorteller-red");
  EXPECT_EQ(v->cluster(), "colorteller-red");
}

// The proxy refuses what trellis-cp would never serve, with the shared parser's message.
TEST(NodeIdentityTest, MalformedValuesNameTheVariable) {
  auto a = resolveNode({}, env({{"APPMESH_RESOURCE_ARN", "arn:aws:s3:::bucket"}}));
  ASSERT_FALSE(a.ok());
  const std::string arn_message(a.status().message());
  EXPECT_EQ(arn_message.rfind("APPMESH_RESOURCE_ARN=\"arn:aws:s3:::bucket\": service \"s3\" (allowed: appmesh)", 0), 0u)
      << arn_message;
  EXPECT_NE(arn_message.find("trellis-cp serves only these identities"), std::string::npos) << arn_message;
  auto v = resolveNode({}, env({{"APPMESH_VIRTUAL_NODE_NAME", "mesh/m/route/x"}}));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(std::string(v.status().message()).find("APPMESH_VIRTUAL_NODE_NAME=\"mesh/m/route/x\": the resource type is \"route\""),
            std::string::npos)
      << v.status();
  // An account that is not 12 digits: the old proxy accepted it, trellis-cp never served it.
  auto short_account = resolveNode({}, env({{"APPMESH_RESOURCE_ARN", "arn:aws:appmesh:eu-west-1:1:mesh/m/virtualGateway/g"}}));
  ASSERT_FALSE(short_account.ok());
  EXPECT_NE(std::string(short_account.status().message()).find("account \"1\" (allowed: 12 digits)"), std::string::npos);
}

TEST(NodeIdentityTest, BootstrapIdInAppMeshSpellingIsCheckedOthersAreNot) {
  envoy::config::core::v3::Node bad;
  bad.set_id("mesh/m/virtualNode/bad.name");
  auto r = resolveNode(bad, env({}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("node.id=\"mesh/m/virtualNode/bad.name\""), std::string::npos) << r.status();
  envoy::config::core::v3::Node good;
  good.set_id("mesh/m/virtualGateway/gw");
  auto g = resolveNode(good, env({}));
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->cluster(), "gw");
  envoy::config::core::v3::Node other;
  other.set_id("sidecar-1");
  EXPECT_TRUE(resolveNode(other, env({})).ok());
}

}  // namespace
}  // namespace trellis::proxy
