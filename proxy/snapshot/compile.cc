// Proto -> Snapshot, with the supported subset enforced field by field.
#include "proxy/snapshot/compile.h"

#include <algorithm>
#include <set>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.pb.h"
#include "proxy/router/router.h"
#include "proxy/snapshot/compile_internal.h"

namespace trellis::proxy {

namespace {

namespace route = envoy::config::route::v3;


using compile_internal::invalid;
using compile_internal::join;
using compile_internal::nonNegativeDuration;
using compile_internal::onlyFields;
using compile_internal::positiveDuration;
using compile_internal::toDuration;
using compile_internal::toEndpoint;

absl::StatusOr<std::shared_ptr<const RE2>> compileRegex(const envoy::type::matcher::v3::RegexMatcher& m,
                                                        const std::string& path) {
  if (auto st = onlyFields(m, path, {"regex", "google_re2"}); !st.ok()) return st;
  auto re = std::make_shared<RE2>(m.regex(), RE2::Quiet);
  if (!re->ok()) return invalid(join(path, "regex"), absl::StrCat("'", m.regex(), "' is not a valid RE2 expression: ", re->error()));
  return std::shared_ptr<const RE2>(std::move(re));
}

absl::StatusOr<StringMatch> compileStringMatch(const envoy::type::matcher::v3::StringMatcher& m, const std::string& path) {
  if (auto st = onlyFields(m, path, {"exact", "prefix", "suffix", "contains", "safe_regex", "ignore_case"}); !st.ok()) {
    return st;
  }
  StringMatch out;
  out.ignore_case = m.ignore_case();
  switch (m.match_pattern_case()) {
    case envoy::type::matcher::v3::StringMatcher::kExact: out.kind = StringMatch::Kind::Exact; out.value = m.exact(); break;
    case envoy::type::matcher::v3::StringMatcher::kPrefix: out.kind = StringMatch::Kind::Prefix; out.value = m.prefix(); break;
    case envoy::type::matcher::v3::StringMatcher::kSuffix: out.kind = StringMatch::Kind::Suffix; out.value = m.suffix(); break;
    case envoy::type::matcher::v3::StringMatcher::kContains: out.kind = StringMatch::Kind::Contains; out.value = m.contains(); break;
    case envoy::type::matcher::v3::StringMatcher::kSafeRegex: {
      auto re = compileRegex(m.safe_regex(), join(path, "safe_regex"));
      if (!re.ok()) return re.status();
      out.kind = StringMatch::Kind::Regex;
      out.regex = *re;
      break;
    }
    default:
      return invalid(path, "one of exact, prefix, suffix, contains or safe_regex is required");
  }
  return out;
}

absl::StatusOr<HeaderMatch> compileHeaderMatch(const route::HeaderMatcher& m, const std::string& path) {
  if (auto st = onlyFields(m, path, {"name", "exact_match", "safe_regex_match", "present_match", "prefix_match",
                                     "suffix_match", "contains_match", "string_match", "invert_match"});
      !st.ok()) {
    return st;
  }
  if (m.name().empty()) return invalid(join(path, "name"), "a header name is required");
  HeaderMatch out;
  out.name = m.name();
  std::transform(out.name.begin(), out.name.end(), out.name.begin(), [](unsigned char c) { return std::tolower(c); });
  if (out.name[0] == ':' && out.name != ":method" && out.name != ":path" && out.name != ":authority") {
    return invalid(join(path, "name"), absl::StrCat("pseudo-header '", m.name(), "' is not supported (:method, :path, :authority are)"));
  }
  out.invert = m.invert_match();
  switch (m.header_match_specifier_case()) {
    case route::HeaderMatcher::kExactMatch: out.match.kind = StringMatch::Kind::Exact; out.match.value = m.exact_match(); break;
    case route::HeaderMatcher::kPrefixMatch: out.match.kind = StringMatch::Kind::Prefix; out.match.value = m.prefix_match(); break;
    case route::HeaderMatcher::kSuffixMatch: out.match.kind = StringMatch::Kind::Suffix; out.match.value = m.suffix_match(); break;
    case route::HeaderMatcher::kContainsMatch: out.match.kind = StringMatch::Kind::Contains; out.match.value = m.contains_match(); break;
    case route::HeaderMatcher::kSafeRegexMatch: {
      auto re = compileRegex(m.safe_regex_match(), join(path, "safe_regex_match"));
      if (!re.ok()) return re.status();
      out.match.kind = StringMatch::Kind::Regex;
      out.match.regex = *re;
      break;
    }
    case route::HeaderMatcher::kStringMatch: {
      auto sm = compileStringMatch(m.string_match(), join(path, "string_match"));
      if (!sm.ok()) return sm.status();
      out.match = std::move(*sm);
      break;
    }
    case route::HeaderMatcher::kPresentMatch:
      out.present_only = true;
      out.present_value = m.present_match();
      break;
    default:
      // No specifier: Envoy treats it as "header present".
      out.present_only = true;
      break;
  }
  return out;
}

// retry_on's conditions, Envoy's spellings (HTTP and gRPC ones share the string, as in Envoy).
struct RetryCondition {
  const char* token;
  uint32_t bit;
};
constexpr RetryCondition kRetryConditions[] = {
    {"5xx", RetryPolicy::k5xx},
    {"gateway-error", RetryPolicy::kGatewayError},
    {"reset", RetryPolicy::kReset},
    {"connect-failure", RetryPolicy::kConnectFailure},
    {"refused-stream", RetryPolicy::kRefusedStream},
    {"retriable-status-codes", RetryPolicy::kRetriableStatusCodes},
    {"retriable-4xx", RetryPolicy::kRetriable4xx},
    {"cancelled", RetryPolicy::kGrpcCancelled},
    {"deadline-exceeded", RetryPolicy::kGrpcDeadlineExceeded},
    {"internal", RetryPolicy::kGrpcInternal},
    {"resource-exhausted", RetryPolicy::kGrpcResourceExhausted},
    {"unavailable", RetryPolicy::kGrpcUnavailable},
};

constexpr char kPreviousHostsName[] = "envoy.retry_host_predicates.previous_hosts";

absl::StatusOr<uint32_t> parseRetryOn(const std::string& retry_on, const std::string& path) {
  uint32_t bits = 0;
  for (absl::string_view token : absl::StrSplit(retry_on, ',', absl::SkipWhitespace())) {
    token = absl::StripAsciiWhitespace(token);
    const auto* it = std::find_if(std::begin(kRetryConditions), std::end(kRetryConditions),
                                  [&](const RetryCondition& c) { return token == c.token; });
    if (it == std::end(kRetryConditions)) {
      std::vector<std::string> known;
      for (const auto& c : kRetryConditions) known.push_back(c.token);
      return invalid(path, absl::StrCat("'", token, "' is not supported (", absl::StrJoin(known, ", "), " are)"));
    }
    bits |= it->bit;
  }
  return bits;
}

absl::StatusOr<RetryPolicy> compileRetryPolicy(const route::RetryPolicy& p, const std::string& path) {
  if (auto st = onlyFields(p, path, {"retry_on", "num_retries", "per_try_timeout", "retry_host_predicate",
                                     "host_selection_retry_max_attempts", "retriable_status_codes", "retry_back_off"});
      !st.ok()) {
    return st;
  }
  RetryPolicy out;
  auto on = parseRetryOn(p.retry_on(), join(path, "retry_on"));
  if (!on.ok()) return on.status();
  out.retry_on = *on;
  if (p.has_num_retries()) out.num_retries = p.num_retries().value();
  if (p.has_per_try_timeout()) {
    auto d = nonNegativeDuration(p.per_try_timeout(), join(path, "per_try_timeout"));
    if (!d.ok()) return d.status();
    out.per_try_timeout = *d;
  }
  for (int i = 0; i < p.retriable_status_codes_size(); ++i) {
    uint32_t code = p.retriable_status_codes(i);
    if (code < 100 || code > 599) {
      return invalid(absl::StrCat(path, ".retriable_status_codes[", i, "]"),
                     absl::StrCat(code, " is not an HTTP status (100-599)"));
    }
    out.retriable_status_codes.push_back(static_cast<uint16_t>(code));
  }
  namespace previous_hosts = envoy::extensions::retry::host::previous_hosts::v3;
  const std::string previous_hosts_url =
      absl::StrCat("type.googleapis.com/", previous_hosts::PreviousHostsPredicate::descriptor()->full_name());
  for (int i = 0; i < p.retry_host_predicate_size(); ++i) {
    const std::string pp = absl::StrCat(path, ".retry_host_predicate[", i, "]");
    const auto& pred = p.retry_host_predicate(i);
    if (auto st = onlyFields(pred, pp, {"name", "typed_config"}); !st.ok()) return st;
    // As in Envoy, the config's type selects the extension; the name does only without one.
    if (pred.has_typed_config()) {
      const std::string tp = join(pp, "typed_config");
      if (!pred.typed_config().Is<previous_hosts::PreviousHostsPredicate>()) {
        return invalid(tp, absl::StrCat("type '", pred.typed_config().type_url(), "' is not supported (",
                                        previous_hosts_url, " is)"));
      }
      previous_hosts::PreviousHostsPredicate config;
      if (!pred.typed_config().UnpackTo(&config)) return invalid(tp, absl::StrCat("cannot be decoded as ", previous_hosts_url));
      if (auto st = onlyFields(config, tp, {}); !st.ok()) return st;
    } else if (pred.name() != kPreviousHostsName) {
      return invalid(join(pp, "name"), absl::StrCat("'", pred.name(), "' is not supported (", kPreviousHostsName, " is)"));
    }
    out.avoid_previous_hosts = true;
  }
  if (p.host_selection_retry_max_attempts() != 0) {  // proto3: 0 is unset, Envoy's default 1
    int64_t n = p.host_selection_retry_max_attempts();
    if (n < 1 || n > 0xffffffffLL) {
      return invalid(join(path, "host_selection_retry_max_attempts"), absl::StrCat(n, " is out of range (1-4294967295)"));
    }
    out.host_selection_retry_max_attempts = static_cast<uint32_t>(n);
  }
  if (p.has_retry_back_off()) {
    const std::string bp = join(path, "retry_back_off");
    const auto& b = p.retry_back_off();
    if (auto st = onlyFields(b, bp, {"base_interval", "max_interval"}); !st.ok()) return st;
    // Envoy requires base_interval once retry_back_off is given; the 25 ms default is for a
    // policy without retry_back_off.
    if (!b.has_base_interval()) return invalid(join(bp, "base_interval"), "is required");
    auto base = positiveDuration(b.base_interval(), join(bp, "base_interval"));
    if (!base.ok()) return base.status();
    out.back_off_base = *base;
    out.back_off_max = *base * 10;
    if (b.has_max_interval()) {
      auto max = positiveDuration(b.max_interval(), join(bp, "max_interval"));
      if (!max.ok()) return max.status();
      if (*max < *base) {
        return invalid(join(bp, "max_interval"), absl::StrCat(max->count(), "ms is less than base_interval (",
                                                              base->count(), "ms)"));
      }
      out.back_off_max = *max;
    }
  }
  return out;
}

// What a virtual host gives those of its routes that do not set their own.
struct RouteDefaults {
  std::optional<RetryPolicy> retry_policy;
  std::optional<uint32_t> buffer_limit;  // per_request_buffer_limit_bytes
};

absl::StatusOr<Route> compileRoute(const route::Route& r, const std::string& path,
                                   const absl::flat_hash_map<std::string, uint32_t>& cluster_index,
                                   bool require_known_clusters, const RouteDefaults& defaults) {
  if (auto st = onlyFields(r, path, {"name", "match", "route", "direct_response", "per_request_buffer_limit_bytes"});
      !st.ok()) {
    return st;
  }
  Route out;
  out.name = r.name();
  const std::string mp = join(path, "match");
  const auto& m = r.match();
  if (auto st = onlyFields(m, mp, {"prefix", "path", "safe_regex", "case_sensitive", "headers"}); !st.ok()) return st;
  switch (m.path_specifier_case()) {
    case route::RouteMatch::kPrefix: out.match.kind = RouteMatch::PathKind::Prefix; out.match.path = m.prefix(); break;
    case route::RouteMatch::kPath: out.match.kind = RouteMatch::PathKind::Path; out.match.path = m.path(); break;
    case route::RouteMatch::kSafeRegex: {
      auto re = compileRegex(m.safe_regex(), join(mp, "safe_regex"));
      if (!re.ok()) return re.status();
      out.match.kind = RouteMatch::PathKind::Regex;
      out.match.regex = *re;
      break;
    }
    default:
      return invalid(mp, "one of prefix, path or safe_regex is required");
  }
  out.match.case_sensitive = !m.has_case_sensitive() || m.case_sensitive().value();
  if (!out.match.case_sensitive && out.match.kind == RouteMatch::PathKind::Regex) {
    return invalid(join(mp, "case_sensitive"), "has no effect on safe_regex; put (?i) in the expression");
  }
  for (int i = 0; i < m.headers_size(); ++i) {
    auto h = compileHeaderMatch(m.headers(i), absl::StrCat(mp, ".headers[", i, "]"));
    if (!h.ok()) return h.status();
    out.match.headers.push_back(std::move(*h));
  }

  if (r.has_direct_response()) {
    const std::string dp = join(path, "direct_response");
    const auto& d = r.direct_response();
    if (auto st = onlyFields(d, dp, {"status", "body"}); !st.ok()) return st;
    if (d.status() < 200 || d.status() > 599) return invalid(join(dp, "status"), absl::StrCat(d.status(), " is not a final status (200-599)"));
    DirectResponse dr;
    dr.status = static_cast<uint16_t>(d.status());
    if (d.has_body()) {
      if (auto st = onlyFields(d.body(), join(dp, "body"), {"inline_string", "inline_bytes"}); !st.ok()) return st;
      dr.body = d.body().has_inline_string() ? d.body().inline_string() : d.body().inline_bytes();
    }
    out.direct = std::move(dr);
    return out;
  }
  if (!r.has_route()) return invalid(path, "one of route or direct_response is required");

  const std::string ap = join(path, "route");
  const auto& a = r.route();
  if (auto st = onlyFields(a, ap, {"cluster", "weighted_clusters", "timeout", "prefix_rewrite", "idle_timeout",
                                   "retry_policy", "host_rewrite_literal", "regex_rewrite"});
      !st.ok()) {
    return st;
  }
  ForwardAction fwd;
  if (a.has_timeout()) fwd.timeout = toDuration(a.timeout());
  if (a.has_idle_timeout()) {
    const std::string ip = join(ap, "idle_timeout");
    auto d = nonNegativeDuration(a.idle_timeout(), ip);
    if (!d.ok()) return d.status();
    // In Envoy 0 turns the idle timeout off for the route; the snapshot's 0 means "the
    // listener's", so accepting it would quietly mean something else.
    if (d->count() == 0) {
      return invalid(ip, "0s (no idle timeout) is not supported yet; leave idle_timeout unset for the listener's");
    }
    fwd.idle_timeout = *d;
  }
  // A route's own policy replaces its virtual host's whole: Envoy does not merge the two.
  if (a.has_retry_policy()) {
    auto rp = compileRetryPolicy(a.retry_policy(), join(ap, "retry_policy"));
    if (!rp.ok()) return rp.status();
    fwd.retry_policy = std::move(*rp);
  } else {
    fwd.retry_policy = defaults.retry_policy;
  }
  if (r.has_per_request_buffer_limit_bytes()) {
    fwd.retry_buffer_limit = r.per_request_buffer_limit_bytes().value();
  } else if (defaults.buffer_limit) {
    fwd.retry_buffer_limit = *defaults.buffer_limit;
  }
  if (!a.prefix_rewrite().empty()) {
    if (out.match.kind == RouteMatch::PathKind::Regex) return invalid(join(ap, "prefix_rewrite"), "needs a prefix or path match");
    fwd.prefix_rewrite = a.prefix_rewrite();
  }
  if (a.host_rewrite_specifier_case() == route::RouteAction::kHostRewriteLiteral) {
    const std::string& host = a.host_rewrite_literal();
    // The value goes into the request head as is: a byte that ends or splits a header line
    // would let configuration inject headers.
    if (host.empty()) return invalid(join(ap, "host_rewrite_literal"), "must not be empty");
    for (char c : host) {
      if (c == '\r' || c == '\n' || c == '\0' || c == ' ' || c == '\t') {
        return invalid(join(ap, "host_rewrite_literal"),
                       absl::StrCat("'", host, "' holds whitespace or a control character (allowed: a host[:port])"));
      }
    }
    fwd.host_rewrite_literal = host;
  }
  if (a.has_regex_rewrite()) {
    const std::string rp = join(ap, "regex_rewrite");
    if (!a.prefix_rewrite().empty()) return invalid(rp, "prefix_rewrite is given too (allowed: one of them)");
    if (auto st = onlyFields(a.regex_rewrite(), rp, {"pattern", "substitution"}); !st.ok()) return st;
    if (!a.regex_rewrite().has_pattern()) return invalid(join(rp, "pattern"), "is required");
    auto re = compileRegex(a.regex_rewrite().pattern(), join(rp, "pattern"));
    if (!re.ok()) return re.status();
    std::string why;
    if (!(*re)->CheckRewriteString(a.regex_rewrite().substitution(), &why)) {
      return invalid(join(rp, "substitution"), absl::StrCat("'", a.regex_rewrite().substitution(), "': ", why));
    }
    fwd.regex_rewrite = *re;
    fwd.regex_rewrite_substitution = a.regex_rewrite().substitution();
  }
  auto resolve = [&](const std::string& name, const std::string& p) -> absl::StatusOr<std::optional<uint32_t>> {
    if (name.empty()) return invalid(p, "a cluster name is required");
    auto it = cluster_index.find(name);
    if (it != cluster_index.end()) return std::optional<uint32_t>(it->second);
    if (require_known_clusters) return invalid(p, absl::StrCat("unknown cluster '", name, "'"));
    return std::optional<uint32_t>();
  };
  if (a.cluster_specifier_case() == route::RouteAction::kCluster) {
    auto idx = resolve(a.cluster(), join(ap, "cluster"));
    if (!idx.ok()) return idx.status();
    fwd.targets.push_back(WeightedTarget{a.cluster(), *idx, 1});
    fwd.total_weight = 1;
  } else if (a.cluster_specifier_case() == route::RouteAction::kWeightedClusters) {
    const std::string wp = join(ap, "weighted_clusters");
    const auto& wc = a.weighted_clusters();
    if (auto st = onlyFields(wc, wp, {"clusters", "total_weight"}); !st.ok()) return st;
    if (wc.clusters_size() == 0) return invalid(join(wp, "clusters"), "at least one cluster is required");
    uint64_t sum = 0;
    for (int i = 0; i < wc.clusters_size(); ++i) {
      const std::string cp = absl::StrCat(wp, ".clusters[", i, "]");
      const auto& c = wc.clusters(i);
      if (auto st = onlyFields(c, cp, {"name", "weight"}); !st.ok()) return st;
      auto idx = resolve(c.name(), join(cp, "name"));
      if (!idx.ok()) return idx.status();
      uint32_t w = c.has_weight() ? c.weight().value() : 0;
      sum += w;
      fwd.targets.push_back(WeightedTarget{c.name(), *idx, w});
    }
    if (sum == 0) return invalid(join(wp, "clusters"), "the weights sum to 0; at least one must be positive");
    if (sum > 0xffffffffULL) return invalid(join(wp, "clusters"), "the weights sum to more than 2^32-1");
    if (wc.has_total_weight() && wc.total_weight().value() != sum) {
      return invalid(join(wp, "total_weight"), absl::StrCat(wc.total_weight().value(), " does not equal the sum of the weights (", sum, ")"));
    }
    fwd.total_weight = static_cast<uint32_t>(sum);
  } else {
    return invalid(ap, "one of cluster or weighted_clusters is required");
  }
  out.forward = std::move(fwd);
  return out;
}

absl::Status checkDomain(const std::string& d, const std::string& path) {
  if (d.empty()) return invalid(path, "an empty domain matches nothing");
  if (d == "*") return absl::OkStatus();
  size_t stars = std::count(d.begin(), d.end(), '*');
  if (stars > 1 || (stars == 1 && d.front() != '*' && d.back() != '*')) {
    return invalid(path, absl::StrCat("'", d, "': a wildcard may only be the first or last character"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const RouteTable>> compileRouteTable(const route::RouteConfiguration& config,
                                                                    const std::string& path,
                                                                    const std::vector<std::shared_ptr<const Cluster>>& clusters,
                                                                    bool require_known_clusters) {
  if (auto st = onlyFields(config, path, {"name", "virtual_hosts", "validate_clusters"}); !st.ok()) return st;
  absl::flat_hash_map<std::string, uint32_t> index;
  for (const auto& c : clusters) index.emplace(c->name, c->index);
  bool require = require_known_clusters;
  if (config.has_validate_clusters()) require = config.validate_clusters().value();
  auto table = std::make_shared<RouteTable>();
  table->name = config.name();
  std::set<std::string> seen_domains;
  for (int v = 0; v < config.virtual_hosts_size(); ++v) {
    const std::string vp = absl::StrCat(join(path, "virtual_hosts"), "[", v, "]");
    const auto& vh = config.virtual_hosts(v);
    if (auto st = onlyFields(vh, vp, {"name", "domains", "routes", "retry_policy", "per_request_buffer_limit_bytes"});
        !st.ok()) {
      return st;
    }
    VirtualHost host;
    host.name = vh.name();
    RouteDefaults defaults;
    if (vh.has_retry_policy()) {
      auto rp = compileRetryPolicy(vh.retry_policy(), join(vp, "retry_policy"));
      if (!rp.ok()) return rp.status();
      defaults.retry_policy = std::move(*rp);
    }
    if (vh.has_per_request_buffer_limit_bytes()) defaults.buffer_limit = vh.per_request_buffer_limit_bytes().value();
    if (vh.domains_size() == 0) return invalid(join(vp, "domains"), "at least one domain is required");
    for (int d = 0; d < vh.domains_size(); ++d) {
      const std::string dp = absl::StrCat(vp, ".domains[", d, "]");
      std::string dom = vh.domains(d);
      if (auto st = checkDomain(dom, dp); !st.ok()) return st;
      std::transform(dom.begin(), dom.end(), dom.begin(), [](unsigned char c) { return std::tolower(c); });
      if (!seen_domains.insert(dom).second) {
        return invalid(dp, absl::StrCat("domain '", dom, "' appears in more than one virtual host"));
      }
      host.domains.push_back(std::move(dom));
    }
    for (int r = 0; r < vh.routes_size(); ++r) {
      auto rt = compileRoute(vh.routes(r), absl::StrCat(vp, ".routes[", r, "]"), index, require, defaults);
      if (!rt.ok()) return rt.status();
      host.routes.push_back(std::move(*rt));
    }
    table->virtual_hosts.push_back(std::move(host));
  }
  table->lookup = std::make_shared<VirtualHostTable>(table->virtual_hosts);
  return std::shared_ptr<const RouteTable>(std::move(table));
}

absl::StatusOr<std::shared_ptr<const Snapshot>> compileSnapshot(const CompileInput& input, StatsStore& stats) {
  auto snap = std::make_shared<Snapshot>();
  snap->version = input.version;
  absl::flat_hash_map<std::string, const Sourced<envoy::config::endpoint::v3::ClusterLoadAssignment>*> eds;
  for (const auto& cla : input.load_assignments) eds[cla.resource.cluster_name()] = &cla;
  absl::flat_hash_set<std::string> names;
  for (size_t i = 0; i < input.clusters.size(); ++i) {
    const auto& src = input.clusters[i];
    if (!names.insert(src.resource.name()).second) {
      return invalid(join(src.path, "name"), absl::StrCat("duplicate cluster name '", src.resource.name(), "'"));
    }
    std::string service = src.resource.name();
    if (src.resource.has_eds_cluster_config() && !src.resource.eds_cluster_config().service_name().empty()) {
      service = src.resource.eds_cluster_config().service_name();
    }
    auto it = eds.find(service);
    auto c = compile_internal::compileCluster(src.resource, src.path, static_cast<uint32_t>(i),
                            it == eds.end() ? nullptr : &it->second->resource,
                            it == eds.end() ? std::string() : it->second->path, stats);
    if (!c.ok()) return c.status();
    snap->clusters.push_back(std::move(*c));
  }
  absl::flat_hash_map<std::string, const Sourced<route::RouteConfiguration>*> rds;
  for (const auto& rc : input.route_configs) rds[rc.resource.name()] = &rc;
  names.clear();
  std::set<std::pair<std::string, uint16_t>> addresses;
  for (const auto& src : input.listeners) {
    if (!names.insert(src.resource.name()).second) {
      return invalid(join(src.path, "name"), absl::StrCat("duplicate listener name '", src.resource.name(), "'"));
    }
    int64_t limit = 0;
    if (input.listener_connection_limits) {
      auto it = input.listener_connection_limits->find(src.resource.name());
      if (it != input.listener_connection_limits->end()) limit = it->second;
    }
    auto l = compile_internal::compileListener(src.resource, src.path, rds, snap->clusters,
                                               input.require_known_clusters, stats, input.log_files, limit);
    if (!l.ok()) return l.status();
    if ((*l)->bind_to_port &&
        !addresses.emplace((*l)->address.address().to_string(), (*l)->address.port()).second &&
        (*l)->address.port() != 0) {
      return invalid(join(src.path, "address"), "another listener already uses this address and port");
    }
    snap->listeners.push_back(std::move(*l));
  }
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

}  // namespace trellis::proxy
