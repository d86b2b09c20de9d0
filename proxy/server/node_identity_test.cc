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
  auto g = resolveNode({}, env({{"APPMESH_RESOURCE_ARN", "arn:aws:appmesh:eu-west-1:1:mesh/m/virtualGateway/ingress"}}));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->cluster(), "ingress");
  auto v = resolveNode({}, env({{"APPMESH_VIRTUAL_NODE_NAME", "mesh/m/virtualNode/colorteller-red"}}));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->id(), "mesh/m/virtualNode/colorteller-red");
  EXPECT_EQ(v->cluster(), "colorteller-red");
}

TEST(NodeIdentityTest, MalformedValuesNameTheVariable) {
  auto a = resolveNode({}, env({{"APPMESH_RESOURCE_ARN", "arn:aws:s3:::bucket"}}));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(),
            "APPMESH_RESOURCE_ARN='arn:aws:s3:::bucket': expected arn:aws:appmesh:REGION:ACCOUNT:mesh/MESH/virtualNode/NODE");
  auto v = resolveNode({}, env({{"APPMESH_VIRTUAL_NODE_NAME", "mesh/m/route/x"}}));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(std::string(v.status().message()).find("APPMESH_VIRTUAL_NODE_NAME='mesh/m/route/x'"), std::string::npos);
}

}  // namespace
}  // namespace trellis::proxy
