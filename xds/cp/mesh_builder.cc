// trellis-cp's MeshBuilder: load the folder, check it against App Mesh's rules, translate it
// into every virtual node's xDS resources, and pack them by node key. Hostnames from
// serviceDiscovery.dns are resolved here, on every build (the cp rebuilds on file changes
// and on its DNS refresh timer).
#include <chrono>
#include <memory>
#include <utility>

#include <spdlog/spdlog.h>

#include "config/appmesh/loader.h"
#include "config/appmesh/translate.h"
#include "config/appmesh/validate.h"
#include "xds/cp/mesh_source.h"
#include "xds/cp/resolve_host.h"

namespace trellis::cp {

namespace {

namespace am = config::appmesh;

// Durations of the build's phases, as "load 80 ms, validate 4 ms, ...".
class PhaseClock {
 public:
  void lap(const char* phase) {
    const auto now = std::chrono::steady_clock::now();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_).count();
    text_ += (text_.empty() ? "" : ", ") + std::string(phase) + " " + std::to_string(ms) + " ms";
    last_ = now;
  }
  const std::string& text() const { return text_; }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  std::string text_;
};

template <class M>
void pack(NodeResources& node, std::string_view type_url, const std::string& name, const M& message) {
  node.by_type[std::string(type_url)][name].PackFrom(message);
}

}  // namespace

std::string nodeKeyForId(const std::string& node_id) {
  auto key = am::nodeKeyFromNodeId(node_id);
  return key.ok() ? *key : node_id;
}

namespace {

MeshBuild buildWith(const std::string& dir, am::ParseCache* cache, const BuildOptions& options) {
  MeshBuild build;
  PhaseClock clock;
  // Both are handed to the caller in build.scratch, to be freed after publishing.
  auto scratch = std::make_shared<std::pair<am::LoadResult, am::TranslateResult>>();
  build.scratch = scratch;
  am::LoadResult& loaded = scratch->first;
  loaded = am::loadMeshDirWithErrors(dir, cache, options.load);
  clock.lap("load");
  build.errors = std::move(loaded.errors);
  build.warnings = std::move(loaded.warnings);
  build.notes = std::move(loaded.notes);
  for (const am::ValidationError& error : am::validate(loaded.mesh)) build.errors.push_back(error.toString());
  clock.lap("validate");
  if (!build.errors.empty()) return build;

  am::TranslateResult& result = scratch->second;
  am::TranslateOptions translate_options;
  translate_options.defaultRetryPolicy = options.default_retry_policy;
  translate_options.egressAllowedHosts = options.egress_allowed_hosts;
  result = am::translate(loaded.mesh, resolveHost, translate_options);
  clock.lap("translate");
  // What translation could not give some proxy is reported, not fatal: one unresolvable
  // hostname must not stop every other proxy from getting its update.
  for (const auto& e : result.errors) spdlog::error("translate: {}", e);
  for (const auto& w : result.warnings) spdlog::warn("translate: {}", w);
  for (const auto& [key, res] : result.proxies) {
    NodeResources& node = build.nodes[key];
    // Every type is present (possibly empty) so a proxy learns that a type became empty.
    for (std::string_view type : {xds::server::kListenerType, xds::server::kRouteType, xds::server::kClusterType,
                                  xds::server::kEndpointType}) {
      node.by_type[std::string(type)];
    }
    for (const auto& l : res.listeners) pack(node, xds::server::kListenerType, l.name(), l);
    for (const auto& r : res.routes) pack(node, xds::server::kRouteType, r.name(), r);
    for (const auto& c : res.clusters) pack(node, xds::server::kClusterType, c.name(), c);
    for (const auto& e : res.endpoints) pack(node, xds::server::kEndpointType, e.cluster_name(), e);
  }
  clock.lap("pack");
  build.phases = clock.text();
  return build;
}

}  // namespace

MeshBuild buildMesh(const std::string& dir, const BuildOptions& options) { return buildWith(dir, nullptr, options); }

MeshBuilder cachingMeshBuilder(const BuildOptions& options) {
  auto cache = std::make_shared<am::ParseCache>();
  return [cache, options](const std::string& dir) { return buildWith(dir, cache.get(), options); };
}

}  // namespace trellis::cp
