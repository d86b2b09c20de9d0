// Reading request heads and writing replies on a downstream HTTP/1.x connection.
#include "proxy/http/http1_connection.h"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "proxy/http/local_reply.h"

namespace trellis::proxy::http {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// How long a keep-alive connection keeps its read block after a response (see readHead).
constexpr std::chrono::milliseconds kHotIdle{500};

}  // namespace

Http1ServerConnection::Http1ServerConnection(tcp::socket socket, BufferPool& buffers, const ConnectionOptions& options)
    : socket_(std::move(socket)),
      options_(options),
      in_(buffers),
      out_(buffers),
      parser_(Parser::Type::Request, ParserLimits{options.max_request_headers_bytes, options.max_headers_count}) {}

asio::awaitable<Http1ServerConnection::HeadResult> Http1ServerConnection::readHead(Deadline& deadline, bool draining,
                                                                                 size_t hot_block_budget) {
  using Wait = Deadline::Wait;
  // A new message starts at offset 0 so its spans stay valid if the buffer grows.
  if (in_.allocated()) in_.compact();
  parsed_ = in_.begin();
  if (in_.empty()) {
    out_.release();
    if (draining) co_return HeadResult::Closed;
    idle_ = true;
    auto idle_left = options_.idle_timeout;
    // A connection that just served a request usually sends the next one soon: read straight
    // into its block for a short while. A pending read costs no system call (the socket stays
    // registered with epoll), where waiting for readability re-arms epoll on every request.
    // After kHotIdle, or when the worker already lends `hot_block_budget` blocks, the block goes
    // back and the connection waits holding no buffer at all, so thousands of idle connections
    // never pin thousands of blocks. (lent() counts this connection's block if it has one.)
    if (in_.pool().lent() + (in_.allocated() ? 0 : 1) <= hot_block_budget) {
      in_.ensureAllocated();
      auto hot = options_.idle_timeout.count() == 0 ? kHotIdle : std::min(kHotIdle, idle_left);
      deadline.arm(hot, Wait::IdleHot);
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(in_.writePtr(), readSize()), kNoThrow);
      deadline.disarm();
      if (!ec && !deadline.closed()) {
        in_.commit(n);
        idle_ = false;
      } else if (deadline.closed() || !deadline.expired(Wait::IdleHot)) {
        idle_ = false;
        co_return HeadResult::Closed;  // the client closed, or a drain closed us
      } else if (idle_left.count() != 0) {
        idle_left -= hot;
        if (idle_left.count() <= 0) {
          idle_ = false;
          co_return HeadResult::IdleTimeout;
        }
      }
    }
    if (idle_) {
      // Cold: the connection keeps no buffer and no header tables while it waits.
      in_.release();
      parser_.releaseMemory();
      head_.releaseMemory();
      deadline.arm(idle_left, Wait::Idle);
      auto [ec] = co_await socket_.async_wait(tcp::socket::wait_read, kNoThrow);
      idle_ = false;
      deadline.disarm();
      if (ec || deadline.closed()) {
        co_return deadline.expired(Wait::Idle) ? HeadResult::IdleTimeout : HeadResult::Closed;
      }
    }
  }
  deadline.arm(options_.request_headers_timeout, Wait::RequestHeaders);
  const size_t limit = options_.max_request_headers_bytes + BufferPool::kBlockSize;
  for (;;) {
    if (parsed_ < in_.end()) {
      auto step = parser_.feed(in_.base(), parsed_, in_.end());
      if (step.status == Parser::Status::Error) {
        deadline.disarm();
        co_return HeadResult::Malformed;
      }
      parsed_ += step.consumed;
      if (step.status == Parser::Status::HeadComplete) break;
    }
    if (!in_.reserveForRead(limit)) {
      deadline.disarm();
      co_return HeadResult::TooLarge;
    }
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(in_.writePtr(), readSize()), kNoThrow);
    if (ec) {
      bool started = parsed_ > in_.begin() || n > 0;
      if (deadline.expired(Wait::RequestHeaders)) co_return HeadResult::Timeout;
      co_return started && !deadline.closed() ? HeadResult::Truncated : HeadResult::Closed;
    }
    in_.commit(n);
  }
  deadline.disarm();
  parser_.bindHead(in_.base(), head_);
  // A message without a body ends with its head: let the parser reach that end now. This is
  // also where llhttp rejects framing it only judges after the head (Transfer-Encoding
  // without a final chunked).
  if (!head_.chunked && head_.content_length == 0) {
    auto end = parser_.feed(in_.base(), parsed_, parsed_);
    if (end.status == Parser::Status::Error) co_return HeadResult::Malformed;
  }
  co_return HeadResult::Ready;
}

void Http1ServerConnection::consumeHead() {
  in_.consume(parsed_ - in_.begin());
  parsed_ = in_.begin();
}

asio::awaitable<error_code> Http1ServerConnection::readMore() {
  in_.ensureAllocated();
  if (in_.freeSpace() == 0) in_.compact();
  auto [ec, n] = co_await socket_.async_read_some(asio::buffer(in_.writePtr(), readSize()), kNoThrow);
  if (!ec) in_.commit(n);
  co_return ec;
}

asio::awaitable<error_code> Http1ServerConnection::readMoreKeeping(size_t limit) {
  if (!in_.reserveForRead(limit)) co_return asio::error::no_buffer_space;
  auto [ec, n] = co_await socket_.async_read_some(asio::buffer(in_.writePtr(), readSize()), kNoThrow);
  if (!ec) in_.commit(n);
  co_return ec;
}

asio::awaitable<error_code> Http1ServerConnection::write(std::span<const asio::const_buffer> bufs) {
  auto [ec, n] = co_await asio::async_write(socket_, bufs, kNoThrow);
  co_return ec;
}

asio::awaitable<error_code> Http1ServerConnection::writeLocalReply(uint16_t status, std::string_view body, bool close) {
  out_.clear();
  http::writeLocalReply(out_, status, body, close);
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(out_.base(), out_.size()), kNoThrow);
  out_.clear();
  co_return ec;
}

asio::awaitable<error_code> Http1ServerConnection::writeContinue() {
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(kContinue), kNoThrow);
  co_return ec;
}

void Http1ServerConnection::releaseBuffers() {
  in_.release();
  out_.release();
}

void Http1ServerConnection::close() {
  error_code ec;
  socket_.cancel(ec);
  socket_.close(ec);
}

}  // namespace trellis::proxy::http
