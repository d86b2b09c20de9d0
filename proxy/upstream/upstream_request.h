// One HTTP/1.1 request to one upstream host: take a pooled connection or connect, write the
// request, read the response head (dropping interim 1xx responses), then hand out the body as
// it arrives. One try of the request flow's attempt loop uses one; the flow keeps one per
// session and reuses it, so its response parser and header table are allocated once.
//
// Failures are reported as what happened on the wire (a connect failure, a reset, a protocol
// error...); what the client is told, and whether to retry, is the request flow's decision.
// Every wait is bounded by the session's Deadline, which the flow arms.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "proxy/http/message_head.h"
#include "proxy/http/parser.h"
#include "proxy/io/buffer.h"
#include "proxy/io/deadline.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/upstream/connection_pool.h"
#include "proxy/upstream/upstream_connection.h"

namespace trellis::proxy {

enum class UpstreamFailure : uint8_t {
  None,
  ConnectFailure,     // refused, unreachable, or connect_timeout
  Reset,              // closed or reset before a complete response head
  Timeout,            // the deadline armed for the response ran out
  Protocol,           // the response is not valid HTTP/1.x
  HeadersTooLarge,    // the response head exceeds the limit
  SwitchedProtocols,  // 101 to a request that asked for no upgrade
};

class Http1UpstreamRequest {
 public:
  static constexpr uint32_t kMaxResponseHeadBytes = 60 * 1024;
  static constexpr uint32_t kMaxResponseHeaders = 100;

  Http1UpstreamRequest();

  // A pooled connection to `ep` (true), or none idle (false).
  bool takePooled(UpstreamPools& pools, const boost::asio::ip::tcp::endpoint& ep);
  // A new connection, bounded by the cluster's connect_timeout.
  boost::asio::awaitable<UpstreamFailure> connect(BufferPool& buffers, const Cluster& cluster, const Endpoint& endpoint,
                                                  size_t shard, Deadline& deadline);
  bool connected() const { return conn_ != nullptr; }
  bool reused() const { return reused_; }
  const boost::asio::ip::tcp::endpoint& endpoint() const { return conn_->endpoint(); }

  // The next response answers a HEAD request: it has no body whatever its framing says.
  void expectNoBody(bool head) { parser_.setSkipBody(head); }

  boost::asio::awaitable<boost::system::error_code> write(std::span<const boost::asio::const_buffer> bufs);

  // Reads up to a final (>= 200) response head. `got_bytes` tells whether anything arrived.
  struct HeadOutcome {
    UpstreamFailure failure = UpstreamFailure::None;
    bool got_bytes = false;
    bool head_only = false;  // the message ended with its head (HEAD, 204, 304, Content-Length: 0...)
  };
  boost::asio::awaitable<HeadOutcome> readHead(Deadline& deadline);

  const http::MessageHead& response() const { return resp_; }
  // After a successful readHead: the response ended with its head.
  bool headOnly() const { return head_only_; }
  http::Parser& parser() { return parser_; }
  Buffer& buffer() { return conn_->buffer(); }
  // After readHead: the head's bytes leave the buffer, the body follows.
  void consumeHead();
  boost::asio::awaitable<boost::system::error_code> readMore();

  // Gives the connection back to `pools` if it sits exactly at a message boundary, else closes
  // it. Either way this request no longer holds it.
  void finish(UpstreamPools& pools, bool reusable);
  // Drops the connection (an error, a discarded response).
  void abandon();
  // Closes the connection's socket but keeps the connection, so an operation still pending on
  // it completes (with an error) on a live object (a force-close from outside the coroutine).
  void closeSocket();
  // Frees the header table (the session is going idle).
  void releaseMemory() { resp_.releaseMemory(); }

 private:
  void attach(Deadline& deadline);

  std::shared_ptr<UpstreamConnection> conn_;
  Deadline* deadline_ = nullptr;  // cancels conn_'s socket on expiry while attached
  http::Parser parser_;
  http::MessageHead resp_;
  size_t parsed_ = 0;  // response head bytes fed to the parser
  bool reused_ = false;
  bool head_only_ = false;
};

}  // namespace trellis::proxy
