// The request path: read, route, forward, relay, repeat.
#include "proxy/net/downstream_session.h"

#include <array>
#include <charconv>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "proxy/http/local_reply.h"
#include "proxy/http/request_id.h"
#include "proxy/net/worker.h"
#include "proxy/router/router.h"

namespace trellis::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// How long a keep-alive connection keeps its read block after a response (see readRequestHead),
// and how many blocks a worker may lend to such connections before idle ones go without.
constexpr Duration kHotIdle{500};
constexpr size_t kHotBlocksPerWorker = 128;

// Hop-by-hop headers (RFC 9110 §7.6.1) that never cross the proxy. Transfer-Encoding is not
// among them: the body is relayed with the framing it arrived in. Expect is answered here.
bool isHopByHop(std::string_view name) {
  using http::equalsIgnoreCase;
  switch (name.size()) {
    case 2:
      return equalsIgnoreCase(name, "te");
    case 6:
      return equalsIgnoreCase(name, "expect");
    case 7:
      return equalsIgnoreCase(name, "upgrade");
    case 10:
      return equalsIgnoreCase(name, "connection") || equalsIgnoreCase(name, "keep-alive");
    case 16:
      return equalsIgnoreCase(name, "proxy-connection");
    default:
      return false;
  }
}

// Also drops headers that the Connection header names as hop-by-hop.
bool dropHeader(const http::MessageHead& head, const http::HeaderField& h) {
  if (isHopByHop(h.name)) return true;
  for (const auto& c : head.headers) {
    if (c.name.size() == 10 && http::equalsIgnoreCase(c.name, "connection") && http::hasToken(c.value, h.name)) {
      return true;
    }
  }
  return false;
}

void appendUint(Buffer& out, uint64_t v) {
  char tmp[24];
  auto [end, ec] = std::to_chars(tmp, tmp + sizeof(tmp), v);
  out.append(tmp, static_cast<size_t>(end - tmp));
}

void appendHeader(Buffer& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ", 2);
  out.append(value);
  out.append("\r\n", 2);
}

bool isInternalAddress(std::string_view peer) {
  return peer.starts_with("127.") || peer.starts_with("10.") || peer.starts_with("192.168.") || peer == "::1" ||
         (peer.starts_with("172.") && peer.size() > 6 && [&] {
           int second = std::atoi(std::string(peer.substr(4, 3)).c_str());
           return second >= 16 && second <= 31;
         }());
}

}  // namespace

DownstreamSession::DownstreamSession(Worker& worker, std::shared_ptr<const Listener> listener, tcp::socket socket)
    : worker_(worker),
      listener_(std::move(listener)),
      socket_(std::move(socket)),
      in_(worker.buffers()),
      out_(worker.buffers()),
      parser_(http::Parser::Type::Request,
              http::ParserLimits{listener_->http.max_request_headers_bytes, listener_->http.max_headers_count}),
      timer_(socket_.get_executor()) {
  error_code ec;
  auto remote = socket_.remote_endpoint(ec);
  if (!ec) peer_ = remote.address().to_string();
  socket_.set_option(tcp::no_delay(true), ec);
  registration_ = worker_.registerSession(this);
  auto& ls = listener_->listener_stats->shard(worker_.id());
  inc(ls.downstream_cx_total);
  add(ls.downstream_cx_active, 1);
}

DownstreamSession::~DownstreamSession() {
  auto& ls = listener_->listener_stats->shard(worker_.id());
  add(ls.downstream_cx_active, -1);
  inc(ls.downstream_cx_destroy);
  worker_.unregisterSession(registration_);
}

void DownstreamSession::start() {
  asio::co_spawn(socket_.get_executor(), run(), asio::detached);
}

bool DownstreamSession::draining() const { return drain_ || worker_.draining(); }

void DownstreamSession::onDrain() {
  drain_ = true;
  if (idle_) {
    inc(listener_->http_stats->shard(worker_.id()).downstream_cx_drain_close);
    closeSockets();
  }
}

void DownstreamSession::forceClose() { closeSockets(); }

void DownstreamSession::closeSockets() {
  error_code ec;
  socket_.cancel(ec);
  socket_.close(ec);
  if (upstream_) upstream_->socket().close(ec);
  timer_.cancel();
  closed_ = true;
}

// ---- the deadline -------------------------------------------------------------------------

void DownstreamSession::arm(Duration d, Wait w) {
  if (d.count() == 0 || closed_) {  // a closed session unwinds without waiting
    wait_ = Wait::None;
    return;
  }
  expired_ = Wait::None;
  wait_ = w;
  deadline_ = std::chrono::steady_clock::now() + d;
  // A pending wait that ends later is moved earlier; one that ends sooner re-arms itself.
  if (!timer_pending_ || timer_.expiry() > deadline_) startTimer();
}

void DownstreamSession::startTimer() {
  timer_.expires_at(deadline_);
  timer_pending_ = true;
  timer_.async_wait([self = shared_from_this()](const error_code& ec) { self->onTimer(ec); });
}

void DownstreamSession::onTimer(const error_code& ec) {
  if (ec == asio::error::operation_aborted) return;  // replaced by a newer wait, or closing
  timer_pending_ = false;
  if (closed_ || wait_ == Wait::None) return;
  if (std::chrono::steady_clock::now() < deadline_) {
    startTimer();
    return;
  }
  expired_ = wait_;
  wait_ = Wait::None;
  error_code ignored;
  socket_.cancel(ignored);
  if (upstream_) upstream_->socket().cancel(ignored);
}

// ---- the connection loop ------------------------------------------------------------------

asio::awaitable<void> DownstreamSession::run() {
  auto self = shared_from_this();
  while (!closed_) {
    if (!co_await readRequestHead()) break;
    if (!co_await handleRequest()) break;
  }
  if (upstream_) upstream_.reset();
  error_code ec;
  if (!closed_) {
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    socket_.close(ec);
  }
  closed_ = true;
  timer_.cancel();
  in_.release();
  out_.release();
}

asio::awaitable<bool> DownstreamSession::readRequestHead() {
  auto& hs = listener_->http_stats->shard(worker_.id());
  // A new message starts at offset 0 so its spans stay valid if the buffer grows.
  if (in_.allocated()) in_.compact();
  parsed_ = in_.begin();
  if (in_.empty()) {
    out_.release();
    if (draining()) co_return false;
    idle_ = true;
    Duration idle_left = listener_->http.idle_timeout;
    // A connection that just served a request usually sends the next one soon: read straight
    // into its block for a short while. A pending read costs no system call (the socket stays
    // registered with epoll), where waiting for readability re-arms epoll on every request.
    // After kHotIdle, or when the worker already lends kHotBlocksPerWorker blocks (2 MiB), the
    // block goes back and the connection waits holding no buffer at all, so thousands of idle
    // connections never pin thousands of blocks.
    // (lent() counts this connection's own block if it still has one.)
    if (worker_.buffers().lent() + (in_.allocated() ? 0 : 1) <= kHotBlocksPerWorker) {
      in_.ensureAllocated();
      Duration hot = listener_->http.idle_timeout.count() == 0 ? kHotIdle : std::min(kHotIdle, idle_left);
      arm(hot, Wait::IdleHot);
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(in_.writePtr(), in_.freeSpace()), kNoThrow);
      disarm();
      if (!ec && !closed_) {
        in_.commit(n);
        idle_ = false;
      } else if (closed_ || expired_ != Wait::IdleHot) {
        idle_ = false;
        co_return false;  // the client closed, or a drain closed us
      } else if (idle_left.count() != 0) {
        idle_left -= hot;
        if (idle_left.count() <= 0) {
          inc(hs.downstream_cx_idle_timeout);
          co_return false;
        }
      }
    }
    if (idle_) {
      // Cold: the connection keeps no buffer and no header tables while it waits.
      in_.release();
      parser_.releaseMemory();
      head_.releaseMemory();
      resp_.releaseMemory();
      arm(idle_left, Wait::Idle);
      auto [ec] = co_await socket_.async_wait(tcp::socket::wait_read, kNoThrow);
      idle_ = false;
      disarm();
      if (ec || closed_) {
        if (expired_ == Wait::Idle) inc(hs.downstream_cx_idle_timeout);
        co_return false;
      }
    }
  }
  arm(listener_->http.request_headers_timeout, Wait::RequestHeaders);
  const size_t limit = listener_->http.max_request_headers_bytes + BufferPool::kBlockSize;
  for (;;) {
    if (parsed_ < in_.end()) {
      auto step = parser_.feed(in_.base(), parsed_, in_.end());
      if (step.status == http::Parser::Status::Error) {
        disarm();
        inc(hs.downstream_cx_protocol_error);
        co_await localReply(parser_.errorStatus(), ResponseFlag::DPE, parser_.errorReason(), true);
        co_return false;
      }
      parsed_ += step.consumed;
      if (step.status == http::Parser::Status::HeadComplete) break;
    }
    if (!in_.reserveForRead(limit)) {
      co_await localReply(431, ResponseFlag::DPE, "request headers too large", true);
      co_return false;
    }
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(in_.writePtr(), in_.freeSpace()), kNoThrow);
    if (ec) {
      bool started = parsed_ > in_.begin() || n > 0;
      if (expired_ == Wait::RequestHeaders) {
        co_await localReply(408, ResponseFlag::DPE, "request headers not received in time", true);
      } else if (started && !closed_) {
        inc(hs.downstream_cx_protocol_error);
      }
      co_return false;
    }
    in_.commit(n);
  }
  disarm();
  parser_.bindHead(in_.base(), head_);
  // A message without a body ends with its head: let the parser reach that end now. This is
  // also where llhttp rejects framing it only judges after the head (Transfer-Encoding
  // without a final chunked).
  if (!head_.chunked && head_.content_length == 0) {
    auto end = parser_.feed(in_.base(), parsed_, parsed_);
    if (end.status == http::Parser::Status::Error) {
      inc(hs.downstream_cx_protocol_error);
      co_await localReply(parser_.errorStatus(), ResponseFlag::DPE, parser_.errorReason(), true);
      co_return false;
    }
  }
  co_return true;
}

asio::awaitable<bool> DownstreamSession::localReply(uint16_t status, ResponseFlag flag, std::string_view body,
                                                   bool close) {
  countResponse(status);
  if (flag != ResponseFlag::Count) countFlag(flag);
  out_.clear();
  http::writeLocalReply(out_, status, body, close || draining());
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(out_.base(), out_.size()), kNoThrow);
  out_.clear();
  co_return !ec && !close && !draining();
}

void DownstreamSession::countResponse(uint16_t status) {
  auto& hs = listener_->http_stats->shard(worker_.id());
  switch (status / 100) {
    case 1: inc(hs.downstream_rq_1xx); break;
    case 2: inc(hs.downstream_rq_2xx); break;
    case 3: inc(hs.downstream_rq_3xx); break;
    case 4: inc(hs.downstream_rq_4xx); break;
    default: inc(hs.downstream_rq_5xx); break;
  }
  inc(hs.downstream_rq_completed);
}

void DownstreamSession::countFlag(ResponseFlag flag) {
  inc(listener_->http_stats->shard(worker_.id()).response_flags[static_cast<size_t>(flag)]);
}

// ---- one request --------------------------------------------------------------------------

asio::awaitable<bool> DownstreamSession::handleRequest() {
  auto& hs = listener_->http_stats->shard(worker_.id());
  inc(hs.downstream_rq_total);
  inc(hs.downstream_rq_http1_total);
  add(hs.downstream_rq_active, 1);
  struct ActiveGuard {
    Gauge& g;
    ~ActiveGuard() { add(g, -1); }
  } active_guard{hs.downstream_rq_active};
  // The head's bytes leave the buffer now, so that however this request ends (a local reply
  // that keeps the connection open included) the next head is parsed from the bytes after it.
  // head_'s views stay valid: consume() only moves offsets, and nothing reads into in_ before
  // the head has been serialized.
  in_.consume(parsed_ - in_.begin());
  parsed_ = in_.begin();

  request_is_head_ = head_.method == "HEAD";
  request_keep_alive_ = head_.keep_alive;
  request_http10_ = head_.isHttp10();
  const bool has_body = head_.chunked || head_.content_length > 0;
  request_body_done_ = !has_body;
  // Any reply sent before the body was read must close: the unread body would be taken for
  // the next request.
  const bool close_on_local_reply = has_body;

  if (head_.upgrade) {
    co_return co_await localReply(403, ResponseFlag::Count, "protocol upgrade is not supported", true);
  }
  const http::HeaderField* host = nullptr;
  for (const auto& h : head_.headers) {
    if (h.name.size() == 4 && http::equalsIgnoreCase(h.name, "host")) {
      if (host) co_return co_await localReply(400, ResponseFlag::DPE, "more than one Host header", true);
      host = &h;
    }
  }
  if (!host && !request_http10_) {
    co_return co_await localReply(400, ResponseFlag::DPE, "HTTP/1.1 request without a Host header", true);
  }
  expect_continue_ = false;
  if (const auto* e = head_.find("expect")) {
    if (!http::equalsIgnoreCase(e->value, "100-continue")) {
      co_return co_await localReply(417, ResponseFlag::Count, "unsupported Expect header", true);
    }
    expect_continue_ = !request_http10_ && has_body;
  }

  // Route: the snapshot taken here serves this request to its end.
  snapshot_ = worker_.snapshot();
  const Listener* current = snapshot_ ? snapshot_->findListener(listener_->name) : nullptr;
  const RouteTable& routes = *(current ? current->routes : listener_->routes);
  const VirtualHost* vhost = routes.lookup->find(host ? host->value : std::string_view());
  const Route* route = vhost ? matchRoute(*vhost, head_) : nullptr;
  if (!route) {
    inc(hs.no_route);
    co_return co_await localReply(404, ResponseFlag::NR, "no route matched the request", close_on_local_reply);
  }
  if (route->direct) {
    inc(hs.rq_direct_response);
    co_return co_await localReply(route->direct->status, ResponseFlag::Count, route->direct->body,
                                  close_on_local_reply);
  }
  const WeightedTarget* target = pickTarget(*route->forward, worker_.random());
  if (!target || !target->cluster || *target->cluster >= snapshot_->clusters.size()) {
    inc(hs.no_cluster);
    co_return co_await localReply(503, ResponseFlag::NC, "the route's cluster is not known", close_on_local_reply);
  }
  const Cluster& cluster = *snapshot_->clusters[*target->cluster];
  cluster_stats_ = cluster.stats;
  auto& cs = cluster.stats->shard(worker_.id());
  if (cluster.schedule.empty()) {
    inc(cs.upstream_rq_no_healthy);
    co_return co_await localReply(503, ResponseFlag::UH, "no healthy upstream", close_on_local_reply);
  }

  // Forward. A request that went out whole on a reused connection may be sent once more on a
  // fresh one if that connection turns out closed before any response byte arrived (the
  // keep-alive race: the upstream closed an idle connection as we reused it). Only idempotent
  // methods (RFC 9110 §9.2.2): a POST the upstream may have applied is not sent twice.
  const bool idempotent = head_.method == "GET" || head_.method == "HEAD" || head_.method == "OPTIONS" ||
                          head_.method == "TRACE" || head_.method == "PUT" || head_.method == "DELETE";
  serializeRequestHead(*route, cluster);
  inc(cs.upstream_rq_total);
  add(cs.upstream_rq_active, 1);
  struct UpstreamActiveGuard {
    Gauge& g;
    ~UpstreamActiveGuard() { add(g, -1); }
  } upstream_guard{cs.upstream_rq_active};

  const Endpoint& endpoint = cluster.endpoints[cluster.schedule[worker_.nextEndpoint(cluster)]];
  // The body bytes of a request that went out whole on a reused connection stay in in_ until
  // its response starts, so that the resend on a fresh connection carries them too.
  size_t resend_body = 0;
  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    if (attempt == 0) upstream_ = worker_.pools().take(endpoint.address);
    if (upstream_) {
      reused = true;
      inc(cs.upstream_cx_pool_reuse);
    } else if (!co_await connectUpstream(cluster, endpoint)) {
      co_return co_await localReply(503, ResponseFlag::UF, "upstream connect error or disconnect/reset before headers",
                                    close_on_local_reply);
    }
    upstream_->parser().setSkipBody(request_is_head_);
    upstream_->countRequest();

    // Head and whatever body bytes are already here, in one gathered write.
    size_t first_body = resend_body;
    if (attempt == 0 && !request_body_done_ && !in_.empty()) {
      auto step = parser_.feed(in_.base(), in_.begin(), in_.end());
      if (step.status == http::Parser::Status::Error) {
        upstream_.reset();
        co_return co_await localReply(parser_.errorStatus(), ResponseFlag::DPE, parser_.errorReason(), true);
      }
      first_body = step.consumed;
      request_body_done_ = step.status == http::Parser::Status::MessageComplete;
    }
    std::array<asio::const_buffer, 2> bufs{asio::buffer(out_.base(), out_.size()),
                                           asio::buffer(in_.base() + in_.begin(), first_body)};
    auto [wec, wn] = co_await asio::async_write(upstream_->socket(), bufs, kNoThrow);
    const bool may_resend = reused && idempotent && request_body_done_ && attempt == 0;
    if (may_resend) resend_body = first_body;
    if (wec) {
      upstream_.reset();
      if (may_resend) continue;
      inc(cs.upstream_rq_rx_reset);
      co_return co_await localReply(503, ResponseFlag::UC, "upstream connect error or disconnect/reset before headers",
                                    true);
    }
    if (!may_resend) in_.consume(first_body);
    if (expect_continue_ && !request_body_done_ && in_.empty()) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      auto [cec, cn] = co_await asio::async_write(socket_, asio::buffer(kContinue), kNoThrow);
      if (cec) co_return false;
    }
    if (!request_body_done_ && !co_await sendRequestBody()) co_return false;

    bool retry = false;
    bool keep = co_await relayResponse(cluster, route->forward->timeout, may_resend, retry);
    if (retry) {
      upstream_.reset();
      continue;
    }
    if (may_resend) in_.consume(resend_body);
    co_return keep;
  }
}

asio::awaitable<bool> DownstreamSession::connectUpstream(const Cluster& cluster, const Endpoint& endpoint) {
  auto& cs = cluster.stats->shard(worker_.id());
  if (closed_) co_return false;  // force-closed: no new upstream connection
  upstream_ = std::make_shared<UpstreamConnection>(socket_.get_executor(), worker_.buffers(), cluster.stats,
                                                   worker_.id());
  upstream_->setEndpoint(endpoint.address);
  arm(cluster.connect_timeout, Wait::Connect);
  auto [ec] = co_await upstream_->socket().async_connect(endpoint.address, kNoThrow);
  disarm();
  if (ec) {
    inc(cs.upstream_cx_connect_fail);
    if (expired_ == Wait::Connect) inc(cs.upstream_cx_connect_timeout);
    upstream_.reset();
    co_return false;
  }
  error_code ignored;
  upstream_->socket().set_option(tcp::no_delay(true), ignored);
  co_return true;
}

asio::awaitable<bool> DownstreamSession::sendRequestBody() {
  // Streams the rest of the request body; one read in flight at a time, and the next read
  // starts only once the previous bytes were written upstream (backpressure).
  upstream_write_failed_ = false;
  while (!request_body_done_) {
    if (in_.empty()) {
      in_.ensureAllocated();
      arm(listener_->http.idle_timeout, Wait::BodyIdle);
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(in_.writePtr(), in_.freeSpace()), kNoThrow);
      disarm();
      if (ec) {
        countFlag(ResponseFlag::DC);
        upstream_.reset();
        co_return false;
      }
      in_.commit(n);
    }
    auto step = parser_.feed(in_.base(), in_.begin(), in_.end());
    if (step.status == http::Parser::Status::Error) {
      upstream_.reset();
      inc(listener_->http_stats->shard(worker_.id()).downstream_cx_protocol_error);
      co_await localReply(parser_.errorStatus(), ResponseFlag::DPE, parser_.errorReason(), true);
      co_return false;
    }
    request_body_done_ = step.status == http::Parser::Status::MessageComplete;
    if (step.consumed > 0) {
      // An upstream that stops reading must not hold this session forever.
      arm(listener_->http.idle_timeout, Wait::BodyIdle);
      auto [ec, n] = co_await asio::async_write(
          upstream_->socket(), asio::buffer(in_.base() + in_.begin(), step.consumed), kNoThrow);
      disarm();
      if (ec) {
        // The upstream stopped reading: it may have answered early (a 413, a 401) and closed.
        // Stop sending and relay that answer if it is there (relayResponse answers 503 UC if
        // not); the client's connection closes after it, the rest of its body unread.
        upstream_write_failed_ = true;
        co_return true;
      }
      in_.consume(step.consumed);
    }
    if (!request_body_done_ && in_.size() > 0 && step.consumed == 0) in_.compact();
  }
  co_return true;
}

asio::awaitable<bool> DownstreamSession::relayResponse(const Cluster& cluster, Duration timeout, bool may_retry,
                                                      bool& retry) {
  auto& cs = cluster.stats->shard(worker_.id());
  Buffer& ub = upstream_->buffer();
  http::Parser& up = upstream_->parser();
  arm(timeout, Wait::Route);

  // The response head; interim 1xx responses are consumed here, not relayed.
  bool got_bytes = false;
  bool head_only = false;
  size_t uparsed = ub.begin();
  for (;;) {
    if (ub.allocated() && uparsed < ub.end()) {
      auto step = up.feed(ub.base(), uparsed, ub.end());
      if (step.status == http::Parser::Status::Error) {
        disarm();
        inc(cs.upstream_cx_protocol_error);
        upstream_.reset();
        co_return co_await localReply(502, ResponseFlag::UPE, "invalid response from upstream", true);
      }
      uparsed += step.consumed;
      if (step.status == http::Parser::Status::HeadComplete) {
        up.bindHead(ub.base(), resp_);
        if (resp_.status >= 200 || step.message_complete) {
          head_only = step.message_complete;
          if (resp_.status >= 200) break;
        }
        if (resp_.status == 101) {
          disarm();
          inc(cs.upstream_cx_protocol_error);
          upstream_.reset();
          co_return co_await localReply(502, ResponseFlag::UPE, "upstream switched protocols unasked", true);
        }
        // Interim response: run the parser through its (empty) end, drop it, read on.
        if (!step.message_complete) uparsed += up.feed(ub.base(), uparsed, ub.end()).consumed;
        ub.consume(uparsed - ub.begin());
        if (ub.allocated()) ub.compact();
        uparsed = ub.begin();
        continue;
      }
    }
    if (!ub.reserveForRead(64 * 1024 + BufferPool::kBlockSize)) {
      disarm();
      upstream_.reset();
      co_return co_await localReply(502, ResponseFlag::UPE, "upstream response headers too large", true);
    }
    auto [ec, n] =
        co_await upstream_->socket().async_read_some(asio::buffer(ub.writePtr(), ub.freeSpace()), kNoThrow);
    if (ec) {
      disarm();
      upstream_.reset();
      if (expired_ == Wait::Route) {
        inc(cs.upstream_rq_timeout);
        inc(listener_->http_stats->shard(worker_.id()).downstream_rq_timeout);
        co_return co_await localReply(504, ResponseFlag::UT, "upstream request timeout", true);
      }
      if (!got_bytes && may_retry) {
        retry = true;
        co_return false;
      }
      inc(cs.upstream_rq_rx_reset);
      co_return co_await localReply(503, ResponseFlag::UC,
                                    upstream_write_failed_
                                        ? "upstream connection closed while sending the request body"
                                        : "upstream connect error or disconnect/reset before headers",
                                    true);
    }
    got_bytes = true;
    ub.commit(n);
  }

  // Framing toward the client.
  const bool eof_body = !head_only && up.bodyEndsAtEof();
  const bool decode = !head_only && resp_.chunked && request_http10_;
  // An early answer (the request body not all sent) closes the client connection after it.
  const bool close = !request_keep_alive_ || draining() || eof_body || decode || !request_body_done_;
  up.setDecodeBody(decode);
  switch (resp_.status / 100) {
    case 1: inc(cs.upstream_rq_1xx); break;
    case 2: inc(cs.upstream_rq_2xx); break;
    case 3: inc(cs.upstream_rq_3xx); break;
    case 4: inc(cs.upstream_rq_4xx); break;
    default: inc(cs.upstream_rq_5xx); break;
  }
  countResponse(resp_.status);
  serializeResponseHead(resp_, close, decode);
  ub.consume(uparsed - ub.begin());

  // The body, relayed slice by slice as it arrives; the head goes out with the first slice.
  bool done = head_only;
  bool head_sent = false;
  for (;;) {
    size_t consumed = 0;
    size_t slice = 0;
    bool need_bytes = false;
    if (!done) {
      // Fed even when empty: a response whose body is empty (Content-Length: 0) ends here.
      ub.ensureAllocated();
      auto step = up.feed(ub.base(), ub.begin(), ub.end());
      if (step.status == http::Parser::Status::Error) {
        disarm();
        inc(cs.upstream_cx_protocol_error);
        countFlag(ResponseFlag::UPE);
        upstream_.reset();
        if (!head_sent) co_await localReply(502, ResponseFlag::Count, "invalid response body from upstream", true);
        co_return false;
      }
      consumed = step.consumed;
      slice = decode ? up.decodedLength() : consumed;
      done = step.status == http::Parser::Status::MessageComplete;
      need_bytes = !done && consumed == 0;
    }
    if (need_bytes && head_sent) {
      auto [ec, n] =
          co_await upstream_->socket().async_read_some(asio::buffer(ub.writePtr(), ub.freeSpace()), kNoThrow);
      if (ec == asio::error::eof && eof_body) {
        done = up.finish() == http::Parser::Status::MessageComplete;
      } else if (ec) {
        disarm();
        if (expired_ == Wait::Route) {
          inc(cs.upstream_rq_timeout);
          countFlag(ResponseFlag::UT);
        } else {
          inc(cs.upstream_rq_rx_reset);
          countFlag(ResponseFlag::UC);
        }
        upstream_.reset();
        co_return false;  // the client sees the connection close mid-response
      } else {
        ub.commit(n);
        continue;
      }
      if (!done) {
        upstream_.reset();
        co_return false;
      }
    }
    std::array<asio::const_buffer, 2> bufs{
        asio::buffer(out_.base(), head_sent ? 0 : out_.size()),
        asio::buffer(ub.allocated() ? ub.base() + ub.begin() : nullptr, slice)};
    if (bufs[0].size() + bufs[1].size() > 0) {
      auto [wec, wn] = co_await asio::async_write(socket_, bufs, kNoThrow);
      if (wec) {
        disarm();
        countFlag(ResponseFlag::DC);
        upstream_.reset();
        co_return false;
      }
    }
    head_sent = true;
    if (consumed > 0) ub.consume(consumed);
    if (done) break;
  }
  disarm();

  // The upstream connection goes back to the pool only if it is exactly at a message boundary.
  if (!eof_body && resp_.keep_alive && ub.empty() && request_body_done_) {
    worker_.pools().give(std::move(upstream_));
  }
  upstream_.reset();
  co_return !close;
}

void DownstreamSession::serializeRequestHead(const Route& route, const Cluster& cluster) {
  const HttpOptions& opts = listener_->http;
  out_.clear();
  out_.append(head_.method);
  out_.append(" ", 1);
  const auto& fwd = *route.forward;
  if (fwd.prefix_rewrite && route.match.kind != RouteMatch::PathKind::Regex &&
      head_.target.size() >= route.match.path.size()) {
    out_.append(*fwd.prefix_rewrite);
    out_.append(head_.target.substr(route.match.path.size()));
  } else {
    out_.append(head_.target);
  }
  out_.append(" HTTP/1.1\r\n", 11);

  bool has_host = false;
  bool has_proto = false;
  const http::HeaderField* request_id = nullptr;
  bool first_xff = true;
  bool append_xff = opts.use_remote_address && !opts.skip_xff_append && !peer_.empty();
  std::string_view xff_values[8];
  size_t xff_count = 0;
  for (const auto& h : head_.headers) {
    if (dropHeader(head_, h)) continue;
    if (h.name.size() == 15 && http::equalsIgnoreCase(h.name, "x-forwarded-for")) {
      if (append_xff) {
        if (xff_count < 8) xff_values[xff_count++] = h.value;
        continue;
      }
    } else if (h.name.size() == 12 && http::equalsIgnoreCase(h.name, "x-request-id")) {
      request_id = &h;
      continue;
    } else if (h.name.size() == 4 && http::equalsIgnoreCase(h.name, "host")) {
      has_host = true;
    } else if (h.name.size() == 17 && http::equalsIgnoreCase(h.name, "x-forwarded-proto")) {
      has_proto = true;
    }
    appendHeader(out_, h.name, h.value);
  }
  if (!has_host) appendHeader(out_, "host", cluster.name);
  if (append_xff) {
    out_.append("x-forwarded-for: ", 17);
    for (size_t i = 0; i < xff_count; ++i) {
      if (!first_xff) out_.append(", ", 2);
      out_.append(xff_values[i]);
      first_xff = false;
    }
    if (!first_xff) out_.append(", ", 2);
    out_.append(peer_);
    out_.append("\r\n", 2);
  }
  if (!has_proto) appendHeader(out_, "x-forwarded-proto", "http");
  // x-request-id as Envoy does it: kept from trusted (internal) clients, generated otherwise.
  bool regenerate = opts.generate_request_id &&
                    (!request_id || (opts.use_remote_address && !opts.preserve_external_request_id &&
                                     !isInternalAddress(peer_)));
  if (regenerate) {
    char uuid[36];
    http::formatUuid4(worker_.random().next(), worker_.random().next(), uuid);
    appendHeader(out_, "x-request-id", std::string_view(uuid, sizeof(uuid)));
  } else if (request_id) {
    appendHeader(out_, request_id->name, request_id->value);
  }
  out_.append("\r\n", 2);
}

void DownstreamSession::serializeResponseHead(const http::MessageHead& resp, bool close, bool decode_chunked) {
  out_.clear();
  out_.append("HTTP/1.1 ", 9);
  appendUint(out_, resp.status);
  out_.append(" ", 1);
  out_.append(resp.reason.empty() ? http::reasonPhrase(resp.status) : resp.reason);
  out_.append("\r\n", 2);
  for (const auto& h : resp.headers) {
    if (dropHeader(resp, h)) continue;
    if (decode_chunked && h.name.size() == 17 && http::equalsIgnoreCase(h.name, "transfer-encoding")) continue;
    appendHeader(out_, h.name, h.value);
  }
  if (close) {
    out_.append("connection: close\r\n", 19);
  } else if (request_http10_) {
    out_.append("connection: keep-alive\r\n", 24);
  }
  out_.append("\r\n", 2);
}

}  // namespace trellis::proxy
