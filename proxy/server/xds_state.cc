// Decode, merge, compile; and the config dump.
#include "proxy/server/xds_state.h"


#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "xds/client/ads_mux.h"

namespace trellis::proxy {

namespace {

namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;
using xds::client::kClusterType;
using xds::client::kEndpointType;
using xds::client::kListenerType;
using xds::client::kRouteType;

std::string shortType(const std::string& type_url) {
  if (type_url == kListenerType) return "Listener";
  if (type_url == kClusterType) return "Cluster";
  if (type_url == kRouteType) return "RouteConfiguration";
  if (type_url == kEndpointType) return "ClusterLoadAssignment";
  return type_url;
}

// Decodes a response's resources into a fresh map; names must be present and unique.
template <class T, class Map, class NameOf>
absl::Status decodeInto(const std::vector<google::protobuf::Any>& resources, const std::string& type_url,
                        const std::string& version, Map& map, NameOf name_of) {
  Map decoded;
  for (size_t i = 0; i < resources.size(); ++i) {
    T msg;
    if (!resources[i].UnpackTo(&msg)) {
      return absl::InvalidArgumentError(shortType(type_url) + " #" + std::to_string(i) + ": cannot be decoded");
    }
    std::string name = name_of(msg);
    if (name.empty()) {
      return absl::InvalidArgumentError(shortType(type_url) + " #" + std::to_string(i) + ": name is empty");
    }
    if (decoded.count(name)) {
      return absl::InvalidArgumentError(shortType(type_url) + " '" + name + "': sent twice in one response");
    }
    decoded[name] = {std::move(msg), version};
  }
  map = std::move(decoded);
  return absl::OkStatus();
}

}  // namespace

XdsState::XdsState(const envoy::config::bootstrap::v3::Bootstrap& bootstrap) : bootstrap_(bootstrap) {}

absl::StatusOr<std::shared_ptr<const Snapshot>> XdsState::compileCurrent(StatsStore& stats) {
  Assignments used;
  auto snap = compile(dynamic_, stats, used);
  if (snap.ok()) assignments_ = std::move(used);
  return snap;
}

absl::Status XdsState::apply(const std::string& type_url, const std::vector<google::protobuf::Any>& resources,
                             const std::string& version, StatsStore& stats, const Install& install) {
  Dynamic next = dynamic_;
  absl::Status st;
  if (type_url == kListenerType) {
    st = decodeInto<envoy::config::listener::v3::Listener>(resources, type_url, version, next.listeners,
                                                           [](const auto& m) { return m.name(); });
  } else if (type_url == kClusterType) {
    st = decodeInto<envoy::config::cluster::v3::Cluster>(resources, type_url, version, next.clusters,
                                                         [](const auto& m) { return m.name(); });
  } else if (type_url == kRouteType) {
    st = decodeInto<envoy::config::route::v3::RouteConfiguration>(resources, type_url, version, next.routes,
                                                                  [](const auto& m) { return m.name(); });
  } else if (type_url == kEndpointType) {
    st = decodeInto<envoy::config::endpoint::v3::ClusterLoadAssignment>(
        resources, type_url, version, next.endpoints, [](const auto& m) { return m.cluster_name(); });
  } else {
    return absl::InvalidArgumentError("type " + type_url + " is not supported");
  }
  if (!st.ok()) return st;
  Assignments used;
  auto snap = compile(next, stats, used);
  if (!snap.ok()) return snap.status();
  if (auto installed = install(*snap); !installed.ok()) return installed;
  dynamic_ = std::move(next);
  assignments_ = std::move(used);
  versions_[type_url] = version;
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Snapshot>> XdsState::compile(const Dynamic& d, StatsStore& stats,
                                                                  Assignments& used) const {
  using ClusterProto = envoy::config::cluster::v3::Cluster;
  CompileInput in;
  in.log_files = log_files_;
  in.listener_connection_limits = &listener_limits_;
  const auto& sr = bootstrap_.static_resources();
  for (int i = 0; i < sr.listeners_size(); ++i) {
    in.listeners.push_back({sr.listeners(i), "static_resources.listeners[" + std::to_string(i) + "]"});
  }
  for (int i = 0; i < sr.clusters_size(); ++i) {
    in.clusters.push_back({sr.clusters(i), "static_resources.clusters[" + std::to_string(i) + "]"});
  }
  for (const auto& [name, e] : d.listeners) in.listeners.push_back({e.resource, "Listener '" + name + "'"});
  used.clear();
  for (const auto& [name, e] : d.clusters) {
    const auto& c = e.resource;
    if (c.type() != ClusterProto::EDS) {
      used[name] = c.load_assignment();
      in.clusters.push_back({c, "Cluster '" + name + "'"});
      continue;
    }
    std::string service = c.eds_cluster_config().service_name().empty() ? c.name() : c.eds_cluster_config().service_name();
    if (auto it = d.endpoints.find(service); it != d.endpoints.end()) {
      used[name] = it->second.resource;
      in.clusters.push_back({c, "Cluster '" + name + "'"});
      continue;
    }
    auto kept = assignments_.find(name);
    if (kept == assignments_.end()) continue;  // warming: never compiled with endpoints yet
    // Changed while its endpoints are re-fetched: keep serving the assignment it had, compiled
    // as this cluster's own load_assignment so it cannot meet another cluster's service name.
    ClusterProto frozen = c;
    frozen.set_type(ClusterProto::STATIC);
    frozen.clear_eds_cluster_config();
    *frozen.mutable_load_assignment() = kept->second;
    used[name] = kept->second;
    in.clusters.push_back({frozen, "Cluster '" + name + "'"});
  }
  for (const auto& [name, e] : d.routes) in.route_configs.push_back({e.resource, "RouteConfiguration '" + name + "'"});
  for (const auto& [name, e] : d.endpoints) {
    in.load_assignments.push_back({e.resource, "ClusterLoadAssignment '" + name + "'"});
  }
  in.require_known_clusters = d.listeners.empty() && d.clusters.empty() && d.routes.empty();
  in.version = versions_.count(kListenerType) ? versions_.at(kListenerType) : "static";
  return compileSnapshot(in, stats);
}

std::set<std::string> XdsState::routeConfigNames() const {
  std::set<std::string> names;
  auto collect = [&](const envoy::config::listener::v3::Listener& l) {
    for (const auto& fc : l.filter_chains()) {
      for (const auto& f : fc.filters()) {
        hcm::HttpConnectionManager h;
        if (f.typed_config().UnpackTo(&h) && h.has_rds()) names.insert(h.rds().route_config_name());
      }
    }
  };
  for (const auto& l : bootstrap_.static_resources().listeners()) collect(l);
  for (const auto& [name, e] : dynamic_.listeners) collect(e.resource);
  return names;
}

std::set<std::string> XdsState::edsServiceNames() const {
  std::set<std::string> names;
  auto collect = [&](const envoy::config::cluster::v3::Cluster& c) {
    if (c.type() != envoy::config::cluster::v3::Cluster::EDS) return;
    names.insert(c.eds_cluster_config().service_name().empty() ? c.name() : c.eds_cluster_config().service_name());
  };
  for (const auto& c : bootstrap_.static_resources().clusters()) collect(c);
  for (const auto& [name, e] : dynamic_.clusters) collect(e.resource);
  return names;
}

envoy::admin::v3::ConfigDump XdsState::configDump() const {
  namespace admin = envoy::admin::v3;
  auto version = [&](const char* type) { return versions_.count(type) ? versions_.at(type) : std::string(); };
  admin::ConfigDump dump;
  admin::BootstrapConfigDump bootstrap;
  *bootstrap.mutable_bootstrap() = bootstrap_;
  dump.add_configs()->PackFrom(bootstrap);

  admin::ClustersConfigDump clusters;
  clusters.set_version_info(version(kClusterType));
  for (const auto& c : bootstrap_.static_resources().clusters()) clusters.add_static_clusters()->mutable_cluster()->PackFrom(c);
  for (const auto& [name, e] : dynamic_.clusters) {
    auto& d = *clusters.add_dynamic_active_clusters();
    d.set_version_info(e.version);
    d.mutable_cluster()->PackFrom(e.resource);
  }
  dump.add_configs()->PackFrom(clusters);

  admin::ListenersConfigDump listeners;
  listeners.set_version_info(version(kListenerType));
  for (const auto& l : bootstrap_.static_resources().listeners()) {
    listeners.add_static_listeners()->mutable_listener()->PackFrom(l);
  }
  for (const auto& [name, e] : dynamic_.listeners) {
    auto& d = *listeners.add_dynamic_listeners();
    d.set_name(name);
    d.mutable_active_state()->set_version_info(e.version);
    d.mutable_active_state()->mutable_listener()->PackFrom(e.resource);
  }
  dump.add_configs()->PackFrom(listeners);

  admin::RoutesConfigDump routes;
  for (const auto& [name, e] : dynamic_.routes) {
    auto& d = *routes.add_dynamic_route_configs();
    d.set_version_info(e.version);
    d.mutable_route_config()->PackFrom(e.resource);
  }
  dump.add_configs()->PackFrom(routes);

  admin::EndpointsConfigDump endpoints;
  for (const auto& [name, e] : dynamic_.endpoints) {
    auto& d = *endpoints.add_dynamic_endpoint_configs();
    d.set_version_info(e.version);
    d.mutable_endpoint_config()->PackFrom(e.resource);
  }
  dump.add_configs()->PackFrom(endpoints);
  return dump;
}

}  // namespace trellis::proxy
