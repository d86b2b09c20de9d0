// Worker thread, accept loops, snapshot delivery and drain.
#include "proxy/net/worker.h"

#include <chrono>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "proxy/net/downstream_session.h"

namespace trellis::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;

Worker::Worker(uint32_t id)
    : id_(id),
      ctx_(1),
      pools_(ctx_.get_executor()),
      random_(static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) * (id + 1)) {}

Worker::~Worker() { stopAndJoin(); }

void Worker::start() {
  thread_ = std::thread([this] {
    auto guard = asio::make_work_guard(ctx_);
    ctx_.run();
  });
}

void Worker::stopAndJoin() {
  if (!thread_.joinable()) return;
  asio::post(ctx_, [this] {
    closeAll();
    ctx_.stop();
  });
  thread_.join();
  // The sessions closed above still have completions queued (their sockets are closed, so
  // each pending operation ends with an error). Let them unwind now, while this worker is
  // whole: left to ~io_context, they would unregister from a session list already destroyed.
  ctx_.restart();
  ctx_.run();
}

void Worker::setSnapshot(std::shared_ptr<const Snapshot> snapshot) {
  asio::post(ctx_, [this, snapshot = std::move(snapshot)]() mutable {
    snapshot_ = std::move(snapshot);
    rr_cursor_.assign(snapshot_->clusters.size(), 0);
  });
}

void Worker::addListener(std::shared_ptr<const Listener> listener, tcp::acceptor acceptor) {
  auto al = std::make_unique<ActiveListener>();
  al->listener = std::move(listener);
  al->acceptor = std::make_unique<tcp::acceptor>(std::move(acceptor));
  asio::post(ctx_, [this, al = std::move(al)]() mutable {
    listeners_.push_back(std::move(al));
    accept(*listeners_.back());
  });
}

void Worker::removeListener(std::shared_ptr<const Listener> listener) {
  asio::post(ctx_, [this, listener = std::move(listener)] {
    for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
      if ((*it)->listener != listener) continue;
      boost::system::error_code ignored;
      (*it)->acceptor->close(ignored);
      // The accept handler may still be queued with a reference to this entry: keep the
      // entry until this worker stops, it holds only a closed socket.
      retired_listeners_.push_back(std::move(*it));
      listeners_.erase(it);
      break;
    }
    std::vector<DownstreamSession*> sessions(sessions_.begin(), sessions_.end());
    for (auto* s : sessions) {
      if (s->listener() == listener.get()) s->onDrain();
    }
  });
}

void Worker::accept(ActiveListener& al) {
  al.acceptor->async_accept([this, &al](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !al.acceptor->is_open()) return;
      // Out of descriptors and the like: log, keep accepting.
      spdlog::warn("listener {}: accept failed: {}", al.listener->name, ec.message());
    } else if (!draining_) {
      active_connections_.fetch_add(1, std::memory_order_relaxed);
      auto session = std::make_shared<DownstreamSession>(*this, al.listener, std::move(socket));
      session->start();
    }
    if (!draining_) accept(al);
  });
}

uint32_t Worker::nextEndpoint(const Cluster& cluster) {
  if (cluster.index >= rr_cursor_.size()) rr_cursor_.resize(cluster.index + 1, 0);
  uint32_t& cursor = rr_cursor_[cluster.index];
  if (cursor >= cluster.schedule.size()) cursor = 0;
  return cursor++;
}

std::list<DownstreamSession*>::iterator Worker::registerSession(DownstreamSession* s) {
  return sessions_.insert(sessions_.end(), s);
}

void Worker::unregisterSession(std::list<DownstreamSession*>::iterator it) {
  sessions_.erase(it);
  active_connections_.fetch_sub(1, std::memory_order_relaxed);
  if (draining_) checkDrained();
}

void Worker::drain(std::function<void()> on_drained) {
  asio::post(ctx_, [this, on_drained = std::move(on_drained)]() mutable {
    draining_ = true;
    on_drained_ = std::move(on_drained);
    for (auto& al : listeners_) {
      boost::system::error_code ignored;
      al->acceptor->close(ignored);
    }
    pools_.closeAll();
    // Copy: closing a session may unregister it while we iterate.
    std::vector<DownstreamSession*> sessions(sessions_.begin(), sessions_.end());
    for (auto* s : sessions) s->onDrain();
    checkDrained();
  });
}

void Worker::checkDrained() {
  if (sessions_.empty() && on_drained_) {
    auto cb = std::move(on_drained_);
    on_drained_ = nullptr;
    cb();
  }
}

void Worker::closeAll() {
  for (auto& al : listeners_) {
    boost::system::error_code ignored;
    al->acceptor->close(ignored);
  }
  std::vector<DownstreamSession*> sessions(sessions_.begin(), sessions_.end());
  for (auto* s : sessions) s->forceClose();
  pools_.closeAll();
}

}  // namespace trellis::proxy
