// What trellis-cp translates from App Mesh specs, trellis-proxy accepts: every proxy's
// resources for the colorapp fixture compile into a snapshot, and the front proxy's outbound
// routes reach the colorteller clusters it was given.
#include <gtest/gtest.h>

#include "config/appmesh/loader.h"
#include "config/appmesh/translate.h"
#include "config/appmesh/validate.h"
#include "proxy/snapshot/compile.h"
#include "proxy/stats/stats.h"

namespace trellis::tests {
namespace {

namespace am = config::appmesh;

absl::StatusOr<std::shared_ptr<const proxy::Snapshot>> compileProxy(const am::ProxyResources& r,
                                                                    proxy::StatsStore& stats) {
  proxy::CompileInput in;
  for (const auto& l : r.listeners) in.listeners.push_back({l, "Listener '" + l.name() + "'"});
  for (const auto& c : r.clusters) in.clusters.push_back({c, "Cluster '" + c.name() + "'"});
  for (const auto& rc : r.routes) in.route_configs.push_back({rc, "RouteConfiguration '" + rc.name() + "'"});
  for (const auto& e : r.endpoints) in.load_assignments.push_back({e, "ClusterLoadAssignment '" + e.cluster_name() + "'"});
  in.require_known_clusters = false;
  return proxy::compileSnapshot(in, stats);
}

TEST(TranslationCompilesTest, EveryColorappProxyAcceptsItsResources) {
  auto mesh = am::loadMeshDir("config/appmesh/testdata/colorapp");
  ASSERT_TRUE(mesh.ok()) << mesh.status();
  ASSERT_TRUE(am::validate(*mesh).empty());
  auto result = am::translate(*mesh, [](const std::string& host) -> absl::StatusOr<std::vector<std::string>> {
    return absl::NotFoundError("no DNS in this test: " + host);
  });
  EXPECT_TRUE(result.errors.empty()) << result.errors.front();
  ASSERT_EQ(result.proxies.size(), 4u);
  for (const auto& [key, resources] : result.proxies) {
    proxy::StatsStore stats(1);
    auto snap = compileProxy(resources, stats);
    ASSERT_TRUE(snap.ok()) << key << ": " << snap.status();
    EXPECT_EQ((*snap)->listeners.size(), 2u) << key;  // inbound and outbound
  }

  // front's outbound routes lead to clusters it has, with endpoints.
  proxy::StatsStore stats(1);
  auto front = compileProxy(result.proxies.at("mesh/color-mesh/virtualNode/front"), stats);
  ASSERT_TRUE(front.ok());
  size_t forward_routes = 0;
  for (const auto& l : (*front)->listeners) {
    // Every HTTP chain of a listener shares its route configuration: look at the first.
    const proxy::FilterChain* http = nullptr;
    for (const auto& fc : l->filter_chains) {
      if (fc.http && !http) http = &fc;
    }
    ASSERT_NE(http, nullptr) << l->name;
    for (const auto& vh : http->http->routes->virtual_hosts) {
      for (const auto& r : vh.routes) {
        if (!r.forward) continue;
        ++forward_routes;
        for (const auto& t : r.forward->targets) {
          ASSERT_TRUE(t.cluster.has_value()) << "route to unknown cluster " << t.cluster_name;
          const auto& c = *(*front)->clusters[*t.cluster];
          if (c.type == proxy::DiscoveryType::OriginalDst) continue;  // the pass-through has no endpoints
          EXPECT_FALSE(c.endpoints.empty()) << t.cluster_name;
        }
      }
    }
  }
  EXPECT_GE(forward_routes, 2u);  // inbound to the app, outbound to colorteller
}

}  // namespace
}  // namespace trellis::tests
