// The per-worker pools of idle keep-alive upstream connections, by endpoint address.
//
// Pools are per worker: a worker never shares a connection with another thread, so taking and
// returning one needs no lock. An idle pooled connection holds no read buffer. A connection
// idle for longer than a second waits for readability: if the upstream closes it (or sends
// anything unexpected), the wait completes and the connection is dropped from the pool, so a
// request is rarely handed a connection the upstream already closed. A connection that is
// reused at once (the common case under load) is not watched: arming the wait costs an
// epoll_ctl per request, and a close within the first second of idleness is left to the
// request flow's resend of an idempotent request on a fresh connection.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/container/flat_hash_map.h"
#include "proxy/upstream/upstream_connection.h"

namespace trellis::proxy {

struct EndpointHash {
  size_t operator()(const boost::asio::ip::tcp::endpoint& ep) const;
};

class UpstreamPools {
 public:
  static constexpr std::chrono::milliseconds kWatchAfter{1000};

  explicit UpstreamPools(boost::asio::any_io_executor ex, size_t max_idle_per_endpoint = 1024)
      : max_idle_(max_idle_per_endpoint), sweep_timer_(ex) {}

  // An idle connection to `ep`, most recently used first, or nullptr.
  std::shared_ptr<UpstreamConnection> take(const boost::asio::ip::tcp::endpoint& ep);
  // Returns a healthy connection whose last response was complete and fully read.
  void give(std::shared_ptr<UpstreamConnection> conn);
  // Closes every idle connection (drain, shutdown) and stops the sweep.
  void closeAll();

 private:
  void watch(const std::shared_ptr<UpstreamConnection>& conn);
  void remove(UpstreamConnection* conn);
  // Once a second while anything is idle: watch the connections idle for kWatchAfter.
  void scheduleSweep();
  void sweep();

  size_t max_idle_;
  boost::asio::steady_timer sweep_timer_;
  bool sweep_scheduled_ = false;
  bool closed_ = false;
  absl::flat_hash_map<boost::asio::ip::tcp::endpoint, std::vector<std::shared_ptr<UpstreamConnection>>, EndpointHash>
      idle_;
};

}  // namespace trellis::proxy
