// Upstream connection lifetime accounting.
#include "proxy/upstream/upstream_connection.h"

namespace trellis::proxy {

UpstreamConnection::UpstreamConnection(boost::asio::any_io_executor ex, BufferPool& buffers, ClusterStats* stats,
                                       size_t shard, HostCounters* host, ClusterResources* resources)
    : socket_(ex), buffer_(buffers), stats_(stats), shard_(shard), host_(host), resources_(resources) {
  if (stats_) {
    inc(stats_->shard(shard_).upstream_cx_total);
    add(stats_->shard(shard_).upstream_cx_active, 1);
  }
  if (host_) host_->cx_active.fetch_add(1, std::memory_order_relaxed);
  if (resources_) resources_->connections.fetch_add(1, std::memory_order_relaxed);
}

UpstreamConnection::~UpstreamConnection() {
  if (stats_) {
    add(stats_->shard(shard_).upstream_cx_active, -1);
    if (established_at_) {
      record(stats_->shard(shard_).upstream_cx_length_ms, std::chrono::steady_clock::now() - *established_at_);
    }
  }
  if (host_) host_->cx_active.fetch_sub(1, std::memory_order_relaxed);
  if (resources_) resources_->connections.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace trellis::proxy
