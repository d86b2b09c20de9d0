// Cluster proto -> Cluster: discovery type, load balancing policy, active health check, outlier
// detection, circuit breakers and endpoints, each field checked where it is read.
//
// Split from compile.cc because the upstream-resilience config roughly doubled it; listeners
// and routes stay there.
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "envoy/config/cluster/v3/circuit_breaker.pb.h"
#include "envoy/config/cluster/v3/outlier_detection.pb.h"
#include "envoy/config/core/v3/health_check.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "proxy/router/router.h"
#include "proxy/snapshot/compile_internal.h"
#include "trellis/extensions/load_balancing_policies/peak_ewma/v1/peak_ewma.pb.h"

namespace trellis::proxy::compile_internal {

namespace {

using ClusterProto = envoy::config::cluster::v3::Cluster;
namespace core = envoy::config::core::v3;
namespace peak_ewma = trellis::extensions::load_balancing_policies::peak_ewma::v1;

std::string millis(Duration d) { return absl::StrCat(d.count(), "ms"); }

// lb_policy, least_request_lb_config and load_balancing_policy together: they are three ways to
// say one thing, so conflicting combinations are rejected rather than resolved by precedence.
absl::Status compileLbPolicy(const ClusterProto& c, const std::string& path, Cluster& out) {
  const bool extensible = c.has_load_balancing_policy();
  const std::string pp = join(path, "lb_policy");
  switch (c.lb_policy()) {
    case ClusterProto::ROUND_ROBIN: out.lb_policy = LbPolicy::RoundRobin; break;
    case ClusterProto::LEAST_REQUEST: out.lb_policy = LbPolicy::LeastRequest; break;
    case ClusterProto::RANDOM: out.lb_policy = LbPolicy::Random; break;
    case ClusterProto::LOAD_BALANCING_POLICY_CONFIG:
      // Envoy's older way of saying "the policy is in load_balancing_policy": no conflict.
      if (extensible) break;
      return invalid(pp, "LOAD_BALANCING_POLICY_CONFIG needs load_balancing_policy");
    default:
      return invalid(pp, absl::StrCat(ClusterProto::LbPolicy_Name(c.lb_policy()),
                                      " is not supported yet (ROUND_ROBIN, LEAST_REQUEST and RANDOM are; the "
                                      "Trellis peak-EWMA policy is set through load_balancing_policy)"));
  }
  if (extensible && c.lb_policy() != ClusterProto::ROUND_ROBIN &&
      c.lb_policy() != ClusterProto::LOAD_BALANCING_POLICY_CONFIG) {
    return invalid(pp, absl::StrCat(ClusterProto::LbPolicy_Name(c.lb_policy()),
                                    " cannot be combined with load_balancing_policy (set one of them)"));
  }

  if (c.has_least_request_lb_config()) {
    const std::string lp = join(path, "least_request_lb_config");
    if (c.lb_policy() != ClusterProto::LEAST_REQUEST) return invalid(lp, "only applies to lb_policy LEAST_REQUEST");
    const auto& lr = c.least_request_lb_config();
    if (auto st = onlyFields(lr, lp, {"choice_count"}); !st.ok()) return st;
    if (lr.has_choice_count()) {
      uint32_t n = lr.choice_count().value();
      if (n < 2) return invalid(join(lp, "choice_count"), absl::StrCat(n, " is less than 2 (a pick compares at least two hosts)"));
      out.least_request_choice_count = n;
    }
  }

  if (!extensible) return absl::OkStatus();
  const std::string bp = join(path, "load_balancing_policy");
  const auto& lbp = c.load_balancing_policy();
  if (auto st = onlyFields(lbp, bp, {"policies"}); !st.ok()) return st;
  if (lbp.policies_size() == 0) return invalid(join(bp, "policies"), "at least one policy is required");
  const std::string peak_url = absl::StrCat("type.googleapis.com/", peak_ewma::PeakEwma::descriptor()->full_name());
  // Envoy takes the first policy it knows and never looks at the rest (fallbacks for other
  // proxies). Trellis knows one, so the first entry must be it: skipping an unknown type would
  // silently run a different balancer than the one the control plane listed first.
  const std::string ip = join(bp, "policies[0]");
  const auto& policy = lbp.policies(0);
  if (auto st = onlyFields(policy, ip, {"typed_extension_config"}); !st.ok()) return st;
  const std::string tp = join(ip, "typed_extension_config");
  if (!policy.has_typed_extension_config()) return invalid(tp, "is required");
  const auto& tec = policy.typed_extension_config();
  if (auto st = onlyFields(tec, tp, {"name", "typed_config"}); !st.ok()) return st;
  const std::string cp = join(tp, "typed_config");
  if (!tec.has_typed_config()) return invalid(cp, absl::StrCat("is required (", peak_url, " is supported)"));
  if (!tec.typed_config().Is<peak_ewma::PeakEwma>()) {
    return invalid(cp, absl::StrCat("type '", tec.typed_config().type_url(), "' is not supported (", peak_url, " is)"));
  }
  peak_ewma::PeakEwma pe;
  if (!tec.typed_config().UnpackTo(&pe)) return invalid(cp, absl::StrCat("cannot be decoded as ", peak_url));
  if (auto st = onlyFields(pe, cp, {"decay_time"}); !st.ok()) return st;
  if (pe.has_decay_time()) {
    auto d = positiveDuration(pe.decay_time(), join(cp, "decay_time"));
    if (!d.ok()) return d.status();
    out.ewma_decay = *d;
  }
  out.lb_policy = LbPolicy::PeakEwma;
  return absl::OkStatus();
}

// The value of a hex digit, or -1.
int hexDigit(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

// A TCP health check payload as the bytes to send or expect. `text` is hex, as in Envoy.
absl::StatusOr<std::string> payloadBytes(const core::HealthCheck::Payload& p, const std::string& path) {
  if (auto st = onlyFields(p, path, {"text", "binary"}); !st.ok()) return st;
  switch (p.payload_case()) {
    case core::HealthCheck::Payload::kText: {
      const std::string& hex = p.text();
      const std::string tp = join(path, "text");
      if (hex.empty()) return invalid(tp, "must not be empty");
      std::string bytes;
      bool ok = hex.size() % 2 == 0;
      for (size_t i = 0; ok && i < hex.size(); i += 2) {
        int hi = hexDigit(hex[i]);
        int lo = hexDigit(hex[i + 1]);
        ok = hi >= 0 && lo >= 0;
        if (ok) bytes.push_back(static_cast<char>((hi << 4) | lo));
      }
      if (!ok) return invalid(tp, absl::StrCat("'", hex, "' is not hex (an even number of digits 0-9, a-f, A-F)"));
      return bytes;
    }
    case core::HealthCheck::Payload::kBinary:
      if (p.binary().empty()) return invalid(join(path, "binary"), "must not be empty");
      return p.binary();
    default:
      return invalid(path, "one of text or binary is required");
  }
}

// The probe writes these into an HTTP/1 request head: CR, LF or NUL would split or end it.
absl::Status checkHeaderText(const std::string& s, const std::string& path) {
  if (s.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
    return invalid(path, "must not contain CR, LF or NUL");
  }
  return absl::OkStatus();
}

absl::Status compileHttpCheck(const core::HealthCheck::HttpHealthCheck& h, const std::string& path,
                              HealthCheckConfig& out) {
  if (auto st = onlyFields(h, path, {"host", "path", "request_headers_to_add", "expected_statuses"}); !st.ok()) {
    return st;
  }
  out.kind = HealthCheckConfig::Kind::Http;
  if (auto st = checkHeaderText(h.host(), join(path, "host")); !st.ok()) return st;
  out.host = h.host();
  const std::string pp = join(path, "path");
  if (h.path().empty()) return invalid(pp, "is required");
  if (h.path()[0] != '/') return invalid(pp, absl::StrCat("'", h.path(), "' must start with '/'"));
  if (h.path().find_first_of(std::string(" \r\n\0", 4)) != std::string::npos) {
    return invalid(pp, absl::StrCat("'", h.path(), "' must not contain spaces, CR, LF or NUL"));
  }
  out.path = h.path();
  for (int i = 0; i < h.request_headers_to_add_size(); ++i) {
    const std::string hp = absl::StrCat(path, ".request_headers_to_add[", i, "]");
    const auto& option = h.request_headers_to_add(i);
    // append/append_action decide how a value meets an existing header; a probe's request has
    // none of its own, so every action adds the header and both fields are accepted.
    if (auto st = onlyFields(option, hp, {"header", "append", "append_action"}); !st.ok()) return st;
    const std::string kp = join(hp, "header");
    if (auto st = onlyFields(option.header(), kp, {"key", "value"}); !st.ok()) return st;
    const auto& key = option.header().key();
    if (key.empty()) return invalid(join(kp, "key"), "is required");
    for (unsigned char ch : key) {
      if (ch <= ' ' || ch == ':' || ch >= 0x7f) {
        return invalid(join(kp, "key"), absl::StrCat("'", key, "' is not a header name"));
      }
    }
    if (auto st = checkHeaderText(option.header().value(), join(kp, "value")); !st.ok()) return st;
    out.request_headers.emplace_back(key, option.header().value());
  }
  for (int i = 0; i < h.expected_statuses_size(); ++i) {
    const std::string rp = absl::StrCat(path, ".expected_statuses[", i, "]");
    const auto& r = h.expected_statuses(i);
    if (auto st = onlyFields(r, rp, {"start", "end"}); !st.ok()) return st;
    if (r.start() < 100 || r.start() >= r.end() || r.end() > 600) {
      return invalid(rp, absl::StrCat("[", r.start(), ", ", r.end(),
                                      ") is not a range of statuses (100 <= start < end <= 600)"));
    }
    out.expected_statuses.emplace_back(r.start(), r.end());
  }
  return absl::OkStatus();
}

absl::Status compileTcpCheck(const core::HealthCheck::TcpHealthCheck& t, const std::string& path,
                             HealthCheckConfig& out) {
  if (auto st = onlyFields(t, path, {"send", "receive"}); !st.ok()) return st;
  out.kind = HealthCheckConfig::Kind::Tcp;
  if (t.has_send()) {
    auto bytes = payloadBytes(t.send(), join(path, "send"));
    if (!bytes.ok()) return bytes.status();
    out.send = std::move(*bytes);
  }
  for (int i = 0; i < t.receive_size(); ++i) {
    auto bytes = payloadBytes(t.receive(i), absl::StrCat(path, ".receive[", i, "]"));
    if (!bytes.ok()) return bytes.status();
    out.receive.push_back(std::move(*bytes));
  }
  return absl::OkStatus();
}

absl::StatusOr<HealthCheckConfig> compileHealthCheck(const core::HealthCheck& h, const std::string& path) {
  if (auto st = onlyFields(h, path, {"timeout", "interval", "initial_jitter", "interval_jitter", "unhealthy_threshold",
                                     "healthy_threshold", "reuse_connection", "interval_jitter_percent",
                                     "http_health_check", "tcp_health_check", "no_traffic_interval",
                                     "unhealthy_interval", "unhealthy_edge_interval", "healthy_edge_interval"});
      !st.ok()) {
    return st;
  }
  // Envoy requires these four and gives them no default.
  if (!h.has_timeout()) return invalid(join(path, "timeout"), "is required");
  if (!h.has_interval()) return invalid(join(path, "interval"), "is required");
  if (!h.has_unhealthy_threshold()) return invalid(join(path, "unhealthy_threshold"), "is required");
  if (!h.has_healthy_threshold()) return invalid(join(path, "healthy_threshold"), "is required");

  HealthCheckConfig out;
  auto positive = [&](const google::protobuf::Duration& d, const char* field, Duration& to) -> absl::Status {
    auto v = positiveDuration(d, join(path, field));
    if (!v.ok()) return v.status();
    to = *v;
    return absl::OkStatus();
  };
  if (auto st = positive(h.timeout(), "timeout", out.timeout); !st.ok()) return st;
  if (auto st = positive(h.interval(), "interval", out.interval); !st.ok()) return st;
  if (h.has_initial_jitter()) {
    auto v = nonNegativeDuration(h.initial_jitter(), join(path, "initial_jitter"));
    if (!v.ok()) return v.status();
    out.initial_jitter = *v;
  }
  if (h.has_interval_jitter()) {
    auto v = nonNegativeDuration(h.interval_jitter(), join(path, "interval_jitter"));
    if (!v.ok()) return v.status();
    out.interval_jitter = *v;
  }
  out.interval_jitter_percent = h.interval_jitter_percent();
  // A consecutive-result threshold of 0 would flip the host before any check ran.
  out.unhealthy_threshold = h.unhealthy_threshold().value();
  if (out.unhealthy_threshold < 1) return invalid(join(path, "unhealthy_threshold"), "0 is less than 1");
  out.healthy_threshold = h.healthy_threshold().value();
  if (out.healthy_threshold < 1) return invalid(join(path, "healthy_threshold"), "0 is less than 1");
  if (h.has_no_traffic_interval()) {
    if (auto st = positive(h.no_traffic_interval(), "no_traffic_interval", out.no_traffic_interval); !st.ok()) return st;
  }
  auto optionalPositive = [&](bool has, const google::protobuf::Duration& d, const char* field,
                              std::optional<Duration>& to) -> absl::Status {
    if (!has) return absl::OkStatus();
    Duration v;
    if (auto st = positive(d, field, v); !st.ok()) return st;
    to = v;
    return absl::OkStatus();
  };
  if (auto st = optionalPositive(h.has_unhealthy_interval(), h.unhealthy_interval(), "unhealthy_interval",
                                 out.unhealthy_interval);
      !st.ok()) {
    return st;
  }
  if (auto st = optionalPositive(h.has_unhealthy_edge_interval(), h.unhealthy_edge_interval(),
                                 "unhealthy_edge_interval", out.unhealthy_edge_interval);
      !st.ok()) {
    return st;
  }
  if (auto st = optionalPositive(h.has_healthy_edge_interval(), h.healthy_edge_interval(), "healthy_edge_interval",
                                 out.healthy_edge_interval);
      !st.ok()) {
    return st;
  }
  out.reuse_connection = !h.has_reuse_connection() || h.reuse_connection().value();

  switch (h.health_checker_case()) {
    case core::HealthCheck::kHttpHealthCheck:
      if (auto st = compileHttpCheck(h.http_health_check(), join(path, "http_health_check"), out); !st.ok()) return st;
      break;
    case core::HealthCheck::kTcpHealthCheck:
      if (auto st = compileTcpCheck(h.tcp_health_check(), join(path, "tcp_health_check"), out); !st.ok()) return st;
      break;
    default:
      return invalid(path, "one of http_health_check or tcp_health_check is required");
  }
  return out;
}

absl::StatusOr<OutlierDetectionConfig> compileOutlierDetection(const envoy::config::cluster::v3::OutlierDetection& o,
                                                               const std::string& path) {
  if (auto st = onlyFields(o, path, {"consecutive_5xx", "consecutive_gateway_failure", "enforcing_consecutive_5xx",
                                     "enforcing_consecutive_gateway_failure", "interval", "base_ejection_time",
                                     "max_ejection_time", "max_ejection_percent"});
      !st.ok()) {
    return st;
  }
  OutlierDetectionConfig out;
  // A run of 0 failures would eject a host that never failed; Envoy's way to turn a detector
  // off is its enforcing_* percentage, so point there.
  auto run = [&](bool has, uint32_t v, const char* field, const char* enforcing, uint32_t& to) -> absl::Status {
    if (!has) return absl::OkStatus();
    if (v < 1) return invalid(join(path, field), absl::StrCat("0 is less than 1 (set ", enforcing, " to 0 to disable it)"));
    to = v;
    return absl::OkStatus();
  };
  if (auto st = run(o.has_consecutive_5xx(), o.consecutive_5xx().value(), "consecutive_5xx",
                    "enforcing_consecutive_5xx", out.consecutive_5xx);
      !st.ok()) {
    return st;
  }
  if (auto st = run(o.has_consecutive_gateway_failure(), o.consecutive_gateway_failure().value(),
                    "consecutive_gateway_failure", "enforcing_consecutive_gateway_failure",
                    out.consecutive_gateway_failure);
      !st.ok()) {
    return st;
  }
  auto percent = [&](bool has, uint32_t v, const char* field, uint32_t& to) -> absl::Status {
    if (!has) return absl::OkStatus();
    if (auto st = checkPercent(v, join(path, field)); !st.ok()) return st;
    to = v;
    return absl::OkStatus();
  };
  if (auto st = percent(o.has_enforcing_consecutive_5xx(), o.enforcing_consecutive_5xx().value(),
                        "enforcing_consecutive_5xx", out.enforcing_consecutive_5xx);
      !st.ok()) {
    return st;
  }
  if (auto st = percent(o.has_enforcing_consecutive_gateway_failure(), o.enforcing_consecutive_gateway_failure().value(),
                        "enforcing_consecutive_gateway_failure", out.enforcing_consecutive_gateway_failure);
      !st.ok()) {
    return st;
  }
  if (auto st = percent(o.has_max_ejection_percent(), o.max_ejection_percent().value(), "max_ejection_percent",
                        out.max_ejection_percent);
      !st.ok()) {
    return st;
  }
  auto positive = [&](bool has, const google::protobuf::Duration& d, const char* field, Duration& to) -> absl::Status {
    if (!has) return absl::OkStatus();
    auto v = positiveDuration(d, join(path, field));
    if (!v.ok()) return v.status();
    to = *v;
    return absl::OkStatus();
  };
  if (auto st = positive(o.has_interval(), o.interval(), "interval", out.interval); !st.ok()) return st;
  if (auto st = positive(o.has_base_ejection_time(), o.base_ejection_time(), "base_ejection_time", out.base_ejection_time);
      !st.ok()) {
    return st;
  }
  if (auto st = positive(o.has_max_ejection_time(), o.max_ejection_time(), "max_ejection_time", out.max_ejection_time);
      !st.ok()) {
    return st;
  }
  // Envoy's rule, checked on the effective values so a large base_ejection_time against the
  // default max is caught too.
  if (out.max_ejection_time < out.base_ejection_time) {
    return invalid(join(path, "max_ejection_time"), absl::StrCat(millis(out.max_ejection_time), " is less than base_ejection_time (",
                                                                 millis(out.base_ejection_time), ")"));
  }
  return out;
}

absl::Status compileCircuitBreakers(const envoy::config::cluster::v3::CircuitBreakers& cb, const std::string& path,
                                    CircuitBreakerConfig& out) {
  if (auto st = onlyFields(cb, path, {"thresholds"}); !st.ok()) return st;
  bool seen[2] = {false, false};
  for (int i = 0; i < cb.thresholds_size(); ++i) {
    const std::string tp = absl::StrCat(path, ".thresholds[", i, "]");
    const auto& t = cb.thresholds(i);
    if (auto st = onlyFields(t, tp, {"priority", "max_connections", "max_pending_requests", "max_requests",
                                     "max_retries", "retry_budget"});
        !st.ok()) {
      return st;
    }
    if (t.priority() != core::DEFAULT && t.priority() != core::HIGH) {
      return invalid(join(tp, "priority"), absl::StrCat(static_cast<int>(t.priority()), " is not a routing priority (DEFAULT, HIGH)"));
    }
    if (seen[t.priority()]) {
      return invalid(join(tp, "priority"), absl::StrCat("a second entry for ", core::RoutingPriority_Name(t.priority()),
                                                        " (one entry per priority)"));
    }
    seen[t.priority()] = true;
    CircuitBreakerConfig limits;
    if (t.has_max_connections()) limits.max_connections = t.max_connections().value();
    if (t.has_max_pending_requests()) limits.max_pending_requests = t.max_pending_requests().value();
    if (t.has_max_requests()) limits.max_requests = t.max_requests().value();
    if (t.has_max_retries()) limits.max_retries = t.max_retries().value();
    if (t.has_retry_budget()) {
      const std::string bp = join(tp, "retry_budget");
      const auto& rb = t.retry_budget();
      if (auto st = onlyFields(rb, bp, {"budget_percent", "min_retry_concurrency"}); !st.ok()) return st;
      limits.has_retry_budget = true;
      if (rb.has_budget_percent()) {
        double v = rb.budget_percent().value();
        if (!(v >= 0 && v <= 100)) {
          return invalid(join(bp, "budget_percent.value"), absl::StrCat(v, " is not a percentage (0-100)"));
        }
        limits.retry_budget_percent = v;
      }
      if (rb.has_min_retry_concurrency()) limits.min_retry_concurrency = rb.min_retry_concurrency().value();
    }
    // Trellis sends every request at DEFAULT priority, so HIGH limits could never apply: the
    // entry is checked like the DEFAULT one (a typo still fails) and then left out.
    if (t.priority() == core::DEFAULT) out = limits;
  }
  return absl::OkStatus();
}

absl::StatusOr<EdsHealth> edsHealth(int status, const std::string& path) {
  switch (status) {
    case core::UNKNOWN: return EdsHealth::Unknown;
    case core::HEALTHY: return EdsHealth::Healthy;
    case core::UNHEALTHY: return EdsHealth::Unhealthy;
    case core::DRAINING: return EdsHealth::Draining;
    case core::TIMEOUT: return EdsHealth::Timeout;
    case core::DEGRADED: return EdsHealth::Degraded;
    default:
      return invalid(path, absl::StrCat(status, " is not a health status (UNKNOWN, HEALTHY, UNHEALTHY, DRAINING, "
                                                "TIMEOUT, DEGRADED)"));
  }
}

// The key of a host's shared counters: "ip:port", IPv6 in brackets, as /clusters prints it.
std::string hostKey(const boost::asio::ip::tcp::endpoint& e) {
  const auto a = e.address();
  if (a.is_v6()) return absl::StrCat("[", a.to_string(), "]:", e.port());
  return absl::StrCat(a.to_string(), ":", e.port());
}

absl::Status compileEndpoints(const envoy::config::endpoint::v3::ClusterLoadAssignment& cla, const std::string& lp,
                              StatsStore& stats, Cluster& out) {
  if (auto st = onlyFields(cla, lp, {"cluster_name", "endpoints"}); !st.ok()) return st;
  for (int l = 0; l < cla.endpoints_size(); ++l) {
    const std::string llp = absl::StrCat(lp, ".endpoints[", l, "]");
    const auto& locality = cla.endpoints(l);
    if (auto st = onlyFields(locality, llp, {"locality", "lb_endpoints", "load_balancing_weight"}); !st.ok()) return st;
    for (int e = 0; e < locality.lb_endpoints_size(); ++e) {
      const std::string ep = absl::StrCat(llp, ".lb_endpoints[", e, "]");
      const auto& lbe = locality.lb_endpoints(e);
      if (auto st = onlyFields(lbe, ep, {"endpoint", "health_status", "load_balancing_weight"}); !st.ok()) return st;
      if (auto st = onlyFields(lbe.endpoint(), join(ep, "endpoint"), {"address"}); !st.ok()) return st;
      auto addr = toEndpoint(lbe.endpoint().address(), join(ep, "endpoint.address"));
      if (!addr.ok()) return addr.status();
      if (addr->port() == 0) return invalid(join(ep, "endpoint.address.socket_address.port_value"), "an endpoint needs a port (1-65535)");
      uint32_t w = lbe.has_load_balancing_weight() ? lbe.load_balancing_weight().value() : 1;
      if (w == 0) return invalid(join(ep, "load_balancing_weight"), "must be at least 1");
      auto health = edsHealth(lbe.health_status(), join(ep, "health_status"));
      if (!health.ok()) return health.status();
      out.endpoints.push_back(Endpoint{*addr, w, *health, stats.host(out.name, hostKey(*addr))});
    }
  }
  return absl::OkStatus();
}

// Data clusters speak HTTP/1.1. An explicit HTTP/1 choice is what Trellis does anyway; HTTP/2
// (and the automatic choice, which may pick it) is refused until HTTP/2 upstreams exist. The
// xDS cluster's HTTP/2 declaration never reaches here (config/bootstrap consumes it).
absl::Status checkProtocolOptions(const ClusterProto& c, const std::string& path) {
  constexpr char kKey[] = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
  constexpr char kNoHttp2[] =
      "HTTP/2 upstreams are not supported yet (only the xDS cluster named in dynamic_resources.ads_config, "
      "whose gRPC client speaks HTTP/2 itself, may set it)";
  if (c.has_http2_protocol_options()) return invalid(join(path, "http2_protocol_options"), kNoHttp2);
  for (const auto& [key, any] : c.typed_extension_protocol_options()) {
    const std::string kp = absl::StrCat(path, ".typed_extension_protocol_options[\"", key, "\"]");
    if (key != kKey) return invalid(kp, absl::StrCat("is not supported yet (", kKey, " is)"));
    envoy::extensions::upstreams::http::v3::HttpProtocolOptions http;
    if (!any.UnpackTo(&http)) return invalid(kp, absl::StrCat("expected type.googleapis.com/", kKey));
    if (http.has_common_http_protocol_options()) {
      return invalid(join(kp, "common_http_protocol_options"), "is not supported yet");
    }
    if (http.has_explicit_http_config() && http.explicit_http_config().has_http_protocol_options()) {
      if (auto st = onlyFields(http.explicit_http_config().http_protocol_options(),
                               join(kp, "explicit_http_config.http_protocol_options"), {});
          !st.ok()) {
        return st;
      }
      continue;  // HTTP/1.1: what Trellis speaks
    }
    if (http.has_explicit_http_config() && http.explicit_http_config().has_http2_protocol_options()) {
      return invalid(join(kp, "explicit_http_config.http2_protocol_options"), kNoHttp2);
    }
    if (http.has_auto_config()) return invalid(join(kp, "auto_config"), kNoHttp2);
    if (http.has_use_downstream_protocol_config()) {
      return invalid(join(kp, "use_downstream_protocol_config"), "is not supported yet (upstreams speak HTTP/1.1)");
    }
    return invalid(kp, "names no protocol (explicit_http_config.http_protocol_options is the one Trellis speaks)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Cluster>> compileCluster(
    const ClusterProto& c, const std::string& path, uint32_t index,
    const envoy::config::endpoint::v3::ClusterLoadAssignment* eds, const std::string& eds_path, StatsStore& stats) {
  if (auto st = onlyFields(c, path, {"name", "type", "connect_timeout", "lb_policy", "load_assignment",
                                     "eds_cluster_config", "least_request_lb_config", "load_balancing_policy",
                                     "common_lb_config", "health_checks", "outlier_detection", "circuit_breakers",
                                     "cleanup_interval", "original_dst_lb_config", "http2_protocol_options",
                                     "typed_extension_protocol_options", "per_connection_buffer_limit_bytes"});
      !st.ok()) {
    return st;
  }
  if (auto st = checkProtocolOptions(c, path); !st.ok()) return st;
  if (c.name().empty()) return invalid(join(path, "name"), "a cluster name is required");
  if (c.type() != ClusterProto::STATIC && c.type() != ClusterProto::EDS && c.type() != ClusterProto::ORIGINAL_DST) {
    return invalid(join(path, "type"), absl::StrCat(ClusterProto::DiscoveryType_Name(c.type()),
                                                    " is not supported yet (STATIC, EDS and ORIGINAL_DST are)"));
  }
  auto out = std::make_shared<Cluster>();
  out->name = c.name();
  if (c.has_per_connection_buffer_limit_bytes()) {
    if (c.per_connection_buffer_limit_bytes().value() == 0) {
      return invalid(join(path, "per_connection_buffer_limit_bytes"), "must be greater than 0");
    }
    out->buffer_limit = c.per_connection_buffer_limit_bytes().value();
  }
  out->index = index;
  out->stats = stats.cluster(c.name());
  out->resources = stats.resources(c.name());
  if (c.type() == ClusterProto::ORIGINAL_DST) {
    // Each connection goes to its own original destination: there is nothing to balance, to
    // health-check or to eject, and no endpoint list.
    out->type = DiscoveryType::OriginalDst;
    if (c.lb_policy() != ClusterProto::CLUSTER_PROVIDED) {
      return invalid(join(path, "lb_policy"),
                     absl::StrCat(ClusterProto::LbPolicy_Name(c.lb_policy()),
                                  " is not valid for type ORIGINAL_DST (only CLUSTER_PROVIDED is)"));
    }
    for (const char* f : {"load_assignment", "eds_cluster_config", "health_checks", "outlier_detection",
                          "least_request_lb_config", "load_balancing_policy"}) {
      const auto* fd = c.GetDescriptor()->FindFieldByName(f);
      const bool set = fd->is_repeated() ? c.GetReflection()->FieldSize(c, fd) > 0 : c.GetReflection()->HasField(c, fd);
      if (set) return invalid(join(path, f), "does not apply to type ORIGINAL_DST");
    }
    if (c.has_original_dst_lb_config()) {
      const std::string op = join(path, "original_dst_lb_config");
      if (auto st = onlyFields(c.original_dst_lb_config(), op, {}); !st.ok()) {
        return invalid(op, "use_http_header, http_header_name and upstream_port_override are not supported yet "
                           "(the destination is always the connection's original destination)");
      }
    }
    if (c.has_cleanup_interval()) {
      auto ci = positiveDuration(c.cleanup_interval(), join(path, "cleanup_interval"));
      if (!ci.ok()) return ci.status();  // accepted: idle pooled connections age out on their own
    }
  } else {
    if (c.has_cleanup_interval()) return invalid(join(path, "cleanup_interval"), "only applies to type ORIGINAL_DST");
    if (c.has_original_dst_lb_config()) {
      return invalid(join(path, "original_dst_lb_config"), "only applies to type ORIGINAL_DST");
    }
    out->type = c.type() == ClusterProto::EDS ? DiscoveryType::Eds : DiscoveryType::Static;
    if (auto st = compileLbPolicy(c, path, *out); !st.ok()) return st;
  }
  if (c.has_connect_timeout()) out->connect_timeout = toDuration(c.connect_timeout());

  if (c.has_common_lb_config()) {
    const std::string cp = join(path, "common_lb_config");
    const auto& common = c.common_lb_config();
    if (auto st = onlyFields(common, cp, {"healthy_panic_threshold"}); !st.ok()) return st;
    if (common.has_healthy_panic_threshold()) {
      double v = common.healthy_panic_threshold().value();
      if (!(v >= 0 && v <= 100)) {
        return invalid(join(cp, "healthy_panic_threshold.value"), absl::StrCat(v, " is not a percentage (0-100)"));
      }
      out->healthy_panic_threshold = v;
    }
  }

  if (c.health_checks_size() > 1) {
    return invalid(join(path, "health_checks"),
                   absl::StrCat(c.health_checks_size(), " entries; Trellis runs one health check per cluster"));
  }
  if (c.health_checks_size() == 1) {
    auto hc = compileHealthCheck(c.health_checks(0), join(path, "health_checks[0]"));
    if (!hc.ok()) return hc.status();
    out->health_checks.push_back(std::move(*hc));
  }
  if (c.has_outlier_detection()) {
    auto od = compileOutlierDetection(c.outlier_detection(), join(path, "outlier_detection"));
    if (!od.ok()) return od.status();
    out->outlier_detection = *od;
  }
  if (c.has_circuit_breakers()) {
    if (auto st = compileCircuitBreakers(c.circuit_breakers(), join(path, "circuit_breakers"), out->circuit_breakers);
        !st.ok()) {
      return st;
    }
  }

  const envoy::config::endpoint::v3::ClusterLoadAssignment* cla = nullptr;
  std::string lp;
  if (c.type() == ClusterProto::ORIGINAL_DST) {
    // no endpoints
  } else if (c.type() == ClusterProto::STATIC) {
    if (c.has_eds_cluster_config()) return invalid(join(path, "eds_cluster_config"), "only applies to type EDS");
    cla = &c.load_assignment();
    lp = join(path, "load_assignment");
  } else {
    if (c.has_load_assignment()) return invalid(join(path, "load_assignment"), "type EDS takes its endpoints from EDS");
    cla = eds;  // not yet delivered: the cluster has no endpoints (503 UH) until it is
    lp = eds_path;
  }
  if (cla) {
    if (auto st = compileEndpoints(*cla, lp, stats, *out); !st.ok()) return st;
  }
  // Every endpoint by weight, whatever its health: health changes far more often than config,
  // so it is applied at pick time from the HealthView, not baked into the schedule.
  std::vector<uint32_t> weights;
  weights.reserve(out->endpoints.size());
  for (const auto& e : out->endpoints) weights.push_back(e.weight);
  out->schedule = buildSchedule(weights);
  return std::shared_ptr<const Cluster>(std::move(out));
}

}  // namespace trellis::proxy::compile_internal
