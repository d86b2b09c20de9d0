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
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "proxy/net/connection_facts.h"
#include "proxy/net/session.h"
#include "proxy/snapshot/snapshot.h"

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
  void start();
  boost::asio::awaitable<void> run();

  Worker& worker_;
  std::shared_ptr<const Listener> listener_;
  const FilterChain& chain_;
  boost::asio::ip::tcp::socket downstream_;
  boost::asio::ip::tcp::socket upstream_;
  ConnectionFacts facts_;
  std::string initial_;
  std::list<Session*>::iterator registration_;
  bool closed_ = false;
};

}  // namespace trellis::proxy
