// One downstream HTTP/1.x connection and the flow every request on it takes.
//
// A request passes through a fixed, ordered set of phases, each a member function below:
//
//   check         the head is one the proxy forwards (Host, Expect, no Upgrade)
//   route         virtual host, route, weighted cluster: a direct response, or a cluster
//   forward       the attempt loop: keep the body for replay if a retry policy may need it,
//                 then per try pick a host (the worker's balancer over its health view),
//                 open or reuse a connection, send, read the response head, and either retry
//                 (retry policy, budget, back-off) or go on
//   relay         the response head rewritten, the body streamed as it arrives
//   log           the outcome counted: status class, response flags (and, later, access logs)
//
// Whatever goes wrong is a ProxyError (proxy_error.h); fail() is the one place that turns it
// into the local reply, the response flag and the counters. Pipelined requests are answered in
// order because the next head is read only after the previous response is done. The
// session's one Deadline bounds whichever wait is current.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "proxy/http/http1_connection.h"
#include "proxy/io/buffer.h"
#include "proxy/io/deadline.h"
#include "proxy/net/connection_facts.h"
#include "proxy/net/session.h"
#include "proxy/request/log_capture.h"
#include "proxy/request/proxy_error.h"
#include "proxy/request/retry_state.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/upstream/health_view.h"
#include "proxy/upstream/upstream_request.h"

namespace trellis::proxy {

class Worker;
class LoadBalancer;

class RequestFlow final : public Session, public std::enable_shared_from_this<RequestFlow> {
 public:
  // The worker's SessionFactory.
  // `chain` indexes listener->filter_chains and has an HTTP connection manager; `initial`
  // holds bytes already read from the client (by the TLS inspector).
  static void create(Worker& worker, std::shared_ptr<const Listener> listener, uint32_t chain,
                     boost::asio::ip::tcp::socket socket, ConnectionFacts facts, std::string initial);

  RequestFlow(Worker& worker, std::shared_ptr<const Listener> listener, uint32_t chain,
              boost::asio::ip::tcp::socket socket, ConnectionFacts facts, std::string initial);
  ~RequestFlow() override;

  void start();
  // Session
  void onDrain() override;
  void forceClose() override;
  const Listener* listener() const override { return listener_.get(); }

 private:
  // The request in flight; reset for every request.
  struct Context {
    std::shared_ptr<const Snapshot> snapshot;  // held to the request's end
    const Route* route = nullptr;
    const Cluster* cluster = nullptr;
    ClusterStatsShard* cs = nullptr;
    bool is_head = false;
    bool keep_alive = true;
    bool http10 = false;
    bool has_body = false;
    bool body_done = false;      // every request body byte was read from the client
    bool expect_continue = false;
    bool idempotent = false;
    // The whole body sits in the connection's buffer (its first `kept_body` bytes) and can be
    // sent again; false once any of it was streamed away.
    bool replayable = false;
    size_t kept_body = 0;
    bool upstream_write_failed = false;  // the upstream stopped reading the request body
    bool response_started = false;       // response bytes reached the client
    std::optional<std::chrono::steady_clock::time_point> route_deadline;
    std::chrono::steady_clock::time_point upstream_sent;  // the current try's start (upstream_rq_time)
    uint16_t status = 0;  // what the client was told (0: nothing)
    uint32_t flags = 0;   // response flags, as bits of ResponseFlag
    // For access logs (filled only when the chain has some).
    std::chrono::system_clock::time_point start_wall{};
    std::chrono::steady_clock::time_point start{};
    std::optional<std::chrono::steady_clock::time_point> request_done, response_head;
    std::optional<std::chrono::microseconds> upstream_service_time;
    const boost::asio::ip::tcp::endpoint* upstream_host = nullptr;
    uint64_t bytes_received = 0;
    uint64_t bytes_sent = 0;
    std::string_view details;  // RESPONSE_CODE_DETAILS
  };

  boost::asio::awaitable<void> run();
  boost::asio::awaitable<bool> serve();  // one request through the phases; false: close

  // The phases, in order.
  std::optional<ProxyError> check();
  std::optional<ProxyError> route();
  // route()'s refusal under the egress policy filter: 403 naming the destination.
  ProxyError egressDenied(std::string_view host);
  boost::asio::awaitable<bool> forward();
  boost::asio::awaitable<bool> relay();
  void log(bool keep);
  // The log phase's access log lines (only when the chain has access logs).
  void writeAccessLogs();

  // forward()'s steps.
  boost::asio::awaitable<std::optional<ProxyError>> keepBodyForReplay();
  std::optional<uint32_t> pickHost(LoadBalancer& lb, const ClusterHealth& health,
                                   const std::array<uint32_t, 16>& tried, size_t tried_count);
  struct TryResult {
    std::optional<ProxyError> error;
    bool resend = false;  // the keep-alive race: send again at once on a fresh connection
  };
  boost::asio::awaitable<TryResult> tryOnce(const Endpoint& endpoint, bool fresh_only);
  boost::asio::awaitable<std::optional<ProxyError>> streamRequestBody();
  boost::asio::awaitable<bool> waitBackOff(std::chrono::milliseconds delay);
  std::chrono::milliseconds bodyIdleTimeout() const;
  // Feeds a try's outcome to outlier detection (the host's consecutive-failure counts).
  void observeOutlier(const Endpoint& endpoint, const ProxyError* error);

  // The one way a request ends in a local reply (or, with nothing left to tell the client, a
  // closed connection). Returns whether the connection stays open.
  boost::asio::awaitable<bool> fail(const ProxyError& error);
  boost::asio::awaitable<bool> reply(uint16_t status, std::string_view body, bool close);
  // Both count at once, so a counter is never behind what the client has seen.
  void flag(ResponseFlag f);
  void setStatus(uint16_t status);
  bool draining() const;
  void closeSockets();

  Worker& worker_;
  std::shared_ptr<const Listener> listener_;
  uint32_t chain_;
  const HttpConnectionManager* hcm_;  // listener_'s chain chain_
  ConnectionFacts facts_;
  Endpoint original_endpoint_;  // facts_.local, the host of ORIGINAL_DST clusters
  http::ConnectionOptions options_;
  http::Http1ServerConnection conn_;
  Deadline deadline_;
  Http1UpstreamRequest upstream_;
  Buffer request_head_;  // the serialized upstream request head, kept for every try
  boost::asio::steady_timer back_off_;
  std::string peer_;  // remote address, for x-forwarded-for
  std::string reply_text_;  // a local reply's body built for this request (egress refusals)
  bool peer_internal_ = false;
  std::list<Session*>::iterator registration_;
  Context ctx_;
  const bool access_logs_;  // the chain has access logs: capture what they need
  LogCapture capture_;      // reused by every request on this connection
  bool closed_ = false;
  bool drain_ = false;  // this session's listener was removed or changed
};

}  // namespace trellis::proxy
