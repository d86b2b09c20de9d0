// Tests of App Mesh validation: the color app is valid in every format, and each rule reports
// one message naming the file, the resource, the field path, the value and what is allowed.
// Most tests break one field of the loaded color app; shapes only Kubernetes or gateways have
// are loaded from inline documents.
#include "config/appmesh/validate.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "config/appmesh/loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trellis::config::appmesh {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kRoute[] =
    "colorteller-route.json (document 1): "
    "color-mesh/VirtualRouter/colorteller-router/Route/colorteller-route: ";
constexpr char kRed[] =
    "colorteller-nodes.yaml (document 1): color-mesh/VirtualNode/colorteller-red: ";
constexpr char kFront[] = "front.json (document 1): color-mesh/VirtualNode/front: ";
constexpr char kRouter[] =
    "colorteller-router.json (document 1): color-mesh/VirtualRouter/colorteller-router: ";
constexpr char kService[] =
    "colorteller-service.json (document 1): "
    "color-mesh/VirtualService/colorteller.color-mesh.local: ";

MeshSet colorApp() {
  absl::StatusOr<MeshSet> set = loadMeshDir("config/appmesh/testdata/colorapp");
  EXPECT_TRUE(set.ok()) << set.status();
  return set.ok() ? *std::move(set) : MeshSet{};
}

std::vector<std::string> errorsOf(const MeshSet& set) {
  std::vector<std::string> out;
  for (const ValidationError& error : validate(set)) out.push_back(error.toString());
  return out;
}

std::vector<std::string> errorsOfFiles(const std::vector<InputFile>& files) {
  LoadResult result = loadMeshFiles(files);
  EXPECT_THAT(result.errors, IsEmpty());
  return errorsOf(result.mesh);
}

VirtualNode& node(MeshSet& set, const std::string& name) {
  for (VirtualNode& n : set.virtualNodes) {
    if (n.name == name) return n;
  }
  ADD_FAILURE() << "no node " << name;
  return set.virtualNodes.front();
}

HttpRoute& httpRoute(MeshSet& set) { return *set.routes.at(0).spec.httpRoute; }

Listener& redListener(MeshSet& set) { return node(set, "colorteller-red").spec.listeners.at(0); }

std::string s(std::string_view prefix, std::string_view rest) {
  return absl::StrCat(std::string(prefix), std::string(rest));
}

// ------------------------------------------------------------------------ valid meshes

TEST(ValidateColorApp, EveryFormatIsValid) {
  for (const char* folder : {"colorapp", "describe", "k8s", "mixed"}) {
    absl::StatusOr<MeshSet> set = loadMeshDir(absl::StrCat("config/appmesh/testdata/", folder));
    ASSERT_TRUE(set.ok()) << set.status();
    EXPECT_THAT(errorsOf(*set), IsEmpty()) << folder;
  }
}

// ------------------------------------------------------------------------ weighted targets

TEST(ValidateRoute, WeightedTargetsCount) {
  MeshSet set = colorApp();
  httpRoute(set).weightedTargets.clear();
  EXPECT_THAT(errorsOf(set), ElementsAre(s(kRoute,
                                           "spec.httpRoute.action.weightedTargets: 0 "
                                           "weighted targets (allowed: 1-10)")));
  set = colorApp();
  for (int i = 0; i < 8; ++i) httpRoute(set).weightedTargets.push_back({"colorteller-blue", 0, {}});
  EXPECT_THAT(errorsOf(set), ElementsAre(s(kRoute,
                                           "spec.httpRoute.action.weightedTargets: 11 "
                                           "weighted targets (allowed: 1-10)")));
}

TEST(ValidateRoute, WeightRange) {
  MeshSet set = colorApp();
  httpRoute(set).weightedTargets[1].weight = -1;
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRoute,
                            "spec.httpRoute.action.weightedTargets[1].weight: -1 is out of "
                            "range (allowed: 0-100)")));
}

TEST(ValidateRoute, TotalWeightAtMostOneHundred) {
  MeshSet set = colorApp();
  httpRoute(set).weightedTargets[1].weight = 50;
  EXPECT_THAT(errorsOf(set), ElementsAre(s(kRoute,
                                           "spec.httpRoute.action.weightedTargets: "
                                           "weights add up to 150 (allowed: at most 100)")));
}

TEST(ValidateRoute, TotalWeightAboveZero) {
  MeshSet set = colorApp();
  httpRoute(set).weightedTargets[0].weight = 0;
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRoute,
                            "spec.httpRoute.action.weightedTargets: weights add up to 0, "
                            "so no target would receive traffic (allowed: 1-100)")));
}

TEST(ValidateRoute, TargetNodeMustExistInTheSameMesh) {
  MeshSet set = colorApp();
  httpRoute(set).weightedTargets[2].virtualNode = "colorteller-purple";
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRoute,
                            "spec.httpRoute.action.weightedTargets[2].virtualNode: no "
                            "VirtualNode \"colorteller-purple\" in mesh \"color-mesh\" "
                            "(defined: colorteller-red, colorteller-blue, "
                            "colorteller-green, front)")));
}

TEST(ValidateRoute, TargetPortMustBeAListenerPortOfTheNode) {
  MeshSet set = colorApp();
  httpRoute(set).weightedTargets[0].port = 9090;
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRoute,
                            "spec.httpRoute.action.weightedTargets[0].port: 9090 is not a "
                            "listener port of VirtualNode \"colorteller-red\" (allowed: "
                            "9080)")));
}

TEST(ValidateRoute, TargetPortIsRequiredForANodeWithSeveralListeners) {
  MeshSet set = colorApp();
  Listener second = redListener(set);
  second.portMapping.port = 9443;
  second.healthCheck->port = 9443;
  node(set, "colorteller-red").spec.listeners.push_back(second);
  set.endpoints[1].endpoints[0].port.reset();  // one endpoint port cannot serve two listeners
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRoute,
                            "spec.httpRoute.action.weightedTargets[0].port: required: "
                            "VirtualNode \"colorteller-red\" has 2 listeners (ports 9080, "
                            "9443); App Mesh requires the target port then")));
  httpRoute(set).weightedTargets[0].port = 9443;
  EXPECT_THAT(errorsOf(set), IsEmpty());
}

TEST(ValidateRoute, TargetMustListen) {
  MeshSet set = colorApp();
  httpRoute(set).weightedTargets[0].virtualNode = "front";
  node(set, "front").spec.listeners.clear();
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRoute,
                            "spec.httpRoute.action.weightedTargets[0].virtualNode: "
                            "VirtualNode \"front\" has no listener, so it cannot receive "
                            "traffic (allowed: a node with a listener)")));
}

TEST(ValidateRoute, RouteTypeMustMatchTheTargetListener) {
  MeshSet set = colorApp();
  node(set, "colorteller-green").spec.listeners[0].portMapping.protocol = PortProtocol::kGrpc;
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRoute,
                            "spec.httpRoute.action.weightedTargets[2].virtualNode: a "
                            "httpRoute cannot target the grpc listener on port 9080 of "
                            "VirtualNode \"colorteller-green\" (App Mesh requires the route "
                            "type to match the listener protocol)")));
}

// ------------------------------------------------------------------------ router and match

TEST(ValidateRoute, RouterMustExist) {
  MeshSet set = colorApp();
  set.routes[0].virtualRouter = "colour-router";
  EXPECT_THAT(errorsOf(set),
              ElementsAre("colorteller-route.json (document 1): "
                          "color-mesh/VirtualRouter/colour-router/Route/colorteller-route: "
                          "virtualRouterName: no VirtualRouter \"colour-router\" in mesh "
                          "\"color-mesh\" (defined: colorteller-router)"));
}

TEST(ValidateRoute, PriorityRange) {
  MeshSet set = colorApp();
  set.routes[0].spec.priority = 1001;
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRoute, "spec.priority: 1001 is out of range (allowed: 0-1000)")));
}

TEST(ValidateRoute, SeveralRouterListenersRequireAMatchPort) {
  MeshSet set = colorApp();
  set.virtualRouters[0].spec.listeners.push_back({9443, PortProtocol::kHttp});
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRoute,
                            "spec.httpRoute.match.port: required: VirtualRouter "
                            "\"colorteller-router\" has 2 listeners (ports 9080, 9443); App "
                            "Mesh requires a route to match a port then")));
  httpRoute(set).match.port = 9080;
  EXPECT_THAT(errorsOf(set), IsEmpty());
}

TEST(ValidateRoute, MatchPortMustBeARouterListenerPort) {
  MeshSet set = colorApp();
  httpRoute(set).match.port = 8080;
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRoute,
                            "spec.httpRoute.match.port: 8080 is not a listener port of "
                            "VirtualRouter \"colorteller-router\" (allowed: 9080)")));
}

TEST(ValidateRoute, RouteTypeMustMatchTheRouterListener) {
  MeshSet set = colorApp();
  set.virtualRouters[0].spec.listeners[0].protocol = PortProtocol::kHttp2;
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRoute,
                            "spec.httpRoute: a httpRoute cannot serve the http2 listener "
                            "on port 9080 of VirtualRouter \"colorteller-router\" (App Mesh "
                            "requires the route type to match the listener protocol)")));
}

TEST(ValidateRoute, PrefixStartsWithSlash) {
  MeshSet set = colorApp();
  httpRoute(set).match.prefix = "color";
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRoute,
                            "spec.httpRoute.match.prefix: \"color\" does not start with "
                            "\"/\" (App Mesh requires a prefix to start with \"/\")")));
}

TEST(ValidateRoute, PrefixAndPathExcludeEachOther) {
  MeshSet set = colorApp();
  httpRoute(set).match.path = PathMatch{false, "/color"};
  EXPECT_THAT(errorsOf(set), ElementsAre(s(kRoute,
                                           "spec.httpRoute.match: both prefix and path are given "
                                           "(allowed: one of them)")));
}

TEST(ValidateRoute, PathRegexMustCompile) {
  MeshSet set = colorApp();
  httpRoute(set).match.prefix.reset();
  httpRoute(set).match.path = PathMatch{true, "/color/(red|blue"};
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRoute,
                            "spec.httpRoute.match.path.regex: \"/color/(red|blue\" is not "
                            "a valid RE2 regular expression: missing ): /color/(red|blue")));
}

TEST(ValidateRoute, HeaderMatchesCount) {
  MeshSet set = colorApp();
  httpRoute(set).match.headers = std::vector<HeaderMatch>(11, HeaderMatch{"x-color", {}, {}});
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRoute, "spec.httpRoute.match.headers: 11 headers (allowed: 1-10)")));
  httpRoute(set).match.headers = std::vector<HeaderMatch>{};
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRoute, "spec.httpRoute.match.headers: 0 headers (allowed: 1-10)")));
}

TEST(ValidateRoute, HeaderMatchValues) {
  MeshSet set = colorApp();
  HeaderMatch longName{std::string(51, 'h'), {}, {}};
  HeaderMatch badRegex{
      "x-color", {}, HeaderMatchMethod{HeaderMatchMethod::Kind::kRegex, "[", 0, 0}};
  HeaderMatch emptyRange{"x-version", true,
                         HeaderMatchMethod{HeaderMatchMethod::Kind::kRange, "", 5, 5}};
  HeaderMatch emptyExact{
      "x-empty", {}, HeaderMatchMethod{HeaderMatchMethod::Kind::kExact, "", 0, 0}};
  httpRoute(set).match.headers = {longName, badRegex, emptyRange, emptyExact};
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRoute, absl::StrCat("spec.httpRoute.match.headers[0].name: \"",
                                                 std::string(51, 'h'),
                                                 "\" is 51 characters long (allowed: 1-50)")),
                          s(kRoute,
                            "spec.httpRoute.match.headers[1].match.regex: \"[\" is not a valid RE2 "
                            "regular expression: missing ]: ["),
                          s(kRoute,
                            "spec.httpRoute.match.headers[2].match.range: start 5 is not below end "
                            "5 (allowed: start < end; the end is excluded, so this range matches "
                            "nothing)"),
                          s(kRoute,
                            "spec.httpRoute.match.headers[3].match.exact: \"\" is 0 characters "
                            "long (allowed: 1-255)")));
}

TEST(ValidateRoute, QueryParametersCount) {
  MeshSet set = colorApp();
  httpRoute(set).match.queryParameters =
      std::vector<QueryParameterMatch>(12, QueryParameterMatch{"color", "red"});
  EXPECT_THAT(errorsOf(set), ElementsAre(s(kRoute,
                                           "spec.httpRoute.match.queryParameters: 12 "
                                           "query parameters (allowed: 1-10)")));
}

TEST(ValidateRoute, SchemeOnlyOnHttp2Routes) {
  MeshSet set = colorApp();
  httpRoute(set).match.scheme = "https";
  EXPECT_THAT(errorsOf(set), ElementsAre(s(kRoute,
                                           "spec.httpRoute.match.scheme: scheme applies "
                                           "only to http2Route (App Mesh)")));
}

TEST(ValidateRoute, RetryPolicyNeedsEventsAndBounds) {
  MeshSet set = colorApp();
  RetryPolicy& retry = *httpRoute(set).retryPolicy;
  retry.httpRetryEvents.reset();
  retry.tcpRetryEvents.reset();
  retry.maxRetries = -1;
  retry.perRetryTimeout.value = -5;
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRoute,
                            "spec.httpRoute.retryPolicy.maxRetries: -1 is out of range "
                            "(allowed: 0-4294967295)"),
                          s(kRoute,
                            "spec.httpRoute.retryPolicy.perRetryTimeout.value: -5 is out "
                            "of range (allowed: at least 0)"),
                          s(kRoute,
                            "spec.httpRoute.retryPolicy: no retry events (allowed: at "
                            "least one of httpRetryEvents, tcpRetryEvents)")));
  set = colorApp();
  httpRoute(set).retryPolicy->tcpRetryEvents = {"connection-error", "connection-error"};
  httpRoute(set).retryPolicy->httpRetryEvents = std::vector<std::string>{};
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRoute,
                            "spec.httpRoute.retryPolicy.httpRetryEvents: 0 events "
                            "(allowed: 1-25)"),
                          s(kRoute,
                            "spec.httpRoute.retryPolicy.tcpRetryEvents: 2 events (allowed: "
                            "1-1)")));
}

TEST(ValidateRoute, MaxRetriesFitsEnvoy) {
  MeshSet set = colorApp();
  httpRoute(set).retryPolicy->maxRetries = 4294967296;
  EXPECT_THAT(errorsOf(set), ElementsAre(s(kRoute,
                                           "spec.httpRoute.retryPolicy.maxRetries: 4294967296 "
                                           "is out of range (allowed: 0-4294967295)")));
}

TEST(ValidateRoute, TimeoutsAreNotNegative) {
  MeshSet set = colorApp();
  httpRoute(set).timeout->idle = Duration{DurationUnit::kS, -1};
  EXPECT_THAT(errorsOf(set), ElementsAre(s(kRoute,
                                           "spec.httpRoute.timeout.idle.value: -1 is out "
                                           "of range (allowed: at least 0)")));
}

TEST(ValidateRoute, GrpcMethodNameNeedsAServiceName) {
  MeshSet set = colorApp();
  for (VirtualNode& n : set.virtualNodes)
    n.spec.listeners[0].portMapping.protocol = PortProtocol::kGrpc;
  for (VirtualNode& n : set.virtualNodes) {
    if (n.spec.listeners[0].healthCheck)
      n.spec.listeners[0].healthCheck->protocol = PortProtocol::kGrpc;
  }
  set.virtualRouters[0].spec.listeners[0].protocol = PortProtocol::kGrpc;
  GrpcRoute grpc;
  grpc.match.methodName = "GetColor";
  grpc.match.metadata = std::vector<HeaderMatch>{};
  grpc.weightedTargets = httpRoute(set).weightedTargets;
  set.routes[0].spec.httpRoute.reset();
  set.routes[0].spec.grpcRoute = grpc;
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRoute,
                            "spec.grpcRoute.match.methodName: a methodName needs a "
                            "serviceName (App Mesh requires serviceName with methodName)"),
                          s(kRoute,
                            "spec.grpcRoute.match.metadata: 0 metadata entries (allowed: "
                            "1-10)")));
}

TEST(ValidateRoute, GrpcRetryEventsAndQueryParameterNames) {
  MeshSet set = colorApp();
  httpRoute(set).match.queryParameters = std::vector<QueryParameterMatch>{{"", {}}};
  EXPECT_THAT(errorsOf(set), ElementsAre(s(kRoute,
                                           "spec.httpRoute.match.queryParameters[0].name: "
                                           "\"\" is 0 characters long (allowed: 1-255)")));
  set = colorApp();
  for (VirtualNode& n : set.virtualNodes) {
    n.spec.listeners[0].portMapping.protocol = PortProtocol::kGrpc;
    if (n.spec.listeners[0].healthCheck) {
      n.spec.listeners[0].healthCheck->protocol = PortProtocol::kGrpc;
    }
  }
  set.virtualRouters[0].spec.listeners[0].protocol = PortProtocol::kGrpc;
  GrpcRoute grpc;
  grpc.match.serviceName = "color.ColorTeller";
  grpc.weightedTargets = httpRoute(set).weightedTargets;
  grpc.retryPolicy = RetryPolicy{
      1, Duration{DurationUnit::kS, 1}, {}, {}, std::vector<std::string>(6, "unavailable")};
  set.routes[0].spec.httpRoute.reset();
  set.routes[0].spec.grpcRoute = grpc;
  EXPECT_THAT(errorsOf(set), ElementsAre(s(kRoute,
                                           "spec.grpcRoute.retryPolicy.grpcRetryEvents: 6 "
                                           "events (allowed: 1-5)")));
}

TEST(ValidateRoute, DuplicateRouteInOneRouter) {
  MeshSet set = colorApp();
  set.routes.push_back(set.routes[0]);
  set.routes[1].source.file = "copy.json";
  EXPECT_THAT(errorsOf(set),
              ElementsAre("copy.json (document 1): "
                          "color-mesh/VirtualRouter/colorteller-router/Route/colorteller-route: "
                          "routeName: duplicate Route \"colorteller-route\" in VirtualRouter "
                          "\"colorteller-router\" (first defined in colorteller-route.json "
                          "(document 1))"));
}

// ------------------------------------------------------------------------ virtual nodes

TEST(ValidateNode, HealthCheckThresholds) {
  MeshSet set = colorApp();
  redListener(set).healthCheck->healthyThreshold = 1;
  redListener(set).healthCheck->unhealthyThreshold = 11;
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRed,
                            "spec.listeners[0].healthCheck.healthyThreshold: 1 is out of "
                            "range (allowed: 2-10)"),
                          s(kRed,
                            "spec.listeners[0].healthCheck.unhealthyThreshold: 11 is out of "
                            "range (allowed: 2-10)")));
}

TEST(ValidateNode, HealthCheckIntervalAndTimeout) {
  MeshSet set = colorApp();
  redListener(set).healthCheck->intervalMillis = 1000;
  redListener(set).healthCheck->timeoutMillis = 60001;
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRed,
                            "spec.listeners[0].healthCheck.intervalMillis: 1000 is out of "
                            "range (allowed: 5000-300000)"),
                          s(kRed,
                            "spec.listeners[0].healthCheck.timeoutMillis: 60001 is out of "
                            "range (allowed: 2000-60000)")));
}

TEST(ValidateNode, HealthCheckPortIsTheListenerPort) {
  MeshSet set = colorApp();
  redListener(set).healthCheck->port = 9090;
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRed,
                            "spec.listeners[0].healthCheck.port: 9090 is not the listener's "
                            "port (allowed: 9080; App Mesh requires the health check port to "
                            "match portMapping)")));
}

TEST(ValidateNode, ListenerPortRange) {
  MeshSet set = colorApp();
  node(set, "front").spec.listeners[0].portMapping.port = 65536;
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kFront,
                            "spec.listeners[0].portMapping.port: 65536 is out of range "
                            "(allowed: 1-65535)")));
}

TEST(ValidateNode, OneListenerPerPort) {
  MeshSet set = colorApp();
  node(set, "front").spec.listeners.push_back(node(set, "front").spec.listeners[0]);
  set.endpoints[0].endpoints[0].port.reset();  // one endpoint port cannot serve two listeners
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kFront,
                            "spec.listeners[1].portMapping.port: port 8080 is already used "
                            "by listeners[0] (allowed: one listener per port)")));
}

TEST(ValidateNode, OutlierDetectionBounds) {
  MeshSet set = colorApp();
  redListener(set).outlierDetection =
      OutlierDetection{0, Duration{DurationUnit::kS, 10}, Duration{DurationUnit::kS, -30}, 101};
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRed,
                            "spec.listeners[0].outlierDetection.maxServerErrors: 0 is out of "
                            "range (allowed: 1-4294967295)"),
                          s(kRed,
                            "spec.listeners[0].outlierDetection.maxEjectionPercent: 101 is "
                            "out of range (allowed: 0-100)"),
                          s(kRed,
                            "spec.listeners[0].outlierDetection.baseEjectionDuration.value: "
                            "-30 is out of range (allowed: at least 1; Trellis: Envoy requires "
                            "a positive duration here)")));
}

TEST(ValidateNode, OutlierDetectionIntervalIsPositive) {
  MeshSet set = colorApp();
  redListener(set).outlierDetection = OutlierDetection{
      5, Duration{DurationUnit::kMs, 0}, Duration{DurationUnit::kS, 30}, 10};
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRed,
                            "spec.listeners[0].outlierDetection.interval.value: 0 is out of "
                            "range (allowed: at least 1; Trellis: Envoy requires a positive "
                            "duration here)")));
}

TEST(ValidateNode, OutlierDetectionMaxServerErrorsFitsEnvoy) {
  MeshSet set = colorApp();
  redListener(set).outlierDetection = OutlierDetection{
      4294967296, Duration{DurationUnit::kS, 10}, Duration{DurationUnit::kS, 30}, 10};
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRed,
                            "spec.listeners[0].outlierDetection.maxServerErrors: 4294967296 is "
                            "out of range (allowed: 1-4294967295)")));
}

TEST(ValidateNode, HttpConnectionPoolLimitsAreAppMeshIntegers) {
  MeshSet set = colorApp();
  redListener(set).connectionPool = ConnectionPool{PortProtocol::kHttp, 2147483648, 0, {}};
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRed,
                            "spec.listeners[0].connectionPool.http.maxConnections: 2147483648 "
                            "is out of range (allowed: 1-2147483647)"),
                          s(kRed,
                            "spec.listeners[0].connectionPool.http.maxPendingRequests: 0 is "
                            "out of range (allowed: 1-2147483647)")));
}

TEST(ValidateNode, ConnectionPoolMatchesTheListener) {
  MeshSet set = colorApp();
  redListener(set).connectionPool = ConnectionPool{PortProtocol::kHttp2, {}, {}, 0};
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRed,
                            "spec.listeners[0].connectionPool.http2: a http2 pool on a http "
                            "listener (allowed: http; App Mesh requires the pool to match "
                            "portMapping.protocol)"),
                          s(kRed,
                            "spec.listeners[0].connectionPool.http2.maxRequests: 0 is out of "
                            "range (allowed: 1-2147483647)")));
}

TEST(ValidateNode, ListenerTimeoutMatchesTheListener) {
  MeshSet set = colorApp();
  redListener(set).timeout = ListenerTimeout{PortProtocol::kTcp, {}, Duration{DurationUnit::kS, 5}};
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRed,
                            "spec.listeners[0].timeout.tcp: a tcp timeout on a http listener "
                            "(allowed: http; it would never apply)")));
}

TEST(ValidateNode, TlsFilePathsAndAuthorities) {
  MeshSet set = colorApp();
  ListenerTls tls;
  tls.certificate.kind = ListenerTlsCertificate::Kind::kFile;
  tls.certificate.file = {std::string(256, 'c'), "/key.pem"};
  redListener(set).tls = tls;
  ClientPolicyTls client;
  client.ports = {0};
  client.validation.trust.kind = TlsValidationTrust::Kind::kAcm;
  client.validation.trust.acmCertificateAuthorityArns = {"a", "b", "c", "d"};
  node(set, "front").spec.backendDefaults = BackendDefaults{ClientPolicy{client}};
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRed, absl::StrCat(
                                      "spec.listeners[0].tls.certificate.file.certificateChain: \"",
                                      std::string(80, 'c'),
                                      "...\" is 256 characters long (allowed: 1-255)")),
                          s(kFront,
                            "spec.backendDefaults.clientPolicy.tls.ports[0]: 0 is out of range "
                            "(allowed: 1-65535)"),
                          s(kFront,
                            "spec.backendDefaults.clientPolicy.tls.validation.trust.acm."
                            "certificateAuthorityArns: 4 certificate authorities (allowed: 1-3)")));
}

TEST(ValidateNode, BackendMustBeAVirtualServiceOfTheMesh) {
  MeshSet set = colorApp();
  node(set, "front").spec.backends.push_back({"colorteller.other-mesh.local", {}});
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kFront,
                            "spec.backends[1].virtualService.virtualServiceName: no "
                            "VirtualService \"colorteller.other-mesh.local\" in mesh "
                            "\"color-mesh\" (defined: colorteller.color-mesh.local)")));
}

TEST(ValidateNode, BackendListedOnce) {
  MeshSet set = colorApp();
  node(set, "front").spec.backends.push_back(node(set, "front").spec.backends[0]);
  EXPECT_THAT(errorsOf(set), ElementsAre(s(kFront,
                                           "spec.backends[1].virtualService.virtualServiceName: "
                                           "\"colorteller.color-mesh.local\" is already a backend "
                                           "(backends[0]); list each virtual service once")));
}

TEST(ValidateNode, CloudMapNamesAndAttributes) {
  MeshSet set = colorApp();
  AwsCloudMapServiceDiscovery& map =
      *node(set, "colorteller-red").spec.serviceDiscovery.awsCloudMap;
  map.attributes.push_back({"has space", "ok value"});
  map.attributes.push_back({"tier", " padded"});
  map.serviceName = "";
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRed,
                            "spec.serviceDiscovery.awsCloudMap.serviceName: \"\" is 0 "
                            "characters long (allowed: 1-1024)"),
                          s(kRed,
                            "spec.serviceDiscovery.awsCloudMap.attributes[1].key: \"has "
                            "space\" has characters Cloud Map does not allow (allowed: "
                            "printable ASCII, no spaces)"),
                          s(kRed,
                            "spec.serviceDiscovery.awsCloudMap.attributes[2].value: \" "
                            "padded\" has characters Cloud Map does not allow (allowed: "
                            "printable ASCII, spaces only inside)")));
}

TEST(ValidateNode, AccessLogPath) {
  MeshSet set = colorApp();
  node(set, "front").spec.logging->accessLogFile->path = "";
  EXPECT_THAT(errorsOf(set), ElementsAre(s(kFront,
                                           "spec.logging.accessLog.file.path: \"\" is 0 "
                                           "characters long (allowed: 1-255)")));
}

TEST(ValidateNode, DnsHostnameAndLogFormat) {
  MeshSet set = colorApp();
  VirtualNode& front = node(set, "front");
  front.spec.serviceDiscovery.awsCloudMap.reset();
  front.spec.serviceDiscovery.dns = DnsServiceDiscovery{"", {}, {}};
  set.endpoints.erase(set.endpoints.begin());  // Endpoints do not apply to DNS nodes
  LoggingFormat format;
  format.json = std::vector<std::pair<std::string, std::string>>{{"", "%START_TIME%"}};
  front.spec.logging->accessLogFile->format = format;
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kFront,
                            "spec.serviceDiscovery.dns.hostname: \"\" is 0 characters "
                            "long (allowed: 1-255)"),
                          s(kFront,
                            "spec.logging.accessLog.file.format.json[0].key: \"\" is 0 "
                            "characters long (allowed: 1-100)")));
}

TEST(ValidateNode, SubjectAlternativeNamesAndHealthCheckPort) {
  MeshSet set = colorApp();
  ListenerTls tls;
  tls.certificate.kind = ListenerTlsCertificate::Kind::kSds;
  tls.certificate.sdsSecretName = "colorteller";
  TlsValidationContext validation;
  validation.trust.kind = TlsValidationTrust::Kind::kFile;
  validation.trust.fileCertificateChain = "/ca.pem";
  validation.subjectAlternativeNamesExact = std::vector<std::string>{""};
  tls.validation = validation;
  redListener(set).tls = tls;
  redListener(set).healthCheck->port = 0;
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRed,
                            "spec.listeners[0].healthCheck.port: 0 is out of range (allowed: "
                            "1-65535)"),
                          s(kRed,
                            "spec.listeners[0].healthCheck.port: 0 is not the listener's "
                            "port (allowed: 9080; App Mesh requires the health check port to "
                            "match portMapping)"),
                          s(kRed,
                            "spec.listeners[0].tls.validation.subjectAlternativeNames.match."
                            "exact[0]: \"\" is 0 characters long (allowed: 1-254)")));
}

// ------------------------------------------------------------------------ names and meshes

TEST(ValidateNames, LengthAndCharacters) {
  MeshSet set = colorApp();
  node(set, "front").name = "front end";
  set.endpoints[0].virtualNode = "front end";
  set.sidecars[0].virtualNode = "front end";
  set.virtualRouters[0].name = std::string(256, 'r');
  set.routes[0].virtualRouter = set.virtualRouters[0].name;
  set.virtualServices[0].spec.provider->name = set.virtualRouters[0].name;
  EXPECT_THAT(errorsOf(set),
              ElementsAre("front.json (document 1): color-mesh/VirtualNode/front end: "
                          "virtualNodeName: \"front end\" contains ' ' (allowed: letters, digits, "
                          "'-', '_')",
                          absl::StrCat("colorteller-router.json (document 1): color-mesh/"
                                       "VirtualRouter/",
                                       std::string(256, 'r'), ": virtualRouterName: \"",
                                       std::string(80, 'r'),
                                       "...\" is 256 characters long (allowed: 1-255)")));
}

TEST(ValidateNames, VirtualServiceNamesMayHaveDots) {
  MeshSet set = colorApp();
  set.virtualServices[0].name = "colorteller/color";
  node(set, "front").spec.backends[0].virtualServiceName = "colorteller/color";
  EXPECT_THAT(errorsOf(set),
              ElementsAre("colorteller-service.json (document 1): "
                          "color-mesh/VirtualService/colorteller/color: virtualServiceName: "
                          "\"colorteller/color\" contains '/' (allowed: letters, digits, '-', "
                          "'_', '.')"));
}

TEST(ValidateNames, DuplicatesWithinAMesh) {
  MeshSet set = colorApp();
  VirtualNode copy = node(set, "colorteller-red");
  copy.source.file = "copy.yaml";
  set.virtualNodes.push_back(copy);
  Mesh mesh = set.meshes[0];
  mesh.source.file = "mesh-copy.json";
  set.meshes.push_back(mesh);
  EXPECT_THAT(errorsOf(set),
              ElementsAre("mesh-copy.json (document 1): Mesh/color-mesh: meshName: duplicate Mesh "
                          "\"color-mesh\" (first defined in mesh.json (document 1))",
                          "copy.yaml (document 1): color-mesh/VirtualNode/colorteller-red: "
                          "virtualNodeName: duplicate VirtualNode \"colorteller-red\" in mesh "
                          "\"color-mesh\" (first defined in colorteller-nodes.yaml (document 1))"));
}

TEST(ValidateNames, SameNameInAnotherMeshIsFine) {
  MeshSet set = colorApp();
  Mesh other = set.meshes[0];
  other.name = other.mesh = "other-mesh";
  set.meshes.push_back(other);
  VirtualNode copy = node(set, "colorteller-red");
  copy.mesh = "other-mesh";
  set.virtualNodes.push_back(copy);
  EXPECT_THAT(errorsOf(set), IsEmpty());
}

TEST(ValidateMeshes, EveryResourceNeedsItsMesh) {
  MeshSet set = colorApp();
  set.virtualRouters[0].mesh = "colour-mesh";
  EXPECT_THAT(
      errorsOf(set),
      // The service and the route look for their router in their own mesh.
      ElementsAre(s(kService,
                    "spec.provider.virtualRouter.virtualRouterName: no VirtualRouter "
                    "\"colorteller-router\" in mesh \"color-mesh\" (the mesh has "
                    "none)"),
                  "colorteller-router.json (document 1): colour-mesh/VirtualRouter/"
                  "colorteller-router: meshName: mesh \"colour-mesh\" is not defined in this "
                  "folder (defined: color-mesh)",
                  s(kRoute,
                    "virtualRouterName: no VirtualRouter \"colorteller-router\" in mesh "
                    "\"color-mesh\" (the mesh has none)")));
}

TEST(ValidateMeshes, OwnerAndTags) {
  MeshSet set = colorApp();
  node(set, "front").meshOwner = "12345";
  node(set, "front").tags.push_back({std::string(129, 'k'), "v"});
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kFront, absl::StrCat("tags[1].key: \"", std::string(80, 'k'),
                                                 "...\" is 129 characters long (allowed: "
                                                 "1-128)")),
                          s(kFront,
                            "meshOwner: \"12345\" is not an account ID (allowed: 12 "
                            "digits)")));
  set = colorApp();
  node(set, "front").tags = std::vector<Tag>(51, Tag{"k", "v"});
  EXPECT_THAT(errorsOf(set), ElementsAre(s(kFront, "tags: 51 tags (allowed: 0-50)")));
}

// ------------------------------------------------------------------------ services, routers

TEST(ValidateService, ProviderMustExist) {
  MeshSet set = colorApp();
  set.virtualServices[0].spec.provider =
      VirtualServiceProvider{VirtualServiceProvider::Kind::kVirtualNode, "colorteller"};
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kService,
                            "spec.provider.virtualNode.virtualNodeName: no VirtualNode "
                            "\"colorteller\" in mesh \"color-mesh\" (defined: "
                            "colorteller-red, colorteller-blue, colorteller-green, "
                            "front)")));
}

TEST(ValidateRouter, NeedsAListenerPerPort) {
  MeshSet set = colorApp();
  set.virtualRouters[0].spec.listeners.clear();
  EXPECT_THAT(errorsOf(set), ElementsAre(s(kRouter,
                                           "spec.listeners: 0 listeners (allowed: at "
                                           "least 1)")));
  set = colorApp();
  set.virtualRouters[0].spec.listeners.push_back({9080, PortProtocol::kHttp});
  set.routes[0].spec.httpRoute->match.port = 9080;
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRouter,
                            "spec.listeners[1].portMapping.port: port 9080 is already "
                            "used by listeners[0] (allowed: one listener per port)")));
}

// ------------------------------------------------------------------------ endpoints

constexpr char kRedEndpoints[] =
    "endpoints.yaml (document 2): color-mesh/Endpoints/colorteller-red: ";

TEST(ValidateEndpoints, NodeAndMeshMustExist) {
  MeshSet set = colorApp();
  set.endpoints[1].virtualNode = "colorteller-purple";
  set.endpoints[2].mesh = "colour-mesh";
  EXPECT_THAT(
      errorsOf(set),
      ElementsAre("endpoints.yaml (document 2): color-mesh/Endpoints/colorteller-purple: "
                  "virtualNode: no VirtualNode \"colorteller-purple\" in mesh \"color-mesh\" "
                  "(defined: colorteller-red, colorteller-blue, colorteller-green, front)",
                  "endpoints.yaml (document 3): colour-mesh/Endpoints/colorteller-blue: "
                  "mesh: mesh \"colour-mesh\" is not defined in this folder"));
}

TEST(ValidateEndpoints, NotForDnsNodes) {
  MeshSet set = colorApp();
  VirtualNode& red = node(set, "colorteller-red");
  red.spec.serviceDiscovery.awsCloudMap.reset();
  red.spec.serviceDiscovery.dns = DnsServiceDiscovery{"red.color.local", {}, {}};
  EXPECT_THAT(errorsOf(set), ElementsAre(s(kRedEndpoints,
                                           "virtualNode: VirtualNode \"colorteller-red\" finds its "
                                           "instances by DNS (\"red.color.local\"); Endpoints "
                                           "apply only to nodes with awsCloudMap or no service "
                                           "discovery")));
}

TEST(ValidateEndpoints, AddressPortAndWeight) {
  MeshSet set = colorApp();
  set.endpoints[1].endpoints = {{"red.local", 9081, 1}, {"10.0.0.1", 0, 129}, {"::1", {}, 0}};
  EXPECT_THAT(errorsOf(set), ElementsAre(s(kRedEndpoints,
                                           "endpoints[0].address: \"red.local\" is not an IP "
                                           "address (allowed: an IPv4 or IPv6 literal; use DNS "
                                           "discovery for names)"),
                                         s(kRedEndpoints,
                                           "endpoints[1].port: 0 is out of range (allowed: "
                                           "1-65535)"),
                                         s(kRedEndpoints,
                                           "endpoints[1].weight: 129 is out of range (allowed: "
                                           "1-128)"),
                                         s(kRedEndpoints,
                                           "endpoints[2].weight: 0 is out of range (allowed: "
                                           "1-128)")));
}

TEST(ValidateEndpoints, PortOnlyForSingleListenerNodes) {
  MeshSet set = colorApp();
  Listener second = redListener(set);
  second.portMapping.port = 9443;
  second.healthCheck->port = 9443;
  node(set, "colorteller-red").spec.listeners.push_back(second);
  httpRoute(set).weightedTargets[0].port = 9080;
  EXPECT_THAT(errorsOf(set), ElementsAre(s(kRedEndpoints,
                                           "endpoints[0].port: not allowed: VirtualNode "
                                           "\"colorteller-red\" has 2 listeners, and one port "
                                           "cannot serve them all (omit port so each listener's "
                                           "own port is used)")));
}

TEST(ValidateEndpoints, EachAddressOnce) {
  MeshSet set = colorApp();
  Endpoints more = set.endpoints[1];
  more.source.file = "more.yaml";
  set.endpoints.push_back(more);
  EXPECT_THAT(errorsOf(set),
              ElementsAre("more.yaml (document 2): color-mesh/Endpoints/colorteller-red: "
                          "endpoints[0]: duplicate endpoint 127.0.0.1:15110 of VirtualNode "
                          "\"colorteller-red\" (first defined in endpoints.yaml (document 2))"));
}

// ------------------------------------------------------------------------ sidecars

constexpr char kRedSidecar[] = "sidecars.yaml (document 2): color-mesh/Sidecar/colorteller-red: ";

TEST(ValidateSidecar, NodeAndMeshMustExistAndOneSidecarPerNode) {
  MeshSet set = colorApp();
  set.sidecars[1].virtualNode = "colorteller-purple";
  set.sidecars[2].mesh = "colour-mesh";
  Sidecar again = set.sidecars[3];
  again.source.file = "again.yaml";
  again.inbound.reset();
  again.outbound.reset();
  set.sidecars.push_back(again);
  EXPECT_THAT(
      errorsOf(set),
      ElementsAre("sidecars.yaml (document 2): color-mesh/Sidecar/colorteller-purple: "
                  "virtualNode: no VirtualNode \"colorteller-purple\" in mesh \"color-mesh\" "
                  "(defined: colorteller-red, colorteller-blue, colorteller-green, front)",
                  "sidecars.yaml (document 3): colour-mesh/Sidecar/colorteller-blue: "
                  "mesh: mesh \"colour-mesh\" is not defined in this folder",
                  "again.yaml (document 4): color-mesh/Sidecar/colorteller-green: virtualNode: "
                  "duplicate Sidecar of VirtualNode \"colorteller-green\" (first defined in "
                  "sidecars.yaml (document 4))"));
}

TEST(ValidateSidecar, AddressesAndPorts) {
  MeshSet set = colorApp();
  Sidecar& red = set.sidecars[1];
  red.inbound = HostPort{"localhost", 0};
  red.outbound = HostPort{"::1", 70000};
  red.appAddress = "app.local";
  red.appPorts = {{9080, 9081}, {9090, 9091}, {9080, 0}};
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRedSidecar,
                            "inbound: \"localhost\" is not an IP address (allowed: an IPv4 or "
                            "IPv6 literal)"),
                          s(kRedSidecar, "inbound: 0 is out of range (allowed: 1-65535)"),
                          s(kRedSidecar, "outbound: 70000 is out of range (allowed: 1-65535)"),
                          s(kRedSidecar,
                            "app.address: \"app.local\" is not an IP address (allowed: an IPv4 "
                            "or IPv6 literal)"),
                          s(kRedSidecar,
                            "app.ports.9090: 9090 is not a listener port of VirtualNode "
                            "\"colorteller-red\" (allowed: 9080)"),
                          s(kRedSidecar, "app.ports.9080: listed twice"),
                          s(kRedSidecar, "app.ports.9080: 0 is out of range (allowed: 1-65535)")));
}

TEST(ValidateSidecar, NoTwoSidecarsListenOnOneAddress) {
  MeshSet set = colorApp();
  set.sidecars[1].outbound = set.sidecars[0].inbound;  // red's outbound on front's inbound
  EXPECT_THAT(errorsOf(set),
              ElementsAre(s(kRedSidecar,
                            "outbound: duplicate listening address 127.0.0.1:15100 (first "
                            "defined in sidecars.yaml (document 1))")));
}

// ------------------------------------------------------------------------ gateways

constexpr char kGatewayDocs[] = R"(
meshName: m
---
meshName: m
virtualNodeName: web
spec:
  listeners:
    - {portMapping: {port: 8080, protocol: http}}
    - {portMapping: {port: 8443, protocol: http}}
---
meshName: m
virtualServiceName: web.local
spec: {provider: {virtualNode: {virtualNodeName: web}}}
---
meshName: m
virtualGatewayName: gw
spec:
  listeners: [{portMapping: {port: 80, protocol: http}}]
)";

constexpr char kGatewayRoute[] = "gw.yaml (document 5): m/VirtualGateway/gw/GatewayRoute/to-web: ";

std::vector<std::string> gatewayErrors(const std::string& gatewayRoute) {
  return errorsOfFiles({{"gw.yaml", absl::StrCat(kGatewayDocs, "---\n", gatewayRoute)}});
}

TEST(ValidateGateway, ValidGatewayRoute) {
  EXPECT_THAT(gatewayErrors(R"(
meshName: m
virtualGatewayName: gw
gatewayRouteName: to-web
spec:
  httpRoute:
    match: {prefix: /web}
    action: {target: {virtualService: {virtualServiceName: web.local}, port: 8080}}
)"),
              IsEmpty());
}

TEST(ValidateGateway, TargetPortRequiredWhenTheProviderHasSeveralListeners) {
  EXPECT_THAT(gatewayErrors(R"(
meshName: m
virtualGatewayName: gw
gatewayRouteName: to-web
spec:
  httpRoute:
    match: {prefix: /web}
    action: {target: {virtualService: {virtualServiceName: web.local}}}
)"),
              ElementsAre(s(kGatewayRoute,
                            "spec.httpRoute.action.target.port: required: the "
                            "provider of VirtualService \"web.local\" has 2 "
                            "listeners (ports 8080, 8443); App Mesh requires the "
                            "target port then")));
  EXPECT_THAT(gatewayErrors(R"(
meshName: m
virtualGatewayName: gw
gatewayRouteName: to-web
spec:
  httpRoute:
    match: {prefix: /web}
    action: {target: {virtualService: {virtualServiceName: web.local}, port: 9000}}
)"),
              ElementsAre(s(kGatewayRoute,
                            "spec.httpRoute.action.target.port: 9000 is not a "
                            "listener port of the provider of VirtualService "
                            "\"web.local\" (allowed: 8080, 8443)")));
}

TEST(ValidateGateway, GatewayAndTargetMustExist) {
  EXPECT_THAT(
      gatewayErrors(R"(
meshName: m
virtualGatewayName: ingress
gatewayRouteName: to-web
spec:
  httpRoute:
    match: {prefix: /web}
    action: {target: {virtualService: {virtualServiceName: www.local}}}
)"),
      ElementsAre("gw.yaml (document 5): m/VirtualGateway/ingress/GatewayRoute/to-web: "
                  "virtualGatewayName: no VirtualGateway \"ingress\" in mesh \"m\" (defined: gw)",
                  "gw.yaml (document 5): m/VirtualGateway/ingress/GatewayRoute/to-web: "
                  "spec.httpRoute.action.target.virtualService.virtualServiceName: no "
                  "VirtualService \"www.local\" in mesh \"m\" (defined: web.local)"));
}

TEST(ValidateGateway, RouteTypeAndPortMustMatchAGatewayListener) {
  EXPECT_THAT(gatewayErrors(R"(
meshName: m
virtualGatewayName: gw
gatewayRouteName: to-web
spec:
  priority: 2000
  grpcRoute:
    match: {serviceName: web.Web}
    action: {target: {virtualService: {virtualServiceName: web.local}, port: 8080}}
)"),
              ElementsAre(s(kGatewayRoute, "spec.priority: 2000 is out of range (allowed: 0-1000)"),
                          s(kGatewayRoute,
                            "spec.grpcRoute: VirtualGateway \"gw\" has no grpc "
                            "listener (listeners: 80; App Mesh requires the route "
                            "type to match a listener protocol)")));
  EXPECT_THAT(gatewayErrors(R"(
meshName: m
virtualGatewayName: gw
gatewayRouteName: to-web
spec:
  httpRoute:
    match: {prefix: web, port: 81, hostname: {exact: ""}}
    action:
      target: {virtualService: {virtualServiceName: web.local}, port: 8080}
      rewrite: {prefix: {defaultPrefix: ENABLED, value: /w/}}
)"),
              ElementsAre(s(kGatewayRoute,
                            "spec.httpRoute.match.port: 81 is not a listener port "
                            "of VirtualGateway \"gw\" (allowed: 80)"),
                          s(kGatewayRoute,
                            "spec.httpRoute.match.prefix: \"web\" does not start "
                            "with \"/\" (App Mesh requires a prefix to start with "
                            "\"/\")"),
                          s(kGatewayRoute,
                            "spec.httpRoute.match.hostname.exact: \"\" is 0 "
                            "characters long (allowed: 1-253)"),
                          s(kGatewayRoute,
                            "spec.httpRoute.action.rewrite.prefix: both "
                            "defaultPrefix and value are given (allowed: one of "
                            "them)")));
}

TEST(ValidateGateway, MatchedListenerMustHaveTheRouteProtocolAndRewritesTheirLengths) {
  EXPECT_THAT(gatewayErrors(R"(
meshName: m
virtualGatewayName: gw
gatewayRouteName: to-web
spec:
  http2Route:
    match: {prefix: /, port: 80}
    action:
      target: {virtualService: {virtualServiceName: web.local}, port: 8080}
      rewrite: {prefix: {value: ""}, path: {exact: ""}}
)"),
              ElementsAre(s(kGatewayRoute,
                            "spec.http2Route: a http2Route cannot serve the http "
                            "listener on port 80 of VirtualGateway \"gw\" (App "
                            "Mesh requires the route type to match the listener "
                            "protocol)"),
                          s(kGatewayRoute,
                            "spec.http2Route.action.rewrite.prefix.value: \"\" is 0 "
                            "characters long (allowed: 1-255)"),
                          s(kGatewayRoute,
                            "spec.http2Route.action.rewrite.path.exact: \"\" is 0 "
                            "characters long (allowed: 1-255)"),
                          s(kGatewayRoute,
                            "spec.http2Route.action.rewrite.path: a path rewrite needs a path "
                            "match (match.path); with a prefix match use rewrite.prefix")));
}

TEST(ValidateGateway, RewritesFitTheirMatch) {
  EXPECT_THAT(gatewayErrors(R"(
meshName: m
virtualGatewayName: gw
gatewayRouteName: to-web
spec:
  httpRoute:
    match: {prefix: /shop}
    action:
      target: {virtualService: {virtualServiceName: web.local}, port: 8080}
      rewrite: {prefix: {value: /web}}
)"),
              ElementsAre(s(kGatewayRoute,
                            "spec.httpRoute.action.rewrite.prefix.value: \"/web\" must start and "
                            "end with \"/\""),
                          s(kGatewayRoute,
                            "spec.httpRoute.match.prefix: \"/shop\" must end with \"/\" when "
                            "rewrite.prefix.value replaces it")));
  EXPECT_THAT(gatewayErrors(R"(
meshName: m
virtualGatewayName: gw
gatewayRouteName: to-web
spec:
  httpRoute:
    match: {path: {exact: /a}}
    action:
      target: {virtualService: {virtualServiceName: web.local}, port: 8080}
      rewrite: {prefix: {defaultPrefix: DISABLED}, path: {exact: b}}
)"),
              ElementsAre(s(kGatewayRoute,
                            "spec.httpRoute.action.rewrite.prefix: a prefix rewrite needs a prefix "
                            "match, and match.path is given (App Mesh rewrites the matched prefix; "
                            "rewrite.path goes with a path match)"),
                          s(kGatewayRoute,
                            "spec.httpRoute.action.rewrite.path.exact: \"b\" does not start with "
                            "\"/\"")));
  // defaultPrefix DISABLED alone is valid: it keeps the request's prefix (App Mesh's meaning).
  EXPECT_THAT(gatewayErrors(R"(
meshName: m
virtualGatewayName: gw
gatewayRouteName: to-web
spec:
  httpRoute:
    match: {prefix: /shop}
    action:
      target: {virtualService: {virtualServiceName: web.local}, port: 8080}
      rewrite: {prefix: {defaultPrefix: DISABLED}}
)"),
              IsEmpty());
}

TEST(ValidateGateway, GatewayNeedsAListenerAndValidHealthCheck) {
  EXPECT_THAT(errorsOfFiles({{"gw.yaml", R"(
meshName: m
---
meshName: m
virtualGatewayName: gw
spec:
  listeners: []
---
meshName: m
virtualGatewayName: gw2
spec:
  listeners:
    - portMapping: {port: 80, protocol: http}
      healthCheck: {protocol: http, path: /, healthyThreshold: 2, unhealthyThreshold: 2,
                    intervalMillis: 4999, timeoutMillis: 2000}
      connectionPool: {grpc: {maxRequests: 5}}
)"}}),
              ElementsAre("gw.yaml (document 2): m/VirtualGateway/gw: spec.listeners: 0 listeners "
                          "(allowed: at least 1)",
                          "gw.yaml (document 3): m/VirtualGateway/gw2: "
                          "spec.listeners[0].healthCheck.intervalMillis: 4999 is out of range "
                          "(allowed: 5000-300000)",
                          "gw.yaml (document 3): m/VirtualGateway/gw2: "
                          "spec.listeners[0].connectionPool.grpc: a grpc pool on a http listener "
                          "(allowed: http; App Mesh requires the pool to match "
                          "portMapping.protocol)"));
}

// ------------------------------------------------------------------------ Kubernetes paths

TEST(ValidateKubernetes, PathsUseTheKubernetesFieldNames) {
  EXPECT_THAT(errorsOfFiles({{"k8s.yaml", R"(
apiVersion: appmesh.k8s.aws/v1beta2
kind: Mesh
metadata: {name: shop}
spec: {}
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualNode
metadata: {name: cart, namespace: shop}
spec:
  listeners: [{portMapping: {port: 80, protocol: http}}]
  backends:
    - virtualService:
        virtualServiceARN: arn:aws:appmesh:eu-west-1:123456789012:mesh/shop/virtualService/gone
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualRouter
metadata: {name: cart-router, namespace: shop}
spec:
  listeners: [{portMapping: {port: 80, protocol: http}}]
  routes:
    - name: all
      priority: -1
      httpRoute:
        match: {prefix: /}
        action: {weightedTargets: [{virtualNodeRef: {name: cart}, weight: 101}]}
)"}}),
              ElementsAre("k8s.yaml (document 2): shop/VirtualNode/cart_shop: "
                          "spec.backends[0].virtualService.virtualServiceRef: no VirtualService "
                          "\"gone\" in mesh \"shop\" (the mesh has none)",
                          "k8s.yaml (document 3): shop/VirtualRouter/cart-router_shop/Route/all: "
                          "spec.routes[0].priority: -1 is out of range (allowed: 0-1000)",
                          // An out-of-range weight counts as 100 in the total, so it is
                          // reported once.
                          "k8s.yaml (document 3): shop/VirtualRouter/cart-router_shop/Route/all: "
                          "spec.routes[0].httpRoute.action.weightedTargets[0].weight: 101 is out "
                          "of range (allowed: 0-100)"));
}

TEST(ValidateKubernetes, NamesAreCheckedOnTheAwsName) {
  EXPECT_THAT(errorsOfFiles({{"k8s.yaml", R"(
apiVersion: appmesh.k8s.aws/v1beta2
kind: Mesh
metadata: {name: shop}
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualNode
metadata: {name: cart.v1, namespace: shop}
spec: {}
)"}}),
              ElementsAre("k8s.yaml (document 2): shop/VirtualNode/cart.v1_shop: spec.awsName: "
                          "\"cart.v1_shop\" contains '.' (allowed: letters, digits, '-', '_')"));
}

}  // namespace
}  // namespace trellis::config::appmesh
