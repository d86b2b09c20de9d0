// ConnectionHolder: the --hold-connections helper of trellis-load. It opens N keep-alive
// connections, sends one request on each so the peer has seen a full exchange (a proxy then
// has whatever per-connection state it keeps after a request), and holds them idle. bench/compare
// uses it to measure a proxy's memory per idle connection.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/connection.h"

namespace trellis::bench {

class ConnectionHolder : public ConnectionOwner {
 public:
  // Calls `settled` once every connection has either answered its request or failed.
  ConnectionHolder(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& target,
                   std::string request, bool headRequest, int count,
                   std::function<void()> settled);

  void start();
  void stop();
  int held() const { return held_; }
  int failed() const { return failed_; }
  int dropped() const { return dropped_; }  // closed by the peer while held

  // ConnectionOwner
  void onConnected(Connection& conn) override;
  void onConnectFailed(Connection& conn) override;
  void onResponse(Connection& conn, int status) override;
  void onRequestFailed(Connection& conn, Failure failure) override;
  void onIdleClosed(Connection& conn) override;

 private:
  void openMore();
  void settledOne();

  // At most this many connects are outstanding, so a burst does not overflow listen backlogs.
  static constexpr int kMaxConnecting = 128;
  static constexpr size_t kReadBufferSize = 2048;

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::endpoint target_;
  std::string request_;
  bool headRequest_;
  int count_;
  std::function<void()> settled_;
  std::vector<std::unique_ptr<Connection>> connections_;
  int opened_ = 0;
  int pending_ = 0;
  int held_ = 0;
  int failed_ = 0;
  int dropped_ = 0;
  bool stopped_ = false;
};

}  // namespace trellis::bench
