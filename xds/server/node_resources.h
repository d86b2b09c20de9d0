// What the control plane hands the ADS server for one proxy: every resource of every type, packed
// in Any and keyed by name. The server computes versions from this content and streams it; it
// does not look inside the resources.
#pragma once

#include <google/protobuf/any.pb.h>

#include <map>
#include <string>
#include <string_view>

namespace trellis::xds::server {

struct NodeResources {
  // type URL -> (resource name -> resource packed in Any)
  std::map<std::string, std::map<std::string, google::protobuf::Any>> by_type;
};

// The four resource types the server answers for. A request for any other type URL is not
// answered (and logged once per type URL).
inline constexpr std::string_view kListenerType = "type.googleapis.com/envoy.config.listener.v3.Listener";
inline constexpr std::string_view kRouteType = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
inline constexpr std::string_view kClusterType = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr std::string_view kEndpointType =
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

// True for the four types above.
bool isServedType(std::string_view type_url);

// LDS and CDS are wildcard types: an empty resource_names list means "everything for this node".
// For RDS and EDS an empty list means "nothing"; "*" means everything for any type.
bool isWildcardType(std::string_view type_url);

// Rank of a type when several are due at once, lowest first: clusters, endpoints, listeners, routes
// (make before break: a listener or route never points at a cluster the proxy has not seen).
int pushRank(std::string_view type_url);

}  // namespace trellis::xds::server
