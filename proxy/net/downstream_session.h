// One downstream HTTP/1.x connection, from accept to close, read top to bottom in protocol order.
//
// A request passes through a few named phases: read the head, route it (virtual host, route,
// cluster, endpoint), send it upstream (head plus streamed body), relay the response (head
// rewritten, body streamed), then either wait for the next request on the same connection or
// close. Pipelined requests are answered in order because the next head is read only after
// the previous response is done. One deadline per session covers whichever wait is current
// (idle, request headers, connect, route timeout); its expiry cancels the pending operation.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "proxy/http/message_head.h"
#include "proxy/http/parser.h"
#include "proxy/net/buffer.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/upstream/upstream_connection.h"

namespace trellis::proxy {

class Worker;

class DownstreamSession : public std::enable_shared_from_this<DownstreamSession> {
 public:
  DownstreamSession(Worker& worker, std::shared_ptr<const Listener> listener, boost::asio::ip::tcp::socket socket);
  ~DownstreamSession();

  void start();
  // Drain: an idle connection closes now; a busy one closes after its current response.
  void onDrain();
  void forceClose();
  const Listener* listener() const { return listener_.get(); }

 private:
  enum class Wait : uint8_t { None, IdleHot, Idle, RequestHeaders, BodyIdle, Connect, Route };

  boost::asio::awaitable<void> run();
  boost::asio::awaitable<bool> readRequestHead();
  boost::asio::awaitable<bool> handleRequest();
  boost::asio::awaitable<bool> localReply(uint16_t status, ResponseFlag flag, std::string_view body,
                                          bool close);
  boost::asio::awaitable<bool> connectUpstream(const Cluster& cluster, const Endpoint& endpoint);
  boost::asio::awaitable<bool> sendRequestBody();
  boost::asio::awaitable<bool> relayResponse(const Cluster& cluster, Duration timeout, bool may_retry, bool& retry);

  void serializeRequestHead(const Route& route, const Cluster& cluster);
  void serializeResponseHead(const http::MessageHead& resp, bool close, bool decode_chunked);
  void countResponse(uint16_t status);
  void countFlag(ResponseFlag flag);

  void arm(Duration d, Wait w);
  void disarm() { wait_ = Wait::None; }
  void onTimer(const boost::system::error_code& ec);
  void startTimer();
  void closeSockets();
  bool draining() const;

  Worker& worker_;
  std::shared_ptr<const Listener> listener_;
  boost::asio::ip::tcp::socket socket_;
  std::string peer_;  // remote address, for x-forwarded-for
  std::list<DownstreamSession*>::iterator registration_;

  Buffer in_;   // downstream bytes
  Buffer out_;  // serialized heads
  http::Parser parser_;
  http::MessageHead head_;
  http::MessageHead resp_;
  size_t parsed_ = 0;  // request bytes fed to the parser, as an offset into in_

  // The request in flight.
  std::shared_ptr<const Snapshot> snapshot_;
  std::shared_ptr<UpstreamConnection> upstream_;
  bool request_is_head_ = false;
  bool request_keep_alive_ = true;
  bool request_http10_ = false;
  bool request_body_done_ = false;
  bool expect_continue_ = false;
  bool upstream_write_failed_ = false;  // the upstream stopped reading the request body
  ClusterStats* cluster_stats_ = nullptr;

  // The deadline.
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point deadline_;
  Wait wait_ = Wait::None;
  Wait expired_ = Wait::None;
  bool timer_pending_ = false;
  bool idle_ = false;
  bool closed_ = false;
  bool drain_ = false;  // this session's listener was removed or changed
};

}  // namespace trellis::proxy
