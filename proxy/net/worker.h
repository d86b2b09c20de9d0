// A worker: one thread, one io_context, and everything its connections touch.
//
// A worker owns its listening sockets (SO_REUSEPORT, one per listener), the downstream
// sessions accepted on them for their whole life, its upstream pools, its load balancers
// (one per cluster of the current snapshot), its read-buffer pool and its random source.
// Other threads talk to it only by posting to its io_context: a new snapshot with its health
// view, a new health view, a listener to start or stop, drain. Nothing here is shared, so
// nothing is locked.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "proxy/io/buffer.h"
#include "proxy/net/session.h"
#include "proxy/router/fast_random.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/upstream/connection_pool.h"
#include "proxy/upstream/health_view.h"
#include "proxy/upstream/load_balancer.h"
#include "proxy/upstream/outlier_detector.h"

namespace trellis::proxy {

class Worker {
 public:
  Worker(uint32_t id, SessionFactory factory);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  uint32_t id() const { return id_; }
  boost::asio::io_context& context() { return ctx_; }

  // A host crossed an outlier-detection threshold; called on this worker's thread (the sink
  // posts to the main thread). Set before start().
  using OutlierSink =
      std::function<void(const std::string& cluster, const boost::asio::ip::tcp::endpoint& host, OutlierSignal)>;
  void setOutlierSink(OutlierSink sink) { outlier_sink_ = std::move(sink); }
  // Every worker's downstream connections together, against the global limit (overload
  // manager). Set before start(); null: not counted.
  void setGlobalConnections(ConnectionCount* global) { global_connections_ = global; }
  void reportOutlier(const Cluster& cluster, const Endpoint& host, OutlierSignal signal) {
    if (outlier_sink_) outlier_sink_(cluster.name, host.address, signal);
  }

  // Thread control (main thread).
  void start();
  void stopAndJoin();

  // Cross-thread entry points: each posts to the worker's thread.
  // `health` was built for `snapshot` (null: every host counts by its EDS health alone).
  void setSnapshot(std::shared_ptr<const Snapshot> snapshot, std::shared_ptr<const HealthView> health);
  // A new view for the current snapshot; a view built for an older snapshot is ignored (the
  // newer snapshot brought its own).
  void setHealth(std::shared_ptr<const HealthView> health);
  // `acceptor` must have been created on this worker's context and be listening.
  void addListener(std::shared_ptr<const Listener> listener, boost::asio::ip::tcp::acceptor acceptor);
  // Stops accepting on `listener` (a listener removed or replaced by a config update) and
  // drains the connections it accepted (each answers its next response with connection:
  // close); those still open after `drain_time` are closed. Other listeners are untouched.
  void removeListener(std::shared_ptr<const Listener> listener, std::chrono::milliseconds drain_time);

  // Which listeners a drain reaches: all, or the inbound ones (every listener whose
  // traffic_direction is not OUTBOUND), as Envoy's /drain_listeners?inboundonly.
  enum class DrainScope { All, Inbound };
  // Stops accepting on the listeners in `scope`; their connections go on untouched (Envoy's
  // /drain_listeners without ?graceful). What is already in the accept queue is accepted first,
  // so no client whose connect succeeded is reset.
  void stopListeners(DrainScope scope);
  // The listeners in `scope` keep accepting, but each response on their connections carries
  // connection: close and ends its connection (Envoy's graceful drain).
  void discourage(DrainScope scope);
  // Shutdown: stopListeners + discourage for `scope`. Idle connections stay open (closing one
  // would race a request its client already sent) until closeAll() at the end of the window.
  // `on_empty` runs on this worker's thread every time its last connection goes.
  void drain(DrainScope scope, std::function<void()> on_empty);
  // Closes every connection now (after the drain time).
  void closeAll();

  // Safe from any thread.
  int64_t activeConnections() const { return active_connections_.load(std::memory_order_relaxed); }
  // Whether, since drain() began, the worker has had no session and no accept still to
  // complete on a closed listener (read by the main thread when a worker reports empty).
  bool reportedDrained() const { return drained_.load(std::memory_order_acquire); }

  // Worker-thread state used by sessions.
  const std::shared_ptr<const Snapshot>& snapshot() const { return snapshot_; }
  BufferPool& buffers() { return buffers_; }
  UpstreamPools& pools() { return pools_; }
  FastRandom& random() { return random_; }
  // Whether connections of `listener` are being drained (answer with connection: close).
  bool draining(const Listener* listener) const;
  // The balancer and health of a cluster of the current snapshot. A request that still runs on
  // an older snapshot (its cluster index beyond the current one, or another cluster there)
  // gets nullptr and picks with a balancer of its own (see RequestFlow).
  LoadBalancer* balancer(const Cluster& cluster);
  const ClusterHealth& health(const Cluster& cluster) const;

  // Session bookkeeping (worker thread). Every object that owns a downstream connection
  // registers for its life (the listener-filter step, then the session it hands over to): the
  // count of live registrations is activeConnections(), and drain and closeAll reach them all.
  std::list<Session*>::iterator registerSession(Session* s);
  void unregisterSession(std::list<Session*>::iterator it);

 private:
  struct ActiveListener {
    std::shared_ptr<const Listener> listener;
    std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor;
    // Out of descriptors (or kernel memory): accepting waits on this timer, with a delay that
    // grows to kMaxAcceptBackoff, or until a connection of this worker closes.
    std::unique_ptr<boost::asio::steady_timer> backoff;
    std::chrono::milliseconds backoff_delay{0};
    bool paused = false;
    // An async_accept is outstanding. After closeAcceptor its handler still runs once, possibly
    // with a connection accepted just before the close: the drain waits for it.
    bool accept_pending = false;
  };
  void accept(ActiveListener& al);
  // Accepts what is queued (without waiting) and closes the listening socket.
  void closeAcceptor(ActiveListener& al);
  void resumePausedAccepts();
  // Below the global and the listener's connection limits: hands the socket to the factory.
  // Otherwise closes it and counts the overflow.
  void admit(const std::shared_ptr<const Listener>& listener, boost::asio::ip::tcp::socket socket);
  static bool inScope(const Listener& listener, DrainScope scope);
  // No session left and no closed listener's accept still to complete: a drain is over.
  bool drained() const;
  void notifyIfDrained();

  uint32_t id_;
  boost::asio::io_context ctx_;
  std::thread thread_;
  void installHealth(std::shared_ptr<const HealthView> health);

  SessionFactory factory_;
  OutlierSink outlier_sink_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::shared_ptr<const HealthView> health_;
  std::vector<LoadBalancer> balancers_;  // by Cluster::index of snapshot_
  std::vector<std::unique_ptr<ActiveListener>> listeners_;
  std::vector<std::unique_ptr<ActiveListener>> retired_listeners_;
  BufferPool buffers_;
  UpstreamPools pools_;
  FastRandom random_;
  std::list<Session*> sessions_;
  std::vector<const Listener*> discouraged_;  // listeners whose connections drain
  std::function<void()> on_empty_;
  std::atomic<int64_t> active_connections_{0};
  std::atomic<bool> drained_{false};
  ConnectionCount* global_connections_ = nullptr;
};

}  // namespace trellis::proxy
