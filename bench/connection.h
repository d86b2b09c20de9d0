// Connection: one keep-alive HTTP/1.1 client connection of trellis-load.
//
// It carries one request at a time (no pipelining): connect, write the prebuilt request, read
// and parse until the response ends, then wait for the next request. It keeps no policy: what
// to send next, when to reconnect and what to count is its owner's business, told through
// ConnectionOwner. Every asynchronous handler carries the connection's generation, so a
// handler that completes after the socket was closed (and maybe reopened) does nothing.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <string_view>
#include <system_error>

#include "bench/response_parser.h"
#include "bench/run_stats.h"

namespace trellis::bench {

class Connection;

// Implemented by the load engine and by the connection holder (--hold-connections).
class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  virtual void onConnected(Connection& conn) = 0;
  // The connection is closed again; the owner decides whether and when to reconnect.
  virtual void onConnectFailed(Connection& conn) = 0;
  // A final response arrived. The connection is idle, or closed when the server asked for it.
  virtual void onResponse(Connection& conn, int status) = 0;
  // The outstanding request failed and the connection is closed.
  virtual void onRequestFailed(Connection& conn, Failure failure) = 0;
  // The server closed a connection that had no request outstanding.
  virtual void onIdleClosed(Connection& conn) = 0;
};

class Connection {
 public:
  enum class State { kClosed, kConnecting, kIdle, kBusy };

  Connection(boost::asio::io_context& io, ConnectionOwner& owner,
             const boost::asio::ip::tcp::endpoint& target, size_t readBufferSize, int index);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Opens the connection after `delay` (zero: now). The connection must be closed.
  void connect(Clock::duration delay = Clock::duration::zero());
  // Writes `request`, which must outlive the response. The connection must be idle.
  // `start` is when the request's latency clock started; `measured` is the owner's tag.
  void send(std::string_view request, bool headRequest, Clock::time_point start, bool measured);
  // Fails the outstanding request with kTimeout if it was written before `deadline`.
  bool expireIfSentBefore(Clock::time_point deadline);
  // Closes without telling the owner.
  void close();

  State state() const { return state_; }
  int index() const { return index_; }
  Clock::time_point start() const { return start_; }
  bool measured() const { return measured_; }
  uint64_t interimResponses() const { return parser_.interimResponses(); }

 private:
  void onConnect(const boost::system::error_code& ec);
  void startRead();
  void onRead(const boost::system::error_code& ec, size_t bytes);
  void onEof();
  void completeResponse();
  void fail(Failure failure);
  void closeSocket();

  ConnectionOwner& owner_;
  boost::asio::ip::tcp::endpoint target_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer connectTimer_;
  ResponseParser parser_;
  std::unique_ptr<char[]> readBuffer_;
  size_t readBufferSize_;
  int index_;
  State state_ = State::kClosed;
  uint32_t generation_ = 0;
  Clock::time_point start_{};
  Clock::time_point sentAt_{};
  bool measured_ = false;
};

}  // namespace trellis::bench
