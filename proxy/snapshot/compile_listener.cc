// Listener -> runtime Listener: the listener filters, the filter chains with their match
// criteria, and each chain's network filter (the HTTP connection manager or the TCP proxy).
#include <algorithm>
#include <set>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/listener/original_dst/v3/original_dst.pb.h"
#include "envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "proxy/router/router.h"
#include "proxy/snapshot/compile_internal.h"
#include "trellis/extensions/filters/http/egress_policy/v1/egress_policy.pb.h"

namespace trellis::proxy::compile_internal {

namespace {

namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;
namespace tcpv3 = envoy::extensions::filters::network::tcp_proxy::v3;
namespace lv3 = envoy::config::listener::v3;
namespace route = envoy::config::route::v3;
using EgressPolicyProto = trellis::extensions::filters::http::egress_policy::v1::EgressPolicy;
using RdsMap = absl::flat_hash_map<std::string, const Sourced<route::RouteConfiguration>*>;

constexpr char kHcmName[] = "envoy.filters.network.http_connection_manager";
constexpr char kTcpProxyName[] = "envoy.filters.network.tcp_proxy";
constexpr char kRouterName[] = "envoy.filters.http.router";
constexpr char kEgressPolicyName[] = "trellis.filters.http.egress_policy";
constexpr char kOriginalDstName[] = "envoy.filters.listener.original_dst";
constexpr char kTlsInspectorName[] = "envoy.filters.listener.tls_inspector";

// A filter is named by its `name` or, as Envoy also allows, only by its typed_config's type.
template <class Proto>
bool names(const std::string& name, const google::protobuf::Any& config, const char* wanted) {
  return name == wanted || config.Is<Proto>();
}

template <class Proto>
absl::StatusOr<Proto> unpack(const google::protobuf::Any& any, const std::string& path) {
  Proto p;
  if (!any.UnpackTo(&p)) {
    return invalid(path, absl::StrCat("expected type.googleapis.com/", Proto::descriptor()->full_name(), ", got ",
                                      any.type_url().empty() ? "nothing" : any.type_url()));
  }
  return p;
}

absl::Status compileHttpFilters(const hcm::HttpConnectionManager& h, const std::string& hp, HttpConnectionManager& out) {
  if (h.http_filters_size() == 0) return invalid(join(hp, "http_filters"), absl::StrCat("the ", kRouterName, " filter is required"));
  for (int i = 0; i < h.http_filters_size(); ++i) {
    const std::string hfp = absl::StrCat(hp, ".http_filters[", i, "]");
    const auto& hf = h.http_filters(i);
    if (auto st = onlyFields(hf, hfp, {"name", "typed_config"}); !st.ok()) return st;
    const bool last = i == h.http_filters_size() - 1;
    if (names<envoy::extensions::filters::http::router::v3::Router>(hf.name(), hf.typed_config(), kRouterName)) {
      if (!last) return invalid(hfp, "the router filter must be the last HTTP filter");
      if (hf.has_typed_config()) {
        auto r = unpack<envoy::extensions::filters::http::router::v3::Router>(hf.typed_config(), join(hfp, "typed_config"));
        if (!r.ok()) return r.status();
        if (auto st = onlyFields(*r, join(hfp, "typed_config"), {"dynamic_stats", "suppress_envoy_headers"}); !st.ok()) return st;
      }
      continue;
    }
    if (names<EgressPolicyProto>(hf.name(), hf.typed_config(), kEgressPolicyName)) {
      if (last) return invalid(hfp, "the router filter must be the last HTTP filter");
      if (out.egress_deny_reason) return invalid(hfp, "a second egress_policy filter");
      auto e = unpack<EgressPolicyProto>(hf.typed_config(), join(hfp, "typed_config"));
      if (!e.ok()) return e.status();
      out.egress_deny_reason = e->reason().empty() ? std::string("the mesh's egress filter does not allow it")
                                                   : e->reason();
      continue;
    }
    return invalid(join(hfp, "name"), absl::StrCat("HTTP filter '", hf.name(), "' is not supported yet (", kEgressPolicyName,
                                                   " and ", kRouterName, " are)"));
  }
  if (!out.egress_deny_reason && h.http_filters_size() > 1) {
    return invalid(join(hp, "http_filters"), "only the router filter (with an optional egress_policy before it) is supported");
  }
  return absl::OkStatus();
}

absl::StatusOr<HttpConnectionManager> compileHcm(const google::protobuf::Any& config, const std::string& fp, const RdsMap& rds,
                                                 const std::vector<std::shared_ptr<const Cluster>>& clusters,
                                                 bool require_known_clusters, StatsStore& stats,
                                                 accesslog::LogFiles* log_files) {
  const std::string hp = join(fp, "typed_config");
  auto parsed = unpack<hcm::HttpConnectionManager>(config, hp);
  if (!parsed.ok()) return parsed.status();
  const hcm::HttpConnectionManager& h = *parsed;
  if (auto st = onlyFields(h, hp, {"codec_type", "stat_prefix", "rds", "route_config", "http_filters",
                                   "common_http_protocol_options", "request_headers_timeout", "max_request_headers_kb",
                                   "use_remote_address", "skip_xff_append", "generate_request_id",
                                   "preserve_external_request_id", "access_log"});
      !st.ok()) {
    return st;
  }
  HttpConnectionManager out;
  if (h.codec_type() != hcm::HttpConnectionManager::AUTO && h.codec_type() != hcm::HttpConnectionManager::HTTP1) {
    return invalid(join(hp, "codec_type"), absl::StrCat(hcm::HttpConnectionManager::CodecType_Name(h.codec_type()),
                                                       " is not supported yet (AUTO and HTTP1 are; both mean HTTP/1.x)"));
  }
  if (h.stat_prefix().empty()) return invalid(join(hp, "stat_prefix"), "a stat_prefix is required");
  out.stat_prefix = h.stat_prefix();
  if (auto st = compileHttpFilters(h, hp, out); !st.ok()) return st;
  HttpOptions& opts = out.http;
  if (h.has_common_http_protocol_options()) {
    const auto& po = h.common_http_protocol_options();
    const std::string pp = join(hp, "common_http_protocol_options");
    if (auto st = onlyFields(po, pp, {"idle_timeout", "max_headers_count"}); !st.ok()) return st;
    if (po.has_idle_timeout()) opts.idle_timeout = toDuration(po.idle_timeout());
    if (po.has_max_headers_count()) {
      if (po.max_headers_count().value() < 1) return invalid(join(pp, "max_headers_count"), "must be at least 1");
      opts.max_headers_count = po.max_headers_count().value();
    }
  }
  if (h.has_request_headers_timeout()) opts.request_headers_timeout = toDuration(h.request_headers_timeout());
  if (h.has_max_request_headers_kb()) {
    uint32_t kb = h.max_request_headers_kb().value();
    if (kb < 1 || kb > 8192) return invalid(join(hp, "max_request_headers_kb"), absl::StrCat(kb, " is out of range (1-8192)"));
    opts.max_request_headers_bytes = kb * 1024;
  }
  opts.use_remote_address = h.has_use_remote_address() && h.use_remote_address().value();
  opts.skip_xff_append = h.skip_xff_append();
  opts.generate_request_id = !h.has_generate_request_id() || h.generate_request_id().value();
  opts.preserve_external_request_id = h.preserve_external_request_id();

  if (h.has_route_config()) {
    auto rt = compileRouteTable(h.route_config(), join(hp, "route_config"), clusters, require_known_clusters);
    if (!rt.ok()) return rt.status();
    out.routes = *rt;
  } else if (h.has_rds()) {
    const std::string rp = join(hp, "rds");
    if (auto st = onlyFields(h.rds(), rp, {"config_source", "route_config_name"}); !st.ok()) return st;
    auto it = rds.find(h.rds().route_config_name());
    if (it == rds.end()) {
      // Not delivered yet: an empty table answers 404 until it is.
      auto empty = std::make_shared<RouteTable>();
      empty->name = h.rds().route_config_name();
      empty->lookup = std::make_shared<VirtualHostTable>(empty->virtual_hosts);
      out.routes = std::move(empty);
    } else {
      auto rt = compileRouteTable(it->second->resource, it->second->path, clusters, false);
      if (!rt.ok()) return rt.status();
      out.routes = *rt;
    }
  } else {
    return invalid(hp, "one of route_config or rds is required");
  }
  auto logs = compileAccessLogs(h.access_log(), join(hp, "access_log"), out.access_log_headers, log_files);
  if (!logs.ok()) return logs.status();
  out.access_logs = std::move(*logs);
  out.http_stats = stats.http(out.stat_prefix);
  return out;
}

absl::StatusOr<TcpProxy> compileTcpProxy(const google::protobuf::Any& config, const std::string& fp,
                                         const std::vector<std::shared_ptr<const Cluster>>& clusters,
                                         bool require_known_clusters, StatsStore& stats) {
  const std::string tp = join(fp, "typed_config");
  auto parsed = unpack<tcpv3::TcpProxy>(config, tp);
  if (!parsed.ok()) return parsed.status();
  const tcpv3::TcpProxy& t = *parsed;
  if (auto st = onlyFields(t, tp, {"stat_prefix", "cluster", "weighted_clusters", "idle_timeout", "max_connect_attempts"});
      !st.ok()) {
    return st;
  }
  TcpProxy out;
  if (t.stat_prefix().empty()) return invalid(join(tp, "stat_prefix"), "a stat_prefix is required");
  out.stat_prefix = t.stat_prefix();
  auto resolve = [&](const std::string& name, const std::string& p) -> absl::StatusOr<std::optional<uint32_t>> {
    if (name.empty()) return invalid(p, "a cluster name is required");
    for (const auto& c : clusters) {
      if (c->name == name) return std::optional<uint32_t>(c->index);
    }
    if (require_known_clusters) return invalid(p, absl::StrCat("unknown cluster '", name, "'"));
    return std::optional<uint32_t>();  // not delivered yet: the connection is closed (no route)
  };
  if (t.cluster_specifier_case() == tcpv3::TcpProxy::kCluster) {
    auto idx = resolve(t.cluster(), join(tp, "cluster"));
    if (!idx.ok()) return idx.status();
    out.targets.push_back(WeightedTarget{t.cluster(), *idx, 1});
    out.total_weight = 1;
  } else if (t.cluster_specifier_case() == tcpv3::TcpProxy::kWeightedClusters) {
    const std::string wp = join(tp, "weighted_clusters");
    if (auto st = onlyFields(t.weighted_clusters(), wp, {"clusters"}); !st.ok()) return st;
    if (t.weighted_clusters().clusters_size() == 0) return invalid(join(wp, "clusters"), "at least one cluster is required");
    uint64_t sum = 0;
    for (int i = 0; i < t.weighted_clusters().clusters_size(); ++i) {
      const std::string cp = absl::StrCat(wp, ".clusters[", i, "]");
      const auto& c = t.weighted_clusters().clusters(i);
      if (auto st = onlyFields(c, cp, {"name", "weight"}); !st.ok()) return st;
      auto idx = resolve(c.name(), join(cp, "name"));
      if (!idx.ok()) return idx.status();
      if (c.weight() < 1) return invalid(join(cp, "weight"), "must be at least 1");
      sum += c.weight();
      out.targets.push_back(WeightedTarget{c.name(), *idx, c.weight()});
    }
    if (sum > 0xffffffffULL) return invalid(join(wp, "clusters"), "the weights sum to more than 2^32-1");
    out.total_weight = static_cast<uint32_t>(sum);
  } else {
    return invalid(tp, "one of cluster or weighted_clusters is required");
  }
  if (t.has_idle_timeout()) {
    auto d = nonNegativeDuration(t.idle_timeout(), join(tp, "idle_timeout"));
    if (!d.ok()) return d.status();
    out.idle_timeout = *d;
  }
  if (t.has_max_connect_attempts()) {
    if (t.max_connect_attempts().value() < 1) return invalid(join(tp, "max_connect_attempts"), "must be at least 1");
    out.max_connect_attempts = t.max_connect_attempts().value();
  }
  out.stats = stats.tcpProxy(out.stat_prefix);
  return out;
}

absl::StatusOr<CidrRange> compileCidr(const envoy::config::core::v3::CidrRange& r, const std::string& p) {
  if (auto st = onlyFields(r, p, {"address_prefix", "prefix_len"}); !st.ok()) return st;
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(r.address_prefix(), ec);
  if (ec) return invalid(join(p, "address_prefix"), absl::StrCat("'", r.address_prefix(), "' is not an IP address"));
  const uint32_t max = addr.is_v4() ? 32 : 128;
  const uint32_t len = r.has_prefix_len() ? r.prefix_len().value() : max;
  if (len > max) return invalid(join(p, "prefix_len"), absl::StrCat(len, " is longer than the address (at most ", max, ")"));
  CidrRange out;
  out.prefix_len = static_cast<uint8_t>(len);
  // Masked, so "10.1.2.3/8" and "10.0.0.0/8" are the same range (as in Envoy).
  if (addr.is_v4()) {
    uint32_t v = addr.to_v4().to_uint();
    uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
    out.address = boost::asio::ip::address_v4(v & mask);
  } else {
    auto bytes = addr.to_v6().to_bytes();
    for (size_t i = 0; i < bytes.size(); ++i) {
      const int bits = std::clamp(static_cast<int>(len) - static_cast<int>(i) * 8, 0, 8);
      bytes[i] &= static_cast<uint8_t>(bits == 0 ? 0 : 0xff << (8 - bits));
    }
    out.address = boost::asio::ip::address_v6(bytes);
  }
  return out;
}

absl::StatusOr<FilterChainMatch> compileChainMatch(const lv3::FilterChainMatch& m, const std::string& mp) {
  if (auto st = onlyFields(m, mp, {"destination_port", "prefix_ranges", "server_names", "transport_protocol",
                                   "application_protocols"});
      !st.ok()) {
    return st;
  }
  FilterChainMatch out;
  if (m.has_destination_port()) {
    const uint32_t port = m.destination_port().value();
    if (port < 1 || port > 65535) return invalid(join(mp, "destination_port"), absl::StrCat(port, " is not a port (1-65535)"));
    out.destination_port = static_cast<uint16_t>(port);
  }
  for (int i = 0; i < m.prefix_ranges_size(); ++i) {
    auto r = compileCidr(m.prefix_ranges(i), absl::StrCat(mp, ".prefix_ranges[", i, "]"));
    if (!r.ok()) return r.status();
    out.prefix_ranges.push_back(*r);
  }
  for (int i = 0; i < m.server_names_size(); ++i) {
    const std::string sp = absl::StrCat(mp, ".server_names[", i, "]");
    std::string name = absl::AsciiStrToLower(m.server_names(i));
    if (name.empty()) return invalid(sp, "an empty server name matches nothing");
    const size_t star = name.find('*');
    if (star != std::string::npos && (star != 0 || name.size() < 3 || name[1] != '.' || name.find('*', 1) != std::string::npos)) {
      return invalid(sp, absl::StrCat("'", name, "': a wildcard must be a leading \"*.\" (e.g. *.example.com)"));
    }
    out.server_names.push_back(std::move(name));
  }
  const std::string& tp = m.transport_protocol();
  if (!tp.empty() && tp != "raw_buffer" && tp != "tls") {
    return invalid(join(mp, "transport_protocol"), absl::StrCat("'", tp, "' is not known (raw_buffer and tls are)"));
  }
  out.transport_protocol = tp;
  for (const auto& a : m.application_protocols()) out.application_protocols.push_back(a);
  return out;
}

// Whether two chains' criteria are the same (Envoy rejects a listener with two such chains: one
// of them could never be chosen).
bool sameMatch(const FilterChainMatch& a, const FilterChainMatch& b) {
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  auto sortedRanges = [](std::vector<CidrRange> v) {
    std::sort(v.begin(), v.end(), [](const CidrRange& x, const CidrRange& y) {
      return std::make_pair(x.address, x.prefix_len) < std::make_pair(y.address, y.prefix_len);
    });
    return v;
  };
  return a.destination_port == b.destination_port && sortedRanges(a.prefix_ranges) == sortedRanges(b.prefix_ranges) &&
         sorted(a.server_names) == sorted(b.server_names) && a.transport_protocol == b.transport_protocol &&
         sorted(a.application_protocols) == sorted(b.application_protocols);
}

absl::StatusOr<FilterChain> compileChain(const lv3::FilterChain& fc, const std::string& fcp, const RdsMap& rds,
                                         const std::vector<std::shared_ptr<const Cluster>>& clusters,
                                         bool require_known_clusters, StatsStore& stats, bool is_default,
                                         accesslog::LogFiles* log_files) {
  if (auto st = onlyFields(fc, fcp, {"filter_chain_match", "filters", "name"}); !st.ok()) return st;
  FilterChain out;
  out.name = fc.name();
  if (fc.has_filter_chain_match()) {
    if (is_default) return invalid(join(fcp, "filter_chain_match"), "the default filter chain takes no match");
    auto m = compileChainMatch(fc.filter_chain_match(), join(fcp, "filter_chain_match"));
    if (!m.ok()) return m.status();
    out.match = std::move(*m);
  }
  if (fc.filters_size() != 1) {
    return invalid(join(fcp, "filters"), absl::StrCat("exactly one network filter (", kHcmName, " or ", kTcpProxyName,
                                                      ") is supported, got ", fc.filters_size()));
  }
  const std::string fp = join(fcp, "filters[0]");
  const auto& f = fc.filters(0);
  if (auto st = onlyFields(f, fp, {"name", "typed_config"}); !st.ok()) return st;
  if (names<hcm::HttpConnectionManager>(f.name(), f.typed_config(), kHcmName)) {
    auto h = compileHcm(f.typed_config(), fp, rds, clusters, require_known_clusters, stats, log_files);
    if (!h.ok()) return h.status();
    out.http = std::move(*h);
  } else if (names<tcpv3::TcpProxy>(f.name(), f.typed_config(), kTcpProxyName)) {
    auto t = compileTcpProxy(f.typed_config(), fp, clusters, require_known_clusters, stats);
    if (!t.ok()) return t.status();
    out.tcp = std::move(*t);
  } else {
    return invalid(join(fp, "name"), absl::StrCat("network filter '", f.name(), "' is not supported yet (", kHcmName, " and ",
                                                  kTcpProxyName, " are)"));
  }
  return out;
}

absl::Status compileListenerFilters(const lv3::Listener& l, const std::string& path, Listener& out) {
  for (int i = 0; i < l.listener_filters_size(); ++i) {
    const std::string fp = absl::StrCat(path, ".listener_filters[", i, "]");
    const auto& f = l.listener_filters(i);
    if (auto st = onlyFields(f, fp, {"name", "typed_config"}); !st.ok()) return st;
    if (names<envoy::extensions::filters::listener::original_dst::v3::OriginalDst>(f.name(), f.typed_config(),
                                                                                   kOriginalDstName)) {
      if (f.has_typed_config()) {
        auto o = unpack<envoy::extensions::filters::listener::original_dst::v3::OriginalDst>(f.typed_config(),
                                                                                            join(fp, "typed_config"));
        if (!o.ok()) return o.status();
      }
      if (out.original_dst_filter) return invalid(fp, "original_dst appears twice");
      out.original_dst_filter = true;
    } else if (names<envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector>(f.name(), f.typed_config(),
                                                                                            kTlsInspectorName)) {
      if (f.has_typed_config()) {
        auto t = unpack<envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector>(f.typed_config(),
                                                                                              join(fp, "typed_config"));
        if (!t.ok()) return t.status();
        if (auto st = onlyFields(*t, join(fp, "typed_config"), {"enable_ja3_fingerprinting", "initial_read_buffer_size"});
            !st.ok()) {
          return st;
        }
        if (t->has_enable_ja3_fingerprinting() && t->enable_ja3_fingerprinting().value()) {
          return invalid(join(fp, "typed_config.enable_ja3_fingerprinting"), "JA3 fingerprinting is not supported yet");
        }
      }
      if (out.tls_inspector) return invalid(fp, "tls_inspector appears twice");
      out.tls_inspector = true;
    } else {
      return invalid(join(fp, "name"), absl::StrCat("listener filter '", f.name(), "' is not supported yet (",
                                                    kOriginalDstName, " and ", kTlsInspectorName, " are)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Listener>> compileListener(const lv3::Listener& l, const std::string& path,
                                                                const RdsMap& rds,
                                                                const std::vector<std::shared_ptr<const Cluster>>& clusters,
                                                                bool require_known_clusters, StatsStore& stats,
                                                                accesslog::LogFiles* log_files,
                                                                int64_t connection_limit) {
  if (auto st = onlyFields(l, path, {"name", "address", "filter_chains", "default_filter_chain", "traffic_direction",
                                     "listener_filters", "listener_filters_timeout",
                                     "continue_on_listener_filters_timeout", "use_original_dst", "bind_to_port",
                                     "per_connection_buffer_limit_bytes"});
      !st.ok()) {
    return st;
  }
  if (l.name().empty()) return invalid(join(path, "name"), "a listener name is required");
  auto out = std::make_shared<Listener>();
  if (l.has_per_connection_buffer_limit_bytes()) {
    if (l.per_connection_buffer_limit_bytes().value() == 0) {
      return invalid(join(path, "per_connection_buffer_limit_bytes"), "must be greater than 0");
    }
    out->buffer_limit = l.per_connection_buffer_limit_bytes().value();
  }
  out->name = l.name();
  {
    google::protobuf::io::StringOutputStream stream(&out->source);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    l.SerializeToCodedStream(&coded);
  }
  auto addr = toEndpoint(l.address(), join(path, "address"));
  if (!addr.ok()) return addr.status();
  out->address = *addr;
  switch (l.traffic_direction()) {
    case envoy::config::core::v3::INBOUND: out->direction = TrafficDirection::Inbound; break;
    case envoy::config::core::v3::OUTBOUND: out->direction = TrafficDirection::Outbound; break;
    default: out->direction = TrafficDirection::Unspecified; break;
  }
  out->bind_to_port = !l.has_bind_to_port() || l.bind_to_port().value();
  out->use_original_dst = l.has_use_original_dst() && l.use_original_dst().value();
  if (out->use_original_dst && !out->bind_to_port) {
    return invalid(join(path, "use_original_dst"), "a listener that is not bound (bind_to_port false) receives no "
                                                   "connections to hand off");
  }
  if (auto st = compileListenerFilters(l, path, *out); !st.ok()) return st;
  if (l.has_listener_filters_timeout()) {
    auto d = nonNegativeDuration(l.listener_filters_timeout(), join(path, "listener_filters_timeout"));
    if (!d.ok()) return d.status();
    out->listener_filters_timeout = *d;
  }
  out->continue_on_listener_filters_timeout = l.continue_on_listener_filters_timeout();

  if (l.filter_chains_size() == 0 && !l.has_default_filter_chain()) {
    return invalid(join(path, "filter_chains"), "at least one filter chain (or a default_filter_chain) is required");
  }
  std::set<std::string> chain_names;
  for (int i = 0; i < l.filter_chains_size(); ++i) {
    const std::string fcp = absl::StrCat(path, ".filter_chains[", i, "]");
    auto fc = compileChain(l.filter_chains(i), fcp, rds, clusters, require_known_clusters, stats, false, log_files);
    if (!fc.ok()) return fc.status();
    if (!fc->name.empty() && !chain_names.insert(fc->name).second) {
      return invalid(join(fcp, "name"), absl::StrCat("duplicate filter chain name '", fc->name, "'"));
    }
    for (int j = 0; j < i; ++j) {
      if (sameMatch(out->filter_chains[j].match, fc->match)) {
        return invalid(join(fcp, "filter_chain_match"),
                       absl::StrCat("the same match as filter_chains[", j, "]: one of them could never be chosen"));
      }
    }
    if (!fc->match.server_names.empty() || !fc->match.transport_protocol.empty() ||
        !fc->match.application_protocols.empty()) {
      if (!out->tls_inspector && (!fc->match.server_names.empty() || fc->match.transport_protocol == "tls" ||
                                  !fc->match.application_protocols.empty())) {
        return invalid(join(fcp, "filter_chain_match"),
                       absl::StrCat("server_names, transport_protocol tls and application_protocols need the ",
                                    kTlsInspectorName, " listener filter"));
      }
      out->chains_need_tls = true;
    }
    out->filter_chains.push_back(std::move(*fc));
  }
  if (l.has_default_filter_chain()) {
    auto fc = compileChain(l.default_filter_chain(), join(path, "default_filter_chain"), rds, clusters,
                           require_known_clusters, stats, true, log_files);
    if (!fc.ok()) return fc.status();
    out->default_filter_chain = static_cast<uint32_t>(out->filter_chains.size());
    out->filter_chains.push_back(std::move(*fc));
  }
  std::string addr_name = absl::StrCat(out->address.address().to_string(), "_", out->address.port());
  out->listener_stats = stats.listener(addr_name);
  if (connection_limit > 0) {
    // Counted only when limited: an unlimited listener costs its connections no shared write.
    out->connections = stats.listenerConnections(out->name);
    out->connections->max.store(connection_limit, std::memory_order_relaxed);
  }
  return std::shared_ptr<const Listener>(std::move(out));
}

}  // namespace trellis::proxy::compile_internal
