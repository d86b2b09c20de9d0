// App Mesh's limits and references, checked over a whole MeshSet: see validate.h. The numbers
// come from App Mesh's API reference (the 2019-01-25 service model); rules that are Trellis's
// own are marked so in README.md and in their messages' wording.
#include "config/appmesh/validate.h"

#include <arpa/inet.h>

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "re2/re2.h"

namespace trellis::config::appmesh {

std::string ValidationError::toString() const {
  return absl::StrCat(source.label(), ": ", resource, ": ", path, ": ", message);
}

namespace {

// Debian's Abseil keeps its own string_view type; hand std::string_view over explicitly.
absl::string_view av(std::string_view text) { return {text.data(), text.size()}; }

std::string join(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return absl::StrCat(av(parent), ".", av(key));
}

std::string item(std::string_view parent, size_t index) {
  return absl::StrCat(av(parent), "[", index, "]");
}

std::string quoted(std::string_view text) {
  constexpr size_t kMax = 80;
  if (text.size() <= kMax) return absl::StrCat("\"", av(text), "\"");
  return absl::StrCat("\"", av(text.substr(0, kMax)), "...\"");
}

// "virtualNode.spec" -> "virtualNode"; "spec" -> "".
std::string parentOf(std::string_view specPath) {
  if (specPath == "spec") return "";
  if (specPath.size() > 5 && specPath.substr(specPath.size() - 5) == ".spec") {
    return std::string(specPath.substr(0, specPath.size() - 5));
  }
  return std::string(specPath);
}

bool isKubernetes(const Source& source) { return source.format == InputFormat::kKubernetes; }

// A reference field: App Mesh's name key, or the Kubernetes *Ref key.
std::string refField(const Source& source, std::string_view base, std::string_view cliKey,
                     std::string_view k8sKey) {
  return join(base, isKubernetes(source) ? k8sKey : cliKey);
}

std::string portList(const std::vector<PortMapping>& mappings) {
  std::vector<int64_t> ports;
  for (const PortMapping& mapping : mappings) ports.push_back(mapping.port);
  return absl::StrJoin(ports, ", ");
}

std::vector<PortMapping> portMappingsOf(const std::vector<Listener>& listeners) {
  std::vector<PortMapping> out;
  for (const Listener& listener : listeners) out.push_back(listener.portMapping);
  return out;
}

const PortMapping* findPort(const std::vector<PortMapping>& mappings, int64_t port) {
  for (const PortMapping& mapping : mappings) {
    if (mapping.port == port) return &mapping;
  }
  return nullptr;
}

template <typename T>
std::string namesIn(const std::vector<T>& items, std::string_view mesh) {
  constexpr size_t kMax = 10;
  std::vector<std::string> names;
  size_t total = 0;
  for (const T& entry : items) {
    if (entry.mesh != mesh) continue;
    if (++total <= kMax) names.push_back(entry.name);
  }
  std::string out = absl::StrJoin(names, ", ");
  if (total > kMax) absl::StrAppend(&out, ", and ", total - kMax, " more");
  return out;
}

std::string noSuch(std::string_view kind, std::string_view name, std::string_view mesh,
                   const std::string& known) {
  return absl::StrCat("no ", av(kind), " ", quoted(name), " in mesh ", quoted(mesh),
                      known.empty() ? std::string(" (the mesh has none)")
                                    : absl::StrCat(" (defined: ", known, ")"));
}

std::string routeKey(PortProtocol protocol) {
  switch (protocol) {
    case PortProtocol::kHttp:
      return "httpRoute";
    case PortProtocol::kHttp2:
      return "http2Route";
    case PortProtocol::kGrpc:
      return "grpcRoute";
    case PortProtocol::kTcp:
      return "tcpRoute";
  }
  return "httpRoute";
}

bool isIpLiteral(const std::string& address) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, address.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, address.c_str(), buffer) == 1;
}

// Cloud Map's attribute pattern: printable ASCII ('!' to '~'); values may hold inner spaces.
bool isCloudMapKey(const std::string& text) {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '!' && c <= '~'; });
}
bool isCloudMapValue(const std::string& text) {
  if (text.empty() || text.front() == ' ' || text.back() == ' ') return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '!' && c <= '~') || c == ' '; });
}

constexpr int64_t kMaxInt32 = 2147483647;   // App Mesh's Integer
constexpr int64_t kMaxUint32 = 4294967295;  // Envoy's UInt32Value counters

class Validator {
 public:
  explicit Validator(const MeshSet& set) : set_(set) {}

  std::vector<ValidationError> run() {
    for (const Mesh& mesh : set_.meshes) checkMesh(mesh);
    for (const VirtualNode& node : set_.virtualNodes) checkVirtualNode(node);
    for (const VirtualService& service : set_.virtualServices) checkVirtualService(service);
    for (const VirtualRouter& router : set_.virtualRouters) checkVirtualRouter(router);
    for (const Route& route : set_.routes) checkRoute(route);
    for (const VirtualGateway& gateway : set_.virtualGateways) checkVirtualGateway(gateway);
    for (const GatewayRoute& route : set_.gatewayRoutes) checkGatewayRoute(route);
    for (const Endpoints& endpoints : set_.endpoints) checkEndpoints(endpoints);
    for (const Sidecar& sidecar : set_.sidecars) checkSidecar(sidecar);
    return std::move(errors_);
  }

 private:
  // ------------------------------------------------------------------- error plumbing

  void begin(const Source& source, std::string resource) {
    source_ = source;
    resource_ = std::move(resource);
  }
  void fail(std::string path, std::string message) {
    errors_.push_back({source_, resource_, std::move(path), std::move(message)});
  }
  std::string at(std::string_view relative) const { return join(source_.specPath, relative); }

  void checkRange(const std::string& path, int64_t value, int64_t low, int64_t high) {
    if (value < low || value > high) {
      fail(path, absl::StrCat(value, " is out of range (allowed: ", low, "-", high, ")"));
    }
  }
  void checkLength(const std::string& path, const std::string& text, size_t low, size_t high) {
    if (text.size() < low || text.size() > high) {
      fail(path, absl::StrCat(quoted(text), " is ", text.size(), " characters long (allowed: ", low,
                              "-", high, ")"));
    }
  }
  void checkCount(const std::string& path, size_t count, size_t low, size_t high,
                  std::string_view noun) {
    if (count < low || count > high) {
      fail(path, absl::StrCat(count, " ", av(noun), " (allowed: ", low, "-", high, ")"));
    }
  }
  void checkDuration(const std::string& path, const Duration& duration) {
    if (duration.value < 0) {
      fail(join(path, "value"),
           absl::StrCat(duration.value, " is out of range (allowed: at least 0)"));
    }
  }
  // Trellis: Envoy refuses a zero duration where App Mesh's API only asks for at least 0.
  void checkPositiveDuration(const std::string& path, const Duration& duration) {
    if (duration.value < 1) {
      fail(join(path, "value"),
           absl::StrCat(duration.value,
                        " is out of range (allowed: at least 1; Trellis: Envoy requires a "
                        "positive duration here)"));
    }
  }
  void checkRegex(const std::string& path, const std::string& pattern) {
    RE2 re(pattern, RE2::Quiet);
    if (!re.ok()) {
      fail(path,
           absl::StrCat(quoted(pattern), " is not a valid RE2 regular expression: ", re.error()));
    }
  }

  // ----------------------------------------------------------------- names and envelopes

  // Path of the field that holds the resource's name in its format.
  std::string namePath(const ResourceHeader& header, std::string_view nameKey) const {
    const Source& source = header.source;
    if (isKubernetes(source)) {
      // Routes of a Kubernetes VirtualRouter are items of spec.routes with their own name.
      if (!source.specPath.empty() && source.specPath.back() == ']') {
        return join(source.specPath, "name");
      }
      return join(source.specPath, "awsName");
    }
    return join(parentOf(source.specPath), nameKey);
  }

  std::string meshPath(const ResourceHeader& header) const {
    if (isKubernetes(header.source)) return join(header.source.specPath, "meshRef");
    return join(parentOf(header.source.specPath), "meshName");
  }

  void checkName(const std::string& path, const std::string& name, bool serviceName) {
    if (name.empty() || name.size() > 255) {
      checkLength(path, name, 1, 255);
      return;
    }
    for (char c : name) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || (serviceName && c == '.');
      if (!ok) {
        fail(path, absl::StrCat(quoted(name), " contains '", std::string(1, c),
                                "' (allowed: letters, digits, '-', '_'", serviceName ? ", '.'" : "",
                                ")"));
        return;
      }
    }
  }

  // Mesh membership, name, tags and owner: what every resource has.
  void checkHeader(const ResourceHeader& header, std::string_view nameKey, bool serviceName) {
    if (set_.findMesh(header.mesh) == nullptr) {
      const std::string known = absl::StrJoin(
          set_.meshes, ", ", [](std::string* out, const Mesh& m) { out->append(m.name); });
      fail(meshPath(header),
           absl::StrCat("mesh ", quoted(header.mesh), " is not defined in this folder",
                        known.empty() ? std::string(" (no mesh is)")
                                      : absl::StrCat(" (defined: ", known, ")")));
    }
    checkName(namePath(header, nameKey), header.name, serviceName);
    const std::string envelope = parentOf(header.source.specPath);
    checkCount(join(envelope, "tags"), header.tags.size(), 0, 50, "tags");
    for (size_t i = 0; i < header.tags.size(); ++i) {
      const std::string base = item(join(envelope, "tags"), i);
      checkLength(join(base, "key"), header.tags[i].key, 1, 128);
      checkLength(join(base, "value"), header.tags[i].value, 0, 256);
    }
    if (header.meshOwner) {
      const std::string& owner = *header.meshOwner;
      const bool digits = owner.size() == 12 && std::all_of(owner.begin(), owner.end(), [](char c) {
                            return c >= '0' && c <= '9';
                          });
      if (!digits) {
        std::string path = isKubernetes(header.source) ? join(header.source.specPath, "meshOwner")
                           : header.source.format == InputFormat::kDescribe
                               ? join(envelope, "metadata.meshOwner")
                               : join(envelope, "meshOwner");
        fail(path, absl::StrCat(quoted(owner), " is not an account ID (allowed: 12 digits)"));
      }
    }
  }

  // Reports the second and later definitions of one name.
  void checkDuplicate(absl::flat_hash_map<std::string, Source>& seen, const std::string& key,
                      const std::string& path, std::string_view what) {
    auto [it, inserted] = seen.try_emplace(key, source_);
    if (!inserted) {
      fail(path,
           absl::StrCat("duplicate ", av(what), " (first defined in ", it->second.label(), ")"));
    }
  }

  static std::string scoped(std::initializer_list<std::string_view> parts) {
    std::string out;
    for (std::string_view part : parts) {
      out.append(part);
      out.push_back('\0');
    }
    return out;
  }

  // ---------------------------------------------------------------------------- TLS

  void checkFileCertificate(const std::string& base, const TlsFileCertificate& file) {
    checkLength(join(base, "certificateChain"), file.certificateChain, 1, 255);
    checkLength(join(base, "privateKey"), file.privateKey, 1, 255);
  }

  void checkValidationContext(const std::string& base, const TlsValidationContext& context) {
    const std::string trust = join(base, "trust");
    switch (context.trust.kind) {
      case TlsValidationTrust::Kind::kAcm:
        checkCount(join(trust, "acm.certificateAuthorityArns"),
                   context.trust.acmCertificateAuthorityArns.size(), 1, 3,
                   "certificate authorities");
        break;
      case TlsValidationTrust::Kind::kFile:
        checkLength(join(trust, "file.certificateChain"), context.trust.fileCertificateChain, 1,
                    255);
        break;
      case TlsValidationTrust::Kind::kSds:
        checkLength(join(trust, "sds.secretName"), context.trust.sdsSecretName, 1, 1024);
        break;
    }
    if (context.subjectAlternativeNamesExact) {
      const std::string names = join(base, "subjectAlternativeNames.match.exact");
      for (size_t i = 0; i < context.subjectAlternativeNamesExact->size(); ++i) {
        checkLength(item(names, i), (*context.subjectAlternativeNamesExact)[i], 1, 254);
      }
    }
  }

  void checkListenerTls(const std::string& base, const ListenerTls& tls) {
    const std::string cert = join(base, "certificate");
    switch (tls.certificate.kind) {
      case ListenerTlsCertificate::Kind::kAcm:
        checkLength(join(cert, "acm.certificateArn"), tls.certificate.acmCertificateArn, 1, 2048);
        break;
      case ListenerTlsCertificate::Kind::kFile:
        checkFileCertificate(join(cert, "file"), tls.certificate.file);
        break;
      case ListenerTlsCertificate::Kind::kSds:
        checkLength(join(cert, "sds.secretName"), tls.certificate.sdsSecretName, 1, 1024);
        break;
    }
    if (tls.validation) checkValidationContext(join(base, "validation"), *tls.validation);
  }

  void checkClientPolicy(const std::string& base, const ClientPolicy& policy) {
    if (!policy.tls) return;
    const std::string tls = join(base, "tls");
    for (size_t i = 0; i < policy.tls->ports.size(); ++i) {
      checkRange(item(join(tls, "ports"), i), policy.tls->ports[i], 1, 65535);
    }
    if (policy.tls->certificate) {
      const ClientTlsCertificate& cert = *policy.tls->certificate;
      if (cert.kind == ClientTlsCertificate::Kind::kFile) {
        checkFileCertificate(join(tls, "certificate.file"), cert.file);
      } else {
        checkLength(join(tls, "certificate.sds.secretName"), cert.sdsSecretName, 1, 1024);
      }
    }
    checkValidationContext(join(tls, "validation"), policy.tls->validation);
  }

  void checkLogging(const std::string& base, const Logging& logging) {
    if (!logging.accessLogFile) return;
    const std::string file = join(base, "accessLog.file");
    checkLength(join(file, "path"), logging.accessLogFile->path, 1, 255);
    if (!logging.accessLogFile->format) return;
    const LoggingFormat& format = *logging.accessLogFile->format;
    if (format.text) checkLength(join(file, "format.text"), *format.text, 1, 1000);
    if (format.json) {
      for (size_t i = 0; i < format.json->size(); ++i) {
        const std::string entry = item(join(file, "format.json"), i);
        checkLength(join(entry, "key"), (*format.json)[i].first, 1, 100);
        checkLength(join(entry, "value"), (*format.json)[i].second, 1, 100);
      }
    }
  }

  // ------------------------------------------------------------------------- listeners

  void checkListener(const std::string& base, const Listener& listener) {
    const PortMapping& mapping = listener.portMapping;
    checkRange(join(base, "portMapping.port"), mapping.port, 1, 65535);
    if (listener.healthCheck) {
      const HealthCheckPolicy& check = *listener.healthCheck;
      const std::string hc = join(base, "healthCheck");
      checkRange(join(hc, "healthyThreshold"), check.healthyThreshold, 2, 10);
      checkRange(join(hc, "unhealthyThreshold"), check.unhealthyThreshold, 2, 10);
      checkRange(join(hc, "intervalMillis"), check.intervalMillis, 5000, 300000);
      checkRange(join(hc, "timeoutMillis"), check.timeoutMillis, 2000, 60000);
      if (check.port) {
        checkRange(join(hc, "port"), *check.port, 1, 65535);
        if (*check.port != mapping.port) {
          fail(join(hc, "port"),
               absl::StrCat(*check.port, " is not the listener's port (allowed: ", mapping.port,
                            "; App Mesh requires the health check port to match portMapping)"));
        }
      }
    }
    if (listener.outlierDetection) {
      const OutlierDetection& outlier = *listener.outlierDetection;
      const std::string od = join(base, "outlierDetection");
      checkRange(join(od, "maxServerErrors"), outlier.maxServerErrors, 1, kMaxUint32);
      checkRange(join(od, "maxEjectionPercent"), outlier.maxEjectionPercent, 0, 100);
      checkPositiveDuration(join(od, "interval"), outlier.interval);
      checkPositiveDuration(join(od, "baseEjectionDuration"), outlier.baseEjectionDuration);
    }
    if (listener.connectionPool) {
      const ConnectionPool& pool = *listener.connectionPool;
      const std::string cp = join(base, "connectionPool");
      const std::string key = join(cp, toString(pool.protocol));
      if (pool.protocol != mapping.protocol) {
        fail(key, absl::StrCat("a ", av(toString(pool.protocol)), " pool on a ",
                               av(toString(mapping.protocol)),
                               " listener (allowed: ", av(toString(mapping.protocol)),
                               "; App Mesh requires the pool to match portMapping.protocol)"));
      }
      // App Mesh types the limits as Integer: 1 to 2^31-1.
      if (pool.maxConnections) {
        checkRange(join(key, "maxConnections"), *pool.maxConnections, 1, kMaxInt32);
      }
      if (pool.maxPendingRequests) {
        checkRange(join(key, "maxPendingRequests"), *pool.maxPendingRequests, 1, kMaxInt32);
      }
      if (pool.maxRequests) checkRange(join(key, "maxRequests"), *pool.maxRequests, 1, kMaxInt32);
    }
    if (listener.timeout) {
      const ListenerTimeout& timeout = *listener.timeout;
      const std::string key = join(join(base, "timeout"), toString(timeout.protocol));
      if (timeout.protocol != mapping.protocol) {
        fail(key, absl::StrCat("a ", av(toString(timeout.protocol)), " timeout on a ",
                               av(toString(mapping.protocol)), " listener (allowed: ",
                               av(toString(mapping.protocol)), "; it would never apply)"));
      }
      if (timeout.perRequest) checkDuration(join(key, "perRequest"), *timeout.perRequest);
      if (timeout.idle) checkDuration(join(key, "idle"), *timeout.idle);
    }
    if (listener.tls) checkListenerTls(join(base, "tls"), *listener.tls);
  }

  void checkListeners(const std::vector<Listener>& listeners, bool required) {
    if (required && listeners.empty()) {
      fail(at("listeners"), "0 listeners (allowed: at least 1)");
    }
    for (size_t i = 0; i < listeners.size(); ++i) {
      const std::string base = item(at("listeners"), i);
      checkListener(base, listeners[i]);
      for (size_t j = 0; j < i; ++j) {
        if (listeners[j].portMapping.port == listeners[i].portMapping.port) {
          fail(join(base, "portMapping.port"), absl::StrCat("port ", listeners[i].portMapping.port,
                                                            " is already used by listeners[", j,
                                                            "] (allowed: one listener per port)"));
          break;
        }
      }
    }
  }

  // ---------------------------------------------------------------------------- mesh

  void checkMesh(const Mesh& mesh) {
    begin(mesh.source, absl::StrCat("Mesh/", mesh.name));
    checkHeader(mesh, "meshName", /*serviceName=*/false);
    checkDuplicate(meshes_, mesh.name, namePath(mesh, "meshName"),
                   absl::StrCat("Mesh ", quoted(mesh.name)));
  }

  // ---------------------------------------------------------------------- virtual node

  void checkVirtualNode(const VirtualNode& node) {
    begin(node.source, absl::StrCat(node.mesh, "/VirtualNode/", node.name));
    checkHeader(node, "virtualNodeName", /*serviceName=*/false);
    checkDuplicate(nodes_, scoped({node.mesh, node.name}), namePath(node, "virtualNodeName"),
                   absl::StrCat("VirtualNode ", quoted(node.name), " in mesh ", quoted(node.mesh)));
    const VirtualNodeSpec& spec = node.spec;
    checkListeners(spec.listeners, /*required=*/false);

    if (spec.serviceDiscovery.dns) {
      checkLength(at("serviceDiscovery.dns.hostname"), spec.serviceDiscovery.dns->hostname, 1, 255);
    }
    if (spec.serviceDiscovery.awsCloudMap) {
      const AwsCloudMapServiceDiscovery& map = *spec.serviceDiscovery.awsCloudMap;
      const std::string base = at("serviceDiscovery.awsCloudMap");
      checkLength(join(base, "namespaceName"), map.namespaceName, 1, 1024);
      checkLength(join(base, "serviceName"), map.serviceName, 1, 1024);
      for (size_t i = 0; i < map.attributes.size(); ++i) {
        const std::string attribute = item(join(base, "attributes"), i);
        const Tag& entry = map.attributes[i];
        checkLength(join(attribute, "key"), entry.key, 1, 255);
        checkLength(join(attribute, "value"), entry.value, 1, 1024);
        if (!entry.key.empty() && !isCloudMapKey(entry.key)) {
          fail(join(attribute, "key"), absl::StrCat(quoted(entry.key),
                                                    " has characters Cloud Map does not allow "
                                                    "(allowed: printable ASCII, no spaces)"));
        }
        if (!entry.value.empty() && !isCloudMapValue(entry.value)) {
          fail(join(attribute, "value"),
               absl::StrCat(quoted(entry.value),
                            " has characters Cloud Map does not allow (allowed: printable ASCII, "
                            "spaces only inside)"));
        }
      }
    }

    for (size_t i = 0; i < spec.backends.size(); ++i) {
      const Backend& backend = spec.backends[i];
      const std::string base = join(item(at("backends"), i), "virtualService");
      const std::string ref =
          refField(node.source, base, "virtualServiceName", "virtualServiceRef");
      if (set_.findVirtualService(node.mesh, backend.virtualServiceName) == nullptr) {
        fail(ref, noSuch("VirtualService", backend.virtualServiceName, node.mesh,
                         namesIn(set_.virtualServices, node.mesh)));
      }
      for (size_t j = 0; j < i; ++j) {
        if (spec.backends[j].virtualServiceName == backend.virtualServiceName) {
          fail(ref,
               absl::StrCat(quoted(backend.virtualServiceName), " is already a backend (backends[",
                            j, "]); list each virtual service once"));
          break;
        }
      }
      if (backend.clientPolicy)
        checkClientPolicy(join(base, "clientPolicy"), *backend.clientPolicy);
    }
    if (spec.backendDefaults && spec.backendDefaults->clientPolicy) {
      checkClientPolicy(at("backendDefaults.clientPolicy"), *spec.backendDefaults->clientPolicy);
    }
    if (spec.logging) checkLogging(at("logging"), *spec.logging);
  }

  // ------------------------------------------------------------------- virtual service

  void checkVirtualService(const VirtualService& service) {
    begin(service.source, absl::StrCat(service.mesh, "/VirtualService/", service.name));
    checkHeader(service, "virtualServiceName", /*serviceName=*/true);
    checkDuplicate(
        services_, scoped({service.mesh, service.name}), namePath(service, "virtualServiceName"),
        absl::StrCat("VirtualService ", quoted(service.name), " in mesh ", quoted(service.mesh)));
    if (!service.spec.provider) return;
    const VirtualServiceProvider& provider = *service.spec.provider;
    if (provider.kind == VirtualServiceProvider::Kind::kVirtualNode) {
      if (set_.findVirtualNode(service.mesh, provider.name) == nullptr) {
        fail(refField(service.source, at("provider.virtualNode"), "virtualNodeName",
                      "virtualNodeRef"),
             noSuch("VirtualNode", provider.name, service.mesh,
                    namesIn(set_.virtualNodes, service.mesh)));
      }
    } else if (set_.findVirtualRouter(service.mesh, provider.name) == nullptr) {
      fail(refField(service.source, at("provider.virtualRouter"), "virtualRouterName",
                    "virtualRouterRef"),
           noSuch("VirtualRouter", provider.name, service.mesh,
                  namesIn(set_.virtualRouters, service.mesh)));
    }
  }

  // -------------------------------------------------------------------- virtual router

  void checkVirtualRouter(const VirtualRouter& router) {
    begin(router.source, absl::StrCat(router.mesh, "/VirtualRouter/", router.name));
    checkHeader(router, "virtualRouterName", /*serviceName=*/false);
    checkDuplicate(
        routers_, scoped({router.mesh, router.name}), namePath(router, "virtualRouterName"),
        absl::StrCat("VirtualRouter ", quoted(router.name), " in mesh ", quoted(router.mesh)));
    const std::vector<PortMapping>& listeners = router.spec.listeners;
    if (listeners.empty()) fail(at("listeners"), "0 listeners (allowed: at least 1)");
    for (size_t i = 0; i < listeners.size(); ++i) {
      const std::string port = join(item(at("listeners"), i), "portMapping.port");
      checkRange(port, listeners[i].port, 1, 65535);
      for (size_t j = 0; j < i; ++j) {
        if (listeners[j].port == listeners[i].port) {
          fail(port, absl::StrCat("port ", listeners[i].port, " is already used by listeners[", j,
                                  "] (allowed: one listener per port)"));
          break;
        }
      }
    }
  }

  // ----------------------------------------------------------------------------- routes

  void checkHeaderMatch(const std::string& base, const HeaderMatch& header) {
    checkLength(join(base, "name"), header.name, 1, 50);
    if (!header.match) return;
    const HeaderMatchMethod& method = *header.match;
    const std::string match = join(base, "match");
    if (method.kind == HeaderMatchMethod::Kind::kRange) {
      if (method.rangeStart >= method.rangeEnd) {
        fail(join(match, "range"),
             absl::StrCat("start ", method.rangeStart, " is not below end ", method.rangeEnd,
                          " (allowed: start < end; the end is excluded, so this range matches "
                          "nothing)"));
      }
      return;
    }
    const std::string value = join(match, toString(method.kind));
    checkLength(value, method.value, 1, 255);
    if (method.kind == HeaderMatchMethod::Kind::kRegex) checkRegex(value, method.value);
  }

  void checkHeaderMatches(const std::string& path,
                          const std::optional<std::vector<HeaderMatch>>& headers,
                          std::string_view noun) {
    if (!headers) return;
    checkCount(path, headers->size(), 1, 10, noun);
    for (size_t i = 0; i < headers->size(); ++i) checkHeaderMatch(item(path, i), (*headers)[i]);
  }

  void checkQueryParameters(const std::string& path,
                            const std::optional<std::vector<QueryParameterMatch>>& params) {
    if (!params) return;
    checkCount(path, params->size(), 1, 10, "query parameters");
    for (size_t i = 0; i < params->size(); ++i) {
      checkLength(join(item(path, i), "name"), (*params)[i].name, 1, 255);
    }
  }

  void checkPrefixAndPath(const std::string& base, const std::optional<std::string>& prefix,
                          const std::optional<PathMatch>& path) {
    if (prefix && (prefix->empty() || prefix->front() != '/')) {
      fail(join(base, "prefix"), absl::StrCat(quoted(*prefix),
                                              " does not start with \"/\" "
                                              "(App Mesh requires a prefix to start with \"/\")"));
    }
    if (prefix && path) {
      fail(base, "both prefix and path are given (allowed: one of them)");
    }
    if (path) {
      const std::string value = join(join(base, "path"), path->isRegex ? "regex" : "exact");
      checkLength(value, path->value, 1, 255);
      if (path->isRegex) checkRegex(value, path->value);
    }
  }

  void checkRetryPolicy(const std::string& base, const RetryPolicy& policy, bool grpc) {
    // App Mesh: a Long of at least 0; Trellis: at most what Envoy's num_retries holds.
    checkRange(join(base, "maxRetries"), policy.maxRetries, 0, kMaxUint32);
    checkDuration(join(base, "perRetryTimeout"), policy.perRetryTimeout);
    if (!policy.httpRetryEvents && !policy.tcpRetryEvents && !policy.grpcRetryEvents) {
      fail(base, absl::StrCat("no retry events (allowed: at least one of httpRetryEvents, "
                              "tcpRetryEvents",
                              grpc ? ", grpcRetryEvents" : "", ")"));
    }
    if (policy.httpRetryEvents) {
      checkCount(join(base, "httpRetryEvents"), policy.httpRetryEvents->size(), 1, 25, "events");
    }
    if (policy.tcpRetryEvents) {
      checkCount(join(base, "tcpRetryEvents"), policy.tcpRetryEvents->size(), 1, 1, "events");
    }
    if (policy.grpcRetryEvents) {
      checkCount(join(base, "grpcRetryEvents"), policy.grpcRetryEvents->size(), 1, 5, "events");
    }
  }

  void checkRouteTimeout(const std::string& base, const RouteTimeout& timeout) {
    if (timeout.perRequest) checkDuration(join(base, "perRequest"), *timeout.perRequest);
    if (timeout.idle) checkDuration(join(base, "idle"), *timeout.idle);
  }

  void checkWeightedTargets(const Route& route, const std::string& routeBase) {
    const std::vector<WeightedTarget>& targets = route.spec.weightedTargets();
    const std::string base = join(routeBase, "action.weightedTargets");
    const PortProtocol protocol = route.spec.protocol();
    checkCount(base, targets.size(), 1, 10, "weighted targets");
    int64_t total = 0;
    for (size_t i = 0; i < targets.size(); ++i) {
      const WeightedTarget& target = targets[i];
      const std::string entry = item(base, i);
      checkRange(join(entry, "weight"), target.weight, 0, 100);
      total += std::clamp<int64_t>(target.weight, 0, 100);
      const std::string ref = refField(route.source, entry, "virtualNode", "virtualNodeRef");
      const VirtualNode* node = set_.findVirtualNode(route.mesh, target.virtualNode);
      if (node == nullptr) {
        fail(ref, noSuch("VirtualNode", target.virtualNode, route.mesh,
                         namesIn(set_.virtualNodes, route.mesh)));
        continue;
      }
      const std::vector<PortMapping> ports = portMappingsOf(node->spec.listeners);
      const PortMapping* listener = nullptr;
      if (target.port) {
        checkRange(join(entry, "port"), *target.port, 1, 65535);
        listener = findPort(ports, *target.port);
        if (listener == nullptr) {
          fail(join(entry, "port"),
               absl::StrCat(
                   *target.port, " is not a listener port of VirtualNode ", quoted(node->name),
                   " (allowed: ",
                   ports.empty() ? std::string("none, it has no listener") : portList(ports), ")"));
        }
      } else if (ports.size() > 1) {
        fail(join(entry, "port"),
             absl::StrCat("required: VirtualNode ", quoted(node->name), " has ", ports.size(),
                          " listeners (ports ", portList(ports),
                          "); App Mesh requires the target port then"));
      } else if (ports.size() == 1) {
        listener = &ports.front();
      } else {
        fail(ref, absl::StrCat("VirtualNode ", quoted(node->name),
                               " has no listener, so it cannot receive traffic (allowed: a node "
                               "with a listener)"));
      }
      if (listener != nullptr && listener->protocol != protocol) {
        fail(ref, absl::StrCat("a ", routeKey(protocol), " cannot target the ",
                               av(toString(listener->protocol)), " listener on port ",
                               listener->port, " of VirtualNode ", quoted(node->name),
                               " (App Mesh requires the route type to match the listener "
                               "protocol)"));
      }
    }
    if (!targets.empty() && total > 100) {
      fail(base, absl::StrCat("weights add up to ", total, " (allowed: at most 100)"));
    } else if (!targets.empty() && total == 0) {
      fail(base, "weights add up to 0, so no target would receive traffic (allowed: 1-100)");
    }
  }

  void checkRoute(const Route& route) {
    begin(route.source,
          absl::StrCat(route.mesh, "/VirtualRouter/", route.virtualRouter, "/Route/", route.name));
    checkHeader(route, "routeName", /*serviceName=*/false);
    const std::string routerPath = isKubernetes(route.source)
                                       ? route.source.specPath
                                       : join(parentOf(route.source.specPath), "virtualRouterName");
    checkDuplicate(routes_, scoped({route.mesh, route.virtualRouter, route.name}),
                   namePath(route, "routeName"),
                   absl::StrCat("Route ", quoted(route.name), " in VirtualRouter ",
                                quoted(route.virtualRouter)));
    const VirtualRouter* router = set_.findVirtualRouter(route.mesh, route.virtualRouter);
    if (router == nullptr) {
      fail(routerPath, noSuch("VirtualRouter", route.virtualRouter, route.mesh,
                              namesIn(set_.virtualRouters, route.mesh)));
    }
    const RouteSpec& spec = route.spec;
    if (spec.priority) checkRange(at("priority"), *spec.priority, 0, 1000);
    const PortProtocol protocol = spec.protocol();
    const std::string base = at(routeKey(protocol));

    // Which router listener the route serves.
    const std::optional<int64_t> matchPort = spec.matchPort();
    const std::string matchPortPath = join(base, "match.port");
    if (matchPort) checkRange(matchPortPath, *matchPort, 1, 65535);
    if (router != nullptr) {
      const std::vector<PortMapping>& ports = router->spec.listeners;
      const PortMapping* listener = nullptr;
      if (matchPort) {
        listener = findPort(ports, *matchPort);
        if (listener == nullptr) {
          fail(matchPortPath,
               absl::StrCat(*matchPort, " is not a listener port of VirtualRouter ",
                            quoted(router->name), " (allowed: ", portList(ports), ")"));
        }
      } else if (ports.size() > 1) {
        fail(matchPortPath, absl::StrCat("required: VirtualRouter ", quoted(router->name), " has ",
                                         ports.size(), " listeners (ports ", portList(ports),
                                         "); App Mesh requires a route to match a port then"));
      } else if (ports.size() == 1) {
        listener = &ports.front();
      }
      if (listener != nullptr && listener->protocol != protocol) {
        fail(base, absl::StrCat("a ", routeKey(protocol), " cannot serve the ",
                                av(toString(listener->protocol)), " listener on port ",
                                listener->port, " of VirtualRouter ", quoted(router->name),
                                " (App Mesh requires the route type to match the listener "
                                "protocol)"));
      }
    }
    checkWeightedTargets(route, base);

    const HttpRoute* http = spec.httpRoute    ? &*spec.httpRoute
                            : spec.http2Route ? &*spec.http2Route
                                              : nullptr;
    if (http != nullptr) {
      const std::string match = join(base, "match");
      checkPrefixAndPath(match, http->match.prefix, http->match.path);
      if (http->match.scheme && protocol == PortProtocol::kHttp) {
        fail(join(match, "scheme"), "scheme applies only to http2Route (App Mesh)");
      }
      checkHeaderMatches(join(match, "headers"), http->match.headers, "headers");
      checkQueryParameters(join(match, "queryParameters"), http->match.queryParameters);
      if (http->retryPolicy) checkRetryPolicy(join(base, "retryPolicy"), *http->retryPolicy, false);
      if (http->timeout) checkRouteTimeout(join(base, "timeout"), *http->timeout);
    }
    if (spec.grpcRoute) {
      const GrpcRoute& grpc = *spec.grpcRoute;
      const std::string match = join(base, "match");
      if (grpc.match.methodName) {
        checkLength(join(match, "methodName"), *grpc.match.methodName, 1, 50);
        if (!grpc.match.serviceName) {
          fail(join(match, "methodName"),
               "a methodName needs a serviceName (App Mesh requires serviceName with methodName)");
        }
      }
      checkHeaderMatches(join(match, "metadata"), grpc.match.metadata, "metadata entries");
      if (grpc.retryPolicy) checkRetryPolicy(join(base, "retryPolicy"), *grpc.retryPolicy, true);
      if (grpc.timeout) checkRouteTimeout(join(base, "timeout"), *grpc.timeout);
    }
    if (spec.tcpRoute && spec.tcpRoute->timeout) {
      checkRouteTimeout(join(base, "timeout"), *spec.tcpRoute->timeout);
    }
  }

  // ------------------------------------------------------------------- virtual gateway

  void checkVirtualGateway(const VirtualGateway& gateway) {
    begin(gateway.source, absl::StrCat(gateway.mesh, "/VirtualGateway/", gateway.name));
    checkHeader(gateway, "virtualGatewayName", /*serviceName=*/false);
    checkDuplicate(
        gateways_, scoped({gateway.mesh, gateway.name}), namePath(gateway, "virtualGatewayName"),
        absl::StrCat("VirtualGateway ", quoted(gateway.name), " in mesh ", quoted(gateway.mesh)));
    checkListeners(gateway.spec.listeners, /*required=*/true);
    if (gateway.spec.backendDefaults && gateway.spec.backendDefaults->clientPolicy) {
      checkClientPolicy(at("backendDefaults.clientPolicy"),
                        *gateway.spec.backendDefaults->clientPolicy);
    }
    if (gateway.spec.logging) checkLogging(at("logging"), *gateway.spec.logging);
  }

  // ---------------------------------------------------------------------- gateway route

  // The listener ports of a virtual service's provider (node or router).
  std::optional<std::vector<PortMapping>> providerPorts(const VirtualService& service) {
    if (!service.spec.provider) return std::nullopt;
    const VirtualServiceProvider& provider = *service.spec.provider;
    if (provider.kind == VirtualServiceProvider::Kind::kVirtualNode) {
      const VirtualNode* node = set_.findVirtualNode(service.mesh, provider.name);
      if (node == nullptr) return std::nullopt;
      return portMappingsOf(node->spec.listeners);
    }
    const VirtualRouter* router = set_.findVirtualRouter(service.mesh, provider.name);
    if (router == nullptr) return std::nullopt;
    return router->spec.listeners;
  }

  void checkGatewayTarget(const GatewayRoute& route, const std::string& base,
                          const GatewayRouteTarget& target) {
    const std::string targetPath = join(base, "action.target");
    const std::string ref = refField(route.source, join(targetPath, "virtualService"),
                                     "virtualServiceName", "virtualServiceRef");
    const VirtualService* service = set_.findVirtualService(route.mesh, target.virtualServiceName);
    if (service == nullptr) {
      fail(ref, noSuch("VirtualService", target.virtualServiceName, route.mesh,
                       namesIn(set_.virtualServices, route.mesh)));
      return;
    }
    std::optional<std::vector<PortMapping>> ports = providerPorts(*service);
    const std::string portPath = join(targetPath, "port");
    if (target.port) checkRange(portPath, *target.port, 1, 65535);
    if (!ports) return;  // no provider, or a dangling one (reported on the service)
    if (target.port && findPort(*ports, *target.port) == nullptr) {
      fail(portPath, absl::StrCat(*target.port, " is not a listener port of the provider of ",
                                  "VirtualService ", quoted(service->name),
                                  " (allowed: ", portList(*ports), ")"));
    } else if (!target.port && ports->size() > 1) {
      fail(portPath,
           absl::StrCat("required: the provider of VirtualService ", quoted(service->name), " has ",
                        ports->size(), " listeners (ports ", portList(*ports),
                        "); App Mesh requires the target port then"));
    }
  }

  // `matchPath` is the match's field path, `match` the match the rewrite applies to.
  void checkGatewayRewrite(const std::string& base, const GatewayRouteRewrite& rewrite,
                           const std::string& matchPath, const HttpGatewayRouteMatch& match) {
    if (rewrite.prefixDefaultPrefix && rewrite.prefixValue) {
      fail(join(base, "prefix"), "both defaultPrefix and value are given (allowed: one of them)");
    }
    if (rewrite.prefixValue) checkLength(join(base, "prefix.value"), *rewrite.prefixValue, 1, 255);
    if (rewrite.pathExact) checkLength(join(base, "path.exact"), *rewrite.pathExact, 1, 255);
    const bool prefixRewrite = rewrite.prefixDefaultPrefix || rewrite.prefixValue;
    if (prefixRewrite && match.path) {
      fail(join(base, "prefix"),
           "a prefix rewrite needs a prefix match, and match.path is given (App Mesh rewrites "
           "the matched prefix; rewrite.path goes with a path match)");
    }
    if (rewrite.pathExact && !match.path) {
      fail(join(base, "path"),
           "a path rewrite needs a path match (match.path); with a prefix match use "
           "rewrite.prefix");
    }
    // A custom prefix replaces the matched one: both are whole path segments, "/" at each end
    // (App Mesh's console and the AWS CDK required it; "/a" -> "/b/" would turn "/ax" into
    // "/b/x").
    if (rewrite.prefixValue && !rewrite.prefixValue->empty()) {
      const std::string& value = *rewrite.prefixValue;
      if (value.front() != '/' || value.back() != '/') {
        fail(join(base, "prefix.value"),
             absl::StrCat(quoted(value), " must start and end with \"/\""));
      }
      if (match.prefix && !match.prefix->empty() && match.prefix->front() == '/' &&
          match.prefix->back() != '/') {
        fail(join(matchPath, "prefix"),
             absl::StrCat(quoted(*match.prefix),
                          " must end with \"/\" when rewrite.prefix.value replaces it"));
      }
    }
    if (rewrite.pathExact && !rewrite.pathExact->empty() && rewrite.pathExact->front() != '/') {
      fail(join(base, "path.exact"),
           absl::StrCat(quoted(*rewrite.pathExact), " does not start with \"/\""));
    }
  }

  void checkHostnameMatch(const std::string& base, const std::optional<HostnameMatch>& hostname) {
    if (!hostname) return;
    checkLength(join(base, hostname->isSuffix ? "suffix" : "exact"), hostname->value, 1, 253);
  }

  void checkGatewayRoute(const GatewayRoute& route) {
    begin(route.source, absl::StrCat(route.mesh, "/VirtualGateway/", route.virtualGateway,
                                     "/GatewayRoute/", route.name));
    checkHeader(route, "gatewayRouteName", /*serviceName=*/false);
    checkDuplicate(gatewayRoutes_, scoped({route.mesh, route.virtualGateway, route.name}),
                   namePath(route, "gatewayRouteName"),
                   absl::StrCat("GatewayRoute ", quoted(route.name), " in VirtualGateway ",
                                quoted(route.virtualGateway)));
    const std::string gatewayPath =
        isKubernetes(route.source) ? join(route.source.specPath, "virtualGatewayRef")
                                   : join(parentOf(route.source.specPath), "virtualGatewayName");
    const VirtualGateway* gateway = set_.findVirtualGateway(route.mesh, route.virtualGateway);
    if (gateway == nullptr) {
      fail(gatewayPath, noSuch("VirtualGateway", route.virtualGateway, route.mesh,
                               namesIn(set_.virtualGateways, route.mesh)));
    }
    const GatewayRouteSpec& spec = route.spec;
    if (spec.priority) checkRange(at("priority"), *spec.priority, 0, 1000);
    const PortProtocol protocol = spec.protocol();
    const std::string base = at(routeKey(protocol));
    const std::string match = join(base, "match");

    std::optional<int64_t> matchPort;
    if (spec.httpRoute) matchPort = spec.httpRoute->match.port;
    if (spec.http2Route) matchPort = spec.http2Route->match.port;
    if (spec.grpcRoute) matchPort = spec.grpcRoute->match.port;
    if (matchPort) checkRange(join(match, "port"), *matchPort, 1, 65535);
    if (gateway != nullptr) {
      const std::vector<PortMapping> ports = portMappingsOf(gateway->spec.listeners);
      if (matchPort) {
        const PortMapping* listener = findPort(ports, *matchPort);
        if (listener == nullptr) {
          fail(join(match, "port"),
               absl::StrCat(*matchPort, " is not a listener port of VirtualGateway ",
                            quoted(gateway->name), " (allowed: ", portList(ports), ")"));
        } else if (listener->protocol != protocol) {
          fail(base, absl::StrCat("a ", routeKey(protocol), " cannot serve the ",
                                  av(toString(listener->protocol)), " listener on port ",
                                  listener->port, " of VirtualGateway ", quoted(gateway->name),
                                  " (App Mesh requires the route type to match the listener "
                                  "protocol)"));
        }
      } else if (!ports.empty() &&
                 std::none_of(ports.begin(), ports.end(),
                              [&](const PortMapping& p) { return p.protocol == protocol; })) {
        fail(base, absl::StrCat("VirtualGateway ", quoted(gateway->name), " has no ",
                                av(toString(protocol)), " listener (listeners: ", portList(ports),
                                "; App Mesh requires the route type to match a listener "
                                "protocol)"));
      }
    }

    const HttpGatewayRoute* http = spec.httpRoute    ? &*spec.httpRoute
                                   : spec.http2Route ? &*spec.http2Route
                                                     : nullptr;
    if (http != nullptr) {
      checkPrefixAndPath(match, http->match.prefix, http->match.path);
      checkHostnameMatch(join(match, "hostname"), http->match.hostname);
      checkHeaderMatches(join(match, "headers"), http->match.headers, "headers");
      checkQueryParameters(join(match, "queryParameters"), http->match.queryParameters);
      checkGatewayTarget(route, base, http->target);
      if (http->rewrite) {
        checkGatewayRewrite(join(base, "action.rewrite"), *http->rewrite, match, http->match);
      }
    }
    if (spec.grpcRoute) {
      const GrpcGatewayRoute& grpc = *spec.grpcRoute;
      checkHostnameMatch(join(match, "hostname"), grpc.match.hostname);
      checkHeaderMatches(join(match, "metadata"), grpc.match.metadata, "metadata entries");
      checkGatewayTarget(route, base, grpc.target);
    }
  }

  // -------------------------------------------------------------------------- endpoints

  void checkEndpoints(const Endpoints& doc) {
    begin(doc.source, absl::StrCat(doc.mesh, "/Endpoints/", doc.virtualNode));
    const std::string root = doc.source.specPath;
    const VirtualNode* node = nullptr;
    if (set_.findMesh(doc.mesh) == nullptr) {
      fail(join(root, "mesh"),
           absl::StrCat("mesh ", quoted(doc.mesh), " is not defined in this folder"));
    } else {
      node = set_.findVirtualNode(doc.mesh, doc.virtualNode);
      if (node == nullptr) {
        fail(join(root, "virtualNode"), noSuch("VirtualNode", doc.virtualNode, doc.mesh,
                                               namesIn(set_.virtualNodes, doc.mesh)));
      } else if (node->spec.serviceDiscovery.dns) {
        fail(join(root, "virtualNode"),
             absl::StrCat("VirtualNode ", quoted(node->name), " finds its instances by DNS (",
                          quoted(node->spec.serviceDiscovery.dns->hostname),
                          "); Endpoints apply only to nodes with awsCloudMap or no service "
                          "discovery"));
      }
    }
    for (size_t i = 0; i < doc.endpoints.size(); ++i) {
      const Endpoint& endpoint = doc.endpoints[i];
      const std::string base = item(join(root, "endpoints"), i);
      if (!isIpLiteral(endpoint.address)) {
        fail(join(base, "address"), absl::StrCat(quoted(endpoint.address),
                                                 " is not an IP address (allowed: an IPv4 or "
                                                 "IPv6 literal; use DNS discovery for names)"));
      }
      if (endpoint.port) {
        checkRange(join(base, "port"), *endpoint.port, 1, 65535);
        if (node != nullptr && node->spec.listeners.size() > 1) {
          fail(join(base, "port"),
               absl::StrCat("not allowed: VirtualNode ", quoted(node->name), " has ",
                            node->spec.listeners.size(),
                            " listeners, and one port cannot serve them all (omit port so each "
                            "listener's own port is used)"));
        }
      }
      checkRange(join(base, "weight"), endpoint.weight, 1, 128);
      const std::string key =
          scoped({doc.mesh, doc.virtualNode, endpoint.address,
                  endpoint.port ? absl::StrCat(*endpoint.port) : std::string("listener")});
      checkDuplicate(endpoints_, key, base,
                     absl::StrCat("endpoint ", endpoint.address,
                                  endpoint.port ? absl::StrCat(":", *endpoint.port) : "",
                                  " of VirtualNode ", quoted(doc.virtualNode)));
    }
  }

  // -------------------------------------------------------------------------- sidecars

  void checkSidecar(const Sidecar& sidecar) {
    begin(sidecar.source, absl::StrCat(sidecar.mesh, "/Sidecar/", sidecar.virtualNode));
    const std::string root = sidecar.source.specPath;
    const VirtualNode* node = nullptr;
    if (set_.findMesh(sidecar.mesh) == nullptr) {
      fail(join(root, "mesh"),
           absl::StrCat("mesh ", quoted(sidecar.mesh), " is not defined in this folder"));
    } else {
      node = set_.findVirtualNode(sidecar.mesh, sidecar.virtualNode);
      if (node == nullptr) {
        fail(join(root, "virtualNode"), noSuch("VirtualNode", sidecar.virtualNode, sidecar.mesh,
                                               namesIn(set_.virtualNodes, sidecar.mesh)));
      }
    }
    checkDuplicate(sidecars_, scoped({sidecar.mesh, sidecar.virtualNode}),
                   join(root, "virtualNode"),
                   absl::StrCat("Sidecar of VirtualNode ", quoted(sidecar.virtualNode)));
    for (const auto& [key, address] :
         {std::pair{"inbound", &sidecar.inbound}, std::pair{"outbound", &sidecar.outbound}}) {
      if (!address->has_value()) continue;
      const HostPort& hostPort = **address;
      const std::string path = join(root, key);
      if (!isIpLiteral(hostPort.address)) {
        fail(path, absl::StrCat(quoted(hostPort.address),
                                " is not an IP address (allowed: an IPv4 or IPv6 literal)"));
      }
      checkRange(path, hostPort.port, 1, 65535);
      // Sidecars given explicit addresses share one machine: no two may listen on one address.
      checkDuplicate(sidecarAddresses_, scoped({hostPort.address, absl::StrCat(hostPort.port)}),
                     path, absl::StrCat("listening address ", toString(hostPort)));
    }
    if (sidecar.appAddress && !isIpLiteral(*sidecar.appAddress)) {
      fail(join(root, "app.address"),
           absl::StrCat(quoted(*sidecar.appAddress),
                        " is not an IP address (allowed: an IPv4 or IPv6 literal)"));
    }
    std::vector<int64_t> seen;
    for (const AppPort& port : sidecar.appPorts) {
      const std::string path = join(join(root, "app.ports"), absl::StrCat(port.listenerPort));
      if (node != nullptr) {
        const std::vector<PortMapping> mappings = portMappingsOf(node->spec.listeners);
        if (findPort(mappings, port.listenerPort) == nullptr) {
          fail(path, absl::StrCat(port.listenerPort, " is not a listener port of VirtualNode ",
                                  quoted(node->name), " (allowed: ", portList(mappings), ")"));
        }
      }
      if (std::find(seen.begin(), seen.end(), port.listenerPort) != seen.end()) {
        fail(path, "listed twice");
      }
      seen.push_back(port.listenerPort);
      checkRange(path, port.appPort, 1, 65535);
    }
  }

  const MeshSet& set_;
  std::vector<ValidationError> errors_;
  Source source_;
  std::string resource_;
  absl::flat_hash_map<std::string, Source> meshes_, nodes_, services_, routers_, routes_, gateways_,
      gatewayRoutes_, endpoints_, sidecars_, sidecarAddresses_;
};

}  // namespace

std::vector<ValidationError> validate(const MeshSet& set) { return Validator(set).run(); }

}  // namespace trellis::config::appmesh
