// The downstream side of HTTP/1.x: one client connection's socket, read buffer, request parser
// and head, and the reads and writes the request flow asks of them.
//
// It knows framing, not proxying: how to wait for and parse a request head (keeping a read
// block only while the connection is hot, so idle connections hold no memory), how to read
// more body bytes, how to write a local reply, a 100 Continue or a gathered response slice.
// Routing, upstreams and errors as the client sees them belong to the request flow
// (proxy/request). Every wait is bounded by the session's Deadline.
#pragma once

#include <cstdint>
#include <span>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "proxy/http/message_head.h"
#include "proxy/http/parser.h"
#include "proxy/io/buffer.h"
#include "proxy/io/deadline.h"

namespace trellis::proxy::http {

struct ConnectionOptions {
  std::chrono::milliseconds idle_timeout{3600 * 1000};  // 0 disables
  std::chrono::milliseconds request_headers_timeout{0};  // 0 disables
  uint32_t max_request_headers_bytes = 60 * 1024;
  uint32_t max_headers_count = 100;
  // The most bytes one read takes from the socket (per_connection_buffer_limit_bytes); 0: as
  // many as the buffer has room for.
  uint32_t read_limit = 0;
};

class Http1ServerConnection {
 public:
  enum class HeadResult : uint8_t {
    Ready,        // head() holds the next request
    Closed,       // the client closed, went idle too long, or the connection is draining
    IdleTimeout,  // idle_timeout ran out between requests (no reply is due)
    Malformed,    // parser().errorStatus()/errorReason() say why; a reply is due
    TooLarge,     // the head exceeds max_request_headers_bytes (431)
    Timeout,      // request_headers_timeout ran out mid-head (408)
    Truncated,    // the client closed mid-head (no reply; a protocol error)
  };

  Http1ServerConnection(boost::asio::ip::tcp::socket socket, BufferPool& buffers, const ConnectionOptions& options);

  boost::asio::ip::tcp::socket& socket() { return socket_; }
  Buffer& in() { return in_; }
  Buffer& out() { return out_; }
  Parser& parser() { return parser_; }
  MessageHead& head() { return head_; }
  const MessageHead& head() const { return head_; }

  // Waits for the next request head and parses it. `draining`: do not wait for another request.
  boost::asio::awaitable<HeadResult> readHead(Deadline& deadline, bool draining, size_t hot_block_budget);
  // Whether the connection is waiting between requests (a drain may close it at once).
  bool idle() const { return idle_; }

  // The head's bytes leave the buffer: the next parse starts after them. head()'s views stay
  // valid until the buffer is compacted (between messages).
  void consumeHead();

  // Reads more bytes into in() (allocating a block if needed), bounded by `wait`'s deadline
  // already armed by the caller. Returns the error, or success with in() grown.
  boost::asio::awaitable<boost::system::error_code> readMore();
  // Like readMore, but lets the block grow up to `limit` bytes to keep what it holds.
  boost::asio::awaitable<boost::system::error_code> readMoreKeeping(size_t limit);

  boost::asio::awaitable<boost::system::error_code> write(std::span<const boost::asio::const_buffer> bufs);
  // A complete local reply; `close` adds connection: close.
  boost::asio::awaitable<boost::system::error_code> writeLocalReply(uint16_t status, std::string_view body, bool close);
  boost::asio::awaitable<boost::system::error_code> writeContinue();

  // At the end of the connection: the buffers go back to the pool.
  void releaseBuffers();
  void close();

 private:
  boost::asio::ip::tcp::socket socket_;
  const ConnectionOptions& options_;
  // How much the next read may take: the buffer's free space, at most options_.read_limit.
  size_t readSize() const {
    const size_t room = in_.freeSpace();
    return options_.read_limit != 0 && options_.read_limit < room ? options_.read_limit : room;
  }
  Buffer in_;   // downstream bytes
  Buffer out_;  // serialized heads and local replies
  Parser parser_;
  MessageHead head_;
  size_t parsed_ = 0;  // request bytes fed to the parser, as an offset into in_
  bool idle_ = false;
};

}  // namespace trellis::proxy::http
