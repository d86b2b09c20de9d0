// Compiles xDS resources (from the bootstrap or an xDS stream) into a runtime Snapshot.
//
// This is the only place where protos meet the data plane. It is also where Trellis says what
// it supports: any field set on a resource that the data plane does not implement is an
// error naming its path ("static_resources.clusters[1].type: EDS is not supported yet"),
// never silently ignored. Errors are returned, not thrown, so an xDS update can be NACKed
// with the message and the running snapshot stays in place.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "proxy/accesslog/log_files.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/stats/stats.h"

namespace trellis::proxy {

// A resource and the path that names it in errors, e.g. "static_resources.listeners[0]" or
// "Listener 'outbound'".
template <class T>
struct Sourced {
  T resource;
  std::string path;
};

struct CompileInput {
  std::vector<Sourced<envoy::config::listener::v3::Listener>> listeners;
  std::vector<Sourced<envoy::config::cluster::v3::Cluster>> clusters;
  // Route configurations delivered separately (RDS), by name.
  std::vector<Sourced<envoy::config::route::v3::RouteConfiguration>> route_configs;
  // Endpoints delivered separately (EDS), by cluster (service) name.
  std::vector<Sourced<envoy::config::endpoint::v3::ClusterLoadAssignment>> load_assignments;
  // Static config: a route to an unknown cluster is an error. Dynamic config: it answers 503 (NC).
  bool require_known_clusters = true;
  std::string version;
  // Opens the access log files the listeners name, shared across snapshots by path (owned by
  // the server). Null: access logs are checked but nothing is opened or written.
  accesslog::LogFiles* log_files = nullptr;
  // Listener connection limits by listener name (runtime keys
  // envoy.resource_limits.listener.<name>.connection_limit); a listener not named is unlimited.
  const std::map<std::string, int64_t>* listener_connection_limits = nullptr;
};

absl::StatusOr<std::shared_ptr<const Snapshot>> compileSnapshot(const CompileInput& input, StatsStore& stats);

// Pieces, exposed for tests and for the xDS client's per-resource checks.
absl::StatusOr<std::shared_ptr<const RouteTable>> compileRouteTable(
    const envoy::config::route::v3::RouteConfiguration& config, const std::string& path,
    const std::vector<std::shared_ptr<const Cluster>>& clusters, bool require_known_clusters);

}  // namespace trellis::proxy
