// The compiled, immutable configuration the data plane runs on.
//
// The main thread builds a Snapshot from xDS resources or the bootstrap (proxy/snapshot/compile.h)
// and posts a std::shared_ptr<const Snapshot> to every worker. A request holds the snapshot it
// started with until it ends, so a config change never alters a request in flight. Nothing here
// is mutable after compilation; per-worker mutable state (round-robin cursors, connection pools)
// lives in the worker, indexed by Cluster::index.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <re2/re2.h>

#include "proxy/accesslog/access_log.h"
#include "proxy/stats/stats.h"

namespace trellis::proxy {

using Duration = std::chrono::milliseconds;

// The health an endpoint's EDS (or static load_assignment) entry declares. UNKNOWN and HEALTHY
// (and DEGRADED, which Trellis balances like HEALTHY) take traffic; the others do not.
enum class EdsHealth : uint8_t { Unknown, Healthy, Unhealthy, Draining, Timeout, Degraded };
constexpr bool edsRoutable(EdsHealth h) {
  return h == EdsHealth::Unknown || h == EdsHealth::Healthy || h == EdsHealth::Degraded;
}

struct Endpoint {
  boost::asio::ip::tcp::endpoint address;
  uint32_t weight = 1;
  EdsHealth eds_health = EdsHealth::Unknown;
  HostCounters* counters = nullptr;  // owned by the StatsStore, outlives every snapshot
};

// Envoy's Cluster.health_checks[] entry (core.v3.HealthCheck), with Envoy's defaults.
struct HealthCheckConfig {
  enum class Kind : uint8_t { Http, Tcp };
  Kind kind = Kind::Http;
  Duration timeout{1000};   // required in Envoy; compile demands it
  Duration interval{1000};  // required in Envoy; compile demands it
  Duration initial_jitter{0};
  Duration interval_jitter{0};
  uint32_t interval_jitter_percent = 0;
  uint32_t unhealthy_threshold = 1;  // required in Envoy
  uint32_t healthy_threshold = 1;    // required in Envoy
  Duration no_traffic_interval{60000};
  std::optional<Duration> unhealthy_interval;       // default: interval
  std::optional<Duration> unhealthy_edge_interval;  // default: unhealthy_interval
  std::optional<Duration> healthy_edge_interval;    // default: interval
  bool reuse_connection = true;
  // HTTP
  std::string host;  // empty: the cluster's name, as Envoy sends
  std::string path;
  std::vector<std::pair<std::string, std::string>> request_headers;  // request_headers_to_add
  // Half-open [start, end) ranges; empty means 200 only.
  std::vector<std::pair<int64_t, int64_t>> expected_statuses;
  // TCP: bytes to send (empty: connect only) and blocks that must all be found, in order.
  std::string send;
  std::vector<std::string> receive;

  bool operator==(const HealthCheckConfig&) const = default;
};

// Envoy's Cluster.outlier_detection, with Envoy's defaults.
struct OutlierDetectionConfig {
  uint32_t consecutive_5xx = 5;
  uint32_t consecutive_gateway_failure = 5;
  uint32_t enforcing_consecutive_5xx = 100;            // percent
  uint32_t enforcing_consecutive_gateway_failure = 0;  // percent
  Duration interval{10000};
  Duration base_ejection_time{30000};
  Duration max_ejection_time{300000};
  uint32_t max_ejection_percent = 10;

  bool operator==(const OutlierDetectionConfig&) const = default;
};

// Envoy's circuit_breakers.thresholds[] for the DEFAULT priority, with Envoy's defaults.
struct CircuitBreakerConfig {
  uint32_t max_connections = 1024;
  uint32_t max_pending_requests = 1024;
  uint32_t max_requests = 1024;
  uint32_t max_retries = 3;
  // retry_budget: when set, it replaces max_retries. Active retries may be at most
  // budget_percent of active requests, but never fewer than min_retry_concurrency.
  bool has_retry_budget = false;
  double retry_budget_percent = 20.0;
  uint32_t min_retry_concurrency = 3;
};

enum class LbPolicy : uint8_t {
  RoundRobin,    // smooth weighted round robin over the healthy hosts
  LeastRequest,  // power of `choice_count` choices on active requests (weight-adjusted)
  Random,        // weighted random
  PeakEwma,      // Trellis extension: power of two choices on peak-EWMA latency x load
};

enum class DiscoveryType : uint8_t {
  Static,
  Eds,
  // ORIGINAL_DST: no endpoints of its own; each connection goes where its client meant it to
  // go (the downstream connection's original destination).
  OriginalDst,
};

struct Cluster {
  std::string name;
  uint32_t index = 0;  // position in Snapshot::clusters; keys per-worker state
  DiscoveryType type = DiscoveryType::Static;
  Duration connect_timeout{5000};
  std::vector<Endpoint> endpoints;
  // Smooth weighted round-robin order over `endpoints` (indices) by weight, every endpoint
  // included whatever its health: computed once at compile time; each worker walks it with its
  // own cursor and skips the hosts its health view marks unusable.
  std::vector<uint32_t> schedule;
  LbPolicy lb_policy = LbPolicy::RoundRobin;
  uint32_t least_request_choice_count = 2;
  // Peak EWMA: the decay time of the latency average.
  Duration ewma_decay{10000};
  double healthy_panic_threshold = 50.0;  // percent; 0 disables panic routing
  std::vector<HealthCheckConfig> health_checks;  // Trellis runs the first; more are rejected
  std::optional<OutlierDetectionConfig> outlier_detection;
  CircuitBreakerConfig circuit_breakers;
  ClusterStats* stats = nullptr;  // owned by the StatsStore, outlives every snapshot
  ClusterResources* resources = nullptr;  // likewise
  // per_connection_buffer_limit_bytes: as Listener::buffer_limit, for upstream connections.
  uint32_t buffer_limit = 0;
};

struct StringMatch {
  enum class Kind { Exact, Prefix, Suffix, Contains, Regex };
  Kind kind = Kind::Exact;
  std::string value;
  bool ignore_case = false;
  std::shared_ptr<const RE2> regex;  // Kind::Regex only; RE2 is thread-safe for matching

  bool matches(std::string_view s) const;
};

struct HeaderMatch {
  std::string name;  // lower-case; ":method" and ":path" are pseudo-headers
  bool present_only = false;
  bool present_value = true;  // for present_only: whether presence or absence matches
  StringMatch match;
  bool invert = false;
};

struct RouteMatch {
  enum class PathKind { Prefix, Path, Regex };
  PathKind kind = PathKind::Prefix;
  std::string path;
  std::shared_ptr<const RE2> regex;
  bool case_sensitive = true;
  std::vector<HeaderMatch> headers;
};

struct WeightedTarget {
  std::string cluster_name;
  // Index into Snapshot::clusters, or nullopt when the cluster is unknown (503, flag NC).
  std::optional<uint32_t> cluster;
  uint32_t weight = 1;
};

// Envoy's route retry_policy.
struct RetryPolicy {
  // retry_on conditions, as bits.
  enum On : uint32_t {
    k5xx = 1u << 0,                   // "5xx": any 5xx, a reset, a connect failure
    kGatewayError = 1u << 1,          // "gateway-error": 502, 503, 504
    kReset = 1u << 2,                 // "reset": no response (disconnect, reset, read timeout)
    kConnectFailure = 1u << 3,        // "connect-failure"
    kRefusedStream = 1u << 4,         // "refused-stream" (HTTP/2 REFUSED_STREAM; 503 with no body read over HTTP/1)
    kRetriableStatusCodes = 1u << 5,  // "retriable-status-codes"
    kRetriable4xx = 1u << 6,          // "retriable-4xx": 409
    kGrpcUnavailable = 1u << 7,       // "unavailable" (grpc-status 14; accepted, matches once gRPC exists)
    kGrpcCancelled = 1u << 8,         // "cancelled"
    kGrpcDeadlineExceeded = 1u << 9,  // "deadline-exceeded"
    kGrpcResourceExhausted = 1u << 10,  // "resource-exhausted"
    kGrpcInternal = 1u << 11,          // "internal"
  };
  uint32_t retry_on = 0;
  uint32_t num_retries = 1;
  Duration per_try_timeout{0};  // 0: each try may take what is left of the route timeout
  std::vector<uint16_t> retriable_status_codes;
  // retry_host_predicate envoy.retry_host_predicates.previous_hosts
  bool avoid_previous_hosts = false;
  uint32_t host_selection_retry_max_attempts = 1;
  // retry_back_off (Envoy: base 25 ms, max 10 x base); the delay before retry n is drawn from
  // [0, min(max, base * 2^n)).
  Duration back_off_base{25};
  Duration back_off_max{250};
};

struct ForwardAction {
  std::vector<WeightedTarget> targets;
  uint32_t total_weight = 0;
  Duration timeout{15000};  // 0 disables; covers every try
  Duration idle_timeout{0};  // route idle_timeout; 0: the listener's stream idle timeout
  std::optional<std::string> prefix_rewrite;
  // host_rewrite_literal: the Host sent upstream instead of the client's (Envoy's name; what a
  // virtual gateway's route uses to send the target virtual service's name).
  std::optional<std::string> host_rewrite_literal;
  // regex_rewrite: the path (not the query) with every match of the pattern replaced by the
  // substitution (RE2's \1 syntax, as Envoy's); the query is kept. A virtual gateway's
  // whole-path rewrite behind a path.regex match uses "^.*$".
  std::shared_ptr<const RE2> regex_rewrite;
  std::string regex_rewrite_substitution;
  std::optional<RetryPolicy> retry_policy;  // the route's, or else its virtual host's
  // per_request_buffer_limit_bytes (route, else virtual host): the most request body kept for
  // replaying on a retry. A longer body is streamed and its request is not retried.
  uint32_t retry_buffer_limit = 64 * 1024;
};

struct DirectResponse {
  uint16_t status = 200;
  std::string body;
};

struct Route {
  std::string name;
  RouteMatch match;
  std::optional<ForwardAction> forward;       // exactly one of forward and direct is set
  std::optional<DirectResponse> direct;
};

struct VirtualHost {
  std::string name;
  std::vector<std::string> domains;  // lower-case, as configured
  std::vector<Route> routes;
};

// Domain lookup in Envoy's order: exact, then the longest `*suffix`, then the longest
// `prefix*`, then `*`. Built once per route configuration.
class VirtualHostTable;

struct RouteTable {
  std::string name;
  std::vector<VirtualHost> virtual_hosts;
  std::shared_ptr<const VirtualHostTable> lookup;
};

struct HttpOptions {
  Duration idle_timeout{3600 * 1000};   // downstream connection idle; 0 disables
  Duration request_headers_timeout{0};  // 0 disables
  uint32_t max_request_headers_bytes = 60 * 1024;
  uint32_t max_headers_count = 100;
  bool use_remote_address = false;
  bool skip_xff_append = false;
  bool generate_request_id = true;
  bool preserve_external_request_id = false;
};

// envoy.filters.network.http_connection_manager, compiled.
struct HttpConnectionManager {
  std::string stat_prefix;
  HttpOptions http;
  std::shared_ptr<const RouteTable> routes;
  HttpStats* http_stats = nullptr;
  // trellis.filters.http.egress_policy (a Trellis extension): set, a request that matches no
  // route is refused with 403 naming its destination and this reason, counted as the
  // listener's egress_denied_http. Unset: Envoy's 404 NR.
  std::optional<std::string> egress_deny_reason;
  // access_log[] (file loggers), and the request and response headers their formats read,
  // which the request flow captures for them (nothing when there are no access logs).
  std::vector<std::shared_ptr<const accesslog::AccessLog>> access_logs;
  accesslog::HeaderNames access_log_headers;
};

// envoy.filters.network.tcp_proxy, compiled.
struct TcpProxy {
  std::string stat_prefix;
  std::vector<WeightedTarget> targets;  // `cluster` is one target of weight 1
  uint32_t total_weight = 0;
  Duration idle_timeout{3600 * 1000};  // no bytes either way for this long closes; 0 disables
  uint32_t max_connect_attempts = 1;   // hosts tried before the downstream is closed
  TcpProxyStats* stats = nullptr;
};

// filter_chain_match.prefix_ranges[] entry.
struct CidrRange {
  boost::asio::ip::address address;  // masked to prefix_len
  uint8_t prefix_len = 0;
  bool contains(const boost::asio::ip::address& a) const;
  bool operator==(const CidrRange&) const = default;
};

// filter_chain_match, the criteria Trellis evaluates (Envoy's others are refused).
struct FilterChainMatch {
  std::optional<uint16_t> destination_port;
  std::vector<CidrRange> prefix_ranges;          // destination address
  std::vector<std::string> server_names;         // lower-case; "*.example.com" wildcards
  std::string transport_protocol;                // "", "raw_buffer" or "tls"
  std::vector<std::string> application_protocols;  // ALPN, e.g. "h2", "http/1.1"
};

struct FilterChain {
  std::string name;
  FilterChainMatch match;
  // Exactly one of the two network filters.
  std::optional<HttpConnectionManager> http;
  std::optional<TcpProxy> tcp;
};

enum class TrafficDirection : uint8_t { Unspecified, Inbound, Outbound };

struct Listener {
  std::string name;
  // The Listener resource, serialized deterministically: a config update that leaves it
  // unchanged leaves the running listener and its connections untouched.
  std::string source;
  boost::asio::ip::tcp::endpoint address;
  TrafficDirection direction = TrafficDirection::Unspecified;
  // bind_to_port false: never bound; reached only by hand-off from a use_original_dst listener.
  bool bind_to_port = true;
  // use_original_dst: a connection whose original destination is another listener's address
  // is handed to that listener.
  bool use_original_dst = false;
  // Listener filters, in the order Trellis runs them whatever their order in the config.
  bool original_dst_filter = false;  // envoy.filters.listener.original_dst
  bool tls_inspector = false;        // envoy.filters.listener.tls_inspector
  Duration listener_filters_timeout{15000};  // 0 disables
  bool continue_on_listener_filters_timeout = false;
  // filter_chains in config order, then default_filter_chain (if any) as the last entry.
  std::vector<FilterChain> filter_chains;
  std::optional<uint32_t> default_filter_chain;  // index into filter_chains
  // Whether any chain's choice can depend on what the TLS inspector finds (server_names,
  // transport_protocol, application_protocols).
  bool chains_need_tls = false;
  ListenerStats* listener_stats = nullptr;
  // The listener's open connections and its limit (runtime key
  // envoy.resource_limits.listener.<name>.connection_limit), shared by the workers and kept
  // across updates of the listener by name.
  ConnectionCount* connections = nullptr;
  // per_connection_buffer_limit_bytes: the most bytes read from a downstream connection at a
  // time. Trellis forwards what it read before reading more, so this bounds what a connection
  // holds per direction (a request head excepted: max_request_headers_kb bounds it). 0: one
  // standard block (BufferPool::kBlockSize, 16 KiB).
  uint32_t buffer_limit = 0;
};

struct Snapshot {
  std::string version;
  std::vector<std::shared_ptr<const Listener>> listeners;
  std::vector<std::shared_ptr<const Cluster>> clusters;

  const Listener* findListener(const std::string& name) const;
  // The listener a use_original_dst listener hands a connection to: one whose address is
  // exactly `destination`, else one on the wildcard address of that family and port. Never
  // `self`.
  const Listener* findHandoffListener(const boost::asio::ip::tcp::endpoint& destination, const Listener* self) const;
};

}  // namespace trellis::proxy
