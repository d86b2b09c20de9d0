// Rebuild-and-publish of trellis-cp; see control_plane.h.
#include "xds/cp/control_plane.h"

#include <spdlog/spdlog.h>

namespace trellis::cp {

ControlPlane::ControlPlane(xds::server::SnapshotCache& cache, MeshBuilder builder, std::string mesh_dir)
    : cache_(cache), builder_(std::move(builder)), mesh_dir_(std::move(mesh_dir)) {}

bool ControlPlane::rebuild() {
  BuildRecord record;
  record.number = (last_build_ ? last_build_->number : 0) + 1;
  record.time = std::chrono::system_clock::now();
  const auto started = std::chrono::steady_clock::now();
  MeshBuild build = builder_(mesh_dir_);
  record.duration =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  record.errors = std::move(build.errors);
  record.nodes = build.nodes.size();
  // The loader's warnings (e.g. Kubernetes fields the API server would have pruned), every build.
  for (const std::string& warning : build.warnings) spdlog::warn("mesh: {}", warning);

  if (!record.errors.empty()) {
    ++builds_failed_;
    for (const std::string& error : record.errors) spdlog::error("mesh: {}", error);
    if (last_good_) {
      spdlog::error("mesh build #{} failed with {} error(s); still serving build #{}", record.number,
                    record.errors.size(), last_good_->number);
    } else {
      spdlog::error("mesh build #{} failed with {} error(s); nothing is served until the folder is valid",
                    record.number, record.errors.size());
    }
    last_build_ = std::move(record);
    return false;
  }

  ++builds_ok_;
  const auto publishing = std::chrono::steady_clock::now();
  std::set<std::string> now_served;
  for (auto& [node_id, resources] : build.nodes) {
    now_served.insert(node_id);
    cache_.setResources(node_id, std::move(resources));
  }
  size_t removed = 0;
  for (const std::string& node_id : served_nodes_) {
    if (!now_served.contains(node_id)) {
      cache_.removeNode(node_id);
      ++removed;
    }
  }
  served_nodes_ = std::move(now_served);
  const auto published =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - publishing);
  spdlog::info("mesh build #{} applied: {} node(s), {} removed, built in {} ms{}{}{}, published in {} ms",
               record.number, record.nodes, removed, record.duration.count(), build.phases.empty() ? "" : " (",
               build.phases, build.phases.empty() ? "" : ")", published.count());
  last_build_ = record;
  last_good_ = std::move(record);
  build.scratch.reset();  // only now: freeing the builder's intermediate results takes a while
  return true;
}

}  // namespace trellis::cp
