// The App Mesh resource model: plain data for Mesh, VirtualNode, VirtualService, VirtualRouter,
// Route, VirtualGateway and GatewayRoute as App Mesh's API defines them, plus Trellis's own
// Endpoints and Sidecar documents. The loader fills it from any of the three input formats; the
// validator and the xDS translation read it. Names are always App Mesh names (for Kubernetes
// objects, the resolved awsName), and every resource remembers where it came from so errors can
// point there.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trellis::config::appmesh {

// ---------------------------------------------------------------------------------------------
// Where a resource came from.

enum class InputFormat {
  kCliInput,    // aws appmesh create-*/update-* --cli-input-json (or -yaml) documents
  kDescribe,    // aws appmesh describe-*/create-*/update-* output: {"virtualNode": {...}}
  kKubernetes,  // appmesh.k8s.aws/v1beta2 objects
  kTrellis,     // trellis.dev/v1 documents (Endpoints, Sidecar)
  kCloudFormation,  // AWS::AppMesh::* resources of a CloudFormation template (frontend.h)
  kTerraform,       // aws_appmesh_* resources of Terraform configuration or state (frontend.h)
};
const char* toString(InputFormat format);

struct Source {
  std::string file;  // the file's name as listed in the loaded folder, e.g. "colorteller.yaml"
  int document = 1;  // 1-based index of the YAML document within the file
  InputFormat format = InputFormat::kCliInput;
  std::string specPath = "spec";  // path of the resource's spec inside the document
  std::string k8sNamespace;  // Kubernetes objects only: metadata.namespace ("default" if unset)
  std::string k8sName;       // Kubernetes objects only: metadata.name
  // Resources read by a front-end (CloudFormation, Terraform): the resource's name in that
  // language, e.g. "ColorTellerNode" or "aws_appmesh_virtual_node.colorteller".
  std::string resource;

  // "colorteller.yaml (document 2)", or "mesh.yaml (resource ColorTellerNode)" for a resource a
  // front-end read.
  std::string label() const;
};

// ---------------------------------------------------------------------------------------------
// Shared value types.

enum class DurationUnit { kMs, kS };
struct Duration {
  DurationUnit unit = DurationUnit::kMs;
  int64_t value = 0;
  // The value in milliseconds (saturating; validation bounds the value first).
  int64_t toMillis() const;
};
std::string toString(const Duration& duration);  // "15s", "250ms"

enum class PortProtocol { kHttp, kHttp2, kGrpc, kTcp };
const char* toString(PortProtocol protocol);  // App Mesh spelling: http, http2, grpc, tcp

enum class IpPreference { kIPv6Preferred, kIPv4Preferred, kIPv4Only, kIPv6Only };
const char* toString(IpPreference preference);  // IPv6_PREFERRED, ...

struct Tag {
  std::string key;
  std::string value;
};

struct PortMapping {
  int64_t port = 0;
  PortProtocol protocol = PortProtocol::kHttp;
};

// ---------------------------------------------------------------------------------------------
// TLS (listeners and client policies). Unions are flattened into a kind plus its fields.

struct TlsFileCertificate {
  std::string certificateChain;
  std::string privateKey;
};

struct ListenerTlsCertificate {
  enum class Kind { kAcm, kFile, kSds };
  Kind kind = Kind::kFile;
  std::string acmCertificateArn;  // kAcm
  TlsFileCertificate file;        // kFile
  std::string sdsSecretName;      // kSds
};

struct TlsValidationTrust {
  enum class Kind { kAcm, kFile, kSds };
  Kind kind = Kind::kFile;
  std::vector<std::string> acmCertificateAuthorityArns;  // kAcm
  std::string fileCertificateChain;                      // kFile
  std::string sdsSecretName;                             // kSds
};

struct TlsValidationContext {
  TlsValidationTrust trust;
  // subjectAlternativeNames.match.exact, when subjectAlternativeNames is given.
  std::optional<std::vector<std::string>> subjectAlternativeNamesExact;
};

enum class ListenerTlsMode { kStrict, kPermissive, kDisabled };
const char* toString(ListenerTlsMode mode);

struct ListenerTls {
  ListenerTlsMode mode = ListenerTlsMode::kStrict;
  ListenerTlsCertificate certificate;
  std::optional<TlsValidationContext> validation;
};

struct ClientTlsCertificate {
  enum class Kind { kFile, kSds };
  Kind kind = Kind::kFile;
  TlsFileCertificate file;
  std::string sdsSecretName;
};

struct ClientPolicyTls {
  std::optional<bool> enforce;  // App Mesh default: true
  std::vector<int64_t> ports;
  std::optional<ClientTlsCertificate> certificate;
  TlsValidationContext validation;
};

struct ClientPolicy {
  std::optional<ClientPolicyTls> tls;
};

struct BackendDefaults {
  std::optional<ClientPolicy> clientPolicy;
};

// ---------------------------------------------------------------------------------------------
// Listeners (virtual nodes and virtual gateways share this shape; a gateway listener never has
// outlierDetection or timeout, which the loader enforces).

struct HealthCheckPolicy {
  int64_t healthyThreshold = 0;
  int64_t intervalMillis = 0;
  std::optional<std::string> path;
  std::optional<int64_t> port;
  PortProtocol protocol = PortProtocol::kHttp;
  int64_t timeoutMillis = 0;
  int64_t unhealthyThreshold = 0;
};

struct OutlierDetection {
  int64_t maxServerErrors = 0;
  Duration interval;
  Duration baseEjectionDuration;
  int64_t maxEjectionPercent = 0;
};

// connectionPool is a union keyed by protocol: {http: {maxConnections, maxPendingRequests}},
// {http2: {maxRequests}}, {grpc: {maxRequests}}, {tcp: {maxConnections}}.
struct ConnectionPool {
  PortProtocol protocol = PortProtocol::kHttp;  // which key was used
  std::optional<int64_t> maxConnections;
  std::optional<int64_t> maxPendingRequests;
  std::optional<int64_t> maxRequests;
};

// timeout is a union keyed by protocol; tcp has only idle.
struct ListenerTimeout {
  PortProtocol protocol = PortProtocol::kHttp;  // which key was used
  std::optional<Duration> perRequest;
  std::optional<Duration> idle;
};

struct Listener {
  PortMapping portMapping;
  std::optional<HealthCheckPolicy> healthCheck;
  std::optional<OutlierDetection> outlierDetection;
  std::optional<ConnectionPool> connectionPool;
  std::optional<ListenerTimeout> timeout;
  std::optional<ListenerTls> tls;
};

// ---------------------------------------------------------------------------------------------
// Logging.

struct LoggingFormat {
  std::optional<std::vector<std::pair<std::string, std::string>>> json;  // [{key, value}]
  std::optional<std::string> text;
};

struct FileAccessLog {
  std::string path;
  std::optional<LoggingFormat> format;
};

struct Logging {
  std::optional<FileAccessLog> accessLogFile;  // logging.accessLog.file
};

// ---------------------------------------------------------------------------------------------
// Mesh.

enum class EgressFilterType { kAllowAll, kDropAll };
const char* toString(EgressFilterType type);

struct MeshSpec {
  std::optional<EgressFilterType> egressFilter;  // unset means App Mesh's default, DROP_ALL
  std::optional<IpPreference> ipPreference;      // serviceDiscovery.ipPreference

  EgressFilterType egress() const { return egressFilter.value_or(EgressFilterType::kDropAll); }
};

// ---------------------------------------------------------------------------------------------
// Virtual node.

enum class DnsResponseType { kLoadBalancer, kEndpoints };
const char* toString(DnsResponseType type);

struct DnsServiceDiscovery {
  std::string hostname;
  std::optional<DnsResponseType> responseType;
  std::optional<IpPreference> ipPreference;
};

struct AwsCloudMapServiceDiscovery {
  std::string namespaceName;
  std::string serviceName;
  std::vector<Tag> attributes;  // [{key, value}]
  std::optional<IpPreference> ipPreference;
};

// At most one of the two is set. With neither (or with awsCloudMap), the node's instances come
// from Endpoints documents; with dns, from resolving the hostname.
struct ServiceDiscovery {
  std::optional<DnsServiceDiscovery> dns;
  std::optional<AwsCloudMapServiceDiscovery> awsCloudMap;
};

struct Backend {
  std::string virtualServiceName;  // backends[].virtualService.virtualServiceName
  std::optional<ClientPolicy> clientPolicy;
};

struct VirtualNodeSpec {
  std::vector<Listener> listeners;
  std::vector<Backend> backends;
  std::optional<BackendDefaults> backendDefaults;
  ServiceDiscovery serviceDiscovery;
  std::optional<Logging> logging;
};

// ---------------------------------------------------------------------------------------------
// Virtual service.

struct VirtualServiceProvider {
  enum class Kind { kVirtualNode, kVirtualRouter };
  Kind kind = Kind::kVirtualNode;
  std::string name;  // virtualNodeName or virtualRouterName
};

struct VirtualServiceSpec {
  std::optional<VirtualServiceProvider> provider;
};

// ---------------------------------------------------------------------------------------------
// Virtual router and routes.

struct VirtualRouterSpec {
  std::vector<PortMapping> listeners;  // listeners[].portMapping
};

// A header / gRPC metadata match method (a union): exact, prefix, suffix, regex or range.
struct HeaderMatchMethod {
  enum class Kind { kExact, kPrefix, kSuffix, kRegex, kRange };
  Kind kind = Kind::kExact;
  std::string value;       // all kinds but kRange
  int64_t rangeStart = 0;  // kRange: start included
  int64_t rangeEnd = 0;    // kRange: end excluded
};
const char* toString(HeaderMatchMethod::Kind kind);

struct HeaderMatch {  // HttpRouteHeader, HttpGatewayRouteHeader, Grpc(Gateway)RouteMetadata
  std::string name;
  std::optional<bool> invert;
  std::optional<HeaderMatchMethod> match;  // absent: the header must be present
};

struct PathMatch {  // HttpPathMatch: a union of exact and regex
  bool isRegex = false;
  std::string value;
};

struct QueryParameterMatch {
  std::string name;
  std::optional<std::string> exact;  // match.exact; absent: the parameter must be present
};

struct HttpRouteMatch {
  std::optional<std::string> prefix;
  std::optional<PathMatch> path;
  std::optional<std::string>
      method;  // GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH
  std::optional<std::string> scheme;  // http, https
  std::optional<std::vector<HeaderMatch>> headers;
  std::optional<std::vector<QueryParameterMatch>> queryParameters;
  std::optional<int64_t> port;
};

struct WeightedTarget {
  std::string virtualNode;
  int64_t weight = 0;
  std::optional<int64_t> port;
};

struct RetryPolicy {  // HttpRetryPolicy and GrpcRetryPolicy
  int64_t maxRetries = 0;
  Duration perRetryTimeout;
  std::optional<std::vector<std::string>> httpRetryEvents;  // server-error, gateway-error, ...
  std::optional<std::vector<std::string>> tcpRetryEvents;   // connection-error
  std::optional<std::vector<std::string>> grpcRetryEvents;  // gRPC routes only
};

struct RouteTimeout {  // HttpTimeout, GrpcTimeout, TcpTimeout (idle only)
  std::optional<Duration> perRequest;
  std::optional<Duration> idle;
};

struct HttpRoute {  // httpRoute and http2Route
  HttpRouteMatch match;
  std::vector<WeightedTarget> weightedTargets;  // action.weightedTargets
  std::optional<RetryPolicy> retryPolicy;
  std::optional<RouteTimeout> timeout;
};

struct GrpcRouteMatch {
  std::optional<std::string> serviceName;
  std::optional<std::string> methodName;
  std::optional<std::vector<HeaderMatch>> metadata;
  std::optional<int64_t> port;
};

struct GrpcRoute {
  GrpcRouteMatch match;
  std::vector<WeightedTarget> weightedTargets;
  std::optional<RetryPolicy> retryPolicy;
  std::optional<RouteTimeout> timeout;
};

struct TcpRoute {
  std::optional<int64_t> matchPort;  // match.port
  std::vector<WeightedTarget> weightedTargets;
  std::optional<RouteTimeout> timeout;
};

// Exactly one of httpRoute, http2Route, grpcRoute, tcpRoute is set (the loader enforces it).
struct RouteSpec {
  std::optional<int64_t> priority;
  std::optional<HttpRoute> httpRoute;
  std::optional<HttpRoute> http2Route;
  std::optional<GrpcRoute> grpcRoute;
  std::optional<TcpRoute> tcpRoute;

  PortProtocol protocol() const;  // which of the four is set
  const std::vector<WeightedTarget>& weightedTargets() const;
  std::optional<int64_t> matchPort() const;
};

// ---------------------------------------------------------------------------------------------
// Virtual gateway and gateway routes.

struct VirtualGatewaySpec {
  std::vector<Listener> listeners;  // protocol http, http2 or grpc
  std::optional<BackendDefaults> backendDefaults;
  std::optional<Logging> logging;
};

struct HostnameMatch {  // a union of exact and suffix
  bool isSuffix = false;
  std::string value;
};

struct GatewayRouteTarget {
  std::string virtualServiceName;  // target.virtualService.virtualServiceName
  std::optional<int64_t> port;
};

struct GatewayRouteRewrite {
  std::optional<std::string> hostnameDefaultTargetHostname;  // hostname.defaultTargetHostname
  std::optional<std::string> prefixDefaultPrefix;            // prefix.defaultPrefix (HTTP only)
  std::optional<std::string> prefixValue;                    // prefix.value (HTTP only)
  std::optional<std::string> pathExact;                      // path.exact (HTTP only)
};

struct HttpGatewayRouteMatch {
  std::optional<std::string> prefix;
  std::optional<PathMatch> path;
  std::optional<std::string> method;
  std::optional<HostnameMatch> hostname;
  std::optional<std::vector<HeaderMatch>> headers;
  std::optional<std::vector<QueryParameterMatch>> queryParameters;
  std::optional<int64_t> port;
};

struct HttpGatewayRoute {
  HttpGatewayRouteMatch match;
  GatewayRouteTarget target;
  std::optional<GatewayRouteRewrite> rewrite;
};

struct GrpcGatewayRouteMatch {
  std::optional<std::string> serviceName;
  std::optional<HostnameMatch> hostname;
  std::optional<std::vector<HeaderMatch>> metadata;
  std::optional<int64_t> port;
};

struct GrpcGatewayRoute {
  GrpcGatewayRouteMatch match;
  GatewayRouteTarget target;
  std::optional<GatewayRouteRewrite> rewrite;  // hostname only
};

// Exactly one of httpRoute, http2Route, grpcRoute is set (the loader enforces it).
struct GatewayRouteSpec {
  std::optional<int64_t> priority;
  std::optional<HttpGatewayRoute> httpRoute;
  std::optional<HttpGatewayRoute> http2Route;
  std::optional<GrpcGatewayRoute> grpcRoute;

  PortProtocol protocol() const;
  const GatewayRouteTarget& target() const;
};

// ---------------------------------------------------------------------------------------------
// Resources.

struct ResourceHeader {
  std::string mesh;  // the App Mesh mesh name (for a Mesh, its own name)
  std::string name;  // the App Mesh resource name
  Source source;
  std::vector<Tag> tags;
  std::optional<std::string> meshOwner;
  std::optional<std::string> arn;  // metadata.arn of describe output, when given
};

struct Mesh : ResourceHeader {
  MeshSpec spec;
};
struct VirtualNode : ResourceHeader {
  VirtualNodeSpec spec;
};
struct VirtualService : ResourceHeader {
  VirtualServiceSpec spec;
};
struct VirtualRouter : ResourceHeader {
  VirtualRouterSpec spec;
};
struct Route : ResourceHeader {
  std::string virtualRouter;
  RouteSpec spec;
};
struct VirtualGateway : ResourceHeader {
  VirtualGatewaySpec spec;
};
struct GatewayRoute : ResourceHeader {
  std::string virtualGateway;
  GatewayRouteSpec spec;
};

// Trellis's own document (apiVersion trellis.dev/v1, kind Endpoints): the instances of one
// virtual node, written by a script or a watcher. See README.md.
struct Endpoint {
  std::string address;          // an IPv4 or IPv6 literal
  std::optional<int64_t> port;  // absent: the listener port the traffic is for
  int64_t weight = 1;
};

struct Endpoints {
  std::string mesh;
  std::string virtualNode;
  std::vector<Endpoint> endpoints;
  Source source;
};

// Trellis's own document (apiVersion trellis.dev/v1, kind Sidecar): where one virtual node's
// sidecar listens and where its local app really listens. Needed when several sidecars share one
// machine without iptables (a local demo): they cannot all bind 15000/15001, nor can every app
// listen on its listener port. See README.md.
struct HostPort {
  std::string address;  // an IPv4 or IPv6 literal (validation checks it)
  int64_t port = 0;
};
std::string toString(const HostPort& hostPort);  // "127.0.0.1:15100", "[::1]:15100"

struct AppPort {
  int64_t listenerPort = 0;  // a listener port of the virtual node
  int64_t appPort = 0;       // where the local app really listens for it
};

struct Sidecar {
  std::string mesh;
  std::string virtualNode;
  std::optional<HostPort> inbound;        // unset: 0.0.0.0:15000
  std::optional<HostPort> outbound;       // unset: 0.0.0.0:15001
  std::optional<std::string> appAddress;  // app.address; unset: 127.0.0.1
  std::vector<AppPort> appPorts;          // app.ports; a listener port not listed maps to itself
  Source source;
};

// Everything loaded from one folder. Resources of several meshes may sit side by side; each
// carries its mesh name and the lookups below never cross meshes.
struct MeshSet {
  std::vector<Mesh> meshes;
  std::vector<VirtualNode> virtualNodes;
  std::vector<VirtualService> virtualServices;
  std::vector<VirtualRouter> virtualRouters;
  std::vector<Route> routes;
  std::vector<VirtualGateway> virtualGateways;
  std::vector<GatewayRoute> gatewayRoutes;
  std::vector<Endpoints> endpoints;
  std::vector<Sidecar> sidecars;

  const Mesh* findMesh(std::string_view mesh) const;
  const VirtualNode* findVirtualNode(std::string_view mesh, std::string_view name) const;
  const VirtualService* findVirtualService(std::string_view mesh, std::string_view name) const;
  const VirtualRouter* findVirtualRouter(std::string_view mesh, std::string_view name) const;
  const VirtualGateway* findVirtualGateway(std::string_view mesh, std::string_view name) const;
  // Routes of one virtual router, in load order.
  std::vector<const Route*> routesOf(std::string_view mesh, std::string_view router) const;
  std::vector<const GatewayRoute*> gatewayRoutesOf(std::string_view mesh,
                                                   std::string_view gateway) const;
  // All endpoints of one virtual node, from every Endpoints document naming it, in load order.
  std::vector<Endpoint> endpointsOf(std::string_view mesh, std::string_view virtualNode) const;
  // Whether any Endpoints document names the node (an empty list counts: "no instances now").
  bool hasEndpointsDocument(std::string_view mesh, std::string_view virtualNode) const;
  // The node's Sidecar document (the first, if validation was skipped), or nullptr.
  const Sidecar* findSidecar(std::string_view mesh, std::string_view virtualNode) const;
};

}  // namespace trellis::config::appmesh
