// The HTTP/1.1 client side of one try (see upstream_request.h).
#include "proxy/upstream/upstream_request.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace trellis::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
}  // namespace

Http1UpstreamRequest::Http1UpstreamRequest()
    : parser_(http::Parser::Type::Response, http::ParserLimits{kMaxResponseHeadBytes, kMaxResponseHeaders}) {}

bool Http1UpstreamRequest::takePooled(UpstreamPools& pools, const tcp::endpoint& ep) {
  conn_ = pools.take(ep);
  reused_ = conn_ != nullptr;
  if (reused_) {
    if (auto* cs = conn_->stats()) inc(cs->upstream_cx_pool_reuse);
    parser_.reset();
  }
  return reused_;
}

asio::awaitable<UpstreamFailure> Http1UpstreamRequest::connect(BufferPool& buffers, const Cluster& cluster,
                                                              const Endpoint& endpoint, size_t shard,
                                                              Deadline& deadline) {
  auto& cs = cluster.stats->shard(shard);
  reused_ = false;
  if (deadline.closed()) co_return UpstreamFailure::ConnectFailure;  // force-closed: no new connection
  auto ex = co_await asio::this_coro::executor;
  conn_ = std::make_shared<UpstreamConnection>(ex, buffers, cluster.stats, shard, endpoint.counters,
                                               cluster.resources);
  conn_->setEndpoint(endpoint.address);
  conn_->setReadLimit(cluster.buffer_limit);
  parser_.reset();
  attach(deadline);
  deadline.arm(cluster.connect_timeout, Deadline::Wait::Connect);
  const auto connect_at = std::chrono::steady_clock::now();
  auto [ec] = co_await conn_->socket().async_connect(endpoint.address, kNoThrow);
  deadline.disarm();
  if (ec) {
    inc(cs.upstream_cx_connect_fail);
    if (deadline.expired(Deadline::Wait::Connect)) inc(cs.upstream_cx_connect_timeout);
    abandon();
    co_return UpstreamFailure::ConnectFailure;
  }
  const auto established_at = std::chrono::steady_clock::now();
  record(cs.upstream_cx_connect_ms, established_at - connect_at);
  conn_->markEstablished(established_at);
  error_code ignored;
  conn_->socket().set_option(tcp::no_delay(true), ignored);
  co_return UpstreamFailure::None;
}

asio::awaitable<error_code> Http1UpstreamRequest::write(std::span<const asio::const_buffer> bufs) {
  auto [ec, n] = co_await asio::async_write(conn_->socket(), bufs, kNoThrow);
  co_return ec;
}

asio::awaitable<Http1UpstreamRequest::HeadOutcome> Http1UpstreamRequest::readHead(Deadline& deadline) {
  HeadOutcome out;
  Buffer& ub = conn_->buffer();
  attach(deadline);
  parsed_ = ub.begin();
  for (;;) {
    if (ub.allocated() && parsed_ < ub.end()) {
      auto step = parser_.feed(ub.base(), parsed_, ub.end());
      if (step.status == http::Parser::Status::Error) {
        out.failure = UpstreamFailure::Protocol;
        co_return out;
      }
      parsed_ += step.consumed;
      if (step.status == http::Parser::Status::HeadComplete) {
        parser_.bindHead(ub.base(), resp_);
        if (resp_.status >= 200) {
          out.head_only = step.message_complete;
          head_only_ = out.head_only;
          co_return out;
        }
        if (resp_.status == 101) {
          out.failure = UpstreamFailure::SwitchedProtocols;
          co_return out;
        }
        // Interim response: run the parser through its (empty) end, drop it, read on.
        if (!step.message_complete) parsed_ += parser_.feed(ub.base(), parsed_, ub.end()).consumed;
        ub.consume(parsed_ - ub.begin());
        if (ub.allocated()) ub.compact();
        parsed_ = ub.begin();
        continue;
      }
    }
    if (!ub.reserveForRead(kMaxResponseHeadBytes + BufferPool::kBlockSize)) {
      out.failure = UpstreamFailure::HeadersTooLarge;
      co_return out;
    }
    auto [ec, n] = co_await conn_->socket().async_read_some(asio::buffer(ub.writePtr(), conn_->readSize()), kNoThrow);
    if (ec) {
      out.failure = deadline.expired(Deadline::Wait::Response) ? UpstreamFailure::Timeout : UpstreamFailure::Reset;
      co_return out;
    }
    out.got_bytes = true;
    ub.commit(n);
  }
}

void Http1UpstreamRequest::consumeHead() {
  Buffer& ub = conn_->buffer();
  ub.consume(parsed_ - ub.begin());
  parsed_ = ub.begin();
}

asio::awaitable<error_code> Http1UpstreamRequest::readMore() {
  Buffer& ub = conn_->buffer();
  auto [ec, n] = co_await conn_->socket().async_read_some(asio::buffer(ub.writePtr(), conn_->readSize()), kNoThrow);
  if (!ec) ub.commit(n);
  co_return ec;
}

void Http1UpstreamRequest::finish(UpstreamPools& pools, bool reusable) {
  if (conn_ && reusable && conn_->buffer().empty() && conn_->socket().is_open()) pools.give(std::move(conn_));
  abandon();
}

void Http1UpstreamRequest::attach(Deadline& deadline) {
  deadline_ = &deadline;
  deadline.attachUpstream(&conn_->socket());
}

void Http1UpstreamRequest::closeSocket() {
  if (!conn_) return;
  error_code ignored;
  conn_->socket().close(ignored);
}

void Http1UpstreamRequest::abandon() {
  if (deadline_) deadline_->attachUpstream(nullptr);
  deadline_ = nullptr;
  conn_.reset();
}

}  // namespace trellis::proxy
