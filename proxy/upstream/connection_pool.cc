// Per-worker upstream keep-alive pools.
#include "proxy/upstream/connection_pool.h"

#include <algorithm>
#include <functional>

namespace trellis::proxy {

namespace asio = boost::asio;

size_t EndpointHash::operator()(const asio::ip::tcp::endpoint& ep) const {
  size_t h = std::hash<uint16_t>()(ep.port());
  if (ep.address().is_v4()) {
    h ^= std::hash<uint32_t>()(ep.address().to_v4().to_uint()) * 31;
  } else {
    auto bytes = ep.address().to_v6().to_bytes();
    for (auto b : bytes) h = h * 131 + b;
  }
  return h;
}

std::shared_ptr<UpstreamConnection> UpstreamPools::take(const asio::ip::tcp::endpoint& ep) {
  auto it = idle_.find(ep);
  if (it == idle_.end() || it->second.empty()) return nullptr;
  auto conn = std::move(it->second.back());
  it->second.pop_back();
  conn->idle_ = false;
  ++conn->idle_generation_;
  if (conn->watched_) {
    conn->watched_ = false;
    boost::system::error_code ignored;
    conn->socket_.cancel(ignored);  // ends the idle watch; its handler sees a newer generation
  }
  return conn;
}

void UpstreamPools::give(std::shared_ptr<UpstreamConnection> conn) {
  auto& list = idle_[conn->endpoint()];
  if (list.size() >= max_idle_) return;  // dropping the last reference closes it
  conn->buffer_.release();
  conn->idle_ = true;
  ++conn->idle_generation_;
  conn->idle_since_ = std::chrono::steady_clock::now();
  list.push_back(std::move(conn));
  scheduleSweep();
}

void UpstreamPools::scheduleSweep() {
  if (sweep_scheduled_ || closed_) return;
  sweep_scheduled_ = true;
  sweep_timer_.expires_after(kWatchAfter);
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    sweep_scheduled_ = false;
    if (!ec) sweep();
  });
}

void UpstreamPools::sweep() {
  auto cutoff = std::chrono::steady_clock::now() - kWatchAfter;
  bool unwatched_left = false;
  for (auto& [ep, list] : idle_) {
    for (auto& conn : list) {
      if (conn->watched_) continue;
      if (conn->idle_since_ <= cutoff) {
        watch(conn);
      } else {
        unwatched_left = true;
      }
    }
  }
  if (unwatched_left) scheduleSweep();
}

void UpstreamPools::watch(const std::shared_ptr<UpstreamConnection>& conn) {
  conn->watched_ = true;
  uint64_t gen = conn->idle_generation_;
  conn->socket_.async_wait(asio::ip::tcp::socket::wait_read,
                           [this, conn, gen](const boost::system::error_code&) {
                             // Readable while idle means EOF, a reset or stray bytes: either way
                             // the connection cannot carry another request.
                             if (conn->idle_ && conn->idle_generation_ == gen) {
                               if (conn->stats_) inc(conn->stats_->shard(conn->shard_).upstream_cx_destroy_remote);
                               remove(conn.get());
                             }
                           });
}

void UpstreamPools::remove(UpstreamConnection* conn) {
  auto it = idle_.find(conn->endpoint());
  if (it == idle_.end()) return;
  auto& list = it->second;
  auto pos = std::find_if(list.begin(), list.end(), [conn](const auto& c) { return c.get() == conn; });
  if (pos != list.end()) {
    (*pos)->idle_ = false;
    boost::system::error_code ignored;
    (*pos)->socket_.close(ignored);
    list.erase(pos);
  }
}

void UpstreamPools::closeAll() {
  closed_ = true;
  sweep_timer_.cancel();
  for (auto& [ep, list] : idle_) {
    for (auto& c : list) {
      c->idle_ = false;
      boost::system::error_code ignored;
      c->socket_.close(ignored);
    }
    list.clear();
  }
}


}  // namespace trellis::proxy
