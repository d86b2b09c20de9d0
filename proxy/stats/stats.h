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
  FLAG(DI) /* direct response */

enum class ResponseFlag : uint8_t {
#define TRELLIS_FLAG_ENUM(f) f,
  ALL_RESPONSE_FLAGS(TRELLIS_FLAG_ENUM)
#undef TRELLIS_FLAG_ENUM
      Count
};
constexpr size_t kResponseFlagCount = static_cast<size_t>(ResponseFlag::Count);
std::string_view responseFlagName(ResponseFlag f);

#define ALL_HTTP_STATS(COUNTER, GAUGE) \
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
  COUNTER(no_cluster)

#define ALL_LISTENER_STATS(COUNTER, GAUGE) \
  COUNTER(downstream_cx_total)             \
  GAUGE(downstream_cx_active)              \
  COUNTER(downstream_cx_destroy)

#define ALL_CLUSTER_STATS(COUNTER, GAUGE) \
  COUNTER(upstream_cx_total)              \
  GAUGE(upstream_cx_active)               \
  COUNTER(upstream_cx_connect_fail)       \
  COUNTER(upstream_cx_connect_timeout)    \
  COUNTER(upstream_cx_destroy_remote)     \
  COUNTER(upstream_cx_pool_reuse)         \
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
  COUNTER(upstream_rq_no_healthy)

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
#define TRELLIS_VISIT_COUNTER(n) fn(#n, static_cast<int64_t>(n.load(std::memory_order_relaxed)), false);
#define TRELLIS_VISIT_GAUGE(n) fn(#n, n.load(std::memory_order_relaxed), true);

struct alignas(64) HttpStatsShard {
  ALL_HTTP_STATS(TRELLIS_DECLARE_COUNTER, TRELLIS_DECLARE_GAUGE)
  std::array<Counter, kResponseFlagCount> response_flags{};
  template <class Fn>
  void visit(Fn&& fn) const {
    ALL_HTTP_STATS(TRELLIS_VISIT_COUNTER, TRELLIS_VISIT_GAUGE)
  }
};

struct alignas(64) ListenerStatsShard {
  ALL_LISTENER_STATS(TRELLIS_DECLARE_COUNTER, TRELLIS_DECLARE_GAUGE)
  template <class Fn>
  void visit(Fn&& fn) const {
    ALL_LISTENER_STATS(TRELLIS_VISIT_COUNTER, TRELLIS_VISIT_GAUGE)
  }
};

struct alignas(64) ClusterStatsShard {
  ALL_CLUSTER_STATS(TRELLIS_DECLARE_COUNTER, TRELLIS_DECLARE_GAUGE)
  template <class Fn>
  void visit(Fn&& fn) const {
    ALL_CLUSTER_STATS(TRELLIS_VISIT_COUNTER, TRELLIS_VISIT_GAUGE)
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

// One named value, summed over shards, for exposition.
struct StatValue {
  std::string name;       // e.g. "cluster.backend.upstream_rq_total"
  std::string family;     // e.g. "cluster"; selects the Prometheus label
  std::string scope;      // e.g. "backend"
  std::string stat;       // e.g. "upstream_rq_total"
  int64_t value = 0;
  bool gauge = false;
};

class StatsStore {
 public:
  // `shards` is the number of threads that may write: the workers plus the main thread.
  explicit StatsStore(size_t shards) : shards_(shards) {}

  // Main thread only. Returns the existing block of that name, or a new one.
  HttpStats* http(const std::string& stat_prefix);
  ListenerStats* listener(const std::string& name);
  ClusterStats* cluster(const std::string& name);
  size_t shardCount() const { return shards_; }

  // Process-wide values owned by the main thread (xDS state, server state).
  Counter& serverCounter(const std::string& name);
  Gauge& serverGauge(const std::string& name);

  // Summed values, sorted by name. Reading while workers write is safe (relaxed atomics).
  std::vector<StatValue> collect() const;

 private:
  size_t shards_;
  std::map<std::string, std::unique_ptr<HttpStats>> http_;
  std::map<std::string, std::unique_ptr<ListenerStats>> listeners_;
  std::map<std::string, std::unique_ptr<ClusterStats>> clusters_;
  std::map<std::string, std::unique_ptr<Counter>> server_counters_;
  std::map<std::string, std::unique_ptr<Gauge>> server_gauges_;
};

}  // namespace trellis::proxy
