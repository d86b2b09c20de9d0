// explainProxy: the text a person gets for a gateway, a node, and ids that name nothing.
#include "xds/cp/explain.h"

#include <string>
#include <vector>

#include "config/appmesh/loader.h"
#include "config/appmesh/translate.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trellis::cp {
namespace {

namespace am = config::appmesh;
using ::testing::HasSubstr;
using ::testing::Not;

am::TranslateResult translateFolder(const std::string& dir) {
  auto mesh = am::loadMeshDir(dir);
  EXPECT_TRUE(mesh.ok()) << mesh.status();
  if (!mesh.ok()) return {};
  return am::translate(*mesh, [](const std::string& host) -> absl::StatusOr<std::vector<std::string>> {
    if (host == "color-v1.color.local") return std::vector<std::string>{"10.0.1.1"};
    if (host == "color-v2.color.local") return std::vector<std::string>{"10.0.2.1"};
    return absl::NotFoundError("no DNS in this test: " + host);
  });
}

TEST(ExplainTest, GatewayListenersRoutesWeightsClustersAndOrigins) {
  am::TranslateResult result = translateFolder("config/appmesh/testdata/formats/gateway/cli");
  bool found = false;
  const std::string text = explainProxy(
      "arn:aws:appmesh:us-west-2:123456789012:mesh/color-mesh/virtualGateway/color-gateway", result, &found);
  EXPECT_TRUE(found);
  EXPECT_THAT(text, HasSubstr("Proxy mesh/color-mesh/virtualGateway/color-gateway (node.id \"arn:aws:appmesh:"));
  EXPECT_THAT(text, HasSubstr("  lds_gateway_0.0.0.0_8080 on 0.0.0.0:8080\n"
                              "    from color-mesh/VirtualGateway/color-gateway (virtual-gateway.json (document 1))\n"
                              "    chain gateway_http_8080 [any connection]: HTTP, routes "
                              "rds_gateway_color-mesh_color-gateway_8080\n"));
  EXPECT_THAT(text, HasSubstr("      health_check: path = \"/healthz\"\n        answered by the proxy: 200\n"));
  EXPECT_THAT(text, HasSubstr("      color-gateway-route/color-route: path starts with \"/color\"\n"
                              "        -> cds_egress_color-mesh_color-v1_9080 weight 90 (90%), "
                              "cds_egress_color-mesh_color-v2_9080 weight 10 (10%); path prefix rewritten to "
                              "\"/\"; Host rewritten to \"color.local\"; timeout 15s"));
  EXPECT_THAT(text, HasSubstr("        from color-mesh/VirtualGateway/color-gateway/GatewayRoute/color-gateway-route "
                              "(gateway-route.json (document 1))\n"
                              "        from color-mesh/VirtualRouter/color-router/Route/color-route (route.json "
                              "(document 1))\n"));
  EXPECT_THAT(text, HasSubstr("  cds_egress_color-mesh_color-v1_9080: 1 endpoint(s): 10.0.1.1:9080\n"
                              "    from color-mesh/VirtualNode/color-v1 (virtual-node-color-v1.json (document 1))\n"));
}

TEST(ExplainTest, NodeChainsAndTranslationNotes) {
  am::TranslateResult result = translateFolder("config/appmesh/testdata/colorapp");
  bool found = false;
  const std::string text = explainProxy("mesh/color-mesh/virtualNode/front", result, &found);
  EXPECT_TRUE(found);
  EXPECT_THAT(text, HasSubstr("Proxy mesh/color-mesh/virtualNode/front: 2 listener(s)"));
  EXPECT_THAT(text, HasSubstr("chain egress_http_9080 [port 9080, raw_buffer]: HTTP, routes rds_egress_color-mesh_front"));
  EXPECT_THAT(text, HasSubstr("chain egress_http_direct [127.0.0.0/8, ::1/128, raw_buffer]"));
  EXPECT_THAT(text, HasSubstr("from color-mesh/VirtualRouter/colorteller-router/Route/colorteller-route"));
  EXPECT_THAT(text, HasSubstr("health check HTTP /ping every 5s"));
  EXPECT_THAT(text, Not(HasSubstr("virtualGateway")));
}

TEST(ExplainTest, UnknownAndMalformedIdsSaySo) {
  am::TranslateResult result = translateFolder("config/appmesh/testdata/formats/gateway/cli");
  bool found = true;
  EXPECT_THAT(explainProxy("mesh/color-mesh/virtualNode/nope", result, &found),
              HasSubstr("mesh/color-mesh/virtualNode/nope: no such virtual node or virtual gateway in this folder "
                        "(known: mesh/color-mesh/virtualGateway/color-gateway, mesh/color-mesh/virtualNode/color-v1, "
                        "mesh/color-mesh/virtualNode/color-v2)"));
  EXPECT_FALSE(found);
  found = true;
  EXPECT_THAT(explainProxy("mesh/m/route/r", result, &found),
              HasSubstr("node.id \"mesh/m/route/r\": the resource type is \"route\""));
  EXPECT_FALSE(found);
}

}  // namespace
}  // namespace trellis::cp
