// Reads App Mesh specs into the model: see spec_parser.h. Parse functions fill `out` even when a
// field is wrong (with a zero value); the loader drops every resource of a document that had an
// error, so a half-read spec never leaves the loader.
#include "config/appmesh/spec_parser.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace trellis::config::appmesh::internal {

namespace {

using Keys = std::vector<std::string_view>;

Keys concat(Keys keys, const Keys& more) {
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}

const EnumTable<PortProtocol> kPortProtocols = {{"http", PortProtocol::kHttp},
                                                {"http2", PortProtocol::kHttp2},
                                                {"grpc", PortProtocol::kGrpc},
                                                {"tcp", PortProtocol::kTcp}};
const EnumTable<PortProtocol> kGatewayProtocols = {
    {"http", PortProtocol::kHttp}, {"http2", PortProtocol::kHttp2}, {"grpc", PortProtocol::kGrpc}};
const EnumTable<DurationUnit> kDurationUnits = {{"s", DurationUnit::kS}, {"ms", DurationUnit::kMs}};
const EnumTable<IpPreference> kIpPreferences = {{"IPv6_PREFERRED", IpPreference::kIPv6Preferred},
                                                {"IPv4_PREFERRED", IpPreference::kIPv4Preferred},
                                                {"IPv4_ONLY", IpPreference::kIPv4Only},
                                                {"IPv6_ONLY", IpPreference::kIPv6Only}};
const EnumTable<DnsResponseType> kDnsResponseTypes = {
    {"LOADBALANCER", DnsResponseType::kLoadBalancer}, {"ENDPOINTS", DnsResponseType::kEndpoints}};
const EnumTable<EgressFilterType> kEgressFilterTypes = {{"ALLOW_ALL", EgressFilterType::kAllowAll},
                                                        {"DROP_ALL", EgressFilterType::kDropAll}};
const EnumTable<ListenerTlsMode> kTlsModes = {{"STRICT", ListenerTlsMode::kStrict},
                                              {"PERMISSIVE", ListenerTlsMode::kPermissive},
                                              {"DISABLED", ListenerTlsMode::kDisabled}};
const EnumTable<std::string_view> kHttpMethods = {
    {"GET", "GET"},         {"HEAD", "HEAD"},     {"POST", "POST"},
    {"PUT", "PUT"},         {"DELETE", "DELETE"}, {"CONNECT", "CONNECT"},
    {"OPTIONS", "OPTIONS"}, {"TRACE", "TRACE"},   {"PATCH", "PATCH"}};
const EnumTable<std::string_view> kSchemes = {{"http", "http"}, {"https", "https"}};
const EnumTable<std::string_view> kHttpRetryEvents = {{"server-error", "server-error"},
                                                      {"gateway-error", "gateway-error"},
                                                      {"client-error", "client-error"},
                                                      {"stream-error", "stream-error"}};
const EnumTable<std::string_view> kTcpRetryEvents = {{"connection-error", "connection-error"}};
const EnumTable<std::string_view> kGrpcRetryEvents = {{"cancelled", "cancelled"},
                                                      {"deadline-exceeded", "deadline-exceeded"},
                                                      {"internal", "internal"},
                                                      {"resource-exhausted", "resource-exhausted"},
                                                      {"unavailable", "unavailable"}};
const EnumTable<std::string_view> kRewriteDefaults = {{"ENABLED", "ENABLED"},
                                                      {"DISABLED", "DISABLED"}};

PortProtocol protocolOfKey(std::string_view key) {
  if (key == "http2") return PortProtocol::kHttp2;
  if (key == "grpc") return PortProtocol::kGrpc;
  if (key == "tcp") return PortProtocol::kTcp;
  return PortProtocol::kHttp;
}

// How each kind of reference is spelled in Kubernetes objects.
struct RefKind {
  std::string_view refKey;   // virtualNodeRef
  std::string_view arnKey;   // virtualNodeARN
  std::string_view kind;     // VirtualNode
  std::string_view arnType;  // virtualNode
};
constexpr RefKind kNodeRef{"virtualNodeRef", "virtualNodeARN", "VirtualNode", "virtualNode"};
constexpr RefKind kServiceRef{"virtualServiceRef", "virtualServiceARN", "VirtualService",
                              "virtualService"};
constexpr RefKind kRouterRef{"virtualRouterRef", "virtualRouterARN", "VirtualRouter",
                             "virtualRouter"};

Keys refKeys(std::string_view nameKey, const RefKind& ref, const SpecContext& ctx) {
  if (ctx.kubernetes()) return {ref.refKey, ref.arnKey};
  return {nameKey};
}

// App Mesh's `nameKey` in CLI and describe shapes; `<type>Ref` or `<type>ARN` in Kubernetes.
std::string readReference(Fields& f, std::string_view nameKey, const RefKind& ref,
                          SpecContext& ctx) {
  if (!ctx.kubernetes()) return f.str(nameKey, Need::kRequired).value_or("");
  std::optional<std::string_view> which = f.exactlyOne({ref.refKey, ref.arnKey});
  if (!which) return "";
  if (*which == ref.arnKey) return nameFromArn(f, ref.arnKey, ref.arnType, ctx).value_or("");
  std::optional<Fields> target = f.object(ref.refKey, Need::kRequired);
  if (!target) return "";
  target->allowOnly({"name", "namespace"});
  return resolveK8sRef(*target, ref.kind, ctx).value_or("");
}

// Kubernetes objects may spell an ARN field with capital letters (certificateARN); accept both.
std::string_view arnKeyOf(const Fields& f, std::string_view apiKey, std::string_view k8sKey,
                          const SpecContext& ctx) {
  if (ctx.kubernetes() && f.has(k8sKey)) return k8sKey;
  return apiKey;
}

std::optional<std::string> readEnumString(Fields& f, std::string_view key,
                                          const EnumTable<std::string_view>& table,
                                          Need need = Need::kOptional) {
  std::optional<std::string_view> value = f.oneOf(key, table, need);
  if (!value) return std::nullopt;
  return std::string(*value);
}

std::optional<std::vector<std::string>> readEnumList(Fields& f, std::string_view key,
                                                     const EnumTable<std::string_view>& table) {
  std::vector<std::string> out;
  const bool given =
      f.list(key, Need::kOptional, [&](const YAML::Node& item, const std::string& path) {
        std::optional<std::string> value = readString(item, path, f.doc());
        if (!value) return;
        for (const auto& entry : table) {
          if (entry.first == *value) {
            out.push_back(*value);
            return;
          }
        }
        std::vector<std::string_view> names;
        for (const auto& entry : table) names.push_back(entry.first);
        const std::string allowed = joinViews(names, ", ");
        f.doc().error(path,
                      absl::StrCat("\"", *value, "\" is not allowed (allowed: ", allowed, ")"));
      });
  if (!given) return std::nullopt;
  return out;
}

std::optional<Duration> readDuration(Fields& parent, std::string_view key, Need need) {
  std::optional<Fields> f = parent.object(key, need);
  if (!f) return std::nullopt;
  f->allowOnly({"unit", "value"});
  Duration duration;
  duration.unit = f->oneOf("unit", kDurationUnits, Need::kRequired).value_or(DurationUnit::kMs);
  duration.value = f->int64("value", Need::kRequired).value_or(0);
  return duration;
}

PortMapping readPortMapping(Fields& parent, const EnumTable<PortProtocol>& protocols) {
  PortMapping mapping;
  std::optional<Fields> f = parent.object("portMapping", Need::kRequired);
  if (!f) return mapping;
  f->allowOnly({"port", "protocol"});
  mapping.port = f->int64("port", Need::kRequired).value_or(0);
  mapping.protocol = f->oneOf("protocol", protocols, Need::kRequired).value_or(PortProtocol::kHttp);
  return mapping;
}

// ------------------------------------------------------------------------------------ TLS

TlsFileCertificate readFileCertificate(Fields& f) {
  f.allowOnly({"certificateChain", "privateKey"});
  TlsFileCertificate cert;
  cert.certificateChain = f.str("certificateChain", Need::kRequired).value_or("");
  cert.privateKey = f.str("privateKey", Need::kRequired).value_or("");
  return cert;
}

std::string readSdsSecret(Fields& f) {
  f.allowOnly({"secretName"});
  return f.str("secretName", Need::kRequired).value_or("");
}

void readValidationContext(Fields& f, bool allowAcm, TlsValidationContext& out, SpecContext& ctx) {
  f.allowOnly({"trust", "subjectAlternativeNames"});
  if (std::optional<Fields> trust = f.object("trust", Need::kRequired)) {
    const Keys kinds = allowAcm ? Keys{"acm", "file", "sds"} : Keys{"file", "sds"};
    trust->allowOnly(kinds);
    std::optional<std::string_view> which = trust->exactlyOne(kinds);
    if (which && *which == "acm") {
      out.trust.kind = TlsValidationTrust::Kind::kAcm;
      if (std::optional<Fields> acm = trust->object("acm", Need::kRequired)) {
        const std::string_view key =
            arnKeyOf(*acm, "certificateAuthorityArns", "certificateAuthorityARNs", ctx);
        acm->allowOnly({key});
        out.trust.acmCertificateAuthorityArns =
            acm->strings(key, Need::kRequired).value_or(std::vector<std::string>{});
      }
    } else if (which && *which == "file") {
      out.trust.kind = TlsValidationTrust::Kind::kFile;
      if (std::optional<Fields> file = trust->object("file", Need::kRequired)) {
        file->allowOnly({"certificateChain"});
        out.trust.fileCertificateChain =
            file->str("certificateChain", Need::kRequired).value_or("");
      }
    } else if (which && *which == "sds") {
      out.trust.kind = TlsValidationTrust::Kind::kSds;
      if (std::optional<Fields> sds = trust->object("sds", Need::kRequired)) {
        out.trust.sdsSecretName = readSdsSecret(*sds);
      }
    }
  }
  if (std::optional<Fields> san = f.object("subjectAlternativeNames")) {
    san->allowOnly({"match"});
    if (std::optional<Fields> match = san->object("match", Need::kRequired)) {
      match->allowOnly({"exact"});
      out.subjectAlternativeNamesExact =
          match->strings("exact", Need::kRequired).value_or(std::vector<std::string>{});
    }
  }
}

ListenerTls readListenerTls(Fields& f, SpecContext& ctx) {
  ListenerTls tls;
  f.allowOnly({"mode", "certificate", "validation"});
  tls.mode = f.oneOf("mode", kTlsModes, Need::kRequired).value_or(ListenerTlsMode::kStrict);
  if (std::optional<Fields> cert = f.object("certificate", Need::kRequired)) {
    const Keys kinds{"acm", "file", "sds"};
    cert->allowOnly(kinds);
    std::optional<std::string_view> which = cert->exactlyOne(kinds);
    if (which && *which == "acm") {
      tls.certificate.kind = ListenerTlsCertificate::Kind::kAcm;
      if (std::optional<Fields> acm = cert->object("acm", Need::kRequired)) {
        const std::string_view key = arnKeyOf(*acm, "certificateArn", "certificateARN", ctx);
        acm->allowOnly({key});
        tls.certificate.acmCertificateArn = acm->str(key, Need::kRequired).value_or("");
      }
    } else if (which && *which == "file") {
      tls.certificate.kind = ListenerTlsCertificate::Kind::kFile;
      if (std::optional<Fields> file = cert->object("file", Need::kRequired)) {
        tls.certificate.file = readFileCertificate(*file);
      }
    } else if (which && *which == "sds") {
      tls.certificate.kind = ListenerTlsCertificate::Kind::kSds;
      if (std::optional<Fields> sds = cert->object("sds", Need::kRequired)) {
        tls.certificate.sdsSecretName = readSdsSecret(*sds);
      }
    }
  }
  if (std::optional<Fields> validation = f.object("validation")) {
    TlsValidationContext context;
    readValidationContext(*validation, /*allowAcm=*/false, context, ctx);
    tls.validation = std::move(context);
  }
  return tls;
}

ClientPolicy readClientPolicy(Fields& f, SpecContext& ctx) {
  ClientPolicy policy;
  f.allowOnly({"tls"});
  std::optional<Fields> tlsFields = f.object("tls");
  if (!tlsFields) return policy;
  tlsFields->allowOnly({"enforce", "ports", "certificate", "validation"});
  ClientPolicyTls tls;
  tls.enforce = tlsFields->boolean("enforce");
  tlsFields->list("ports", Need::kOptional, [&](const YAML::Node& item, const std::string& path) {
    if (std::optional<int64_t> port = readInt64(item, path, ctx.doc)) tls.ports.push_back(*port);
  });
  if (std::optional<Fields> cert = tlsFields->object("certificate")) {
    const Keys kinds{"file", "sds"};
    cert->allowOnly(kinds);
    std::optional<std::string_view> which = cert->exactlyOne(kinds);
    ClientTlsCertificate certificate;
    if (which && *which == "file") {
      certificate.kind = ClientTlsCertificate::Kind::kFile;
      if (std::optional<Fields> file = cert->object("file", Need::kRequired)) {
        certificate.file = readFileCertificate(*file);
      }
    } else if (which && *which == "sds") {
      certificate.kind = ClientTlsCertificate::Kind::kSds;
      if (std::optional<Fields> sds = cert->object("sds", Need::kRequired)) {
        certificate.sdsSecretName = readSdsSecret(*sds);
      }
    }
    tls.certificate = std::move(certificate);
  }
  if (std::optional<Fields> validation = tlsFields->object("validation", Need::kRequired)) {
    readValidationContext(*validation, /*allowAcm=*/true, tls.validation, ctx);
  }
  policy.tls = std::move(tls);
  return policy;
}

BackendDefaults readBackendDefaults(Fields& f, SpecContext& ctx) {
  BackendDefaults defaults;
  f.allowOnly({"clientPolicy"});
  if (std::optional<Fields> policy = f.object("clientPolicy")) {
    defaults.clientPolicy = readClientPolicy(*policy, ctx);
  }
  return defaults;
}

// -------------------------------------------------------------------------------- logging

Logging readLogging(Fields& f) {
  Logging logging;
  f.allowOnly({"accessLog"});
  std::optional<Fields> accessLog = f.object("accessLog");
  if (!accessLog) return logging;
  accessLog->allowOnly({"file"});
  std::optional<Fields> file = accessLog->object("file", Need::kRequired);
  if (!file) return logging;
  file->allowOnly({"path", "format"});
  FileAccessLog log;
  log.path = file->str("path", Need::kRequired).value_or("");
  if (std::optional<Fields> format = file->object("format")) {
    const Keys kinds{"json", "text"};
    format->allowOnly(kinds);
    std::optional<std::string_view> which = format->exactlyOne(kinds);
    LoggingFormat out;
    if (which && *which == "text") {
      out.text = format->str("text", Need::kRequired);
    } else if (which && *which == "json") {
      std::vector<std::pair<std::string, std::string>> pairs;
      format->list("json", Need::kRequired, [&](const YAML::Node& item, const std::string& path) {
        Fields pair = itemFields(item, path, format->doc());
        pair.allowOnly({"key", "value"});
        std::string key = pair.str("key", Need::kRequired).value_or("");
        std::string value = pair.str("value", Need::kRequired).value_or("");
        pairs.emplace_back(std::move(key), std::move(value));
      });
      out.json = std::move(pairs);
    }
    log.format = std::move(out);
  }
  logging.accessLogFile = std::move(log);
  return logging;
}

// ------------------------------------------------------------------------------ listeners

HealthCheckPolicy readHealthCheck(Fields& f, const EnumTable<PortProtocol>& protocols) {
  f.allowOnly({"healthyThreshold", "intervalMillis", "path", "port", "protocol", "timeoutMillis",
               "unhealthyThreshold"});
  HealthCheckPolicy check;
  check.healthyThreshold = f.int64("healthyThreshold", Need::kRequired).value_or(0);
  check.intervalMillis = f.int64("intervalMillis", Need::kRequired).value_or(0);
  check.path = f.str("path");
  check.port = f.int64("port");
  check.protocol = f.oneOf("protocol", protocols, Need::kRequired).value_or(PortProtocol::kHttp);
  check.timeoutMillis = f.int64("timeoutMillis", Need::kRequired).value_or(0);
  check.unhealthyThreshold = f.int64("unhealthyThreshold", Need::kRequired).value_or(0);
  return check;
}

OutlierDetection readOutlierDetection(Fields& f) {
  f.allowOnly({"maxServerErrors", "interval", "baseEjectionDuration", "maxEjectionPercent"});
  OutlierDetection detection;
  detection.maxServerErrors = f.int64("maxServerErrors", Need::kRequired).value_or(0);
  detection.interval = readDuration(f, "interval", Need::kRequired).value_or(Duration{});
  detection.baseEjectionDuration =
      readDuration(f, "baseEjectionDuration", Need::kRequired).value_or(Duration{});
  detection.maxEjectionPercent = f.int64("maxEjectionPercent", Need::kRequired).value_or(0);
  return detection;
}

ConnectionPool readConnectionPool(Fields& f, bool gateway) {
  const Keys kinds = gateway ? Keys{"http", "http2", "grpc"} : Keys{"http", "http2", "grpc", "tcp"};
  f.allowOnly(kinds);
  ConnectionPool pool;
  std::optional<std::string_view> which = f.exactlyOne(kinds);
  if (!which) return pool;
  pool.protocol = protocolOfKey(*which);
  std::optional<Fields> limits = f.object(*which, Need::kRequired);
  if (!limits) return pool;
  switch (pool.protocol) {
    case PortProtocol::kHttp:
      limits->allowOnly({"maxConnections", "maxPendingRequests"});
      pool.maxConnections = limits->int64("maxConnections", Need::kRequired);
      pool.maxPendingRequests = limits->int64("maxPendingRequests");
      break;
    case PortProtocol::kHttp2:
    case PortProtocol::kGrpc:
      limits->allowOnly({"maxRequests"});
      pool.maxRequests = limits->int64("maxRequests", Need::kRequired);
      break;
    case PortProtocol::kTcp:
      limits->allowOnly({"maxConnections"});
      pool.maxConnections = limits->int64("maxConnections", Need::kRequired);
      break;
  }
  return pool;
}

ListenerTimeout readListenerTimeout(Fields& f) {
  const Keys kinds{"http", "http2", "grpc", "tcp"};
  f.allowOnly(kinds);
  ListenerTimeout timeout;
  std::optional<std::string_view> which = f.exactlyOne(kinds);
  if (!which) return timeout;
  timeout.protocol = protocolOfKey(*which);
  std::optional<Fields> values = f.object(*which, Need::kRequired);
  if (!values) return timeout;
  if (timeout.protocol == PortProtocol::kTcp) {
    values->allowOnly({"idle"});
  } else {
    values->allowOnly({"perRequest", "idle"});
    timeout.perRequest = readDuration(*values, "perRequest", Need::kOptional);
  }
  timeout.idle = readDuration(*values, "idle", Need::kOptional);
  return timeout;
}

Listener readListener(const YAML::Node& node, const std::string& path, bool gateway,
                      SpecContext& ctx) {
  Listener listener;
  Fields f = itemFields(node, path, ctx.doc);
  if (!f.valid()) return listener;
  if (gateway) {
    f.allowOnly({"portMapping", "healthCheck", "connectionPool", "tls"});
  } else {
    f.allowOnly(
        {"portMapping", "healthCheck", "outlierDetection", "connectionPool", "timeout", "tls"});
  }
  const EnumTable<PortProtocol>& protocols = gateway ? kGatewayProtocols : kPortProtocols;
  listener.portMapping = readPortMapping(f, protocols);
  if (std::optional<Fields> check = f.object("healthCheck")) {
    listener.healthCheck = readHealthCheck(*check, protocols);
  }
  if (!gateway) {
    if (std::optional<Fields> outlier = f.object("outlierDetection")) {
      listener.outlierDetection = readOutlierDetection(*outlier);
    }
    if (std::optional<Fields> timeout = f.object("timeout")) {
      listener.timeout = readListenerTimeout(*timeout);
    }
  }
  if (std::optional<Fields> pool = f.object("connectionPool")) {
    listener.connectionPool = readConnectionPool(*pool, gateway);
  }
  if (std::optional<Fields> tls = f.object("tls")) listener.tls = readListenerTls(*tls, ctx);
  return listener;
}

// ---------------------------------------------------------------------------------- routes

HeaderMatchMethod readMatchMethod(Fields& f) {
  const Keys kinds{"exact", "prefix", "suffix", "regex", "range"};
  f.allowOnly(kinds);
  HeaderMatchMethod method;
  std::optional<std::string_view> which = f.exactlyOne(kinds);
  if (!which) return method;
  if (*which == "range") {
    method.kind = HeaderMatchMethod::Kind::kRange;
    if (std::optional<Fields> range = f.object("range", Need::kRequired)) {
      range->allowOnly({"start", "end"});
      method.rangeStart = range->int64("start", Need::kRequired).value_or(0);
      method.rangeEnd = range->int64("end", Need::kRequired).value_or(0);
    }
    return method;
  }
  if (*which == "exact") method.kind = HeaderMatchMethod::Kind::kExact;
  if (*which == "prefix") method.kind = HeaderMatchMethod::Kind::kPrefix;
  if (*which == "suffix") method.kind = HeaderMatchMethod::Kind::kSuffix;
  if (*which == "regex") method.kind = HeaderMatchMethod::Kind::kRegex;
  method.value = f.str(*which, Need::kRequired).value_or("");
  return method;
}

// headers (HTTP) and metadata (gRPC) share one shape: [{name, invert, match}].
std::optional<std::vector<HeaderMatch>> readHeaderMatches(Fields& f, std::string_view key) {
  std::vector<HeaderMatch> out;
  const bool given =
      f.list(key, Need::kOptional, [&](const YAML::Node& item, const std::string& path) {
        Fields header = itemFields(item, path, f.doc());
        if (!header.valid()) return;
        header.allowOnly({"name", "invert", "match"});
        HeaderMatch match;
        match.name = header.str("name", Need::kRequired).value_or("");
        match.invert = header.boolean("invert");
        if (std::optional<Fields> method = header.object("match"))
          match.match = readMatchMethod(*method);
        out.push_back(std::move(match));
      });
  if (!given) return std::nullopt;
  return out;
}

std::optional<std::vector<QueryParameterMatch>> readQueryParameters(Fields& f) {
  std::vector<QueryParameterMatch> out;
  const bool given = f.list("queryParameters", Need::kOptional,
                            [&](const YAML::Node& item, const std::string& path) {
                              Fields param = itemFields(item, path, f.doc());
                              if (!param.valid()) return;
                              param.allowOnly({"name", "match"});
                              QueryParameterMatch match;
                              match.name = param.str("name", Need::kRequired).value_or("");
                              if (std::optional<Fields> m = param.object("match")) {
                                m->allowOnly({"exact"});
                                match.exact = m->str("exact");
                              }
                              out.push_back(std::move(match));
                            });
  if (!given) return std::nullopt;
  return out;
}

std::optional<PathMatch> readPathMatch(Fields& parent) {
  std::optional<Fields> f = parent.object("path");
  if (!f) return std::nullopt;
  const Keys kinds{"exact", "regex"};
  f->allowOnly(kinds);
  PathMatch path;
  std::optional<std::string_view> which = f->exactlyOne(kinds);
  if (!which) return path;
  path.isRegex = *which == "regex";
  path.value = f->str(*which, Need::kRequired).value_or("");
  return path;
}

std::optional<HostnameMatch> readHostnameMatch(Fields& parent) {
  std::optional<Fields> f = parent.object("hostname");
  if (!f) return std::nullopt;
  const Keys kinds{"exact", "suffix"};
  f->allowOnly(kinds);
  HostnameMatch hostname;
  std::optional<std::string_view> which = f->exactlyOne(kinds);
  if (!which) return hostname;
  hostname.isSuffix = *which == "suffix";
  hostname.value = f->str(*which, Need::kRequired).value_or("");
  return hostname;
}

std::vector<WeightedTarget> readAction(Fields& route, SpecContext& ctx) {
  std::vector<WeightedTarget> targets;
  std::optional<Fields> action = route.object("action", Need::kRequired);
  if (!action) return targets;
  action->allowOnly({"weightedTargets"});
  action->list("weightedTargets", Need::kRequired,
               [&](const YAML::Node& item, const std::string& path) {
                 Fields f = itemFields(item, path, ctx.doc);
                 if (!f.valid()) return;
                 f.allowOnly(concat(refKeys("virtualNode", kNodeRef, ctx), {"weight", "port"}));
                 WeightedTarget target;
                 target.virtualNode = readReference(f, "virtualNode", kNodeRef, ctx);
                 target.weight = f.int64("weight", Need::kRequired).value_or(0);
                 target.port = f.int64("port");
                 targets.push_back(std::move(target));
               });
  return targets;
}

RetryPolicy readRetryPolicy(Fields& f, bool grpc) {
  Keys keys{"maxRetries", "perRetryTimeout", "httpRetryEvents", "tcpRetryEvents"};
  if (grpc) keys.push_back("grpcRetryEvents");
  f.allowOnly(keys);
  RetryPolicy policy;
  policy.maxRetries = f.int64("maxRetries", Need::kRequired).value_or(0);
  policy.perRetryTimeout = readDuration(f, "perRetryTimeout", Need::kRequired).value_or(Duration{});
  policy.httpRetryEvents = readEnumList(f, "httpRetryEvents", kHttpRetryEvents);
  policy.tcpRetryEvents = readEnumList(f, "tcpRetryEvents", kTcpRetryEvents);
  if (grpc) policy.grpcRetryEvents = readEnumList(f, "grpcRetryEvents", kGrpcRetryEvents);
  return policy;
}

RouteTimeout readRouteTimeout(Fields& f, bool withPerRequest) {
  RouteTimeout timeout;
  if (withPerRequest) {
    f.allowOnly({"perRequest", "idle"});
    timeout.perRequest = readDuration(f, "perRequest", Need::kOptional);
  } else {
    f.allowOnly({"idle"});
  }
  timeout.idle = readDuration(f, "idle", Need::kOptional);
  return timeout;
}

HttpRoute readHttpRoute(Fields& f, SpecContext& ctx) {
  HttpRoute route;
  f.allowOnly({"match", "action", "retryPolicy", "timeout"});
  if (std::optional<Fields> match = f.object("match", Need::kRequired)) {
    match->allowOnly({"prefix", "path", "method", "scheme", "headers", "queryParameters", "port"});
    route.match.prefix = match->str("prefix");
    route.match.path = readPathMatch(*match);
    route.match.method = readEnumString(*match, "method", kHttpMethods);
    route.match.scheme = readEnumString(*match, "scheme", kSchemes);
    route.match.headers = readHeaderMatches(*match, "headers");
    route.match.queryParameters = readQueryParameters(*match);
    route.match.port = match->int64("port");
  }
  route.weightedTargets = readAction(f, ctx);
  if (std::optional<Fields> retry = f.object("retryPolicy")) {
    route.retryPolicy = readRetryPolicy(*retry, /*grpc=*/false);
  }
  if (std::optional<Fields> timeout = f.object("timeout")) {
    route.timeout = readRouteTimeout(*timeout, /*withPerRequest=*/true);
  }
  return route;
}

GrpcRoute readGrpcRoute(Fields& f, SpecContext& ctx) {
  GrpcRoute route;
  f.allowOnly({"match", "action", "retryPolicy", "timeout"});
  if (std::optional<Fields> match = f.object("match", Need::kRequired)) {
    match->allowOnly({"serviceName", "methodName", "metadata", "port"});
    route.match.serviceName = match->str("serviceName");
    route.match.methodName = match->str("methodName");
    route.match.metadata = readHeaderMatches(*match, "metadata");
    route.match.port = match->int64("port");
  }
  route.weightedTargets = readAction(f, ctx);
  if (std::optional<Fields> retry = f.object("retryPolicy")) {
    route.retryPolicy = readRetryPolicy(*retry, /*grpc=*/true);
  }
  if (std::optional<Fields> timeout = f.object("timeout")) {
    route.timeout = readRouteTimeout(*timeout, /*withPerRequest=*/true);
  }
  return route;
}

TcpRoute readTcpRoute(Fields& f, SpecContext& ctx) {
  TcpRoute route;
  f.allowOnly({"match", "action", "timeout"});
  if (std::optional<Fields> match = f.object("match")) {
    match->allowOnly({"port"});
    route.matchPort = match->int64("port");
  }
  route.weightedTargets = readAction(f, ctx);
  if (std::optional<Fields> timeout = f.object("timeout")) {
    route.timeout = readRouteTimeout(*timeout, /*withPerRequest=*/false);
  }
  return route;
}

// ---------------------------------------------------------------------------- gateway routes

GatewayRouteTarget readGatewayTarget(Fields& action, SpecContext& ctx) {
  GatewayRouteTarget target;
  std::optional<Fields> f = action.object("target", Need::kRequired);
  if (!f) return target;
  f->allowOnly({"virtualService", "port"});
  if (std::optional<Fields> service = f->object("virtualService", Need::kRequired)) {
    service->allowOnly(refKeys("virtualServiceName", kServiceRef, ctx));
    target.virtualServiceName = readReference(*service, "virtualServiceName", kServiceRef, ctx);
  }
  target.port = f->int64("port");
  return target;
}

GatewayRouteRewrite readGatewayRewrite(Fields& f, bool http) {
  GatewayRouteRewrite rewrite;
  f.allowOnly(http ? Keys{"hostname", "path", "prefix"} : Keys{"hostname"});
  if (std::optional<Fields> hostname = f.object("hostname")) {
    hostname->allowOnly({"defaultTargetHostname"});
    rewrite.hostnameDefaultTargetHostname =
        readEnumString(*hostname, "defaultTargetHostname", kRewriteDefaults);
  }
  if (!http) return rewrite;
  if (std::optional<Fields> path = f.object("path")) {
    path->allowOnly({"exact"});
    rewrite.pathExact = path->str("exact");
  }
  if (std::optional<Fields> prefix = f.object("prefix")) {
    prefix->allowOnly({"defaultPrefix", "value"});
    rewrite.prefixDefaultPrefix = readEnumString(*prefix, "defaultPrefix", kRewriteDefaults);
    rewrite.prefixValue = prefix->str("value");
  }
  return rewrite;
}

HttpGatewayRoute readHttpGatewayRoute(Fields& f, SpecContext& ctx) {
  HttpGatewayRoute route;
  f.allowOnly({"match", "action"});
  if (std::optional<Fields> match = f.object("match", Need::kRequired)) {
    match->allowOnly(
        {"prefix", "path", "method", "hostname", "headers", "queryParameters", "port"});
    route.match.prefix = match->str("prefix");
    route.match.path = readPathMatch(*match);
    route.match.method = readEnumString(*match, "method", kHttpMethods);
    route.match.hostname = readHostnameMatch(*match);
    route.match.headers = readHeaderMatches(*match, "headers");
    route.match.queryParameters = readQueryParameters(*match);
    route.match.port = match->int64("port");
  }
  if (std::optional<Fields> action = f.object("action", Need::kRequired)) {
    action->allowOnly({"target", "rewrite"});
    route.target = readGatewayTarget(*action, ctx);
    if (std::optional<Fields> rewrite = action->object("rewrite")) {
      route.rewrite = readGatewayRewrite(*rewrite, /*http=*/true);
    }
  }
  return route;
}

GrpcGatewayRoute readGrpcGatewayRoute(Fields& f, SpecContext& ctx) {
  GrpcGatewayRoute route;
  f.allowOnly({"match", "action"});
  if (std::optional<Fields> match = f.object("match", Need::kRequired)) {
    match->allowOnly({"serviceName", "hostname", "metadata", "port"});
    route.match.serviceName = match->str("serviceName");
    route.match.hostname = readHostnameMatch(*match);
    route.match.metadata = readHeaderMatches(*match, "metadata");
    route.match.port = match->int64("port");
  }
  if (std::optional<Fields> action = f.object("action", Need::kRequired)) {
    action->allowOnly({"target", "rewrite"});
    route.target = readGatewayTarget(*action, ctx);
    if (std::optional<Fields> rewrite = action->object("rewrite")) {
      route.rewrite = readGatewayRewrite(*rewrite, /*http=*/false);
    }
  }
  return route;
}

}  // namespace

// ------------------------------------------------------------------------------- references

std::optional<std::string> resolveK8sRef(Fields& ref, std::string_view kind, SpecContext& ctx) {
  std::optional<std::string> name = ref.str("name", Need::kRequired);
  if (!name || ctx.k8s == nullptr) return std::nullopt;
  const std::string ns = ref.str("namespace").value_or(ctx.k8sNamespace);
  const K8sIndex::Entry* entry = ctx.k8s->find(kind, ns, *name);
  if (entry == nullptr) {
    ctx.doc.error(ref.path(), absl::StrCat("no ", av(kind), " object \"", *name,
                                           "\" in namespace \"", ns, "\" in this folder"));
    return std::nullopt;
  }
  return entry->awsName;
}

std::optional<std::string> nameFromArn(Fields& owner, std::string_view key, std::string_view type,
                                       SpecContext& ctx) {
  std::optional<std::string> arn = owner.str(key, Need::kRequired);
  if (!arn) return std::nullopt;
  const std::string shape =
      absl::StrCat("arn:aws:appmesh:<region>:<account>:mesh/<mesh>/", av(type), "/<name>");
  std::vector<absl::string_view> parts = absl::StrSplit(*arn, absl::MaxSplits(':', 5));
  if (parts.size() != 6 || parts[0] != "arn" || parts[2] != "appmesh") {
    owner.error(key, absl::StrCat("\"", *arn, "\" is not an App Mesh ARN (expected ", shape, ")"));
    return std::nullopt;
  }
  std::vector<absl::string_view> resource = absl::StrSplit(parts[5], '/');
  if (resource.size() != 4 || resource[0] != "mesh" || resource[2] != av(type) ||
      resource[3].empty()) {
    owner.error(
        key, absl::StrCat("\"", *arn, "\" does not name a ", av(type), " (expected ", shape, ")"));
    return std::nullopt;
  }
  if (resource[1] != ctx.mesh) {
    owner.error(key, absl::StrCat("\"", *arn, "\" names mesh \"", resource[1],
                                  "\", but this object belongs to mesh \"", ctx.mesh, "\""));
    return std::nullopt;
  }
  return std::string(resource[3]);
}

// ------------------------------------------------------------------------------------ specs

void parseMeshSpec(Fields& spec, const std::vector<std::string_view>& extraKeys, MeshSpec& out,
                   SpecContext& ctx) {
  spec.allowOnly(concat({"egressFilter", "serviceDiscovery"}, extraKeys));
  if (std::optional<Fields> egress = spec.object("egressFilter")) {
    egress->allowOnly({"type"});
    out.egressFilter = egress->oneOf("type", kEgressFilterTypes, Need::kRequired);
  }
  if (std::optional<Fields> discovery = spec.object("serviceDiscovery")) {
    discovery->allowOnly({"ipPreference"});
    out.ipPreference = discovery->oneOf("ipPreference", kIpPreferences);
  }
}

void parseVirtualNodeSpec(Fields& spec, const std::vector<std::string_view>& extraKeys,
                          VirtualNodeSpec& out, SpecContext& ctx) {
  spec.allowOnly(concat({"listeners", "backends", "backendDefaults", "serviceDiscovery", "logging"},
                        extraKeys));
  spec.list("listeners", Need::kOptional, [&](const YAML::Node& item, const std::string& path) {
    out.listeners.push_back(readListener(item, path, /*gateway=*/false, ctx));
  });
  spec.list("backends", Need::kOptional, [&](const YAML::Node& item, const std::string& path) {
    Fields backend = itemFields(item, path, ctx.doc);
    if (!backend.valid()) return;
    backend.allowOnly({"virtualService"});
    std::optional<Fields> service = backend.object("virtualService", Need::kRequired);
    if (!service) return;
    service->allowOnly(concat(refKeys("virtualServiceName", kServiceRef, ctx), {"clientPolicy"}));
    Backend entry;
    entry.virtualServiceName = readReference(*service, "virtualServiceName", kServiceRef, ctx);
    if (std::optional<Fields> policy = service->object("clientPolicy")) {
      entry.clientPolicy = readClientPolicy(*policy, ctx);
    }
    out.backends.push_back(std::move(entry));
  });
  if (std::optional<Fields> defaults = spec.object("backendDefaults")) {
    out.backendDefaults = readBackendDefaults(*defaults, ctx);
  }
  if (std::optional<Fields> discovery = spec.object("serviceDiscovery")) {
    const Keys kinds{"dns", "awsCloudMap"};
    discovery->allowOnly(kinds);
    std::optional<std::string_view> which = discovery->exactlyOne(kinds);
    if (which && *which == "dns") {
      if (std::optional<Fields> dns = discovery->object("dns", Need::kRequired)) {
        dns->allowOnly({"hostname", "responseType", "ipPreference"});
        DnsServiceDiscovery value;
        value.hostname = dns->str("hostname", Need::kRequired).value_or("");
        value.responseType = dns->oneOf("responseType", kDnsResponseTypes);
        value.ipPreference = dns->oneOf("ipPreference", kIpPreferences);
        out.serviceDiscovery.dns = std::move(value);
      }
    } else if (which && *which == "awsCloudMap") {
      if (std::optional<Fields> map = discovery->object("awsCloudMap", Need::kRequired)) {
        map->allowOnly({"namespaceName", "serviceName", "attributes", "ipPreference"});
        AwsCloudMapServiceDiscovery value;
        value.namespaceName = map->str("namespaceName", Need::kRequired).value_or("");
        value.serviceName = map->str("serviceName", Need::kRequired).value_or("");
        map->list("attributes", Need::kOptional,
                  [&](const YAML::Node& item, const std::string& path) {
                    Fields attribute = itemFields(item, path, ctx.doc);
                    if (!attribute.valid()) return;
                    attribute.allowOnly({"key", "value"});
                    Tag tag;
                    tag.key = attribute.str("key", Need::kRequired).value_or("");
                    tag.value = attribute.str("value", Need::kRequired).value_or("");
                    value.attributes.push_back(std::move(tag));
                  });
        value.ipPreference = map->oneOf("ipPreference", kIpPreferences);
        out.serviceDiscovery.awsCloudMap = std::move(value);
      }
    }
  }
  if (std::optional<Fields> logging = spec.object("logging")) out.logging = readLogging(*logging);
}

void parseVirtualServiceSpec(Fields& spec, const std::vector<std::string_view>& extraKeys,
                             VirtualServiceSpec& out, SpecContext& ctx) {
  spec.allowOnly(concat({"provider"}, extraKeys));
  std::optional<Fields> provider = spec.object("provider");
  if (!provider) return;
  const Keys kinds{"virtualNode", "virtualRouter"};
  provider->allowOnly(kinds);
  std::optional<std::string_view> which = provider->exactlyOne(kinds);
  if (!which) return;
  VirtualServiceProvider value;
  std::optional<Fields> target = provider->object(*which, Need::kRequired);
  if (!target) return;
  if (*which == "virtualNode") {
    value.kind = VirtualServiceProvider::Kind::kVirtualNode;
    target->allowOnly(refKeys("virtualNodeName", kNodeRef, ctx));
    value.name = readReference(*target, "virtualNodeName", kNodeRef, ctx);
  } else {
    value.kind = VirtualServiceProvider::Kind::kVirtualRouter;
    target->allowOnly(refKeys("virtualRouterName", kRouterRef, ctx));
    value.name = readReference(*target, "virtualRouterName", kRouterRef, ctx);
  }
  out.provider = std::move(value);
}

void parseVirtualRouterSpec(Fields& spec, const std::vector<std::string_view>& extraKeys,
                            VirtualRouterSpec& out, SpecContext& ctx) {
  spec.allowOnly(concat({"listeners"}, extraKeys));
  spec.list("listeners", Need::kOptional, [&](const YAML::Node& item, const std::string& path) {
    Fields listener = itemFields(item, path, ctx.doc);
    if (!listener.valid()) return;
    listener.allowOnly({"portMapping"});
    out.listeners.push_back(readPortMapping(listener, kPortProtocols));
  });
}

void parseRouteSpec(Fields& spec, const std::vector<std::string_view>& extraKeys, RouteSpec& out,
                    SpecContext& ctx) {
  const Keys kinds{"httpRoute", "http2Route", "grpcRoute", "tcpRoute"};
  spec.allowOnly(concat(concat({"priority"}, kinds), extraKeys));
  out.priority = spec.int64("priority");
  std::optional<std::string_view> which = spec.exactlyOne(kinds);
  if (!which) return;
  std::optional<Fields> route = spec.object(*which, Need::kRequired);
  if (!route) return;
  if (*which == "httpRoute") out.httpRoute = readHttpRoute(*route, ctx);
  if (*which == "http2Route") out.http2Route = readHttpRoute(*route, ctx);
  if (*which == "grpcRoute") out.grpcRoute = readGrpcRoute(*route, ctx);
  if (*which == "tcpRoute") out.tcpRoute = readTcpRoute(*route, ctx);
}

void parseVirtualGatewaySpec(Fields& spec, const std::vector<std::string_view>& extraKeys,
                             VirtualGatewaySpec& out, SpecContext& ctx) {
  spec.allowOnly(concat({"listeners", "backendDefaults", "logging"}, extraKeys));
  spec.list("listeners", Need::kRequired, [&](const YAML::Node& item, const std::string& path) {
    out.listeners.push_back(readListener(item, path, /*gateway=*/true, ctx));
  });
  if (std::optional<Fields> defaults = spec.object("backendDefaults")) {
    out.backendDefaults = readBackendDefaults(*defaults, ctx);
  }
  if (std::optional<Fields> logging = spec.object("logging")) out.logging = readLogging(*logging);
}

void parseGatewayRouteSpec(Fields& spec, const std::vector<std::string_view>& extraKeys,
                           GatewayRouteSpec& out, SpecContext& ctx) {
  const Keys kinds{"httpRoute", "http2Route", "grpcRoute"};
  spec.allowOnly(concat(concat({"priority"}, kinds), extraKeys));
  out.priority = spec.int64("priority");
  std::optional<std::string_view> which = spec.exactlyOne(kinds);
  if (!which) return;
  std::optional<Fields> route = spec.object(*which, Need::kRequired);
  if (!route) return;
  if (*which == "httpRoute") out.httpRoute = readHttpGatewayRoute(*route, ctx);
  if (*which == "http2Route") out.http2Route = readHttpGatewayRoute(*route, ctx);
  if (*which == "grpcRoute") out.grpcRoute = readGrpcGatewayRoute(*route, ctx);
}

}  // namespace trellis::config::appmesh::internal
