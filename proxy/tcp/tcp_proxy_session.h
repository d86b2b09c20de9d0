// One downstream connection handled by envoy.filters.network.tcp_proxy: pick a cluster (by
// weight), connect to one of its hosts (or, for an ORIGINAL_DST cluster, to the connection's
// original destination), then copy bytes both ways until both directions are done.
//
// Each direction has one bounded buffer: a read is issued only when the previous bytes were
// written, so a slow reader on one side stops reading on the other (backpressure), and memory
// per connection is fixed. A FIN on one side is passed on as a shutdown(send) to the other
// (half-close); the connection ends when both directions have finished, on an error or reset
// on either side, on the idle timeout (no byte either way), or when the worker closes it.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include <chrono>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "proxy/io/buffer.h"
#include "proxy/net/connection_facts.h"
#include "proxy/net/session.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/stats/stats.h"

namespace trellis::proxy {

class Worker;

class TcpProxySession final : public Session, public std::enable_shared_from_this<TcpProxySession> {
 public:
  // `chain` indexes listener->filter_chains and has a tcp_proxy. `initial` holds bytes already
  // read from the client (by the TLS inspector); they are sent upstream first.
  static void create(Worker& worker, std::shared_ptr<const Listener> listener, uint32_t chain,
                     boost::asio::ip::tcp::socket socket, ConnectionFacts facts, std::string initial);

  TcpProxySession(Worker& worker, std::shared_ptr<const Listener> listener, uint32_t chain,
                  boost::asio::ip::tcp::socket socket, ConnectionFacts facts, std::string initial);
  ~TcpProxySession() override;

  // Session: a TCP stream has no message boundary to stop at, so a drain lets it run (it ends
  // when its peers end it, or at the worker's close after the drain time).
  void onDrain() override {}
  void forceClose() override;
  const Listener* listener() const override { return listener_.get(); }

 private:
  using Clock = std::chrono::steady_clock;

  void start();
  boost::asio::awaitable<void> run();
  // The cluster a target names in snapshot_ (found by name when the listener was compiled for
  // another snapshot than the worker's); nullptr when that snapshot has no such cluster.
  const Cluster* resolveCluster(const WeightedTarget& target) const;
  // One connection attempt to `address`, bounded by the cluster's connect_timeout. True when
  // connected; on failure the failure is counted and the socket closed.
  boost::asio::awaitable<bool> connectOnce(const Cluster& cluster, const boost::asio::ip::tcp::endpoint& address);
  // Copies one direction until EOF (passed on as a half-close), an error (closes both) or the
  // session's close. The client-to-upstream direction sends `initial_` first.
  boost::asio::awaitable<void> pump(bool from_client);
  void directionDone();
  // The idle timer: fires at last activity + idle_timeout at the earliest, re-armed lazily.
  void armIdle(Clock::duration after);
  void onIdleTimer();
  // The upstream connection's share of the cluster's and host's counts (connecting or
  // connected), taken once per attempt and given back when the attempt fails or the session
  // ends.
  void holdUpstream(const Cluster& cluster, HostCounters* host);
  void releaseUpstream();
  void closeSockets();

  void countTcp(Counter TcpProxyStatsShard::*counter, uint64_t n = 1);
  void countCluster(Counter ClusterStatsShard::*counter, uint64_t n = 1);

  Worker& worker_;
  std::shared_ptr<const Listener> listener_;
  const FilterChain& chain_;
  boost::asio::ip::tcp::socket downstream_;
  boost::asio::ip::tcp::socket upstream_;
  ConnectionFacts facts_;
  std::string initial_;
  std::list<Session*>::iterator registration_;
  bool closed_ = false;

  // The worker's snapshot when the session started: it keeps the cluster (and its endpoints)
  // alive for the session's whole life, whatever config arrives meanwhile.
  std::shared_ptr<const Snapshot> snapshot_;
  const Cluster* cluster_ = nullptr;
  TcpProxyStatsShard* tcp_stats_ = nullptr;
  ClusterStatsShard* cluster_stats_ = nullptr;

  boost::asio::steady_timer connect_timer_;
  uint64_t connect_attempt_ = 0;  // which attempt the connect timer is armed for
  bool connecting_ = false;
  bool connect_timed_out_ = false;

  boost::asio::steady_timer idle_timer_;
  Clock::duration idle_timeout_{};  // zero: no idle timeout
  Clock::time_point last_activity_{};
  std::optional<Clock::time_point> established_at_;  // the held upstream connect completed

  // Upstream holds (see holdUpstream).
  ClusterResources* held_resources_ = nullptr;
  HostCounters* held_host_ = nullptr;
  ClusterStatsShard* held_stats_ = nullptr;

  // One block per direction, lent by the worker's pool while the direction runs.
  Buffer to_upstream_;
  Buffer to_downstream_;
  int directions_done_ = 0;
};

}  // namespace trellis::proxy
