// The proxy's view of its configuration: static resources from the bootstrap plus whatever
// the control plane sent, by type and name, with the version each arrived in.
//
// An update of one type is applied to a copy, compiled together with everything else, and
// only a copy that compiles replaces the current one: a rejected update (NACK) changes
// nothing. Clusters of type EDS whose endpoints have not arrived yet are "warming": they are
// left out of the compiled snapshot (a route to them answers 503 NC) unless an earlier
// snapshot already knew them, in which case the ClusterLoadAssignment they were last compiled
// from stays in use, health_status included.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/any.pb.h>

#include "absl/status/statusor.h"
#include "envoy/admin/v3/config_dump.pb.h"
#include "envoy/admin/v3/config_dump_shared.pb.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "proxy/snapshot/compile.h"

namespace trellis::proxy {

class XdsState {
 public:
  explicit XdsState(const envoy::config::bootstrap::v3::Bootstrap& bootstrap);

  // Decodes and checks an update of `type_url`, compiles the result with everything else and
  // hands the snapshot to `install` (which binds listeners and publishes it). Only when both
  // succeed is the update kept; on any error nothing changes, so a later update is compiled
  // without the rejected one (a listener on a port in use does not poison what follows).
  using Install = std::function<absl::Status(std::shared_ptr<const Snapshot>)>;
  absl::Status apply(const std::string& type_url, const std::vector<google::protobuf::Any>& resources,
                     const std::string& version, StatsStore& stats, const Install& install);
  // The snapshot of the static resources alone (start-up).
  absl::StatusOr<std::shared_ptr<const Snapshot>> compileCurrent(StatsStore& stats);

  // What RDS and EDS should subscribe to, from the current listeners and clusters.
  std::set<std::string> routeConfigNames() const;
  std::set<std::string> edsServiceNames() const;

  // /config_dump's document: the bootstrap, then clusters, listeners, routes and endpoints,
  // static and dynamic, each with the version it arrived in.
  envoy::admin::v3::ConfigDump configDump() const;

  // Where compiled access logs open their files (owned by the server; null: none are opened).
  void setLogFiles(accesslog::LogFiles* files) { log_files_ = files; }
  // Listener connection limits by name, from the bootstrap's runtime (owned by the server).
  void setListenerConnectionLimits(std::map<std::string, int64_t> limits) { listener_limits_ = std::move(limits); }

 private:
  template <class T>
  struct Entry {
    T resource;
    std::string version;
  };
  struct Dynamic {
    std::map<std::string, Entry<envoy::config::listener::v3::Listener>> listeners;
    std::map<std::string, Entry<envoy::config::cluster::v3::Cluster>> clusters;
    std::map<std::string, Entry<envoy::config::route::v3::RouteConfiguration>> routes;
    std::map<std::string, Entry<envoy::config::endpoint::v3::ClusterLoadAssignment>> endpoints;
  };

  // Dynamic cluster name -> the endpoints it was last compiled with (its EDS assignment, or its
  // own load_assignment for a STATIC one). A re-warming cluster is compiled from this proto
  // rather than from the compiled endpoints, which no longer say what EDS said about health.
  using Assignments = std::map<std::string, envoy::config::endpoint::v3::ClusterLoadAssignment>;

  // Fills `used` with the assignments of this compilation, for apply() to keep on success.
  absl::StatusOr<std::shared_ptr<const Snapshot>> compile(const Dynamic& dynamic, StatsStore& stats,
                                                          Assignments& used) const;

  envoy::config::bootstrap::v3::Bootstrap bootstrap_;
  accesslog::LogFiles* log_files_ = nullptr;
  std::map<std::string, int64_t> listener_limits_;
  Dynamic dynamic_;
  Assignments assignments_;
  std::map<std::string, std::string> versions_;  // type URL -> last accepted version
};

}  // namespace trellis::proxy
