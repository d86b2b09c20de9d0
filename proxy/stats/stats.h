// Counters and gauges, sharded per worker so the data path never contends.
//
// Each stats block (per listener, per HTTP connection manager stat_prefix, per cluster) holds
// one cache-line-aligned shard per thread. A worker only writes its own shard, with relaxed
// atomics (a plain load and store on x86, no lock prefix); the admin endpoint sums the shards.
// Blocks are created by the main thread while it compiles a snapshot and live as long as the
// StatsStore, so a snapshot swap never invalidates a pointer a request holds. Stats are
// declared once in the ALL_*_STATS lists below: a new counter is one line, and the admin
// page prints it with no further code.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/stats/connection_count.h"
#include "proxy/stats/histogram.h"

namespace trellis::proxy {

// Why a request ended the way it did, in Envoy's letters (access log and stats).
#define ALL_RESPONSE_FLAGS(FLAG)                                                        \
  FLAG(NR) /* no route */                                                               \
  FLAG(NC) /* route names a cluster that is not (yet) known */                          \
  FLAG(UH) /* no healthy upstream endpoint */                                           \
  FLAG(UF) /* upstream connection failure */                                            \
  FLAG(UT) /* upstream request timeout */                                               \
  FLAG(UC) /* upstream connection terminated */                                         \
  FLAG(UPE) /* upstream protocol error */                                               \
  FLAG(DC) /* downstream connection terminated */                                       \
  FLAG(DPE) /* downstream protocol error */                                             \
  FLAG(UO) /* upstream overflow: a circuit breaker is open */                           \
  FLAG(URX) /* upstream retry limit exceeded */                                         \
  FLAG(SI) /* stream idle timeout (the route's idle_timeout) */                         \
  FLAG(UMSDR) /* upstream request reached its max stream duration */                    \
  FLAG(DI) /* delay injected (never set: Trellis injects no faults yet) */

enum class ResponseFlag : uint8_t {
#define TRELLIS_FLAG_ENUM(f) f,
  ALL_RESPONSE_FLAGS(TRELLIS_FLAG_ENUM)
#undef TRELLIS_FLAG_ENUM
      Count
};
constexpr size_t kResponseFlagCount = static_cast<size_t>(ResponseFlag::Count);
std::string_view responseFlagName(ResponseFlag f);

#define ALL_HTTP_STATS(COUNTER, GAUGE, HISTOGRAM) \
  COUNTER(downstream_rq_total)         \
  COUNTER(downstream_rq_1xx)           \
  COUNTER(downstream_rq_2xx)           \
  COUNTER(downstream_rq_3xx)           \
  COUNTER(downstream_rq_4xx)           \
  COUNTER(downstream_rq_5xx)           \
  COUNTER(downstream_rq_completed)     \
  GAUGE(downstream_rq_active)          \
  COUNTER(downstream_rq_timeout)       \
  COUNTER(downstream_rq_http1_total)   \
  COUNTER(downstream_cx_protocol_error) \
  COUNTER(downstream_cx_idle_timeout)  \
  COUNTER(downstream_cx_drain_close)   \
  COUNTER(rq_direct_response)          \
  COUNTER(no_route)                    \
  COUNTER(no_cluster)                  \
  HISTOGRAM(downstream_rq_time) /* head received -> last response byte written */

#define ALL_LISTENER_STATS(COUNTER, GAUGE, HISTOGRAM) \
  COUNTER(downstream_cx_total)             \
  GAUGE(downstream_cx_active)              \
  COUNTER(downstream_cx_destroy)           \
  COUNTER(no_filter_chain_match)           \
  COUNTER(downstream_listener_filter_error) \
  COUNTER(downstream_pre_cx_timeout)       \
  GAUGE(downstream_pre_cx_active)          \
  COUNTER(original_dst_handoff)            \
  COUNTER(egress_denied_http)              \
  COUNTER(egress_denied_tcp)               \
  COUNTER(egress_denied_tls)              \
  COUNTER(downstream_cx_accept_backoff)    \
  COUNTER(downstream_cx_overflow)          \
  COUNTER(downstream_global_cx_overflow)

// envoy.filters.network.tcp_proxy, as "tcp.<stat_prefix>.<name>" (Envoy's names).
#define ALL_TCP_PROXY_STATS(COUNTER, GAUGE, HISTOGRAM)     \
  COUNTER(downstream_cx_total)                  \
  COUNTER(downstream_cx_no_route)               \
  COUNTER(downstream_cx_tx_bytes_total)         \
  GAUGE(downstream_cx_tx_bytes_buffered)        \
  COUNTER(downstream_cx_rx_bytes_total)         \
  GAUGE(downstream_cx_rx_bytes_buffered)        \
  COUNTER(downstream_flow_control_paused_reading_total) \
  COUNTER(downstream_flow_control_resumed_reading_total) \
  COUNTER(idle_timeout)                         \
  COUNTER(max_downstream_connection_duration)   \
  COUNTER(upstream_flush_total)                 \
  GAUGE(upstream_flush_active)

#define ALL_CLUSTER_STATS(COUNTER, GAUGE, HISTOGRAM) \
  COUNTER(upstream_cx_total)              \
  GAUGE(upstream_cx_active)               \
  COUNTER(upstream_cx_connect_fail)       \
  COUNTER(upstream_cx_connect_timeout)    \
  COUNTER(upstream_cx_destroy_remote)     \
  COUNTER(upstream_cx_pool_reuse)         \
  COUNTER(upstream_cx_rx_bytes_total)     \
  COUNTER(upstream_cx_tx_bytes_total)     \
  COUNTER(upstream_cx_none_healthy)       \
  COUNTER(upstream_rq_total)              \
  GAUGE(upstream_rq_active)               \
  COUNTER(upstream_rq_1xx)                \
  COUNTER(upstream_rq_2xx)                \
  COUNTER(upstream_rq_3xx)                \
  COUNTER(upstream_rq_4xx)                \
  COUNTER(upstream_rq_5xx)                \
  COUNTER(upstream_rq_timeout)            \
  COUNTER(upstream_rq_rx_reset)           \
  COUNTER(upstream_cx_protocol_error)     \
  COUNTER(upstream_rq_no_healthy)         \
  COUNTER(upstream_rq_per_try_timeout)    \
  COUNTER(upstream_rq_retry)              \
  COUNTER(upstream_rq_retry_success)      \
  COUNTER(upstream_rq_retry_overflow)     \
  COUNTER(upstream_rq_retry_limit_exceeded) \
  COUNTER(upstream_rq_retry_backoff_exponential) \
  COUNTER(upstream_rq_pending_total)      \
  GAUGE(upstream_rq_pending_active)       \
  COUNTER(upstream_rq_pending_overflow)   \
  COUNTER(upstream_cx_overflow)           \
  COUNTER(retry_or_shadow_abandoned)     \
  COUNTER(lb_healthy_panic)               \
  GAUGE(membership_healthy)               \
  GAUGE(membership_total)                 \
  HISTOGRAM(upstream_cx_connect_ms) /* connect started -> established */ \
  HISTOGRAM(upstream_cx_length_ms) /* established -> closed */          \
  HISTOGRAM(upstream_rq_time) /* request sent upstream -> response complete */

// cluster.X.health_check.* (written by the health checker on the main thread's shard).
#define ALL_HEALTH_CHECK_STATS(COUNTER, GAUGE, HISTOGRAM) \
  COUNTER(attempt)                             \
  COUNTER(success)                             \
  COUNTER(failure)                             \
  COUNTER(network_failure)                     \
  COUNTER(passive_failure)                     \
  COUNTER(verify_cluster)                      \
  GAUGE(healthy)

// cluster.X.outlier_detection.* (detections counted where they happen; ejections by the
// detector on the main thread's shard).
#define ALL_OUTLIER_DETECTION_STATS(COUNTER, GAUGE, HISTOGRAM)    \
  COUNTER(ejections_enforced_total)                    \
  GAUGE(ejections_active)                              \
  COUNTER(ejections_overflow)                          \
  COUNTER(ejections_enforced_consecutive_5xx)          \
  COUNTER(ejections_detected_consecutive_5xx)          \
  COUNTER(ejections_enforced_consecutive_gateway_failure) \
  COUNTER(ejections_detected_consecutive_gateway_failure) \
  COUNTER(ejections_total)

using Counter = std::atomic<uint64_t>;
using Gauge = std::atomic<int64_t>;

// Only the owning thread writes a shard: a relaxed load and store is enough and costs no
// locked instruction.
inline void inc(Counter& c) { c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
inline void add(Gauge& g, int64_t d) {
  g.store(g.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
}

#define TRELLIS_DECLARE_COUNTER(n) Counter n{0};
#define TRELLIS_DECLARE_GAUGE(n) Gauge n{0};
#define TRELLIS_DECLARE_HISTOGRAM(n) HistogramShard n;
#define TRELLIS_NO_STAT(n)
#define TRELLIS_VISIT_HISTOGRAM(n) fn(#n, n);
#define TRELLIS_VISIT_COUNTER(n) fn(#n, static_cast<int64_t>(n.load(std::memory_order_relaxed)), false);
#define TRELLIS_VISIT_GAUGE(n) fn(#n, n.load(std::memory_order_relaxed), true);
// For a section of a block: its stats are named "<section>.<stat>".
#define TRELLIS_VISIT_SECTION_COUNTER(n) \
  fn(kSection + #n, static_cast<int64_t>(n.load(std::memory_order_relaxed)), false);
#define TRELLIS_VISIT_SECTION_GAUGE(n) fn(kSection + #n, n.load(std::memory_order_relaxed), true);

struct alignas(64) HttpStatsShard {
  ALL_HTTP_STATS(TRELLIS_DECLARE_COUNTER, TRELLIS_DECLARE_GAUGE, TRELLIS_DECLARE_HISTOGRAM)
  std::array<Counter, kResponseFlagCount> response_flags{};
  template <class Fn>
  void visit(Fn&& fn) const {
    ALL_HTTP_STATS(TRELLIS_VISIT_COUNTER, TRELLIS_VISIT_GAUGE, TRELLIS_NO_STAT)
  }
  template <class Fn>
  void visitHistograms(Fn&& fn) const {
    ALL_HTTP_STATS(TRELLIS_NO_STAT, TRELLIS_NO_STAT, TRELLIS_VISIT_HISTOGRAM)
  }
};

struct alignas(64) ListenerStatsShard {
  ALL_LISTENER_STATS(TRELLIS_DECLARE_COUNTER, TRELLIS_DECLARE_GAUGE, TRELLIS_DECLARE_HISTOGRAM)
  template <class Fn>
  void visit(Fn&& fn) const {
    ALL_LISTENER_STATS(TRELLIS_VISIT_COUNTER, TRELLIS_VISIT_GAUGE, TRELLIS_NO_STAT)
  }
};

struct alignas(64) TcpProxyStatsShard {
  ALL_TCP_PROXY_STATS(TRELLIS_DECLARE_COUNTER, TRELLIS_DECLARE_GAUGE, TRELLIS_DECLARE_HISTOGRAM)
  template <class Fn>
  void visit(Fn&& fn) const {
    ALL_TCP_PROXY_STATS(TRELLIS_VISIT_COUNTER, TRELLIS_VISIT_GAUGE, TRELLIS_NO_STAT)
  }
};

struct HealthCheckStats {
  ALL_HEALTH_CHECK_STATS(TRELLIS_DECLARE_COUNTER, TRELLIS_DECLARE_GAUGE, TRELLIS_DECLARE_HISTOGRAM)
  template <class Fn>
  void visit(Fn&& fn) const {
    const std::string kSection = "health_check.";
    ALL_HEALTH_CHECK_STATS(TRELLIS_VISIT_SECTION_COUNTER, TRELLIS_VISIT_SECTION_GAUGE, TRELLIS_NO_STAT)
  }
};

struct OutlierDetectionStats {
  ALL_OUTLIER_DETECTION_STATS(TRELLIS_DECLARE_COUNTER, TRELLIS_DECLARE_GAUGE, TRELLIS_DECLARE_HISTOGRAM)
  template <class Fn>
  void visit(Fn&& fn) const {
    const std::string kSection = "outlier_detection.";
    ALL_OUTLIER_DETECTION_STATS(TRELLIS_VISIT_SECTION_COUNTER, TRELLIS_VISIT_SECTION_GAUGE, TRELLIS_NO_STAT)
  }
};

struct alignas(64) ClusterStatsShard {
  ALL_CLUSTER_STATS(TRELLIS_DECLARE_COUNTER, TRELLIS_DECLARE_GAUGE, TRELLIS_DECLARE_HISTOGRAM)
  HealthCheckStats health_check;
  OutlierDetectionStats outlier_detection;
  template <class Fn>
  void visit(Fn&& fn) const {
    ALL_CLUSTER_STATS(TRELLIS_VISIT_COUNTER, TRELLIS_VISIT_GAUGE, TRELLIS_NO_STAT)
    health_check.visit(fn);
    outlier_detection.visit(fn);
  }
  template <class Fn>
  void visitHistograms(Fn&& fn) const {
    ALL_CLUSTER_STATS(TRELLIS_NO_STAT, TRELLIS_NO_STAT, TRELLIS_VISIT_HISTOGRAM)
  }
};

// server.* (Envoy's names): written by the main thread only, so not sharded. `state` is
// Envoy's server.state (0 LIVE, 1 DRAINING, 2 PRE_INITIALIZING, 3 INITIALIZING); `uptime`
// (seconds) and `total_connections` are refreshed just before each scrape.
#define ALL_SERVER_STATS(COUNTER, GAUGE, HISTOGRAM) \
  GAUGE(live)                                     \
  GAUGE(state)                                    \
  GAUGE(uptime)                                   \
  GAUGE(total_connections)                        \
  GAUGE(concurrency)

// server.control_plane.* : the ADS stream.
#define ALL_CONTROL_PLANE_STATS(COUNTER, GAUGE, HISTOGRAM) GAUGE(connected_state)

// server.xds.<lds|cds|rds|eds>.* : one set per xDS type.
#define ALL_XDS_STATS(COUNTER, GAUGE, HISTOGRAM) \
  COUNTER(update_success)                       \
  COUNTER(update_rejected)                      \
  GAUGE(resources)

struct XdsTypeStats {
  ALL_XDS_STATS(TRELLIS_DECLARE_COUNTER, TRELLIS_DECLARE_GAUGE, TRELLIS_DECLARE_HISTOGRAM)
  template <class Fn>
  void visit(const std::string& kSection, Fn&& fn) const {
    ALL_XDS_STATS(TRELLIS_VISIT_SECTION_COUNTER, TRELLIS_VISIT_SECTION_GAUGE, TRELLIS_NO_STAT)
  }
};

enum class XdsType : uint8_t { Lds, Cds, Rds, Eds, Count };
std::string_view xdsTypeName(XdsType t);  // "lds", "cds", "rds", "eds"

struct ServerStats {
  ALL_SERVER_STATS(TRELLIS_DECLARE_COUNTER, TRELLIS_DECLARE_GAUGE, TRELLIS_DECLARE_HISTOGRAM)
  struct ControlPlane {
    ALL_CONTROL_PLANE_STATS(TRELLIS_DECLARE_COUNTER, TRELLIS_DECLARE_GAUGE, TRELLIS_DECLARE_HISTOGRAM)
    template <class Fn>
    void visit(const std::string& kSection, Fn&& fn) const {
      ALL_CONTROL_PLANE_STATS(TRELLIS_VISIT_SECTION_COUNTER, TRELLIS_VISIT_SECTION_GAUGE, TRELLIS_NO_STAT)
    }
  } control_plane;
  std::array<XdsTypeStats, static_cast<size_t>(XdsType::Count)> xds_types;
  XdsTypeStats& xds(XdsType t) { return xds_types[static_cast<size_t>(t)]; }

  // fn(name without "server.", value, is_gauge)
  template <class Fn>
  void visit(Fn&& fn) const {
    ALL_SERVER_STATS(TRELLIS_VISIT_COUNTER, TRELLIS_VISIT_GAUGE, TRELLIS_NO_STAT)
    control_plane.visit("control_plane.", fn);
    for (size_t t = 0; t < xds_types.size(); ++t) {
      xds_types[t].visit("xds." + std::string(xdsTypeName(static_cast<XdsType>(t))) + ".", fn);
    }
  }
};

// filesystem.* (Envoy's names, for the access log files) and access_log.dropped_lines (a
// Trellis extension: lines dropped because a file's writer fell behind). Written with atomic
// read-modify-writes by the writer threads and by workers that drop a block.
#define ALL_FILESYSTEM_STATS(COUNTER, GAUGE, HISTOGRAM) \
  COUNTER(write_buffered)                           \
  COUNTER(write_completed)                          \
  COUNTER(write_failed)                             \
  COUNTER(flushed_by_timer)                         \
  COUNTER(reopen_failed)                            \
  GAUGE(write_total_buffered)

#define ALL_ACCESS_LOG_STATS(COUNTER, GAUGE, HISTOGRAM) COUNTER(dropped_lines)

struct FilesystemStats {
  ALL_FILESYSTEM_STATS(TRELLIS_DECLARE_COUNTER, TRELLIS_DECLARE_GAUGE, TRELLIS_DECLARE_HISTOGRAM)
  template <class Fn>
  void visit(Fn&& fn) const {
    ALL_FILESYSTEM_STATS(TRELLIS_VISIT_COUNTER, TRELLIS_VISIT_GAUGE, TRELLIS_NO_STAT)
  }
};

struct AccessLogStats {
  ALL_ACCESS_LOG_STATS(TRELLIS_DECLARE_COUNTER, TRELLIS_DECLARE_GAUGE, TRELLIS_DECLARE_HISTOGRAM)
  template <class Fn>
  void visit(Fn&& fn) const {
    ALL_ACCESS_LOG_STATS(TRELLIS_VISIT_COUNTER, TRELLIS_VISIT_GAUGE, TRELLIS_NO_STAT)
  }
};

template <class Shard>
class StatsBlock {
 public:
  StatsBlock(std::string name, size_t shards) : name_(std::move(name)), shards_(shards) {}
  const std::string& name() const { return name_; }
  Shard& shard(size_t i) { return shards_[i]; }
  const std::vector<Shard>& shards() const { return shards_; }

 private:
  std::string name_;
  std::vector<Shard> shards_;
};

using HttpStats = StatsBlock<HttpStatsShard>;
using ListenerStats = StatsBlock<ListenerStatsShard>;
using ClusterStats = StatsBlock<ClusterStatsShard>;
using TcpProxyStats = StatsBlock<TcpProxyStatsShard>;

// One named value, summed over shards, for exposition.
struct StatValue {
  std::string name;       // e.g. "cluster.backend.upstream_rq_total"
  std::string family;     // e.g. "cluster"; selects the Prometheus label
  std::string scope;      // e.g. "backend"
  std::string stat;       // e.g. "upstream_rq_total"
  int64_t value = 0;
  bool gauge = false;
};

// One histogram, summed over shards, for exposition.
struct HistogramValue {
  std::string name;    // e.g. "cluster.backend.upstream_rq_time"
  std::string family;  // as StatValue
  std::string scope;
  std::string stat;
  HistogramCounts cumulative;  // everything recorded
  HistogramCounts interval;    // recorded since the previous interval mark (see collectHistograms)
};

// Cluster-wide resource counts for the circuit breakers. Envoy's limits hold for the cluster as
// a whole, so unlike the stats shards these are shared by every worker: one atomic per cache
// line, changed with fetch_add when a request, pending request, connection or retry starts
// and ends.
struct ClusterResources {
  alignas(64) std::atomic<int64_t> requests{0};
  alignas(64) std::atomic<int64_t> pending_requests{0};
  alignas(64) std::atomic<int64_t> connections{0};
  alignas(64) std::atomic<int64_t> retries{0};
};

// One upstream host of one cluster, shared by every worker: what /clusters shows per host and
// the consecutive-failure counts outlier detection needs across workers (a success resets
// them). Kept by the StatsStore per cluster and address, so a snapshot swap keeps them.
struct alignas(64) HostCounters {
  std::atomic<int64_t> cx_active{0};
  std::atomic<int64_t> rq_active{0};
  std::atomic<uint64_t> rq_total{0};
  std::atomic<uint64_t> rq_error{0};
  std::atomic<uint64_t> rq_success{0};
  std::atomic<uint32_t> consecutive_5xx{0};
  std::atomic<uint32_t> consecutive_gateway_failure{0};
};

class StatsStore {
 public:
  // `shards` is the number of threads that may write: the workers plus the main thread.
  explicit StatsStore(size_t shards) : shards_(shards) {}

  // Main thread only. Returns the existing block of that name, or a new one.
  HttpStats* http(const std::string& stat_prefix);
  ListenerStats* listener(const std::string& name);
  TcpProxyStats* tcpProxy(const std::string& stat_prefix);
  ClusterStats* cluster(const std::string& name);
  ClusterResources* resources(const std::string& cluster);
  // The open connections of the listener of that name (kept across its updates).
  ConnectionCount* listenerConnections(const std::string& listener);
  // `address` as "ip:port" (IPv6 in brackets).
  HostCounters* host(const std::string& cluster, const std::string& address);
  size_t shardCount() const { return shards_; }
  // The shard the main thread writes (the workers own 0..shards-2).
  size_t mainShard() const { return shards_ - 1; }

  // Process-wide values, written by the main thread only.
  ServerStats& server() { return server_; }
  FilesystemStats& filesystem() { return filesystem_; }
  AccessLogStats& accessLog() { return access_log_; }

  // Summed values, sorted by name. Reading while workers write is safe (relaxed atomics).
  std::vector<StatValue> collect() const;
  // Histograms summed over shards, sorted by name. Main thread only: with `mark_interval`,
  // each histogram's interval ends now (the next call's interval starts here), as Envoy's
  // interval ends at each stats flush; without it, the interval since the last mark is read.
  std::vector<HistogramValue> collectHistograms(bool mark_interval);

 private:
  size_t shards_;
  std::map<std::string, std::unique_ptr<HttpStats>> http_;
  std::map<std::string, std::unique_ptr<ListenerStats>> listeners_;
  std::map<std::string, std::unique_ptr<TcpProxyStats>> tcp_proxies_;
  std::map<std::string, std::unique_ptr<ClusterStats>> clusters_;
  std::map<std::string, std::unique_ptr<ClusterResources>> resources_;
  std::map<std::string, std::unique_ptr<ConnectionCount>> listener_connections_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<HostCounters>> hosts_;
  ServerStats server_;
  FilesystemStats filesystem_;
  AccessLogStats access_log_;
  std::map<std::string, HistogramCounts> interval_marks_;  // by histogram name
};

}  // namespace trellis::proxy
