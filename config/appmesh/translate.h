// Translates a checked App Mesh MeshSet into the xDS resources each sidecar proxy receives, the
// way App Mesh configured its own Envoy sidecars, limited to the fields trellis-proxy accepts
// (proxy/snapshot/compile.cc; anything else would make the proxy NACK the whole update). Per
// virtual node: an inbound listener with one filter chain per listener port of the node (by the
// connection's original destination port) to the local app; an outbound listener with HTTP
// chains whose routes follow the node's backends, TCP chains for tcp backends, and the mesh's
// egress filter (DROP_ALL: an allow-list and explained refusals; ALLOW_ALL: pass-through to the
// original destination); and the clusters and endpoints those reach. Per virtual gateway: a
// listener per http listener port whose routes are its gateway routes, each followed through
// its target service with App Mesh's rewrites, and the clusters those reach. Every resource
// keeps the App Mesh resources it came from (ProxyResources::origins). What is left out, and
// why, is listed in config/appmesh/README.md ("Translation to xDS", "Virtual gateways").
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "config/appmesh/model.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"

namespace trellis::config::appmesh {

// Where a sidecar listens and its app runs when no Sidecar document says otherwise (App Mesh's
// ports; iptables redirects the app's traffic to them).
inline constexpr char kDefaultListenAddress[] = "0.0.0.0";
inline constexpr int64_t kDefaultInboundPort = 15000;
inline constexpr int64_t kDefaultOutboundPort = 15001;
inline constexpr char kDefaultAppAddress[] = "127.0.0.1";

// One App Mesh resource an xDS resource was made from: "color-mesh/VirtualNode/front", and the
// file and document it was read from.
struct Origin {
  std::string resource;
  Source source;
};

// Everything one proxy (virtual node or virtual gateway) receives. Each list is sorted by
// resource name.
struct ProxyResources {
  std::vector<envoy::config::listener::v3::Listener> listeners;
  std::vector<envoy::config::route::v3::RouteConfiguration> routes;
  std::vector<envoy::config::cluster::v3::Cluster> clusters;
  std::vector<envoy::config::endpoint::v3::ClusterLoadAssignment> endpoints;
  // Where each came from, by name: listener, route configuration and cluster names (a cluster's
  // endpoints share its name), and "VIRTUAL_HOST/ROUTE" for each route (virtual host names are
  // unique within a proxy). A gateway's route lists its GatewayRoute and then the Route (or
  // provider VirtualNode) behind it.
  std::map<std::string, std::vector<Origin>> origins;
};

// Resolves a DNS hostname (serviceDiscovery.dns.hostname) to IP literals. trellis-cp passes a
// real resolver, tests a fake. Called at most once per hostname per translate() call.
using Resolver =
    std::function<absl::StatusOr<std::vector<std::string>>(const std::string& hostname)>;

struct TranslateResult {
  // By key: "mesh/MESH/virtualNode/NODE" for every virtual node, "mesh/MESH/virtualGateway/G"
  // for every virtual gateway.
  std::map<std::string, ProxyResources> proxies;
  // What some proxy needed and did not get, so traffic is refused or goes nowhere: an
  // unresolvable hostname, a TCP listener or route, TLS the proxy cannot do. One line each,
  // naming the file, the resource, the field and the effect.
  std::vector<std::string> errors;
  // App Mesh features left out where traffic still flows (access logs, HTTP/2 and gRPC health
  // checks, ...). One line per resource and field.
  std::vector<std::string> warnings;
};

// Choices where Trellis can follow App Mesh or not. The defaults are App Mesh's behaviour for a
// mesh created after 2020-07-29.
struct TranslateOptions {
  // A route without a retryPolicy, and the route to a virtual node provider, get App Mesh's
  // default retry policy (see README.md, "Resilience"). false: they get none, like the meshes App
  // Mesh created before 2020-07-29.
  bool defaultRetryPolicy = true;

  // Under egressFilter DROP_ALL, the destinations outside the mesh a node may still reach (by
  // HTTP Host or TLS SNI) through the pass-through to the original destination. App Mesh always
  // allowed its own AWS APIs, hence the default. Each entry is a host name or a "*." suffix
  // pattern, lower case (parseEgressAllowedHosts checks and normalizes a list); an entry that is
  // neither is left out with an error line. Empty: nothing outside the mesh.
  std::vector<std::string> egressAllowedHosts = {"*.amazonaws.com"};
};

// Parses trellis-cp's --egress-allowed-hosts value: comma-separated entries, spaces around them
// ignored, each a host name ("api.example.com") or a "*." suffix pattern ("*.amazonaws.com"),
// lower-cased. The empty string is the empty list. Anything else is InvalidArgument naming the
// entry and what is wrong with it.
absl::StatusOr<std::vector<std::string>> parseEgressAllowedHosts(std::string_view list);

// Translates every virtual node and virtual gateway of every mesh in `mesh`. The input should have passed
// validate(); anything validation would reject that reaches here becomes an error line, never a
// crash, and never a resource the proxy would refuse.
TranslateResult translate(const MeshSet& mesh, const Resolver& resolve,
                          const TranslateOptions& options = {});

// "mesh/MESH/virtualNode/NODE".
std::string nodeKey(std::string_view mesh, std::string_view virtualNode);

// "mesh/MESH/virtualGateway/GATEWAY": the key of a gateway proxy's resources.
std::string gatewayKey(std::string_view mesh, std::string_view gateway);

// Maps a proxy's node.id to its key (nodeKey or gatewayKey), with the parser trellis-proxy
// checks its own id with (config/identity/node_identity.h): "mesh/MESH/virtualNode/NODE",
// "mesh/MESH/virtualGateway/GATEWAY" or their ARN. Anything else is InvalidArgument naming the
// value, what is wrong and what is accepted.
absl::StatusOr<std::string> nodeKeyFromNodeId(const std::string& nodeId);

}  // namespace trellis::config::appmesh
