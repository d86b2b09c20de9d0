// Tests of the App Mesh loader: the color app in each input format (and mixed) loads to the same
// MeshSet, and each kind of mistake becomes one precise message naming file, document and path.
#include "config/appmesh/loader.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trellis::config::appmesh {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kTestdata[] = "config/appmesh/testdata/";

std::string ports(const std::vector<Listener>& listeners) {
  std::vector<std::string> out;
  for (const Listener& l : listeners) {
    std::string text = absl::StrCat(l.portMapping.port, "/", toString(l.portMapping.protocol));
    if (l.healthCheck) {
      const HealthCheckPolicy& hc = *l.healthCheck;
      absl::StrAppend(&text, " hc=", toString(hc.protocol), ":", hc.path.value_or("-"), ":",
                      hc.port.value_or(0), ":", hc.healthyThreshold, "/", hc.unhealthyThreshold,
                      "/", hc.intervalMillis, "/", hc.timeoutMillis);
    }
    out.push_back(text);
  }
  return absl::StrJoin(out, ",");
}

std::string targets(const std::vector<WeightedTarget>& weighted) {
  std::vector<std::string> out;
  for (const WeightedTarget& t : weighted) {
    out.push_back(
        absl::StrCat(t.virtualNode, ":", t.weight, t.port ? absl::StrCat("@", *t.port) : ""));
  }
  return absl::StrJoin(out, ",");
}

// One line per resource with the facts the formats must agree on; sorted, so load order and
// file layout do not matter.
std::string summarize(const MeshSet& set) {
  std::vector<std::string> lines;
  for (const Mesh& m : set.meshes) {
    lines.push_back(absl::StrCat("mesh ", m.name, " egress=", toString(m.spec.egress())));
  }
  for (const VirtualNode& n : set.virtualNodes) {
    std::string line = absl::StrCat("node ", n.mesh, "/", n.name,
                                    " listeners=", ports(n.spec.listeners), " backends=");
    for (const Backend& b : n.spec.backends) absl::StrAppend(&line, b.virtualServiceName, ";");
    if (n.spec.serviceDiscovery.awsCloudMap) {
      const AwsCloudMapServiceDiscovery& map = *n.spec.serviceDiscovery.awsCloudMap;
      absl::StrAppend(&line, " cloudmap=", map.namespaceName, "/", map.serviceName);
      for (const Tag& tag : map.attributes) absl::StrAppend(&line, ",", tag.key, "=", tag.value);
    }
    if (n.spec.serviceDiscovery.dns)
      absl::StrAppend(&line, " dns=", n.spec.serviceDiscovery.dns->hostname);
    if (n.spec.logging && n.spec.logging->accessLogFile) {
      absl::StrAppend(&line, " log=", n.spec.logging->accessLogFile->path);
    }
    lines.push_back(line);
  }
  for (const VirtualService& s : set.virtualServices) {
    std::string line = absl::StrCat("service ", s.mesh, "/", s.name);
    if (s.spec.provider) {
      absl::StrAppend(&line, " provider=",
                      s.spec.provider->kind == VirtualServiceProvider::Kind::kVirtualRouter
                          ? "router:"
                          : "node:",
                      s.spec.provider->name);
    }
    lines.push_back(line);
  }
  for (const VirtualRouter& r : set.virtualRouters) {
    std::vector<std::string> listeners;
    for (const PortMapping& p : r.spec.listeners) {
      listeners.push_back(absl::StrCat(p.port, "/", toString(p.protocol)));
    }
    lines.push_back(
        absl::StrCat("router ", r.mesh, "/", r.name, " listeners=", absl::StrJoin(listeners, ",")));
  }
  for (const Route& r : set.routes) {
    std::string line =
        absl::StrCat("route ", r.mesh, "/", r.virtualRouter, "/", r.name,
                     " priority=", r.spec.priority.value_or(-1), " ", toString(r.spec.protocol()),
                     " targets=", targets(r.spec.weightedTargets()));
    if (r.spec.httpRoute) {
      const HttpRoute& h = *r.spec.httpRoute;
      absl::StrAppend(&line, " prefix=", h.match.prefix.value_or("-"));
      if (h.retryPolicy) {
        absl::StrAppend(
            &line, " retry=", h.retryPolicy->maxRetries, "x",
            toString(h.retryPolicy->perRetryTimeout), ":",
            absl::StrJoin(h.retryPolicy->httpRetryEvents.value_or(std::vector<std::string>{}), "+"),
            ":",
            absl::StrJoin(h.retryPolicy->tcpRetryEvents.value_or(std::vector<std::string>{}), "+"));
      }
      if (h.timeout && h.timeout->perRequest) {
        absl::StrAppend(&line, " perRequest=", toString(*h.timeout->perRequest));
      }
    }
    lines.push_back(line);
  }
  for (const Endpoints& e : set.endpoints) {
    std::string line = absl::StrCat("endpoints ", e.mesh, "/", e.virtualNode);
    for (const Endpoint& ep : e.endpoints) {
      absl::StrAppend(&line, " ", ep.address, ":", ep.port ? absl::StrCat(*ep.port) : "listener",
                      "*", ep.weight);
    }
    lines.push_back(line);
  }
  for (const Sidecar& sc : set.sidecars) {
    std::string line = absl::StrCat("sidecar ", sc.mesh, "/", sc.virtualNode, " in=",
                                    sc.inbound ? toString(*sc.inbound) : "-",
                                    " out=", sc.outbound ? toString(*sc.outbound) : "-",
                                    " app=", sc.appAddress.value_or("-"));
    for (const AppPort& port : sc.appPorts) {
      absl::StrAppend(&line, " ", port.listenerPort, "->", port.appPort);
    }
    lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  return absl::StrJoin(lines, "\n");
}

MeshSet loadOk(const std::string& folder) {
  LoadResult result = loadMeshDirWithErrors(absl::StrCat(kTestdata, folder));
  EXPECT_THAT(result.errors, IsEmpty()) << folder;
  return std::move(result.mesh);
}

std::vector<std::string> errorsOf(const std::vector<InputFile>& files) {
  return loadMeshFiles(files).errors;
}

std::vector<std::string> errorsOf(const std::string& name, const std::string& content) {
  return errorsOf({InputFile{name, content}});
}

const VirtualNode& nodeNamed(const MeshSet& set, const std::string& name) {
  for (const VirtualNode& node : set.virtualNodes) {
    if (node.name == name) return node;
  }
  ADD_FAILURE() << "no node " << name;
  static const VirtualNode kNone;
  return kNone;
}

// ------------------------------------------------------------------------ the color app

TEST(LoadColorApp, CliInputFolderLoadsEveryResource) {
  const MeshSet set = loadOk("colorapp");
  ASSERT_EQ(set.meshes.size(), 1u);
  EXPECT_EQ(set.meshes[0].name, "color-mesh");
  EXPECT_EQ(set.meshes[0].spec.egress(), EgressFilterType::kDropAll);
  EXPECT_EQ(set.virtualNodes.size(), 4u);
  EXPECT_EQ(set.virtualServices.size(), 1u);
  EXPECT_EQ(set.virtualRouters.size(), 1u);
  EXPECT_EQ(set.routes.size(), 1u);
  EXPECT_EQ(set.endpoints.size(), 4u);

  const VirtualNode* front = set.findVirtualNode("color-mesh", "front");
  ASSERT_NE(front, nullptr);
  ASSERT_EQ(front->spec.listeners.size(), 1u);
  EXPECT_EQ(front->spec.listeners[0].portMapping.port, 8080);
  EXPECT_EQ(front->spec.listeners[0].portMapping.protocol, PortProtocol::kHttp);
  ASSERT_EQ(front->spec.backends.size(), 1u);
  EXPECT_EQ(front->spec.backends[0].virtualServiceName, "colorteller.color-mesh.local");
  ASSERT_EQ(front->tags.size(), 1u);
  EXPECT_EQ(front->tags[0].key, "app");
  EXPECT_EQ(front->source.file, "front.json");
  EXPECT_EQ(front->source.format, InputFormat::kCliInput);

  const VirtualNode* blue = set.findVirtualNode("color-mesh", "colorteller-blue");
  ASSERT_NE(blue, nullptr);
  EXPECT_EQ(blue->source.label(), "colorteller-nodes.yaml (document 2)");
  ASSERT_TRUE(blue->spec.listeners[0].healthCheck.has_value());
  const HealthCheckPolicy& hc = *blue->spec.listeners[0].healthCheck;
  EXPECT_EQ(hc.path, "/ping");
  EXPECT_EQ(hc.port, 9080);
  EXPECT_EQ(hc.intervalMillis, 5000);
  EXPECT_EQ(hc.timeoutMillis, 2000);
  EXPECT_EQ(hc.healthyThreshold, 2);
  ASSERT_TRUE(blue->spec.serviceDiscovery.awsCloudMap.has_value());
  EXPECT_EQ(blue->spec.serviceDiscovery.awsCloudMap->attributes[0].value, "blue");

  const VirtualService* service =
      set.findVirtualService("color-mesh", "colorteller.color-mesh.local");
  ASSERT_NE(service, nullptr);
  ASSERT_TRUE(service->spec.provider.has_value());
  EXPECT_EQ(service->spec.provider->kind, VirtualServiceProvider::Kind::kVirtualRouter);
  EXPECT_EQ(service->spec.provider->name, "colorteller-router");

  std::vector<const Route*> routes = set.routesOf("color-mesh", "colorteller-router");
  ASSERT_EQ(routes.size(), 1u);
  const RouteSpec& spec = routes[0]->spec;
  EXPECT_EQ(spec.priority, 10);
  ASSERT_TRUE(spec.httpRoute.has_value());
  EXPECT_EQ(spec.httpRoute->match.prefix, "/");
  EXPECT_EQ(targets(spec.weightedTargets()),
            "colorteller-red:100,colorteller-blue:0,colorteller-green:0");
  ASSERT_TRUE(spec.httpRoute->timeout && spec.httpRoute->timeout->perRequest);
  EXPECT_EQ(spec.httpRoute->timeout->perRequest->toMillis(), 15000);
  EXPECT_EQ(spec.httpRoute->retryPolicy->perRetryTimeout.toMillis(), 2000);

  std::vector<Endpoint> red = set.endpointsOf("color-mesh", "colorteller-red");
  ASSERT_EQ(red.size(), 1u);
  EXPECT_EQ(red[0].address, "127.0.0.1");
  EXPECT_EQ(red[0].port, 15110);  // the sidecar's inbound port (sidecars.yaml)
  EXPECT_EQ(red[0].weight, 1);
  std::vector<Endpoint> frontEndpoints = set.endpointsOf("color-mesh", "front");
  ASSERT_EQ(frontEndpoints.size(), 1u);
  EXPECT_EQ(frontEndpoints[0].port, 15100);
  // An Endpoints port left out stays unset: LoadEndpoints.WeightDefaultsToOneAndFieldsAreChecked.

  ASSERT_EQ(set.sidecars.size(), 4u);
  const Sidecar* redSidecar = set.findSidecar("color-mesh", "colorteller-red");
  ASSERT_NE(redSidecar, nullptr);
  EXPECT_EQ(toString(*redSidecar->inbound), "127.0.0.1:15110");
  EXPECT_EQ(toString(*redSidecar->outbound), "127.0.0.1:15111");
  ASSERT_EQ(redSidecar->appPorts.size(), 1u);
  EXPECT_EQ(redSidecar->appPorts[0].appPort, 9081);
}

TEST(LoadColorApp, DescribeOutputLoadsTheSameMesh) {
  const MeshSet cli = loadOk("colorapp");
  const MeshSet describe = loadOk("describe");
  EXPECT_EQ(summarize(describe), summarize(cli));
  const VirtualNode& front = nodeNamed(describe, "front");
  EXPECT_EQ(front.source.format, InputFormat::kDescribe);
  EXPECT_EQ(front.source.specPath, "virtualNode.spec");
  EXPECT_EQ(front.arn, "arn:aws:appmesh:us-west-2:123456789012:mesh/color-mesh/virtualNode/front");
  EXPECT_EQ(front.meshOwner, "123456789012");
}

TEST(LoadColorApp, KubernetesObjectsLoadTheSameMesh) {
  const MeshSet cli = loadOk("colorapp");
  const MeshSet k8s = loadOk("k8s");
  EXPECT_EQ(summarize(k8s), summarize(cli));
  const VirtualNode& green = nodeNamed(k8s, "colorteller-green");
  EXPECT_EQ(green.source.format, InputFormat::kKubernetes);
  EXPECT_EQ(green.source.k8sNamespace, "color");
  EXPECT_EQ(green.source.k8sName, "colorteller-green");
  EXPECT_EQ(green.source.specPath, "items[2].spec");  // the third item of a v1 List
  ASSERT_EQ(k8s.routes.size(), 1u);
  EXPECT_EQ(k8s.routes[0].source.specPath, "spec.routes[0]");
  EXPECT_EQ(k8s.routes[0].source.label(), "colorapp.yaml (document 4)");
}

TEST(LoadColorApp, MixedFormatsLoadTheSameMesh) {
  const MeshSet cli = loadOk("colorapp");
  const MeshSet mixed = loadOk("mixed");
  EXPECT_EQ(summarize(mixed), summarize(cli));
  EXPECT_EQ(nodeNamed(mixed, "front").source.format, InputFormat::kKubernetes);
  EXPECT_EQ(nodeNamed(mixed, "colorteller-red").source.format, InputFormat::kCliInput);
}

// ------------------------------------------------------------------------ the folder

TEST(LoadFolder, ReportsEveryErrorAndKeepsTheGoodDocuments) {
  // These would be errors if read: the loader skips dot files, subfolders and other extensions.
  const std::string folder = absl::StrCat(kTestdata, "errors/");
  ASSERT_TRUE(std::filesystem::exists(folder + ".hidden.yaml"));
  ASSERT_TRUE(std::filesystem::exists(folder + "sub/nested.yaml"));
  ASSERT_TRUE(std::filesystem::exists(folder + "notes.txt"));
  const LoadResult result = loadMeshDirWithErrors(absl::StrCat(kTestdata, "errors"));
  EXPECT_THAT(
      result.errors,
      ElementsAre(
          HasSubstr("broken.json: not valid YAML or JSON at line 7, column 9: "),
          "colorteller.yaml (document 2): spec.listeners[0].portMaping: unknown field (allowed: "
          "portMapping, healthCheck, outlierDetection, connectionPool, timeout, tls)",
          "colorteller.yaml (document 2): spec.listeners[0].portMapping: required field missing",
          "types.yaml (document 1): spec.listeners[0].portMapping.port: expected an integer, got "
          "\"eighty\"",
          "types.yaml (document 1): spec.listeners[0].portMapping.protocol: \"htp\" is not "
          "allowed (allowed: http, http2, grpc, tcp)",
          "types.yaml (document 1): spec.listeners[0].healthCheck.healthyThreshold: expected an "
          "integer, got \"2\"",
          "types.yaml (document 1): spec.backends: expected a list, got a map",
          "types.yaml (document 1): spec.serviceDiscovery: specify exactly one of: dns, "
          "awsCloudMap (found: dns, awsCloudMap)",
          "unknown.yml (document 1): cannot tell what this document is: expected aws appmesh CLI "
          "input (meshName, virtualNodeName, ...), describe output ({\"virtualNode\": {...}}), an "
          "appmesh.k8s.aws/v1beta2 object or a trellis.dev/v1 document"));
  // The mesh and colorteller-red had no errors; the documents with errors contribute nothing.
  ASSERT_EQ(result.mesh.meshes.size(), 1u);
  ASSERT_EQ(result.mesh.virtualNodes.size(), 1u);
  EXPECT_EQ(result.mesh.virtualNodes[0].name, "colorteller-red");
}

TEST(LoadFolder, StatusCarriesEveryErrorOnItsOwnLine) {
  absl::StatusOr<MeshSet> set = loadMeshDir(absl::StrCat(kTestdata, "errors"));
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(set.status().message()),
              HasSubstr("\ncolorteller.yaml (document 2): spec.listeners[0].portMaping: unknown "
                        "field"));
  EXPECT_EQ(std::count(set.status().message().begin(), set.status().message().end(), '\n'), 8);
}

TEST(LoadFolder, MissingFolderIsNotFound) {
  absl::StatusOr<MeshSet> set = loadMeshDir(absl::StrCat(kTestdata, "no-such-folder"));
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(set.status().message()), HasSubstr("no-such-folder: cannot read folder"));
}

TEST(LoadFolder, ValidFolderLoadsThroughTheStatusApi) {
  absl::StatusOr<MeshSet> set = loadMeshDir(absl::StrCat(kTestdata, "colorapp"));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->virtualNodes.size(), 4u);
}

// ------------------------------------------------------------------------ shapes

TEST(LoadShapes, IntegersMustNotBeQuoted) {
  EXPECT_THAT(errorsOf("r.json", R"({"meshName": "m", "virtualRouterName": "r",
                        "spec": {"listeners": [{"portMapping": {"port": "9080", "protocol": "http"}}]}})"),
              ElementsAre("r.json (document 1): spec.listeners[0].portMapping.port: expected an "
                          "integer, got \"9080\""));
}

TEST(LoadShapes, BooleansAndMapsAreTyped) {
  EXPECT_THAT(
      errorsOf("route.yaml", R"(
meshName: m
virtualRouterName: r
routeName: x
spec:
  httpRoute:
    match:
      prefix: /
      headers: [{name: h, invert: maybe}]
    action: [colorteller]
)"),
      ElementsAre("route.yaml (document 1): spec.httpRoute.match.headers[0].invert: expected true "
                  "or false, got \"maybe\"",
                  "route.yaml (document 1): spec.httpRoute.action: expected a map, got a list"));
}

TEST(LoadShapes, RequiredFieldsAreNamed) {
  EXPECT_THAT(
      errorsOf("route.yaml", R"(
meshName: m
virtualRouterName: r
routeName: x
spec:
  tcpRoute:
    action:
      weightedTargets: [{virtualNode: a}]
)"),
      ElementsAre("route.yaml (document 1): spec.tcpRoute.action.weightedTargets[0].weight: "
                  "required field missing"));
  EXPECT_THAT(errorsOf("node.yaml", "meshName: m\nvirtualNodeName: n\n"),
              ElementsAre("node.yaml (document 1): spec: required field missing"));
}

TEST(LoadShapes, RouteNeedsExactlyOneRouteType) {
  EXPECT_THAT(errorsOf("route.yaml", R"(
meshName: m
virtualRouterName: r
routeName: x
spec:
  priority: 1
)"),
              ElementsAre("route.yaml (document 1): spec: specify exactly one of: httpRoute, "
                          "http2Route, grpcRoute, tcpRoute"));
  EXPECT_THAT(errorsOf("route.yaml", R"(
meshName: m
virtualRouterName: r
routeName: x
spec:
  httpRoute: {match: {prefix: /}, action: {weightedTargets: [{virtualNode: a, weight: 1}]}}
  tcpRoute: {action: {weightedTargets: [{virtualNode: a, weight: 1}]}}
)"),
              ElementsAre("route.yaml (document 1): spec: specify exactly one of: httpRoute, "
                          "http2Route, grpcRoute, tcpRoute (found: httpRoute, tcpRoute)"));
}

TEST(LoadShapes, EnumValuesListWhatIsAllowed) {
  EXPECT_THAT(
      errorsOf("mesh.json", R"({"meshName": "m", "spec": {"egressFilter": {"type": "ALLOW"}}})"),
      ElementsAre("mesh.json (document 1): spec.egressFilter.type: \"ALLOW\" is not "
                  "allowed (allowed: ALLOW_ALL, DROP_ALL)"));
  EXPECT_THAT(
      errorsOf("route.yaml", R"(
meshName: m
virtualRouterName: r
routeName: x
spec:
  httpRoute:
    match: {prefix: /, method: FETCH}
    action: {weightedTargets: [{virtualNode: a, weight: 1}]}
    retryPolicy:
      maxRetries: 1
      perRetryTimeout: {unit: min, value: 1}
      httpRetryEvents: [server-error, teapot]
)"),
      ElementsAre("route.yaml (document 1): spec.httpRoute.match.method: \"FETCH\" is not "
                  "allowed (allowed: GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, "
                  "TRACE, PATCH)",
                  "route.yaml (document 1): spec.httpRoute.retryPolicy.perRetryTimeout.unit: "
                  "\"min\" is not allowed (allowed: s, ms)",
                  "route.yaml (document 1): spec.httpRoute.retryPolicy.httpRetryEvents[1]: "
                  "\"teapot\" is not allowed (allowed: server-error, gateway-error, "
                  "client-error, stream-error)"));
}

TEST(LoadShapes, CliEnvelopeFieldsAreChecked) {
  EXPECT_THAT(errorsOf("node.json", R"({"meshName": "m", "virtualNodeName": "n", "spec": {},
                       "clientToken": "t", "meshOwner": "123456789012", "owner": "me"})"),
              ElementsAre("node.json (document 1): owner: unknown field (allowed: meshName, spec, "
                          "virtualNodeName, tags, clientToken, meshOwner)"));
}

TEST(LoadShapes, KindIsInferredFromTheNameKeys) {
  LoadResult result = loadMeshFiles({{"gw.yaml", R"(
meshName: m
virtualGatewayName: gw
spec:
  listeners:
    - portMapping: {port: 8443, protocol: http}
      healthCheck: {protocol: http, path: /, healthyThreshold: 2, unhealthyThreshold: 2,
                    intervalMillis: 5000, timeoutMillis: 2000}
  logging: {accessLog: {file: {path: /dev/stdout, format: {text: "%START_TIME%"}}}}
---
meshName: m
virtualGatewayName: gw
gatewayRouteName: to-front
spec:
  priority: 5
  httpRoute:
    match: {prefix: /app, hostname: {suffix: .example.com}, port: 8443}
    action:
      target: {virtualService: {virtualServiceName: front.local}, port: 8080}
      rewrite: {prefix: {defaultPrefix: DISABLED}, hostname: {defaultTargetHostname: ENABLED}}
---
meshName: m
virtualRouterName: r
spec: {listeners: [{portMapping: {port: 80, protocol: http}}]}
---
meshName: m
virtualServiceName: svc.local
spec: {provider: {virtualNode: {virtualNodeName: n}}}
)"}});
  EXPECT_THAT(result.errors, IsEmpty());
  ASSERT_EQ(result.mesh.virtualGateways.size(), 1u);
  EXPECT_EQ(result.mesh.virtualGateways[0].spec.logging->accessLogFile->format->text,
            "%START_TIME%");
  ASSERT_EQ(result.mesh.gatewayRoutes.size(), 1u);
  const GatewayRoute& route = result.mesh.gatewayRoutes[0];
  EXPECT_EQ(route.virtualGateway, "gw");
  EXPECT_EQ(route.spec.target().virtualServiceName, "front.local");
  EXPECT_EQ(route.spec.target().port, 8080);
  EXPECT_TRUE(route.spec.httpRoute->match.hostname->isSuffix);
  EXPECT_EQ(route.spec.httpRoute->rewrite->prefixDefaultPrefix, "DISABLED");
  ASSERT_EQ(result.mesh.virtualRouters.size(), 1u);
  ASSERT_EQ(result.mesh.virtualServices.size(), 1u);
  EXPECT_EQ(result.mesh.virtualServices[0].spec.provider->kind,
            VirtualServiceProvider::Kind::kVirtualNode);
}

TEST(LoadShapes, GatewayListenersHaveNoTcpNorOutlierDetection) {
  EXPECT_THAT(errorsOf("gw.yaml", R"(
meshName: m
virtualGatewayName: gw
spec:
  listeners:
    - portMapping: {port: 8443, protocol: tcp}
      outlierDetection: {}
)"),
              ElementsAre("gw.yaml (document 1): spec.listeners[0].outlierDetection: unknown field "
                          "(allowed: portMapping, healthCheck, connectionPool, tls)",
                          "gw.yaml (document 1): spec.listeners[0].portMapping.protocol: \"tcp\" "
                          "is not allowed (allowed: http, http2, grpc)"));
}

TEST(LoadShapes, FullListenerShapesLoad) {
  LoadResult result = loadMeshFiles({{"node.yaml", R"(
meshName: m
virtualNodeName: n
spec:
  listeners:
    - portMapping: {port: 8080, protocol: http2}
      outlierDetection:
        maxServerErrors: 5
        interval: {unit: s, value: 10}
        baseEjectionDuration: {unit: s, value: 30}
        maxEjectionPercent: 50
      connectionPool: {http2: {maxRequests: 100}}
      timeout: {http2: {perRequest: {unit: ms, value: 500}, idle: {unit: s, value: 60}}}
      tls:
        mode: STRICT
        certificate: {file: {certificateChain: /certs/chain.pem, privateKey: /certs/key.pem}}
        validation:
          trust: {file: {certificateChain: /certs/ca.pem}}
          subjectAlternativeNames: {match: {exact: [front.local]}}
  backendDefaults:
    clientPolicy:
      tls:
        enforce: true
        ports: [9080]
        validation: {trust: {acm: {certificateAuthorityArns: [arn:aws:acm-pca:ca]}}}
  serviceDiscovery:
    dns: {hostname: n.local, responseType: ENDPOINTS, ipPreference: IPv4_ONLY}
)"}});
  EXPECT_THAT(result.errors, IsEmpty());
  ASSERT_EQ(result.mesh.virtualNodes.size(), 1u);
  const Listener& listener = result.mesh.virtualNodes[0].spec.listeners[0];
  EXPECT_EQ(listener.outlierDetection->baseEjectionDuration.toMillis(), 30000);
  EXPECT_EQ(listener.connectionPool->protocol, PortProtocol::kHttp2);
  EXPECT_EQ(listener.connectionPool->maxRequests, 100);
  EXPECT_EQ(listener.timeout->idle->toMillis(), 60000);
  EXPECT_EQ(listener.tls->certificate.kind, ListenerTlsCertificate::Kind::kFile);
  EXPECT_EQ(listener.tls->validation->subjectAlternativeNamesExact->at(0), "front.local");
  const VirtualNodeSpec& spec = result.mesh.virtualNodes[0].spec;
  EXPECT_EQ(spec.backendDefaults->clientPolicy->tls->validation.trust.kind,
            TlsValidationTrust::Kind::kAcm);
  EXPECT_EQ(spec.serviceDiscovery.dns->hostname, "n.local");
  EXPECT_EQ(spec.serviceDiscovery.dns->ipPreference, IpPreference::kIPv4Only);
}

TEST(LoadShapes, ConnectionPoolLimitsFollowTheProtocolKey) {
  EXPECT_THAT(
      errorsOf("node.yaml", R"(
meshName: m
virtualNodeName: n
spec:
  listeners:
    - portMapping: {port: 8080, protocol: tcp}
      connectionPool: {tcp: {maxRequests: 10}}
)"),
      ElementsAre("node.yaml (document 1): spec.listeners[0].connectionPool.tcp.maxRequests: "
                  "unknown field (allowed: maxConnections)",
                  "node.yaml (document 1): spec.listeners[0].connectionPool.tcp."
                  "maxConnections: required field missing"));
}

TEST(LoadShapes, DescribeOfADeletedResourceIsAnError) {
  EXPECT_THAT(errorsOf("old.json", R"({"mesh": {"meshName": "m", "spec": {},
                       "metadata": {"arn": "arn:aws:appmesh:us-west-2:123456789012:mesh/m"},
                       "status": {"status": "DELETED"}}})"),
              ElementsAre("old.json (document 1): mesh.status.status: the resource was DELETED; "
                          "remove this document"));
}

TEST(LoadShapes, UnsupportedApiVersionsAndKinds) {
  EXPECT_THAT(errorsOf("a.yaml", "apiVersion: appmesh.k8s.aws/v1beta1\nkind: Mesh\n"),
              ElementsAre("a.yaml (document 1): apiVersion: \"appmesh.k8s.aws/v1beta1\" is not "
                          "supported (allowed: appmesh.k8s.aws/v1beta2)"));
  EXPECT_THAT(errorsOf("a.yaml", "apiVersion: apps/v1\nkind: Deployment\n"),
              ElementsAre("a.yaml (document 1): apiVersion: \"apps/v1\" is not supported "
                          "(allowed: appmesh.k8s.aws/v1beta2, trellis.dev/v1, a v1 Namespace, or a "
                          "v1 List of those)"));
  EXPECT_THAT(errorsOf("a.yaml",
                       "apiVersion: appmesh.k8s.aws/v1beta2\nkind: BackendGroup\n"
                       "metadata: {name: x}\n"),
              ElementsAre("a.yaml (document 1): kind: \"BackendGroup\" is not supported (allowed: "
                          "Mesh, VirtualNode, VirtualService, VirtualRouter, VirtualGateway, "
                          "GatewayRoute)"));
  EXPECT_THAT(errorsOf("a.yaml", "apiVersion: trellis.dev/v1\nkind: Cluster\n"),
              ElementsAre("a.yaml (document 1): kind: \"Cluster\" is not supported (allowed: "
                          "Endpoints, Sidecar)"));
}

TEST(LoadShapes, EmptyDocumentsAreSkipped) {
  LoadResult result = loadMeshFiles({{"mesh.yaml", "meshName: a\n---\n---\nmeshName: m\n---\n"}});
  EXPECT_THAT(result.errors, IsEmpty());
  ASSERT_EQ(result.mesh.meshes.size(), 2u);
  EXPECT_EQ(result.mesh.meshes[1].name, "m");
  EXPECT_EQ(result.mesh.meshes[1].source.document, 3);
}

TEST(LoadShapes, JsonIndentedWithTabsLoads) {
  LoadResult result =
      loadMeshFiles({{"r.json",
                      "{\n\t\"meshName\": \"m\",\n\t\"virtualRouterName\": \"r\",\n"
                      "\t\"spec\": {\n\t\t\"listeners\": [\n\t\t\t{\"portMapping\": "
                      "{\"port\": 80, \"protocol\": \"http\"}}\n\t\t]\n\t}\n}\n"}});
  EXPECT_THAT(result.errors, IsEmpty());
  ASSERT_EQ(result.mesh.virtualRouters.size(), 1u);
  EXPECT_EQ(result.mesh.virtualRouters[0].spec.listeners[0].port, 80);
}

TEST(LoadShapes, OddDocumentsBecomeErrorsNotCrashes) {
  const std::vector<std::string> odd = {
      "- a\n- b\n",
      "just a string\n",
      "? [a, b]\n: c\n",
      "meshName: m\nvirtualNodeName: n\nspec: 5\n",
      "meshName: [m]\nvirtualNodeName: {n: 1}\nspec: {listeners: [1, [2], {}]}\n",
      "{\"mesh\": 5}\n",
      "{\"virtualNode\": {\"meshName\": \"m\", \"spec\": {\"backends\": [null]}}}\n",
      "apiVersion: appmesh.k8s.aws/v1beta2\nkind: VirtualNode\nmetadata: [x]\nspec: 1\n",
      "apiVersion: appmesh.k8s.aws/v1beta2\nkind: [VirtualNode]\n",
      "apiVersion: appmesh.k8s.aws/v1beta2\nkind: VirtualRouter\nmetadata: {name: r}\n"
      "spec: {meshRef: 3, routes: [null, {name: [x]}]}\n",
      "apiVersion: v1\nkind: List\nitems: [1, null, {apiVersion: appmesh.k8s.aws/v1beta2}]\n",
      "apiVersion: trellis.dev/v1\nkind: Endpoints\nmesh: m\nvirtualNode: n\nendpoints: 7\n",
      "base: &b {port: 1}\nmeshName: m\nvirtualRouterName: r\n"
      "spec: {listeners: [{portMapping: *b}]}\n",
  };
  for (const std::string& text : odd) {
    LoadResult result;
    EXPECT_NO_THROW(result = loadMeshFiles({{"odd.yaml", text}})) << text;
    EXPECT_FALSE(result.errors.empty()) << text;
  }
}

// ------------------------------------------------------------------------ Kubernetes

constexpr char kK8sMesh[] = R"(
apiVersion: appmesh.k8s.aws/v1beta2
kind: Mesh
metadata: {name: k8s-mesh}
spec: {awsName: shop}
)";

TEST(LoadKubernetes, AwsNamesDefaultAsTheControllerDoes) {
  LoadResult result = loadMeshFiles({{"shop.yaml", absl::StrCat(kK8sMesh, R"(---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualNode
metadata: {name: cart, namespace: shop}
spec:
  listeners: [{portMapping: {port: 80, protocol: http}}]
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualNode
metadata: {name: web}
spec:
  backends: [{virtualService: {virtualServiceRef: {name: cart, namespace: shop}}}]
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualService
metadata: {name: cart, namespace: shop}
spec:
  provider: {virtualRouter: {virtualRouterRef: {name: cart-router}}}
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualRouter
metadata: {name: cart-router, namespace: shop}
spec:
  listeners: [{portMapping: {port: 80, protocol: http}}]
  routes:
    - name: all
      httpRoute:
        match: {prefix: /}
        action: {weightedTargets: [{virtualNodeRef: {name: cart}, weight: 1, port: 80}]}
)")}});
  ASSERT_THAT(result.errors, IsEmpty());
  const MeshSet& set = result.mesh;
  ASSERT_EQ(set.meshes.size(), 1u);
  EXPECT_EQ(set.meshes[0].name, "shop");  // spec.awsName wins over metadata.name
  // Nodes and routers: <name>_<namespace>; the namespace defaults to "default".
  EXPECT_NE(set.findVirtualNode("shop", "cart_shop"), nullptr);
  const VirtualNode* web = set.findVirtualNode("shop", "web_default");
  ASSERT_NE(web, nullptr);
  // Virtual services keep their object name; references resolve to awsNames.
  EXPECT_EQ(web->spec.backends[0].virtualServiceName, "cart");
  const VirtualService* cart = set.findVirtualService("shop", "cart");
  ASSERT_NE(cart, nullptr);
  EXPECT_EQ(cart->spec.provider->name, "cart-router_shop");
  std::vector<const Route*> routes = set.routesOf("shop", "cart-router_shop");
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0]->name, "all");
  EXPECT_EQ(targets(routes[0]->spec.weightedTargets()), "cart_shop:1@80");
}

TEST(LoadKubernetes, MeshRefNamesTheKubernetesMeshObject) {
  LoadResult result = loadMeshFiles({{"a.yaml", absl::StrCat(kK8sMesh, R"(---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualNode
metadata: {name: n, namespace: x}
spec:
  awsName: n
  meshRef: {name: k8s-mesh, uid: 1234}
---
meshName: other
)")}});
  ASSERT_THAT(result.errors, IsEmpty());
  ASSERT_NE(result.mesh.findVirtualNode("shop", "n"), nullptr);
}

TEST(LoadKubernetes, WithoutMeshRefTheFolderMustHaveOneMesh) {
  const std::string node = R"(
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualNode
metadata: {name: n}
spec: {}
)";
  EXPECT_THAT(errorsOf({{"mesh.yaml", "meshName: a\n---\nmeshName: b\n"}, {"node.yaml", node}}),
              ElementsAre("node.yaml (document 1): spec.meshRef: required field missing: this "
                          "folder defines 2 meshes (a, b); name the mesh with spec.meshRef.name, "
                          "or add the v1 Namespace objects (with their labels) so the Meshes' "
                          "namespaceSelector decides, as the controller did"));
  EXPECT_THAT(errorsOf("node.yaml", node),
              ElementsAre("node.yaml (document 1): spec.meshRef: required field missing: no mesh "
                          "is defined in this folder; name the mesh with spec.meshRef.name, or add "
                          "the v1 Namespace objects (with their labels) so the Meshes' "
                          "namespaceSelector decides, as the controller did"));
}

TEST(LoadKubernetes, UnresolvedReferencesNameWhatIsMissing) {
  EXPECT_THAT(errorsOf("a.yaml", absl::StrCat(kK8sMesh, R"(---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualService
metadata: {name: cart, namespace: shop}
spec:
  provider: {virtualNode: {virtualNodeRef: {name: cart, namespace: other}}}
)")),
              ElementsAre("a.yaml (document 2): spec.provider.virtualNode.virtualNodeRef: no "
                          "VirtualNode object \"cart\" in namespace \"other\" in this folder"));
}

TEST(LoadKubernetes, ArnReferencesMustNameTheRightTypeAndMesh) {
  const std::string prefix = absl::StrCat(kK8sMesh, R"(---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualNode
metadata: {name: web}
spec:
  backends:
)");
  EXPECT_THAT(
      errorsOf("a.yaml",
               absl::StrCat(prefix,
                            "    - virtualService: {virtualServiceARN: "
                            "\"arn:aws:appmesh:us-west-2:123456789012:mesh/other/virtualService/"
                            "cart\"}\n"
                            "    - virtualService: {virtualServiceARN: "
                            "\"arn:aws:appmesh:us-west-2:123456789012:mesh/shop/virtualNode/"
                            "cart\"}\n"
                            "    - virtualService: {virtualServiceARN: \"cart\"}\n")),
      ElementsAre("a.yaml (document 2): spec.backends[0].virtualService.virtualServiceARN: "
                  "\"arn:aws:appmesh:us-west-2:123456789012:mesh/other/virtualService/cart\" "
                  "names mesh \"other\", but this object belongs to mesh \"shop\"",
                  "a.yaml (document 2): spec.backends[1].virtualService.virtualServiceARN: "
                  "\"arn:aws:appmesh:us-west-2:123456789012:mesh/shop/virtualNode/cart\" does not "
                  "name a virtualService (expected arn:aws:appmesh:<region>:<account>:mesh/<mesh>/"
                  "virtualService/<name>)",
                  "a.yaml (document 2): spec.backends[2].virtualService.virtualServiceARN: "
                  "\"cart\" is not an App Mesh ARN (expected arn:aws:appmesh:<region>:<account>:"
                  "mesh/<mesh>/virtualService/<name>)"));
}

TEST(LoadKubernetes, ReferenceNeedsRefOrArnButNotBoth) {
  EXPECT_THAT(
      errorsOf("a.yaml", absl::StrCat(kK8sMesh, R"(---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualNode
metadata: {name: web}
spec:
  backends: [{virtualService: {virtualServiceName: cart}}]
)")),
      // virtualServiceName is not in the CRD: the API server pruned it (a warning, see
      // k8s_selectors_test.cc), which leaves the reference missing.
      ElementsAre("a.yaml (document 2): spec.backends[0].virtualService: specify exactly "
                  "one of: virtualServiceRef, virtualServiceARN"));
}

TEST(LoadKubernetes, BackendGroupsAreRefusedAndPodSelectorIsIgnored) {
  LoadResult result = loadMeshFiles({{"a.yaml", absl::StrCat(kK8sMesh, R"(---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualNode
metadata: {name: web}
spec:
  podSelector: {matchLabels: {app: web}}
  backendGroups: [{name: all}]
)")}});
  EXPECT_THAT(result.errors,
              ElementsAre("a.yaml (document 2): spec.backendGroups: not supported: list the "
                          "virtual services under backends (backend groups select services by "
                          "labels, which a folder does not have)"));
  EXPECT_TRUE(result.mesh.virtualNodes.empty());
}

TEST(LoadKubernetes, GatewayRoutesFindTheirGateway) {
  const std::string gateway = absl::StrCat(kK8sMesh, R"(---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualGateway
metadata: {name: ingress, namespace: edge}
spec:
  namespaceSelector: {matchLabels: {gateway: ingress}}
  podSelector: {matchLabels: {app: ingress}}
  listeners: [{portMapping: {port: 8088, protocol: http}}]
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualService
metadata: {name: cart.shop.svc, namespace: shop}
spec: {}
)");
  const std::string route = R"(---
apiVersion: appmesh.k8s.aws/v1beta2
kind: GatewayRoute
metadata: {name: to-cart, namespace: shop}
spec:
  httpRoute:
    match: {prefix: /cart}
    action: {target: {virtualService: {virtualServiceRef: {name: cart.shop.svc}}}}
)";
  LoadResult sole = loadMeshFiles({{"a.yaml", absl::StrCat(gateway, route)}});
  ASSERT_THAT(sole.errors, IsEmpty());
  ASSERT_EQ(sole.mesh.gatewayRoutes.size(), 1u);
  EXPECT_EQ(sole.mesh.gatewayRoutes[0].name, "to-cart_shop");
  EXPECT_EQ(sole.mesh.gatewayRoutes[0].virtualGateway, "ingress_edge");
  EXPECT_EQ(sole.mesh.gatewayRoutes[0].spec.target().virtualServiceName, "cart.shop.svc");

  const std::string second = R"(---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualGateway
metadata: {name: internal, namespace: edge}
spec:
  listeners: [{portMapping: {port: 8089, protocol: http}}]
)";
  EXPECT_THAT(errorsOf("a.yaml", absl::StrCat(gateway, second, route)),
              ElementsAre("a.yaml (document 5): spec.virtualGatewayRef: this GatewayRoute is "
                          "selected by 2 VirtualGateways (ingress, internal); the App Mesh "
                          "controller requires exactly one: narrow their gatewayRouteSelectors or "
                          "name the gateway with spec.virtualGatewayRef.name"));
  LoadResult named = loadMeshFiles(
      {{"a.yaml", absl::StrCat(gateway, second, route,
                               "  virtualGatewayRef: {name: internal, namespace: edge}\n")}});
  ASSERT_THAT(named.errors, IsEmpty());
  EXPECT_EQ(named.mesh.gatewayRoutes[0].virtualGateway, "internal_edge");
}

TEST(LoadKubernetes, ABadRouteDropsItsWholeRouter) {
  LoadResult result = loadMeshFiles({{"a.yaml", absl::StrCat(kK8sMesh, R"(---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualRouter
metadata: {name: r}
spec:
  listeners: [{portMapping: {port: 80, protocol: http}}]
  routes:
    - name: good
      tcpRoute: {action: {weightedTargets: [{virtualNodeARN: "arn:aws:appmesh:r:1:mesh/shop/virtualNode/a", weight: 1}]}}
    - name: bad
      tcpRoute: {action: {weightedTargets: [{virtualNode: a, weight: 1}]}}
)")}});
  EXPECT_THAT(result.errors,
              ElementsAre("a.yaml (document 2): spec.routes[1].tcpRoute.action.weightedTargets[0]: "
                          "specify exactly one of: virtualNodeRef, virtualNodeARN"));
  EXPECT_TRUE(result.mesh.virtualRouters.empty());
  EXPECT_TRUE(result.mesh.routes.empty());
}

TEST(LoadKubernetes, ListItemsMustBeObjects) {
  EXPECT_THAT(errorsOf("list.yaml", "apiVersion: v1\nkind: List\nitems: {a: b}\n"),
              ElementsAre("list.yaml (document 1): items: expected a list of objects"));
}

// ------------------------------------------------------------------------ Endpoints

TEST(LoadEndpoints, WeightDefaultsToOneAndFieldsAreChecked) {
  LoadResult result = loadMeshFiles({{"ep.yaml", R"(
apiVersion: trellis.dev/v1
kind: Endpoints
mesh: m
virtualNode: n
endpoints: [{address: 10.0.0.7, port: 9080, weight: 2}, {address: "::1"}]
)"}});
  ASSERT_THAT(result.errors, IsEmpty());
  std::vector<Endpoint> endpoints = result.mesh.endpointsOf("m", "n");
  ASSERT_EQ(endpoints.size(), 2u);
  EXPECT_EQ(endpoints[0].weight, 2);
  EXPECT_EQ(endpoints[1].address, "::1");
  EXPECT_EQ(endpoints[1].weight, 1);
  EXPECT_FALSE(endpoints[1].port.has_value());

  EXPECT_THAT(errorsOf("ep.yaml", R"(
apiVersion: trellis.dev/v1
kind: Endpoints
mesh: m
endpoints: [{host: 10.0.0.7}]
)"),
              ElementsAre("ep.yaml (document 1): virtualNode: required field missing",
                          "ep.yaml (document 1): endpoints[0].host: unknown field (allowed: "
                          "address, port, weight)",
                          "ep.yaml (document 1): endpoints[0].address: required field missing"));
}

TEST(LoadEndpoints, SeveralDocumentsForOneNodeAddUp) {
  LoadResult result =
      loadMeshFiles({{"a.yaml",
                      "apiVersion: trellis.dev/v1\nkind: Endpoints\nmesh: m\nvirtualNode: n\n"
                      "endpoints: [{address: 10.0.0.1}]\n"},
                     {"b.yaml",
                      "apiVersion: trellis.dev/v1\nkind: Endpoints\nmesh: m\nvirtualNode: n\n"
                      "endpoints: [{address: 10.0.0.2}]\n"}});
  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_EQ(result.mesh.endpointsOf("m", "n").size(), 2u);
  EXPECT_TRUE(result.mesh.endpointsOf("other", "n").empty());
}

// ------------------------------------------------------------------------ Sidecar

TEST(LoadSidecar, AddressesAndAppPortsAreRead) {
  LoadResult result = loadMeshFiles({{"sidecar.yaml", R"(
apiVersion: trellis.dev/v1
kind: Sidecar
mesh: m
virtualNode: n
inbound: 127.0.0.1:15100
outbound: "[::1]:15101"
app: {address: 127.0.0.2, ports: {9080: 9081, "9443": 9444}}
---
apiVersion: trellis.dev/v1
kind: Sidecar
mesh: m
virtualNode: bare
)"}});
  ASSERT_THAT(result.errors, IsEmpty());
  const Sidecar* sidecar = result.mesh.findSidecar("m", "n");
  ASSERT_NE(sidecar, nullptr);
  ASSERT_TRUE(sidecar->inbound.has_value());
  EXPECT_EQ(sidecar->inbound->address, "127.0.0.1");
  EXPECT_EQ(sidecar->inbound->port, 15100);
  ASSERT_TRUE(sidecar->outbound.has_value());
  EXPECT_EQ(sidecar->outbound->address, "::1");
  EXPECT_EQ(toString(*sidecar->outbound), "[::1]:15101");
  EXPECT_EQ(sidecar->appAddress, "127.0.0.2");
  ASSERT_EQ(sidecar->appPorts.size(), 2u);
  EXPECT_EQ(sidecar->appPorts[0].listenerPort, 9080);
  EXPECT_EQ(sidecar->appPorts[0].appPort, 9081);
  EXPECT_EQ(sidecar->appPorts[1].listenerPort, 9443);
  EXPECT_EQ(sidecar->appPorts[1].appPort, 9444);
  EXPECT_EQ(sidecar->source.format, InputFormat::kTrellis);

  // Everything but the names is optional: the defaults are the translation's.
  const Sidecar* bare = result.mesh.findSidecar("m", "bare");
  ASSERT_NE(bare, nullptr);
  EXPECT_FALSE(bare->inbound.has_value());
  EXPECT_FALSE(bare->outbound.has_value());
  EXPECT_FALSE(bare->appAddress.has_value());
  EXPECT_TRUE(bare->appPorts.empty());
  EXPECT_EQ(result.mesh.findSidecar("m", "other"), nullptr);
}

TEST(LoadSidecar, ShapesAreChecked) {
  LoadResult result = loadMeshFiles({{"sidecar.yaml", R"(
apiVersion: trellis.dev/v1
kind: Sidecar
mesh: m
inbound: 15100
outbound: ::1:15101
app: {adress: 127.0.0.1, ports: {http: 9081, 9080: "9081"}}
)"}});
  EXPECT_THAT(
      result.errors,
      ElementsAre(
          "sidecar.yaml (document 1): virtualNode: required field missing",
          "sidecar.yaml (document 1): inbound: \"15100\" is not ADDRESS:PORT (e.g. "
          "127.0.0.1:15100 or [::1]:15100)",
          "sidecar.yaml (document 1): outbound: \"::1:15101\" is not ADDRESS:PORT (e.g. "
          "127.0.0.1:15100 or [::1]:15100)",
          "sidecar.yaml (document 1): app.adress: unknown field (allowed: address, ports)",
          "sidecar.yaml (document 1): app.ports.http: key \"http\" is not a port number "
          "(expected LISTENER_PORT: APP_PORT, e.g. 9080: 9081)",
          "sidecar.yaml (document 1): app.ports.9080: expected an integer, got \"9081\""));
  EXPECT_TRUE(result.mesh.sidecars.empty());  // a document with errors contributes nothing
}

// ------------------------------------------------------------------------ several meshes

TEST(LoadMeshes, ResourcesOfSeveralMeshesAreKeptApart) {
  LoadResult result = loadMeshFiles({{"two.yaml", R"(
meshName: blue-mesh
---
meshName: green-mesh
---
meshName: blue-mesh
virtualNodeName: app
spec: {listeners: [{portMapping: {port: 80, protocol: http}}]}
---
meshName: green-mesh
virtualNodeName: app
spec: {listeners: [{portMapping: {port: 81, protocol: tcp}}]}
)"}});
  ASSERT_THAT(result.errors, IsEmpty());
  const VirtualNode* blue = result.mesh.findVirtualNode("blue-mesh", "app");
  const VirtualNode* green = result.mesh.findVirtualNode("green-mesh", "app");
  ASSERT_NE(blue, nullptr);
  ASSERT_NE(green, nullptr);
  EXPECT_EQ(blue->spec.listeners[0].portMapping.port, 80);
  EXPECT_EQ(green->spec.listeners[0].portMapping.protocol, PortProtocol::kTcp);
  EXPECT_EQ(result.mesh.findVirtualNode("red-mesh", "app"), nullptr);
}

}  // namespace
}  // namespace trellis::config::appmesh

namespace trellis::config::appmesh {
namespace {

// A cache makes a reload parse only what changed, and the result is the same as a fresh load.
TEST(ParseCacheTest, ReloadParsesOnlyChangedFilesAndMatchesAFreshLoad) {
  std::vector<InputFile> files = {
      {"mesh.yaml", "meshName: m\nspec: {egressFilter: {type: DROP_ALL}}\n"},
      {"node.yaml", "meshName: m\nvirtualNodeName: a\nspec: {listeners: [{portMapping: {port: 80, protocol: http}}]}\n"},
  };
  ParseCache cache;
  LoadResult first = loadMeshFiles(files, &cache);
  ASSERT_TRUE(first.errors.empty()) << first.errors.front();
  EXPECT_EQ(cache.misses(), 2u);
  files[1].content = "meshName: m\nvirtualNodeName: a\nspec: {listeners: [{portMapping: {port: 81, protocol: http}}]}\n";
  LoadResult second = loadMeshFiles(files, &cache);
  EXPECT_EQ(cache.misses(), 3u);  // only node.yaml again
  EXPECT_EQ(cache.hits(), 1u);
  LoadResult fresh = loadMeshFiles(files);
  ASSERT_EQ(second.mesh.virtualNodes.size(), 1u);
  EXPECT_EQ(second.mesh.virtualNodes[0].spec.listeners[0].portMapping.port,
            fresh.mesh.virtualNodes[0].spec.listeners[0].portMapping.port);
  EXPECT_EQ(second.mesh.virtualNodes[0].spec.listeners[0].portMapping.port, 81);
  // A syntax error is cached as an error too, and a removed file is forgotten.
  files[1].content = "meshName: [unclosed\n";
  LoadResult broken = loadMeshFiles(files, &cache);
  ASSERT_EQ(broken.errors.size(), 1u);
  EXPECT_NE(broken.errors[0].find("node.yaml: not valid YAML or JSON"), std::string::npos);
  files.pop_back();
  LoadResult without = loadMeshFiles(files, &cache);
  EXPECT_TRUE(without.errors.empty());
  EXPECT_TRUE(without.mesh.virtualNodes.empty());
}

}  // namespace
}  // namespace trellis::config::appmesh
