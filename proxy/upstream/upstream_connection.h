// One connection to an upstream host: its socket, its read buffer and the bookkeeping the
// pool keeps while it is idle. Protocol-neutral: the HTTP/1 framing of what travels over it
// lives in the request using it (proxy/upstream/upstream_request.h), so a TLS or HTTP/2
// connection can sit in a pool of the same shape.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include <boost/asio/ip/tcp.hpp>

#include "proxy/io/buffer.h"
#include "proxy/stats/stats.h"

namespace trellis::proxy {

class UpstreamPools;

class UpstreamConnection : public std::enable_shared_from_this<UpstreamConnection> {
 public:
  // `host` and `resources` (may be null) count this connection while it exists.
  UpstreamConnection(boost::asio::any_io_executor ex, BufferPool& buffers, ClusterStats* stats, size_t shard,
                     HostCounters* host, ClusterResources* resources);
  ~UpstreamConnection();
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;

  boost::asio::ip::tcp::socket& socket() { return socket_; }
  Buffer& buffer() { return buffer_; }
  const boost::asio::ip::tcp::endpoint& endpoint() const { return endpoint_; }
  void setEndpoint(const boost::asio::ip::tcp::endpoint& ep) { endpoint_ = ep; }
  ClusterStatsShard* stats() { return stats_ ? &stats_->shard(shard_) : nullptr; }
  // The connect completed: upstream_cx_length_ms runs from here to the destructor.
  void markEstablished(std::chrono::steady_clock::time_point at) { established_at_ = at; }
  // The most bytes one read takes (the cluster's per_connection_buffer_limit_bytes; 0: the
  // buffer's free space).
  void setReadLimit(uint32_t limit) { read_limit_ = limit; }
  size_t readSize() const {
    const size_t room = buffer_.freeSpace();
    return read_limit_ != 0 && read_limit_ < room ? read_limit_ : room;
  }

 private:
  friend class UpstreamPools;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::ip::tcp::endpoint endpoint_;
  Buffer buffer_;
  ClusterStats* stats_;
  size_t shard_;
  HostCounters* host_;
  ClusterResources* resources_;
  uint32_t read_limit_ = 0;
  bool idle_ = false;
  bool watched_ = false;
  uint64_t idle_generation_ = 0;
  std::chrono::steady_clock::time_point idle_since_;
  std::optional<std::chrono::steady_clock::time_point> established_at_;
};

}  // namespace trellis::proxy
