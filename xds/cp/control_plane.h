// trellis-cp's core: rebuilds the mesh folder through a MeshBuilder and, when the build is valid,
// publishes every node's resources to the SnapshotCache (and removes the nodes that are gone).
// An invalid build changes nothing that is served: its errors are logged and kept for /status
// while the last good build stays in force.
//
// Threading: not thread-safe; trellis-cp calls it from its main thread only (the folder watcher,
// the admin endpoints and the signal handlers all run on one io_context). The cache it writes is
// thread-safe and is read by gRPC's threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "xds/cp/mesh_source.h"
#include "xds/server/snapshot_cache.h"

namespace trellis::cp {

class ControlPlane {
 public:
  struct BuildRecord {
    uint64_t number = 0;  // 1 for the first build since start
    std::chrono::system_clock::time_point time;
    std::chrono::milliseconds duration{0};
    std::vector<std::string> errors;  // empty: valid
    size_t nodes = 0;
  };

  ControlPlane(xds::server::SnapshotCache& cache, MeshBuilder builder, std::string mesh_dir);

  // Builds the folder now; if valid, applies it. Returns true if the build was valid.
  bool rebuild();

  const std::string& meshDir() const { return mesh_dir_; }
  // The latest build, valid or not (nothing before the first rebuild).
  const std::optional<BuildRecord>& lastBuild() const { return last_build_; }
  // The build being served.
  const std::optional<BuildRecord>& lastGoodBuild() const { return last_good_; }
  uint64_t buildsOk() const { return builds_ok_; }
  uint64_t buildsFailed() const { return builds_failed_; }
  xds::server::SnapshotCache& cache() const { return cache_; }

 private:
  xds::server::SnapshotCache& cache_;
  MeshBuilder builder_;
  const std::string mesh_dir_;
  std::set<std::string> served_nodes_;
  std::optional<BuildRecord> last_build_;
  std::optional<BuildRecord> last_good_;
  uint64_t builds_ok_ = 0;
  uint64_t builds_failed_ = 0;
};

}  // namespace trellis::cp
