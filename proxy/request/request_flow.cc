// The request flow: check, route, forward (tries, retries), relay, log.
#include "proxy/request/request_flow.h"

#include <algorithm>
#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "proxy/http/head_writer.h"
#include "proxy/net/cluster_balancer.h"
#include "proxy/net/worker.h"
#include "proxy/router/router.h"
#include "proxy/upstream/load_balancer.h"

#include <spdlog/spdlog.h>

namespace trellis::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using Wait = Deadline::Wait;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// How many blocks a worker may lend to hot keep-alive connections (see Http1ServerConnection).
constexpr size_t kHotBlocksPerWorker = 128;

http::ConnectionOptions connectionOptions(const HttpOptions& http, const Listener& listener) {
  return http::ConnectionOptions{http.idle_timeout, http.request_headers_timeout, http.max_request_headers_bytes,
                                 http.max_headers_count, listener.buffer_limit};
}

bool isIdempotent(std::string_view m) {
  // RFC 9110 §9.2.2: a request the upstream may have applied is sent twice only if that is safe.
  return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE" || m == "PUT" || m == "DELETE";
}

// Counts a gauge up for as long as it lives.
struct GaugeHold {
  Gauge& g;
  explicit GaugeHold(Gauge& gauge) : g(gauge) { add(g, 1); }
  ~GaugeHold() { add(g, -1); }
};

struct AtomicHold {
  std::atomic<int64_t>* a;
  explicit AtomicHold(std::atomic<int64_t>* atomic) : a(atomic) {
    if (a) a->fetch_add(1, std::memory_order_relaxed);
  }
  AtomicHold(const AtomicHold&) = delete;
  ~AtomicHold() {
    if (a) a->fetch_sub(1, std::memory_order_relaxed);
  }
};

}  // namespace

void RequestFlow::create(Worker& worker, std::shared_ptr<const Listener> listener, uint32_t chain, tcp::socket socket,
                         ConnectionFacts facts, std::string initial) {
  std::make_shared<RequestFlow>(worker, std::move(listener), chain, std::move(socket), std::move(facts),
                                std::move(initial))
      ->start();
}

RequestFlow::RequestFlow(Worker& worker, std::shared_ptr<const Listener> listener, uint32_t chain, tcp::socket socket,
                         ConnectionFacts facts, std::string initial)
    : worker_(worker),
      listener_(std::move(listener)),
      chain_(chain),
      hcm_(&*listener_->filter_chains[chain].http),
      facts_(std::move(facts)),
      options_(connectionOptions(hcm_->http, *listener_)),
      conn_(std::move(socket), worker.buffers(), options_),
      deadline_(conn_.socket().get_executor(), conn_.socket()),
      request_head_(worker.buffers()),
      back_off_(conn_.socket().get_executor()),
      access_logs_(!hcm_->access_logs.empty()) {
  error_code ec;
  auto remote = conn_.socket().remote_endpoint(ec);
  if (!ec) {
    peer_ = remote.address().to_string();
    peer_internal_ = http::isInternalAddress(remote.address());
  }
  conn_.socket().set_option(tcp::no_delay(true), ec);
  // Bytes the TLS inspector read to see that this is not TLS: the first request starts there.
  if (!initial.empty()) conn_.in().append(initial);
  original_endpoint_.address = facts_.local;
  registration_ = worker_.registerSession(this);
  add(listener_->listener_stats->shard(worker_.id()).downstream_cx_active, 1);
}

RequestFlow::~RequestFlow() {
  auto& ls = listener_->listener_stats->shard(worker_.id());
  add(ls.downstream_cx_active, -1);
  inc(ls.downstream_cx_destroy);
  worker_.unregisterSession(registration_);
}

void RequestFlow::start() { asio::co_spawn(conn_.socket().get_executor(), run(), asio::detached); }

bool RequestFlow::draining() const { return drain_ || worker_.draining(listener_.get()); }

// An idle connection is not closed here: its client may have sent a request that is on its
// way, and would see the close as a failure. It stays open; its next response carries
// connection: close, and if none comes it is closed at the end of the drain window.
void RequestFlow::onDrain() { drain_ = true; }

void RequestFlow::forceClose() {
  if (draining() && !closed_) inc(hcm_->http_stats->shard(worker_.id()).downstream_cx_drain_close);
  closeSockets();
}

void RequestFlow::closeSockets() {
  closed_ = true;
  deadline_.close();
  back_off_.cancel();
  conn_.close();
  upstream_.closeSocket();  // the coroutine drops the connection when it wakes
}

// ---- the connection loop ------------------------------------------------------------------

asio::awaitable<void> RequestFlow::run() {
  auto self = shared_from_this();
  auto& hs = hcm_->http_stats->shard(worker_.id());
  while (!closed_) {
    // Never "draining" here: a drain that began after the last response was written finds a
    // client free to send again, so wait for it (its answer will close) rather than close.
    auto result = co_await conn_.readHead(deadline_, /*draining=*/false, kHotBlocksPerWorker);
    using R = http::Http1ServerConnection::HeadResult;
    if (result == R::Ready) {
      if (!co_await serve()) break;
      continue;
    }
    ctx_ = Context{};
    if (access_logs_) capture_.clear();  // no request was parsed: its line (a 400, a 408) names none
    switch (result) {
      case R::Ready:
      case R::Closed:
        break;
      case R::IdleTimeout:
        inc(hs.downstream_cx_idle_timeout);
        break;
      case R::Truncated:
        inc(hs.downstream_cx_protocol_error);
        break;
      case R::Malformed:
        co_await fail(proxyError(ErrorKind::DownstreamProtocol, conn_.parser().errorReason()));
        break;
      case R::TooLarge:
        co_await fail(proxyError(ErrorKind::HeadersTooLarge));
        break;
      case R::Timeout:
        co_await fail(proxyError(ErrorKind::HeadersTimeout));
        break;
    }
    log(false);
    break;
  }
  upstream_.abandon();
  if (!closed_) {
    error_code ec;
    conn_.socket().shutdown(tcp::socket::shutdown_send, ec);
    conn_.socket().close(ec);
  }
  closed_ = true;
  deadline_.close();
  conn_.releaseBuffers();
  request_head_.release();
}

asio::awaitable<bool> RequestFlow::serve() {
  auto& hs = hcm_->http_stats->shard(worker_.id());
  const auto head_at = Clock::now();  // downstream_rq_time runs from here
  inc(hs.downstream_rq_total);
  inc(hs.downstream_rq_http1_total);
  GaugeHold active(hs.downstream_rq_active);
  // The head's bytes leave the buffer now, so that however this request ends (a local reply
  // that keeps the connection open included) the next head is parsed from the bytes after it.
  conn_.consumeHead();
  const auto& head = conn_.head();
  ctx_ = Context{};
  ctx_.is_head = head.method == "HEAD";
  ctx_.keep_alive = head.keep_alive;
  ctx_.http10 = head.isHttp10();
  ctx_.has_body = head.chunked || head.content_length > 0;
  ctx_.body_done = !ctx_.has_body;
  ctx_.replayable = ctx_.body_done;
  ctx_.idempotent = isIdempotent(head.method);
  if (access_logs_) {
    // The head's views are valid until forward() starts: copy what the formats read now.
    ctx_.start_wall = std::chrono::system_clock::now();
    ctx_.start = Clock::now();
    if (ctx_.body_done) ctx_.request_done = ctx_.start;
    if (head.has_content_length) ctx_.bytes_received = head.content_length;
    capture_.clear();
    capture_.captureRequest(head, hcm_->access_log_headers);
  }

  bool keep = false;
  if (auto e = check()) {
    keep = co_await fail(*e);
  } else if (auto r = route()) {
    keep = co_await fail(*r);
  } else if (ctx_.route->direct) {
    inc(hs.rq_direct_response);
    ctx_.details = "direct_response";
    // Any reply sent before the body was read must close: the unread body would be taken for
    // the next request.
    keep = co_await reply(ctx_.route->direct->status, ctx_.route->direct->body, !ctx_.body_done);
  } else {
    keep = co_await forward();
  }
  record(hs.downstream_rq_time, Clock::now() - head_at);
  log(keep);
  co_return keep;
}

// ---- phase: check -------------------------------------------------------------------------

std::optional<ProxyError> RequestFlow::check() {
  const auto& head = conn_.head();
  if (head.upgrade) return proxyError(ErrorKind::UpgradeUnsupported);
  const http::HeaderField* host = nullptr;
  for (const auto& h : head.headers) {
    if (h.name.size() == 4 && http::equalsIgnoreCase(h.name, "host")) {
      if (host) return proxyError(ErrorKind::DuplicateHost);
      host = &h;
    }
  }
  if (!host && !ctx_.http10) return proxyError(ErrorKind::MissingHost);
  if (const auto* e = head.find("expect")) {
    if (!http::equalsIgnoreCase(e->value, "100-continue")) return proxyError(ErrorKind::ExpectUnsupported);
    ctx_.expect_continue = !ctx_.http10 && ctx_.has_body;
  }
  return std::nullopt;
}

// ---- phase: route -------------------------------------------------------------------------

std::optional<ProxyError> RequestFlow::route() {
  const auto& head = conn_.head();
  // The snapshot taken here serves this request to its end.
  ctx_.snapshot = worker_.snapshot();
  // The current routes of this connection's chain: RDS may have replaced them since the
  // connection was accepted (the listener itself is unchanged, or this connection would be
  // draining on its old one).
  const Listener* current = ctx_.snapshot ? ctx_.snapshot->findListener(listener_->name) : nullptr;
  const HttpConnectionManager* hcm = hcm_;
  if (current && current->source == listener_->source && chain_ < current->filter_chains.size() &&
      current->filter_chains[chain_].http) {
    hcm = &*current->filter_chains[chain_].http;
  }
  const RouteTable& routes = *hcm->routes;
  const auto* host = head.find("host");
  const VirtualHost* vhost = routes.lookup->find(host ? host->value : std::string_view());
  ctx_.route = vhost ? matchRoute(*vhost, head) : nullptr;
  if (!ctx_.route) {
    if (hcm_->egress_deny_reason) return egressDenied(host ? host->value : std::string_view());
    return proxyError(ErrorKind::NoRoute);
  }
  if (ctx_.route->direct) return std::nullopt;
  const WeightedTarget* target = pickTarget(*ctx_.route->forward, worker_.random());
  if (!target || !target->cluster || !ctx_.snapshot || *target->cluster >= ctx_.snapshot->clusters.size()) {
    return proxyError(ErrorKind::UnknownCluster);
  }
  ctx_.cluster = ctx_.snapshot->clusters[*target->cluster].get();
  ctx_.cs = &ctx_.cluster->stats->shard(worker_.id());
  return std::nullopt;
}

ProxyError RequestFlow::egressDenied(std::string_view host) {
  // The mesh's egress filter: no backend and no allowed host matched. Rare and never on the
  // hot path, so the reply's text is built here.
  inc(listener_->listener_stats->shard(worker_.id()).egress_denied_http);
  const std::string dest = endpointText(facts_.local);
  reply_text_ = "egress to ";
  reply_text_ += host.empty() ? std::string_view("(no Host)") : host;
  if (facts_.original_dst_restored) reply_text_ += " (" + dest + ")";
  // No trailing newline: the local reply adds one to every body.
  reply_text_ += " is not allowed: " + *hcm_->egress_deny_reason;
  if (mayLogRefusal()) {
    spdlog::info("listener {}: egress to {} ({}) refused with 403: {} (HTTP from {})", listener_->name,
                 host.empty() ? std::string_view("(no Host)") : host, dest, *hcm_->egress_deny_reason, endpointText(facts_.remote));
  }
  return proxyError(ErrorKind::EgressDenied, reply_text_);
}

// ---- phase: forward -----------------------------------------------------------------------

asio::awaitable<bool> RequestFlow::forward() {
  const Cluster& cluster = *ctx_.cluster;
  auto& cs = *ctx_.cs;
  const ForwardAction& action = *ctx_.route->forward;
  const CircuitBreakerConfig& cb = cluster.circuit_breakers;
  ClusterResources* res = cluster.resources;

  // Circuit breaker on requests: answered at once, never queued.
  if (res && res->requests.load(std::memory_order_relaxed) >= cb.max_requests) {
    inc(cs.upstream_rq_pending_overflow);
    co_return co_await fail(proxyError(ErrorKind::Overflow));
  }
  AtomicHold request_hold(res ? &res->requests : nullptr);

  // The upstream request head, serialized once for every try.
  const auto& head = conn_.head();
  http::RequestHeadOptions ho;
  if (action.prefix_rewrite && ctx_.route->match.kind != RouteMatch::PathKind::Regex) {
    ho.prefix_rewrite = *action.prefix_rewrite;
    ho.strip_prefix_length = ctx_.route->match.path.size();
  }
  if (action.host_rewrite_literal) ho.host_rewrite = *action.host_rewrite_literal;
  std::string rewritten_target;  // regex_rewrite: the whole target replaced, query kept
  if (action.regex_rewrite) {
    const std::string_view path = head.pathOnly();
    rewritten_target.assign(path.data(), path.size());
    RE2::GlobalReplace(&rewritten_target, *action.regex_rewrite, action.regex_rewrite_substitution);
    rewritten_target.append(head.target.substr(path.size()));
    ho.prefix_rewrite = rewritten_target;
    ho.strip_prefix_length = head.target.size();
  }
  ho.default_host = cluster.name;
  ho.peer = peer_;
  ho.peer_is_internal = peer_internal_;
  ho.use_remote_address = hcm_->http.use_remote_address;
  ho.append_xff = hcm_->http.use_remote_address && !hcm_->http.skip_xff_append;
  ho.generate_request_id = hcm_->http.generate_request_id;
  ho.preserve_external_request_id = hcm_->http.preserve_external_request_id;
  ho.random_hi = worker_.random().next();
  ho.random_lo = worker_.random().next();
  http::writeRequestHead(request_head_, head, ho);
  if (access_logs_) {
    capture_.captureUpstreamRequest(std::string_view(reinterpret_cast<const char*>(request_head_.base()), request_head_.size()),
                                    hcm_->access_log_headers);
  }
  // From here on nothing reads the request head's views: the buffer may move.

  inc(cs.upstream_rq_total);
  GaugeHold upstream_active(cs.upstream_rq_active);

  const RetryPolicy* policy = action.retry_policy ? &*action.retry_policy : nullptr;
  RetryState retry(policy);
  if (!ctx_.body_done) {
    if (auto e = co_await keepBodyForReplay()) co_return co_await fail(*e);
    if (closed_) co_return false;
  }

  // The balancer and health of this request's cluster (see ClusterBalancer: refreshed after
  // every wait).
  ClusterBalancer balance(worker_, cluster);
  if (balance.health().panic) inc(cs.lb_healthy_panic);

  std::array<uint32_t, 16> tried{};
  size_t tried_count = 0;
  bool resent = false;
  // A retry counts toward the cluster's active retries (max_retries, retry budget) from its
  // back-off to the request's end.
  struct RetryHold {
    std::atomic<int64_t>* slot = nullptr;
    ~RetryHold() {
      if (slot) slot->fetch_sub(1, std::memory_order_relaxed);
    }
  } retry_hold;
  // ORIGINAL_DST: the one destination is where the client meant to go.
  const bool original_dst = cluster.type == DiscoveryType::OriginalDst;
  if (original_dst && !facts_.original_dst_restored) {
    co_return co_await fail(proxyError(ErrorKind::NoOriginalDestination));
  }
  for (;;) {
    balance.refresh();
    std::optional<uint32_t> host;
    if (!original_dst) {
      host = pickHost(balance.lb(), balance.health(), tried, tried_count);
      if (!host) co_return co_await fail(proxyError(ErrorKind::NoHealthyUpstream));
      if (tried_count < tried.size()) tried[tried_count++] = *host;
      balance.lb().onRequestStart(*host);
    }
    const Endpoint& endpoint = original_dst ? original_endpoint_ : cluster.endpoints[*host];
    ctx_.upstream_host = &endpoint.address;

    if (endpoint.counters) {
      endpoint.counters->rq_active.fetch_add(1, std::memory_order_relaxed);
      endpoint.counters->rq_total.fetch_add(1, std::memory_order_relaxed);
    }
    const auto sent_at = Clock::now();
    ctx_.upstream_sent = sent_at;
    TryResult result = co_await tryOnce(endpoint, false);
    if (result.resend && !resent) {
      // The keep-alive race: the reused connection was closed under us before any response
      // byte. Send again on a fresh connection to the same host; it is not a retry.
      resent = true;
      upstream_.abandon();
      result = co_await tryOnce(endpoint, true);
    }
    const auto now = Clock::now();
    if (!result.error && access_logs_) {
      ctx_.response_head = now;
      ctx_.upstream_service_time = std::chrono::duration_cast<std::chrono::microseconds>(now - sent_at);
    }
    balance.refresh();
    if (host) balance.lb().onRequestEnd(*host, now - sent_at, now);
    if (endpoint.counters) endpoint.counters->rq_active.fetch_sub(1, std::memory_order_relaxed);
    if (closed_) co_return false;
    observeOutlier(endpoint, result.error ? &*result.error : nullptr);

    // What this try ended with: an error, or a response head whose status a policy may retry.
    std::optional<ProxyError> error = std::move(result.error);
    bool retry_wanted = false;
    if (error) {
      if (endpoint.counters) endpoint.counters->rq_error.fetch_add(1, std::memory_order_relaxed);
      retry_wanted = retry.coversFailure(error->retry_event);
    } else {
      const uint16_t status = upstream_.response().status;
      if (endpoint.counters) {
        (status >= 500 ? endpoint.counters->rq_error : endpoint.counters->rq_success)
            .fetch_add(1, std::memory_order_relaxed);
      }
      retry_wanted = retry.coversStatus(status);
    }
    if (retry_wanted) {
      bool may = true;
      if (!ctx_.replayable) {
        may = false;  // the body was streamed away: a retry could not send it again
      } else if (!retry.retriesLeft()) {
        inc(cs.upstream_rq_retry_limit_exceeded);
        flag(ResponseFlag::URX);
        may = false;
      } else if (res && res->retries.load(std::memory_order_relaxed) - (retry_hold.slot ? 1 : 0) >=
                            maxActiveRetries(cb, res->requests.load(std::memory_order_relaxed),
                                             res->pending_requests.load(std::memory_order_relaxed))) {
        // (This request's own active retry, if it has one, ends as the next one starts: as in
        // Envoy, it does not count against the request's next retry.)
        inc(cs.upstream_rq_retry_overflow);
        flag(ResponseFlag::URX);
        may = false;
      }
      if (may) {
        upstream_.abandon();  // a response we will not relay: drop its connection
        inc(cs.upstream_rq_retry);
        auto delay = retry.next(worker_.random().next());
        if (delay.count() > 0) inc(cs.upstream_rq_retry_backoff_exponential);
        if (res && !retry_hold.slot) {
          retry_hold.slot = &res->retries;
          res->retries.fetch_add(1, std::memory_order_relaxed);
        }
        if (!co_await waitBackOff(delay)) {
          if (closed_) co_return false;
          co_return co_await fail(proxyError(ErrorKind::RouteTimeout));
        }
        continue;
      }
    }
    if (error) co_return co_await fail(*error);
    if (retry.used() > 0 && upstream_.response().status < 500) inc(cs.upstream_rq_retry_success);
    co_return co_await relay();
  }
}

void RequestFlow::observeOutlier(const Endpoint& endpoint, const ProxyError* error) {
  const Cluster& cluster = *ctx_.cluster;
  if (!cluster.outlier_detection || !endpoint.counters) return;
  // What the host answered, or the status Envoy maps a failure of the host to: a connect
  // failure or a reset is a 503, a timeout a 504, an invalid response a 502. Failures that are
  // not the host's (the client left, a circuit breaker) say nothing about it.
  uint16_t status = 0;
  if (!error) {
    status = upstream_.response().status;
  } else if (error->source == ErrorSource::Upstream && error->kind != ErrorKind::Overflow &&
             error->kind != ErrorKind::NoHealthyUpstream) {
    status = error->status;
  }
  if (status == 0) return;
  auto signal = recordOutcome(*endpoint.counters, *cluster.outlier_detection, status);
  if (signal != OutlierSignal::None) worker_.reportOutlier(cluster, endpoint, signal);
}

std::chrono::milliseconds RequestFlow::bodyIdleTimeout() const {
  // The route's idle_timeout when it has one, else the connection's.
  const ForwardAction* fwd = ctx_.route && ctx_.route->forward ? &*ctx_.route->forward : nullptr;
  if (fwd && fwd->idle_timeout.count() > 0) return fwd->idle_timeout;
  return hcm_->http.idle_timeout;
}

asio::awaitable<std::optional<ProxyError>> RequestFlow::keepBodyForReplay() {
  // What of the body is already here costs nothing to keep; beyond that, a request with a retry
  // policy reads its body first, up to the route's buffer limit, so that every try can send it.
  auto& parser = conn_.parser();
  Buffer& in = conn_.in();
  const ForwardAction& action = *ctx_.route->forward;
  const bool want = action.retry_policy && action.retry_policy->num_retries > 0;
  const size_t limit = action.retry_buffer_limit;
  if (want && ctx_.expect_continue) {
    // The client waits for a 100 before it sends the body we want to keep.
    if (co_await conn_.writeContinue()) co_return proxyError(ErrorKind::DownstreamClosed);
    ctx_.expect_continue = false;
  }
  if (in.allocated()) in.compact();  // the body starts at offset 0: the block holds the most
  size_t fed = 0;
  for (;;) {
    if (in.size() > fed) {
      auto step = parser.feed(in.base(), in.begin() + fed, in.end());
      if (step.status == http::Parser::Status::Error) {
        co_return proxyError(ErrorKind::DownstreamProtocol, parser.errorReason());
      }
      fed += step.consumed;
      if (step.status == http::Parser::Status::MessageComplete) {
        ctx_.body_done = true;
        ctx_.replayable = true;
        ctx_.kept_body = fed;
        co_return std::nullopt;
      }
    }
    if (!want || fed >= limit) break;
    deadline_.arm(bodyIdleTimeout(), Wait::BodyIdle);
    auto ec = co_await conn_.readMoreKeeping(std::max(limit + 1, BufferPool::kBlockSize));
    deadline_.disarm();
    if (ec == asio::error::no_buffer_space) break;
    if (ec) {
      flag(ResponseFlag::DC);
      co_return proxyError(ErrorKind::DownstreamClosed);
    }
  }
  // Too long (or no policy): the body is streamed, and this request cannot be sent twice.
  if (want) inc(ctx_.cs->retry_or_shadow_abandoned);
  ctx_.kept_body = fed;  // fed but not yet sent: the first try sends these bytes first
  co_return std::nullopt;
}

std::optional<uint32_t> RequestFlow::pickHost(LoadBalancer& lb, const ClusterHealth& health,
                                              const std::array<uint32_t, 16>& tried, size_t tried_count) {
  const RetryPolicy* policy = ctx_.route->forward->retry_policy ? &*ctx_.route->forward->retry_policy : nullptr;
  const uint32_t attempts = policy && policy->avoid_previous_hosts && tried_count > 0
                                ? std::max<uint32_t>(1, policy->host_selection_retry_max_attempts)
                                : 1;
  std::optional<uint32_t> host;
  for (uint32_t a = 0; a < attempts; ++a) {
    host = lb.pick(health, worker_.random());
    if (!host) return std::nullopt;
    if (std::find(tried.begin(), tried.begin() + tried_count, *host) == tried.begin() + tried_count) break;
  }
  return host;  // after max attempts, a previous host is better than none
}

asio::awaitable<RequestFlow::TryResult> RequestFlow::tryOnce(const Endpoint& endpoint, bool fresh_only) {
  const Cluster& cluster = *ctx_.cluster;
  auto& cs = *ctx_.cs;
  TryResult out;
  ClusterResources* res = cluster.resources;
  if (fresh_only || !upstream_.takePooled(worker_.pools(), endpoint.address)) {
    if (res && res->connections.load(std::memory_order_relaxed) >= cluster.circuit_breakers.max_connections) {
      inc(cs.upstream_cx_overflow);
      out.error = proxyError(ErrorKind::Overflow);
      co_return out;
    }
    if (res && res->pending_requests.load(std::memory_order_relaxed) >= cluster.circuit_breakers.max_pending_requests) {
      inc(cs.upstream_rq_pending_overflow);
      out.error = proxyError(ErrorKind::Overflow);
      co_return out;
    }
    AtomicHold pending(res ? &res->pending_requests : nullptr);
    GaugeHold pending_gauge(cs.upstream_rq_pending_active);
    inc(cs.upstream_rq_pending_total);
    if (co_await upstream_.connect(worker_.buffers(), cluster, endpoint, worker_.id(), deadline_) !=
        UpstreamFailure::None) {
      out.error = proxyError(ErrorKind::ConnectFailure);
      co_return out;
    }
  }
  const bool reused = upstream_.reused();
  upstream_.expectNoBody(ctx_.is_head);

  // Head and the body bytes already here, in one gathered write. A kept body goes whole; a
  // streamed one sends what is parsed so far and the rest follows.
  Buffer& in = conn_.in();
  size_t first_body = 0;
  if (ctx_.replayable || ctx_.kept_body > 0) {
    first_body = ctx_.kept_body;
  } else if (!ctx_.body_done && !in.empty()) {
    auto step = conn_.parser().feed(in.base(), in.begin(), in.end());
    if (step.status == http::Parser::Status::Error) {
      upstream_.abandon();
      out.error = proxyError(ErrorKind::DownstreamProtocol, conn_.parser().errorReason());
      co_return out;
    }
    first_body = step.consumed;
    ctx_.body_done = step.status == http::Parser::Status::MessageComplete;
  }
  std::array<asio::const_buffer, 2> bufs{asio::buffer(request_head_.base(), request_head_.size()),
                                         asio::buffer(in.base() + in.begin(), first_body)};
  auto wec = co_await upstream_.write(bufs);
  if (wec) {
    upstream_.abandon();
    if (reused && ctx_.replayable && ctx_.idempotent && !fresh_only) {
      out.resend = true;
      co_return out;
    }
    inc(cs.upstream_rq_rx_reset);
    out.error = proxyError(ErrorKind::UpstreamReset);
    if (!ctx_.replayable) out.error->retry_event = RetryEvent::None;
    co_return out;
  }
  if (!ctx_.replayable) {
    // Streamed: what went out leaves the buffer, and the request can no longer be sent twice.
    in.consume(first_body);
    ctx_.kept_body = 0;
    if (ctx_.expect_continue && !ctx_.body_done && in.empty()) {
      if (co_await conn_.writeContinue()) {
        upstream_.abandon();
        out.error = proxyError(ErrorKind::DownstreamClosed);
        co_return out;
      }
    }
    if (!ctx_.body_done) {
      if (auto e = co_await streamRequestBody()) {
        out.error = *e;
        co_return out;
      }
    }
  }

  // The response head, bounded by the route timeout (from the first try's send on) and the
  // per-try timeout, whichever comes first.
  const auto now = Clock::now();
  if (!ctx_.route_deadline && ctx_.route->forward->timeout.count() > 0) {
    ctx_.route_deadline = now + ctx_.route->forward->timeout;
  }
  // The route's idle_timeout (Envoy's stream idle timeout for this route) bounds the wait too.
  const RetryPolicy* policy = ctx_.route->forward->retry_policy ? &*ctx_.route->forward->retry_policy : nullptr;
  std::optional<Clock::time_point> at = ctx_.route_deadline;
  enum class Limit : uint8_t { Route, PerTry, Idle } first = Limit::Route;
  if (policy && policy->per_try_timeout.count() > 0) {
    auto per_try = now + policy->per_try_timeout;
    if (!at || per_try < *at) {
      at = per_try;
      first = Limit::PerTry;
    }
  }
  if (ctx_.route->forward->idle_timeout.count() > 0) {
    auto idle = now + ctx_.route->forward->idle_timeout;
    if (!at || idle < *at) {
      at = idle;
      first = Limit::Idle;
    }
  }
  if (at) deadline_.armAt(*at, Wait::Response);
  auto outcome = co_await upstream_.readHead(deadline_);
  deadline_.disarm();
  if (closed_) {
    upstream_.abandon();
    out.error = proxyError(ErrorKind::DownstreamClosed);
    co_return out;
  }
  switch (outcome.failure) {
    case UpstreamFailure::None:
      co_return out;
    case UpstreamFailure::Timeout:
      upstream_.abandon();
      if (first == Limit::PerTry) {
        inc(cs.upstream_rq_per_try_timeout);
        out.error = proxyError(ErrorKind::PerTryTimeout);
      } else if (first == Limit::Idle) {
        out.error = proxyError(ErrorKind::StreamIdleTimeout);
      } else {
        out.error = proxyError(ErrorKind::RouteTimeout);
      }
      co_return out;
    case UpstreamFailure::Reset:
      upstream_.abandon();
      if (!outcome.got_bytes && reused && ctx_.replayable && ctx_.idempotent && !fresh_only) {
        out.resend = true;
        co_return out;
      }
      inc(cs.upstream_rq_rx_reset);
      out.error = proxyError(ctx_.upstream_write_failed ? ErrorKind::UpstreamStoppedReading : ErrorKind::UpstreamReset);
      if (!ctx_.replayable) out.error->retry_event = RetryEvent::None;
      co_return out;
    case UpstreamFailure::Protocol:
      upstream_.abandon();
      out.error = proxyError(ErrorKind::UpstreamProtocol);
      co_return out;
    case UpstreamFailure::HeadersTooLarge:
      upstream_.abandon();
      out.error = proxyError(ErrorKind::UpstreamHeadersTooLarge);
      co_return out;
    case UpstreamFailure::SwitchedProtocols:
      upstream_.abandon();
      out.error = proxyError(ErrorKind::UpstreamSwitchedProtocols);
      co_return out;
    case UpstreamFailure::ConnectFailure:
      break;
  }
  upstream_.abandon();
  out.error = proxyError(ErrorKind::ConnectFailure);
  co_return out;
}

asio::awaitable<std::optional<ProxyError>> RequestFlow::streamRequestBody() {
  // Streams the rest of the request body; one read in flight at a time, and the next read
  // starts only once the previous bytes were written upstream (backpressure).
  Buffer& in = conn_.in();
  auto& parser = conn_.parser();
  ctx_.upstream_write_failed = false;
  while (!ctx_.body_done) {
    if (in.empty()) {
      deadline_.arm(bodyIdleTimeout(), Wait::BodyIdle);
      auto ec = co_await conn_.readMore();
      deadline_.disarm();
      if (ec) {
        upstream_.abandon();
        flag(ResponseFlag::DC);
        co_return proxyError(ErrorKind::DownstreamClosed);
      }
    }
    auto step = parser.feed(in.base(), in.begin(), in.end());
    if (step.status == http::Parser::Status::Error) {
      upstream_.abandon();
      co_return proxyError(ErrorKind::DownstreamProtocol, parser.errorReason());
    }
    ctx_.body_done = step.status == http::Parser::Status::MessageComplete;
    if (ctx_.body_done && access_logs_) ctx_.request_done = Clock::now();
    if (step.consumed > 0) {
      // An upstream that stops reading must not hold this session forever.
      deadline_.arm(bodyIdleTimeout(), Wait::BodyIdle);
      std::array<asio::const_buffer, 1> slice{asio::buffer(in.base() + in.begin(), step.consumed)};
      auto ec = co_await upstream_.write(slice);
      deadline_.disarm();
      if (ec) {
        // The upstream stopped reading: it may have answered early (a 413, a 401) and closed.
        // Stop sending and relay that answer if it is there (or 503 UC if not); the client's
        // connection closes after it, the rest of its body unread.
        ctx_.upstream_write_failed = true;
        co_return std::nullopt;
      }
      in.consume(step.consumed);
    }
    if (!ctx_.body_done && in.size() > 0 && step.consumed == 0) in.compact();
  }
  co_return std::nullopt;
}

asio::awaitable<bool> RequestFlow::waitBackOff(std::chrono::milliseconds delay) {
  // The route timeout covers the back-off too: a delay that would outlast it ends the request.
  if (ctx_.route_deadline && Clock::now() + delay >= *ctx_.route_deadline) co_return false;
  if (delay.count() == 0) co_return !closed_;
  back_off_.expires_after(delay);
  auto [ec] = co_await back_off_.async_wait(kNoThrow);
  co_return !ec && !closed_;
}

// ---- phase: relay -------------------------------------------------------------------------

asio::awaitable<bool> RequestFlow::relay() {
  auto& cs = *ctx_.cs;
  const auto& resp = upstream_.response();
  auto& up = upstream_.parser();
  Buffer& out = conn_.out();
  // The route deadline bounds the body as it bounded the head; the route's idle_timeout bounds
  // each wait for more of it.
  if (ctx_.route_deadline) deadline_.armAt(*ctx_.route_deadline, Wait::Response);
  const auto idle = ctx_.route->forward->idle_timeout;
  bool idle_first = false;

  // Framing toward the client.
  const bool message_ended = upstream_.headOnly();
  const bool eof_body = !message_ended && up.bodyEndsAtEof();
  const bool decode = !message_ended && resp.chunked && ctx_.http10;
  // An early answer (the request body not all sent) closes the client connection after it.
  const bool close = !ctx_.keep_alive || draining() || eof_body || decode || !ctx_.body_done;
  up.setDecodeBody(decode);
  switch (resp.status / 100) {
    case 1: inc(cs.upstream_rq_1xx); break;
    case 2: inc(cs.upstream_rq_2xx); break;
    case 3: inc(cs.upstream_rq_3xx); break;
    case 4: inc(cs.upstream_rq_4xx); break;
    default: inc(cs.upstream_rq_5xx); break;
  }
  setStatus(resp.status);
  ctx_.details = "via_upstream";
  if (access_logs_) capture_.captureResponse(resp, hcm_->access_log_headers);
  http::writeResponseHead(out, resp, close, ctx_.http10, decode);
  upstream_.consumeHead();

  // The body, relayed slice by slice as it arrives; the head goes out with the first slice.
  Buffer& ub = upstream_.buffer();
  bool done = message_ended;
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
        deadline_.disarm();
        inc(cs.upstream_cx_protocol_error);
        flag(ResponseFlag::UPE);
        upstream_.abandon();
        if (!head_sent) co_await reply(502, "invalid response body from upstream", true);
        co_return false;
      }
      consumed = step.consumed;
      slice = decode ? up.decodedLength() : consumed;
      done = step.status == http::Parser::Status::MessageComplete;
      need_bytes = !done && consumed == 0;
    }
    if (need_bytes && head_sent) {
      if (idle.count() > 0) {
        auto idle_at = Clock::now() + idle;
        idle_first = !ctx_.route_deadline || idle_at < *ctx_.route_deadline;
        deadline_.armAt(idle_first ? idle_at : *ctx_.route_deadline, Wait::Response);
      }
      auto ec = co_await upstream_.readMore();
      if (ec == asio::error::eof && eof_body) {
        done = up.finish() == http::Parser::Status::MessageComplete;
      } else if (ec) {
        deadline_.disarm();
        if (deadline_.expired(Wait::Response) && idle_first) {
          flag(ResponseFlag::SI);
        } else if (deadline_.expired(Wait::Response)) {
          inc(cs.upstream_rq_timeout);
          flag(ResponseFlag::UT);
        } else {
          inc(cs.upstream_rq_rx_reset);
          flag(ResponseFlag::UC);
        }
        upstream_.abandon();
        co_return false;  // the client sees the connection close mid-response
      } else {
        continue;
      }
      if (!done) {
        upstream_.abandon();
        co_return false;
      }
    }
    std::array<asio::const_buffer, 2> bufs{
        asio::buffer(out.base(), head_sent ? 0 : out.size()),
        asio::buffer(ub.allocated() ? ub.base() + ub.begin() : nullptr, slice)};
    if (bufs[0].size() + bufs[1].size() > 0) {
      auto wec = co_await conn_.write(bufs);
      if (wec) {
        deadline_.disarm();
        flag(ResponseFlag::DC);
        upstream_.abandon();
        co_return false;
      }
    }
    head_sent = true;
    ctx_.response_started = true;
    ctx_.bytes_sent += bufs[1].size();
    if (consumed > 0) ub.consume(consumed);
    if (done) break;
  }
  deadline_.disarm();
  record(cs.upstream_rq_time, Clock::now() - ctx_.upstream_sent);
  // The upstream connection goes back to the pool only if it is exactly at a message boundary.
  upstream_.finish(worker_.pools(), !eof_body && resp.keep_alive && ctx_.body_done);
  co_return !close;
}

// ---- phase: log ---------------------------------------------------------------------------

void RequestFlow::log(bool keep) {
  // Counters were written as the outcome was decided, before the client could see it (a test or
  // a scrape that follows a response never reads them behind). What is left is the request's own
  // state: a body kept for replay leaves the buffer, the snapshot is let go. The access log
  // lines are written first, while the request's snapshot (its route and cluster) is held.
  if (access_logs_) writeAccessLogs();
  if (ctx_.kept_body > 0 && keep) conn_.in().consume(ctx_.kept_body);
  ctx_.kept_body = 0;
  ctx_.snapshot.reset();
  // The upstream head's block goes back to the worker's pool (a cheap list operation), so a
  // connection between requests holds none.
  request_head_.release();
}

void RequestFlow::writeAccessLogs() {
  using std::chrono::microseconds;
  const bool parsed = !capture_.method().empty();
  if (!parsed && ctx_.status == 0) return;  // a connection that closed between requests
  const auto now = Clock::now();
  const auto start = parsed ? ctx_.start : now;
  auto since = [&](Clock::time_point t) { return std::chrono::duration_cast<microseconds>(t - start); };
  accesslog::LogRecord r;
  r.start_time = parsed ? ctx_.start_wall : std::chrono::system_clock::now();
  r.method = capture_.method();
  r.path = capture_.path();
  r.authority = capture_.authority();
  r.protocol = !parsed ? std::string_view() : ctx_.http10 ? std::string_view("HTTP/1.0") : std::string_view("HTTP/1.1");
  r.request_headers = &capture_.requestHeaders();
  r.response_headers = &capture_.responseHeaders();
  r.response_code = ctx_.status;
  r.response_flags = ctx_.flags;
  r.response_code_details = ctx_.details;
  r.bytes_received = ctx_.bytes_received;
  r.bytes_sent = ctx_.bytes_sent;
  r.duration = since(now);
  if (ctx_.request_done) r.request_duration = since(*ctx_.request_done);
  if (ctx_.response_head) r.response_duration = since(*ctx_.response_head);
  r.upstream_service_time = ctx_.upstream_service_time;
  r.upstream_host = ctx_.upstream_host;
  r.downstream_remote = &facts_.remote;
  r.downstream_local = &facts_.local;
  if (ctx_.cluster) r.upstream_cluster = ctx_.cluster->name;
  if (ctx_.route) r.route_name = ctx_.route->name;
  r.requested_server_name = facts_.sni;
  for (const auto& l : hcm_->access_logs) l->write(r, worker_.id());
}

void RequestFlow::setStatus(uint16_t status) {
  ctx_.status = status;
  auto& hs = hcm_->http_stats->shard(worker_.id());
  switch (status / 100) {
    case 1: inc(hs.downstream_rq_1xx); break;
    case 2: inc(hs.downstream_rq_2xx); break;
    case 3: inc(hs.downstream_rq_3xx); break;
    case 4: inc(hs.downstream_rq_4xx); break;
    default: inc(hs.downstream_rq_5xx); break;
  }
  inc(hs.downstream_rq_completed);
}

void RequestFlow::flag(ResponseFlag f) {
  const uint32_t bit = 1u << static_cast<unsigned>(f);
  if (ctx_.flags & bit) return;
  ctx_.flags |= bit;
  inc(hcm_->http_stats->shard(worker_.id()).response_flags[static_cast<size_t>(f)]);
}

// ---- errors -------------------------------------------------------------------------------

asio::awaitable<bool> RequestFlow::fail(const ProxyError& error) {
  auto& hs = hcm_->http_stats->shard(worker_.id());
  ClusterStatsShard* cs = ctx_.cs;
  if (error.flag != ResponseFlag::Count) flag(error.flag);
  if (ctx_.details.empty()) ctx_.details = errorKindName(error.kind);
  switch (error.kind) {
    case ErrorKind::DownstreamProtocol:
      inc(hs.downstream_cx_protocol_error);
      break;
    case ErrorKind::NoRoute:
      inc(hs.no_route);
      break;
    case ErrorKind::UnknownCluster:
      inc(hs.no_cluster);
      break;
    case ErrorKind::NoHealthyUpstream:
      if (cs) inc(cs->upstream_rq_no_healthy);
      break;
    case ErrorKind::UpstreamProtocol:
    case ErrorKind::UpstreamHeadersTooLarge:
    case ErrorKind::UpstreamSwitchedProtocols:
      if (cs) inc(cs->upstream_cx_protocol_error);
      break;
    case ErrorKind::RouteTimeout:
      if (cs) inc(cs->upstream_rq_timeout);
      inc(hs.downstream_rq_timeout);
      break;
    default:
      break;  // counted where they were detected (connect failures, resets, overflow)
  }
  if (error.status == 0 || ctx_.response_started || closed_) co_return false;
  uint16_t status = error.status;
  if (error.kind == ErrorKind::DownstreamProtocol && conn_.parser().errorStatus() != 0) {
    status = conn_.parser().errorStatus();
  }
  // Any reply sent before the body was read must close: the unread body would be taken for
  // the next request.
  co_return co_await reply(status, error.detail, error.close || !ctx_.body_done);
}

asio::awaitable<bool> RequestFlow::reply(uint16_t status, std::string_view body, bool close) {
  if (ctx_.status == 0) setStatus(status);
  close = close || draining();
  auto ec = co_await conn_.writeLocalReply(status, body, close);
  if (!ec) ctx_.bytes_sent = body.empty() ? 0 : body.size() + 1;  // the reply adds a newline
  co_return !ec && !close;
}

}  // namespace trellis::proxy
