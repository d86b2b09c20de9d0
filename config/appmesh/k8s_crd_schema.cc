// The field tree of the App Mesh controller's v1beta2 CRDs (config/crd/bases in the controller's
// repository), as lists of leaf paths; a path is defined when it is a listed leaf, lies on the way
// to one, or lies below a leaf marked open (".*": label selectors and status, free maps).
#include "config/appmesh/k8s_crd_schema.h"

#include <map>
#include <vector>

namespace trellis::config::appmesh::internal {

namespace {

using Paths = std::vector<std::string>;

void add(Paths& out, const std::string& prefix, const Paths& leaves) {
  for (const std::string& leaf : leaves) out.push_back(prefix + "." + leaf);
}

Paths duration(const std::string& name) { return {name + ".unit", name + ".value"}; }

Paths join(std::initializer_list<Paths> parts) {
  Paths out;
  for (const Paths& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

const Paths kHealthCheck = {"healthyThreshold", "intervalMillis", "path", "port",
                            "protocol", "timeoutMillis", "unhealthyThreshold"};
const Paths kStringMatch = {"exact", "prefix", "suffix", "regex", "range.start", "range.end"};

Paths clientPolicy() {
  return {"tls.enforce", "tls.ports", "tls.certificate.file.certificateChain", "tls.certificate.file.privateKey",
          "tls.certificate.sds.secretName", "tls.validation.trust.acm.certificateAuthorityARNs",
          "tls.validation.trust.file.certificateChain", "tls.validation.trust.sds.secretName",
          "tls.validation.subjectAlternativeNames.match.exact"};
}

Paths listenerTls() {
  return {"mode", "certificate.acm.certificateARN", "certificate.file.certificateChain", "certificate.file.privateKey",
          "certificate.sds.secretName", "validation.trust.file.certificateChain", "validation.trust.sds.secretName",
          "validation.subjectAlternativeNames.match.exact"};
}

Paths accessLog() {
  return {"accessLog.file.path", "accessLog.file.format.json.key", "accessLog.file.format.json.value",
          "accessLog.file.format.text"};
}

// A metav1.LabelSelector at `at`.
Paths selector(const std::string& at) {
  return {at + ".matchLabels.*", at + ".matchExpressions.key", at + ".matchExpressions.operator",
          at + ".matchExpressions.values"};
}

Paths common() { return {"spec.awsName", "spec.meshRef.name", "spec.meshRef.uid", "status.*"}; }

Paths weightedTargets() {
  return {"action.weightedTargets.virtualNodeRef.name", "action.weightedTargets.virtualNodeRef.namespace",
          "action.weightedTargets.virtualNodeARN", "action.weightedTargets.weight", "action.weightedTargets.port"};
}

Paths headerMatches(const std::string& list) {
  Paths out = {list + ".name", list + ".invert"};
  add(out, list + ".match", kStringMatch);
  return out;
}

Paths routeTimeout() { return join({duration("timeout.perRequest"), duration("timeout.idle")}); }

Paths httpRoute() {
  return join({{"match.prefix", "match.path.exact", "match.path.regex", "match.method", "match.scheme", "match.port",
                "match.queryParameters.name", "match.queryParameters.match.exact", "retryPolicy.httpRetryEvents",
                "retryPolicy.tcpRetryEvents", "retryPolicy.maxRetries"},
               headerMatches("match.headers"), weightedTargets(), duration("retryPolicy.perRetryTimeout"),
               routeTimeout()});
}

Paths grpcRoute() {
  return join({{"match.serviceName", "match.methodName", "match.port", "retryPolicy.grpcRetryEvents",
                "retryPolicy.httpRetryEvents", "retryPolicy.tcpRetryEvents", "retryPolicy.maxRetries"},
               headerMatches("match.metadata"), weightedTargets(), duration("retryPolicy.perRetryTimeout"),
               routeTimeout()});
}

Paths tcpRoute() { return join({{"match.port"}, weightedTargets(), duration("timeout.idle")}); }

Paths gatewayTarget() {
  return {"action.target.virtualService.virtualServiceRef.name",
          "action.target.virtualService.virtualServiceRef.namespace",
          "action.target.virtualService.virtualServiceARN", "action.target.port",
          "action.rewrite.hostname.defaultTargetHostname"};
}

Paths gatewayHttpRoute() {
  return join({{"match.prefix", "match.path.exact", "match.path.regex", "match.method", "match.port",
                "match.hostname.exact", "match.hostname.suffix", "match.queryParameters.name",
                "match.queryParameters.match.exact", "action.rewrite.prefix.defaultPrefix",
                "action.rewrite.prefix.value", "action.rewrite.path.exact"},
               headerMatches("match.headers"), gatewayTarget()});
}

Paths gatewayGrpcRoute() {
  return join({{"match.serviceName", "match.port", "match.hostname.exact", "match.hostname.suffix"},
               headerMatches("match.metadata"), gatewayTarget()});
}

std::map<std::string, Paths, std::less<>> buildSchemas() {
  std::map<std::string, Paths, std::less<>> schemas;
  // Every object: the envelope and the ObjectMeta fields the API server keeps.
  const Paths envelope = {"apiVersion", "kind", "metadata.name", "metadata.namespace", "metadata.labels.*",
                          "metadata.annotations.*", "metadata.ownerReferences.*", "metadata.finalizers",
                          "metadata.uid", "metadata.resourceVersion", "metadata.generation",
                          "metadata.creationTimestamp", "metadata.deletionTimestamp",
                          "metadata.deletionGracePeriodSeconds", "metadata.generateName", "metadata.managedFields.*",
                          "metadata.selfLink"};

  Paths& mesh = schemas["Mesh"];
  mesh = join({envelope, selector("spec.namespaceSelector"),
               {"spec.awsName", "spec.egressFilter.type", "spec.serviceDiscovery.ipPreference", "spec.meshOwner",
                "status.*"}});

  Paths& node = schemas["VirtualNode"];
  node = join({envelope, common(), selector("spec.podSelector"),
               {"spec.backendGroups.name", "spec.backendGroups.namespace"}});
  const std::string listener = "spec.listeners";
  add(node, listener, {"portMapping.port", "portMapping.protocol", "outlierDetection.maxServerErrors",
                       "outlierDetection.maxEjectionPercent", "connectionPool.tcp.maxConnections",
                       "connectionPool.http.maxConnections", "connectionPool.http.maxPendingRequests",
                       "connectionPool.http2.maxRequests", "connectionPool.grpc.maxRequests"});
  add(node, listener + ".healthCheck", kHealthCheck);
  add(node, listener + ".outlierDetection", join({duration("interval"), duration("baseEjectionDuration")}));
  add(node, listener + ".timeout",
      join({duration("tcp.idle"), duration("http.idle"), duration("http.perRequest"), duration("http2.idle"),
            duration("http2.perRequest"), duration("grpc.idle"), duration("grpc.perRequest")}));
  add(node, listener + ".tls", listenerTls());
  add(node, "spec.serviceDiscovery",
      {"awsCloudMap.namespaceName", "awsCloudMap.serviceName", "awsCloudMap.attributes.key",
       "awsCloudMap.attributes.value", "awsCloudMap.ipPreference", "dns.hostname", "dns.responseType",
       "dns.ipPreference"});
  add(node, "spec.backends.virtualService",
      {"virtualServiceRef.name", "virtualServiceRef.namespace", "virtualServiceARN"});
  add(node, "spec.backends.virtualService.clientPolicy", clientPolicy());
  add(node, "spec.backendDefaults.clientPolicy", clientPolicy());
  add(node, "spec.logging", accessLog());

  Paths& service = schemas["VirtualService"];
  service = join({envelope, common(),
                  {"spec.provider.virtualNode.virtualNodeRef.name", "spec.provider.virtualNode.virtualNodeRef.namespace",
                   "spec.provider.virtualNode.virtualNodeARN", "spec.provider.virtualRouter.virtualRouterRef.name",
                   "spec.provider.virtualRouter.virtualRouterRef.namespace",
                   "spec.provider.virtualRouter.virtualRouterARN"}});

  Paths& router = schemas["VirtualRouter"];
  router = join({envelope, common(),
                 {"spec.listeners.portMapping.port", "spec.listeners.portMapping.protocol", "spec.routes.name",
                  "spec.routes.priority"}});
  add(router, "spec.routes.httpRoute", httpRoute());
  add(router, "spec.routes.http2Route", httpRoute());
  add(router, "spec.routes.grpcRoute", grpcRoute());
  add(router, "spec.routes.tcpRoute", tcpRoute());

  Paths& gateway = schemas["VirtualGateway"];
  gateway = join({envelope, common(), selector("spec.namespaceSelector"), selector("spec.podSelector"),
                  selector("spec.gatewayRouteSelector"),
                  {"spec.listeners.portMapping.port", "spec.listeners.portMapping.protocol",
                   "spec.listeners.connectionPool.http.maxConnections",
                   "spec.listeners.connectionPool.http.maxPendingRequests",
                   "spec.listeners.connectionPool.http2.maxRequests", "spec.listeners.connectionPool.grpc.maxRequests"}});
  add(gateway, "spec.listeners.healthCheck", kHealthCheck);
  add(gateway, "spec.listeners.tls", listenerTls());
  add(gateway, "spec.backendDefaults.clientPolicy", clientPolicy());
  add(gateway, "spec.logging", accessLog());

  Paths& gatewayRoute = schemas["GatewayRoute"];
  gatewayRoute = join({envelope, common(),
                       {"spec.priority", "spec.virtualGatewayRef.name", "spec.virtualGatewayRef.namespace",
                        "spec.virtualGatewayRef.uid"}});
  add(gatewayRoute, "spec.httpRoute", gatewayHttpRoute());
  add(gatewayRoute, "spec.http2Route", gatewayHttpRoute());
  add(gatewayRoute, "spec.grpcRoute", gatewayGrpcRoute());
  return schemas;
}

bool startsAtBoundary(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.substr(0, prefix.size()) == prefix &&
         (text.size() == prefix.size() || text[prefix.size()] == '.');
}

}  // namespace

bool crdDefines(std::string_view kind, std::string_view path) {
  static const auto* kSchemas = new std::map<std::string, Paths, std::less<>>(buildSchemas());
  auto it = kSchemas->find(kind);
  if (it == kSchemas->end()) return false;
  for (const std::string& leaf : it->second) {
    std::string_view view = leaf;
    if (view.size() > 2 && view.substr(view.size() - 2) == ".*") {
      const std::string_view open = view.substr(0, view.size() - 2);
      if (startsAtBoundary(path, open)) return true;  // the map itself or anything in it
      if (startsAtBoundary(open, path)) return true;  // on the way to it
      continue;
    }
    if (startsAtBoundary(view, path)) return true;  // the leaf or a map on the way to it
  }
  return false;
}

std::string crdPathOf(std::string_view root, std::string_view path) {
  if (!root.empty() && path.substr(0, root.size()) == root) {
    path.remove_prefix(root.size());
    if (!path.empty() && path.front() == '.') path.remove_prefix(1);
  }
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '[') {
      while (i < path.size() && path[i] != ']') ++i;
      continue;
    }
    out += path[i];
  }
  return out;
}

}  // namespace trellis::config::appmesh::internal
