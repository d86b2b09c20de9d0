// Small behaviours of the App Mesh model: names of enum values as App Mesh spells them, the
// union accessors of route specs, and the per-mesh lookups of MeshSet.
#include "config/appmesh/model.h"

#include <limits>

#include "absl/strings/str_cat.h"

namespace trellis::config::appmesh {

const char* toString(InputFormat format) {
  switch (format) {
    case InputFormat::kCliInput:
      return "aws appmesh --cli-input-json";
    case InputFormat::kDescribe:
      return "aws appmesh describe output";
    case InputFormat::kKubernetes:
      return "appmesh.k8s.aws/v1beta2";
    case InputFormat::kTrellis:
      return "trellis.dev/v1";
    case InputFormat::kCloudFormation:
      return "CloudFormation";
    case InputFormat::kTerraform:
      return "Terraform";
  }
  return "?";
}

std::string Source::label() const {
  if (!resource.empty()) return absl::StrCat(file, " (resource ", resource, ")");
  return absl::StrCat(file, " (document ", document, ")");
}

int64_t Duration::toMillis() const {
  if (unit == DurationUnit::kMs) return value;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max() / 1000;
  if (value > kMax) return std::numeric_limits<int64_t>::max();
  if (value < -kMax) return std::numeric_limits<int64_t>::min();
  return value * 1000;
}

std::string toString(const Duration& duration) {
  return absl::StrCat(duration.value, duration.unit == DurationUnit::kS ? "s" : "ms");
}

const char* toString(PortProtocol protocol) {
  switch (protocol) {
    case PortProtocol::kHttp:
      return "http";
    case PortProtocol::kHttp2:
      return "http2";
    case PortProtocol::kGrpc:
      return "grpc";
    case PortProtocol::kTcp:
      return "tcp";
  }
  return "?";
}

const char* toString(IpPreference preference) {
  switch (preference) {
    case IpPreference::kIPv6Preferred:
      return "IPv6_PREFERRED";
    case IpPreference::kIPv4Preferred:
      return "IPv4_PREFERRED";
    case IpPreference::kIPv4Only:
      return "IPv4_ONLY";
    case IpPreference::kIPv6Only:
      return "IPv6_ONLY";
  }
  return "?";
}

const char* toString(ListenerTlsMode mode) {
  switch (mode) {
    case ListenerTlsMode::kStrict:
      return "STRICT";
    case ListenerTlsMode::kPermissive:
      return "PERMISSIVE";
    case ListenerTlsMode::kDisabled:
      return "DISABLED";
  }
  return "?";
}

const char* toString(EgressFilterType type) {
  return type == EgressFilterType::kAllowAll ? "ALLOW_ALL" : "DROP_ALL";
}

const char* toString(DnsResponseType type) {
  return type == DnsResponseType::kLoadBalancer ? "LOADBALANCER" : "ENDPOINTS";
}

const char* toString(HeaderMatchMethod::Kind kind) {
  switch (kind) {
    case HeaderMatchMethod::Kind::kExact:
      return "exact";
    case HeaderMatchMethod::Kind::kPrefix:
      return "prefix";
    case HeaderMatchMethod::Kind::kSuffix:
      return "suffix";
    case HeaderMatchMethod::Kind::kRegex:
      return "regex";
    case HeaderMatchMethod::Kind::kRange:
      return "range";
  }
  return "?";
}

PortProtocol RouteSpec::protocol() const {
  if (http2Route) return PortProtocol::kHttp2;
  if (grpcRoute) return PortProtocol::kGrpc;
  if (tcpRoute) return PortProtocol::kTcp;
  return PortProtocol::kHttp;
}

const std::vector<WeightedTarget>& RouteSpec::weightedTargets() const {
  static const std::vector<WeightedTarget> kNone;
  if (httpRoute) return httpRoute->weightedTargets;
  if (http2Route) return http2Route->weightedTargets;
  if (grpcRoute) return grpcRoute->weightedTargets;
  if (tcpRoute) return tcpRoute->weightedTargets;
  return kNone;
}

std::optional<int64_t> RouteSpec::matchPort() const {
  if (httpRoute) return httpRoute->match.port;
  if (http2Route) return http2Route->match.port;
  if (grpcRoute) return grpcRoute->match.port;
  if (tcpRoute) return tcpRoute->matchPort;
  return std::nullopt;
}

PortProtocol GatewayRouteSpec::protocol() const {
  if (http2Route) return PortProtocol::kHttp2;
  if (grpcRoute) return PortProtocol::kGrpc;
  return PortProtocol::kHttp;
}

const GatewayRouteTarget& GatewayRouteSpec::target() const {
  static const GatewayRouteTarget kNone;
  if (httpRoute) return httpRoute->target;
  if (http2Route) return http2Route->target;
  if (grpcRoute) return grpcRoute->target;
  return kNone;
}

namespace {

template <typename T>
const T* findIn(const std::vector<T>& items, std::string_view mesh, std::string_view name) {
  for (const T& item : items) {
    if (item.mesh == mesh && item.name == name) return &item;
  }
  return nullptr;
}

}  // namespace

const Mesh* MeshSet::findMesh(std::string_view mesh) const {
  for (const Mesh& item : meshes) {
    if (item.name == mesh) return &item;
  }
  return nullptr;
}

const VirtualNode* MeshSet::findVirtualNode(std::string_view mesh, std::string_view name) const {
  return findIn(virtualNodes, mesh, name);
}

const VirtualService* MeshSet::findVirtualService(std::string_view mesh,
                                                  std::string_view name) const {
  return findIn(virtualServices, mesh, name);
}

const VirtualRouter* MeshSet::findVirtualRouter(std::string_view mesh,
                                                std::string_view name) const {
  return findIn(virtualRouters, mesh, name);
}

const VirtualGateway* MeshSet::findVirtualGateway(std::string_view mesh,
                                                  std::string_view name) const {
  return findIn(virtualGateways, mesh, name);
}

std::vector<const Route*> MeshSet::routesOf(std::string_view mesh, std::string_view router) const {
  std::vector<const Route*> out;
  for (const Route& route : routes) {
    if (route.mesh == mesh && route.virtualRouter == router) out.push_back(&route);
  }
  return out;
}

std::vector<const GatewayRoute*> MeshSet::gatewayRoutesOf(std::string_view mesh,
                                                          std::string_view gateway) const {
  std::vector<const GatewayRoute*> out;
  for (const GatewayRoute& route : gatewayRoutes) {
    if (route.mesh == mesh && route.virtualGateway == gateway) out.push_back(&route);
  }
  return out;
}

std::vector<Endpoint> MeshSet::endpointsOf(std::string_view mesh,
                                           std::string_view virtualNode) const {
  std::vector<Endpoint> out;
  for (const Endpoints& doc : endpoints) {
    if (doc.mesh == mesh && doc.virtualNode == virtualNode) {
      out.insert(out.end(), doc.endpoints.begin(), doc.endpoints.end());
    }
  }
  return out;
}

bool MeshSet::hasEndpointsDocument(std::string_view mesh, std::string_view virtualNode) const {
  for (const Endpoints& doc : endpoints) {
    if (doc.mesh == mesh && doc.virtualNode == virtualNode) return true;
  }
  return false;
}

const Sidecar* MeshSet::findSidecar(std::string_view mesh, std::string_view virtualNode) const {
  for (const Sidecar& sidecar : sidecars) {
    if (sidecar.mesh == mesh && sidecar.virtualNode == virtualNode) return &sidecar;
  }
  return nullptr;
}

std::string toString(const HostPort& hostPort) {
  if (hostPort.address.find(':') != std::string::npos) {
    return absl::StrCat("[", hostPort.address, "]:", hostPort.port);
  }
  return absl::StrCat(hostPort.address, ":", hostPort.port);
}

}  // namespace trellis::config::appmesh
