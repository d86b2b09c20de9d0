// envoy.filters.network.tcp_proxy: cluster choice, connect with attempts, the two copy
// directions with half-close and backpressure, the idle timeout and the byte counters (see
// tcp_proxy_session.h).
#include "proxy/tcp/tcp_proxy_session.h"

#include <algorithm>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "proxy/net/cluster_balancer.h"
#include "proxy/net/worker.h"
#include "proxy/router/router.h"
#include "proxy/upstream/health_view.h"
#include "proxy/upstream/load_balancer.h"

namespace trellis::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// Counters are written by one thread only (the worker owning the shard): load and store.
void addTo(Counter& c, uint64_t n) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

}  // namespace

void TcpProxySession::create(Worker& worker, std::shared_ptr<const Listener> listener, uint32_t chain,
                             tcp::socket socket, ConnectionFacts facts, std::string initial) {
  std::make_shared<TcpProxySession>(worker, std::move(listener), chain, std::move(socket), std::move(facts),
                                    std::move(initial))
      ->start();
}

TcpProxySession::TcpProxySession(Worker& worker, std::shared_ptr<const Listener> listener, uint32_t chain,
                                 tcp::socket socket, ConnectionFacts facts, std::string initial)
    : worker_(worker),
      listener_(std::move(listener)),
      chain_(listener_->filter_chains.at(chain)),
      downstream_(std::move(socket)),
      upstream_(downstream_.get_executor()),
      facts_(std::move(facts)),
      initial_(std::move(initial)),
      connect_timer_(downstream_.get_executor()),
      idle_timer_(downstream_.get_executor()),
      to_upstream_(worker.buffers()),
      to_downstream_(worker.buffers()) {
  error_code ignored;
  downstream_.set_option(tcp::no_delay(true), ignored);
  registration_ = worker_.registerSession(this);
  // downstream_cx_total is the accept step's: it counts the connection before any chain.
  if (listener_->listener_stats) add(listener_->listener_stats->shard(worker_.id()).downstream_cx_active, 1);
}

TcpProxySession::~TcpProxySession() {
  releaseUpstream();
  if (listener_->listener_stats) {
    auto& ls = listener_->listener_stats->shard(worker_.id());
    add(ls.downstream_cx_active, -1);
    inc(ls.downstream_cx_destroy);
  }
  worker_.unregisterSession(registration_);
}

void TcpProxySession::start() {
  // The function object (and the `self` it holds) lives until run() has returned.
  asio::co_spawn(
      downstream_.get_executor(), [self = shared_from_this()] { return self->run(); }, asio::detached);
}

void TcpProxySession::forceClose() { closeSockets(); }

void TcpProxySession::closeSockets() {
  closed_ = true;
  connecting_ = false;
  connect_timer_.cancel();
  idle_timer_.cancel();
  error_code ignored;
  downstream_.close(ignored);
  upstream_.close(ignored);
  releaseUpstream();
}

void TcpProxySession::countTcp(Counter TcpProxyStatsShard::*counter, uint64_t n) {
  if (tcp_stats_) addTo(tcp_stats_->*counter, n);
}

void TcpProxySession::countCluster(Counter ClusterStatsShard::*counter, uint64_t n) {
  if (cluster_stats_) addTo(cluster_stats_->*counter, n);
}

const Cluster* TcpProxySession::resolveCluster(const WeightedTarget& target) const {
  if (!snapshot_) return nullptr;
  const auto& clusters = snapshot_->clusters;
  // The index is right when the listener came with this snapshot (nearly always). A listener
  // compiled with another one is matched by name: that includes a listener kept across updates
  // (its resource unchanged) that was compiled before its cluster arrived, whose target has no
  // index at all.
  if (target.cluster && *target.cluster < clusters.size() && clusters[*target.cluster]->name == target.cluster_name) {
    return clusters[*target.cluster].get();
  }
  for (const auto& c : clusters) {
    if (c->name == target.cluster_name) return c.get();
  }
  return nullptr;
}

void TcpProxySession::holdUpstream(const Cluster& cluster, HostCounters* host) {
  releaseUpstream();
  held_resources_ = cluster.resources;
  held_host_ = host;
  held_stats_ = cluster_stats_;
  if (held_resources_) held_resources_->connections.fetch_add(1, std::memory_order_relaxed);
  if (held_host_) held_host_->cx_active.fetch_add(1, std::memory_order_relaxed);
  if (held_stats_) {
    inc(held_stats_->upstream_cx_total);
    add(held_stats_->upstream_cx_active, 1);
  }
}

void TcpProxySession::releaseUpstream() {
  if (held_resources_) held_resources_->connections.fetch_sub(1, std::memory_order_relaxed);
  if (held_host_) held_host_->cx_active.fetch_sub(1, std::memory_order_relaxed);
  if (held_stats_) {
    add(held_stats_->upstream_cx_active, -1);
    if (established_at_) record(held_stats_->upstream_cx_length_ms, Clock::now() - *established_at_);
  }
  established_at_.reset();
  held_resources_ = nullptr;
  held_host_ = nullptr;
  held_stats_ = nullptr;
}

// ---- setup: cluster, host, connect --------------------------------------------------------

asio::awaitable<void> TcpProxySession::run() {
  if (closed_) co_return;
  if (!chain_.tcp) {
    closeSockets();
    co_return;
  }
  const TcpProxy& tp = *chain_.tcp;
  tcp_stats_ = tp.stats ? &tp.stats->shard(worker_.id()) : nullptr;
  countTcp(&TcpProxyStatsShard::downstream_cx_total);

  // The snapshot taken here serves this connection to its end.
  snapshot_ = worker_.snapshot();
  const WeightedTarget* target = pickTarget(tp.targets, tp.total_weight, worker_.random());
  cluster_ = target ? resolveCluster(*target) : nullptr;
  if (!cluster_) {
    spdlog::debug("tcp_proxy {}: no cluster {}", tp.stat_prefix, target ? target->cluster_name : std::string());
    countTcp(&TcpProxyStatsShard::downstream_cx_no_route);
    closeSockets();
    co_return;
  }
  const Cluster& cluster = *cluster_;
  cluster_stats_ = cluster.stats ? &cluster.stats->shard(worker_.id()) : nullptr;

  // The worker's balancer and health (see ClusterBalancer: refreshed before every pick, since
  // the worker replaces both while a connect waits).
  ClusterBalancer balance(worker_, cluster);

  const uint32_t attempts = std::max<uint32_t>(1, tp.max_connect_attempts);
  bool connected = false;
  for (uint32_t attempt = 1; attempt <= attempts && !closed_; ++attempt) {
    tcp::endpoint address;
    HostCounters* host = nullptr;
    if (cluster.type == DiscoveryType::OriginalDst) {
      if (!facts_.original_dst_restored) {
        spdlog::debug("tcp_proxy {}: cluster {} is ORIGINAL_DST and the connection has no original destination",
                      tp.stat_prefix, cluster.name);
        countCluster(&ClusterStatsShard::upstream_cx_none_healthy);
        closeSockets();
        co_return;
      }
      address = facts_.local;
    } else {
      balance.refresh();
      if (balance.health().panic) countCluster(&ClusterStatsShard::lb_healthy_panic);
      auto picked = balance.lb().pick(balance.health(), worker_.random());
      if (!picked) {
        countCluster(&ClusterStatsShard::upstream_cx_none_healthy);
        closeSockets();
        co_return;
      }
      const Endpoint& ep = cluster.endpoints[*picked];
      address = ep.address;
      host = ep.counters;
    }
    ClusterResources* res = cluster.resources;
    if (res && res->connections.load(std::memory_order_relaxed) >= cluster.circuit_breakers.max_connections) {
      countCluster(&ClusterStatsShard::upstream_cx_overflow);
      closeSockets();
      co_return;
    }
    holdUpstream(cluster, host);
    if (co_await connectOnce(cluster, address)) {
      connected = true;
      break;
    }
    releaseUpstream();
    if (!closed_) {
      spdlog::debug("tcp_proxy {}: cluster {}: connect attempt {} of {} to {} failed", tp.stat_prefix, cluster.name,
                    attempt, attempts, endpointText(address));
    }
  }
  if (!connected || closed_) {
    closeSockets();  // nothing was sent to the client
    co_return;
  }

  error_code ignored;
  upstream_.set_option(tcp::no_delay(true), ignored);
  idle_timeout_ = tp.idle_timeout;
  if (idle_timeout_.count() > 0) {
    last_activity_ = Clock::now();
    armIdle(idle_timeout_);
  }
  auto ex = downstream_.get_executor();
  auto self = shared_from_this();
  asio::co_spawn(ex, [self] { return self->pump(true); }, asio::detached);
  asio::co_spawn(ex, [self] { return self->pump(false); }, asio::detached);
}

asio::awaitable<bool> TcpProxySession::connectOnce(const Cluster& cluster, const tcp::endpoint& address) {
  error_code ec;
  upstream_.close(ec);
  upstream_.open(address.protocol(), ec);
  if (ec) {
    countCluster(&ClusterStatsShard::upstream_cx_connect_fail);
    spdlog::debug("tcp_proxy: cluster {}: socket for {}: {}", cluster.name, endpointText(address), ec.message());
    co_return false;
  }
  const uint64_t attempt = ++connect_attempt_;
  connecting_ = true;
  connect_timed_out_ = false;
  if (cluster.connect_timeout.count() > 0) {
    connect_timer_.expires_after(cluster.connect_timeout);
    // A timer that fires after the connect finished (its completion already queued) finds
    // connecting_ false or a newer attempt, and leaves the socket alone.
    connect_timer_.async_wait([self = shared_from_this(), attempt](const error_code& tec) {
      if (tec || self->closed_ || !self->connecting_ || self->connect_attempt_ != attempt) return;
      self->connect_timed_out_ = true;
      error_code ignored;
      self->upstream_.close(ignored);
    });
  }
  const auto connect_at = Clock::now();
  auto [cec] = co_await upstream_.async_connect(address, kNoThrow);
  connecting_ = false;
  connect_timer_.cancel();
  if (closed_) co_return false;
  if (!cec && !connect_timed_out_) {
    established_at_ = Clock::now();
    if (cluster_stats_) record(cluster_stats_->upstream_cx_connect_ms, *established_at_ - connect_at);
    co_return true;
  }
  countCluster(&ClusterStatsShard::upstream_cx_connect_fail);
  if (connect_timed_out_) countCluster(&ClusterStatsShard::upstream_cx_connect_timeout);
  spdlog::debug("tcp_proxy: cluster {}: connect to {} failed: {}", cluster.name, endpointText(address),
                connect_timed_out_ ? std::string("connect timeout") : cec.message());
  error_code ignored;
  upstream_.close(ignored);
  co_return false;
}

// ---- the two directions -------------------------------------------------------------------

asio::awaitable<void> TcpProxySession::pump(bool from_client) {
  tcp::socket& from = from_client ? downstream_ : upstream_;
  tcp::socket& to = from_client ? upstream_ : downstream_;
  Buffer& buf = from_client ? to_upstream_ : to_downstream_;
  Counter TcpProxyStatsShard::*tcp_read =
      from_client ? &TcpProxyStatsShard::downstream_cx_rx_bytes_total : nullptr;
  Counter TcpProxyStatsShard::*tcp_written =
      from_client ? nullptr : &TcpProxyStatsShard::downstream_cx_tx_bytes_total;
  Counter ClusterStatsShard::*cluster_read =
      from_client ? nullptr : &ClusterStatsShard::upstream_cx_rx_bytes_total;
  Counter ClusterStatsShard::*cluster_written =
      from_client ? &ClusterStatsShard::upstream_cx_tx_bytes_total : nullptr;

  // What the TLS inspector read goes first; it was read from the client already.
  if (from_client && !initial_.empty()) {
    countTcp(&TcpProxyStatsShard::downstream_cx_rx_bytes_total, initial_.size());
    auto [ec, n] = co_await asio::async_write(upstream_, asio::buffer(initial_), kNoThrow);
    if (!closed_ && ec) closeSockets();
    if (!closed_) {
      countCluster(&ClusterStatsShard::upstream_cx_tx_bytes_total, n);
      last_activity_ = Clock::now();
    }
    std::string().swap(initial_);
  }

  buf.ensureAllocated();
  // per_connection_buffer_limit_bytes of the side read from caps each read.
  const uint32_t limit = from_client ? listener_->buffer_limit : (cluster_ ? cluster_->buffer_limit : 0);
  const size_t read_size = limit != 0 && limit < buf.capacity() ? limit : buf.capacity();
  while (!closed_) {
    // One block, read only once the previous bytes are written: a peer that does not read
    // stops this side's reading, and the kernel's buffers push back on the sender.
    auto [rec, n] = co_await from.async_read_some(asio::buffer(buf.base(), read_size), kNoThrow);
    if (closed_) break;
    if (n > 0) {
      if (tcp_read) countTcp(tcp_read, n);
      if (cluster_read) countCluster(cluster_read, n);
      last_activity_ = Clock::now();
      auto [wec, written] = co_await asio::async_write(to, asio::buffer(buf.base(), n), kNoThrow);
      if (closed_) break;
      if (wec) {
        closeSockets();  // the receiving side is gone (reset): end both
        break;
      }
      if (tcp_written) countTcp(tcp_written, written);
      if (cluster_written) countCluster(cluster_written, written);
      last_activity_ = Clock::now();
    }
    if (rec == asio::error::eof) {
      // A FIN: pass it on, and let the other direction carry on (half-close).
      error_code ignored;
      to.shutdown(tcp::socket::shutdown_send, ignored);
      break;
    }
    if (rec) {
      closeSockets();
      break;
    }
  }
  buf.release();
  directionDone();
}

void TcpProxySession::directionDone() {
  if (++directions_done_ == 2) closeSockets();
}

// ---- idle timeout -------------------------------------------------------------------------

void TcpProxySession::armIdle(Clock::duration after) {
  idle_timer_.expires_after(after);
  idle_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (!ec) self->onIdleTimer();
  });
}

void TcpProxySession::onIdleTimer() {
  if (closed_) return;
  const auto idle_for = Clock::now() - last_activity_;
  if (idle_for >= idle_timeout_) {
    countTcp(&TcpProxyStatsShard::idle_timeout);
    closeSockets();
    return;
  }
  armIdle(idle_timeout_ - idle_for);
}

}  // namespace trellis::proxy
