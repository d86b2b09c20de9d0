// Worker thread, accept loops, snapshot delivery and drain.
#include "proxy/net/worker.h"

#include <chrono>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace trellis::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Health from the snapshot alone: EDS health, and hosts of clusters with health checks pending
// until their first check passes. Used until (or when) no health view comes with a snapshot.
std::shared_ptr<const HealthView> snapshotHealth(const Snapshot& snapshot) {
  auto view = std::make_shared<HealthView>();
  view->snapshot = &snapshot;
  view->clusters.resize(snapshot.clusters.size());
  for (const auto& c : snapshot.clusters) {
    auto& ch = view->clusters[c->index];
    ch.flags.resize(c->endpoints.size(), 0);
    for (size_t i = 0; i < c->endpoints.size(); ++i) {
      uint8_t f = 0;
      if (!edsRoutable(c->endpoints[i].eds_health)) f |= kFailedEdsHealth;
      if (!c->health_checks.empty()) f |= kFailedActiveHc | kPendingActiveHc;
      ch.flags[i] = f;
      if (f == 0) ++ch.healthy;
    }
    ch.panic = c->healthy_panic_threshold > 0 && !c->endpoints.empty() &&
               100.0 * ch.healthy < c->healthy_panic_threshold * static_cast<double>(c->endpoints.size());
  }
  return view;
}

}  // namespace

Worker::Worker(uint32_t id, SessionFactory factory)
    : id_(id),
      ctx_(1),
      pools_(ctx_.get_executor()),
      random_(static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) * (id + 1)) {
  factory_ = factory;
}

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

void Worker::setSnapshot(std::shared_ptr<const Snapshot> snapshot, std::shared_ptr<const HealthView> health) {
  asio::post(ctx_, [this, snapshot = std::move(snapshot), health = std::move(health)]() mutable {
    snapshot_ = std::move(snapshot);
    balancers_.clear();
    balancers_.reserve(snapshot_->clusters.size());
    for (const auto& c : snapshot_->clusters) balancers_.emplace_back(*c);
    installHealth(std::move(health));
  });
}

void Worker::setHealth(std::shared_ptr<const HealthView> health) {
  asio::post(ctx_, [this, health = std::move(health)]() mutable {
    if (snapshot_ && health && health->snapshot == snapshot_.get()) installHealth(std::move(health));
  });
}

void Worker::installHealth(std::shared_ptr<const HealthView> health) {
  if (!health || health->snapshot != snapshot_.get() || health->clusters.size() != snapshot_->clusters.size()) {
    health = snapshotHealth(*snapshot_);
  }
  health_ = std::move(health);
}

LoadBalancer* Worker::balancer(const Cluster& cluster) {
  if (!snapshot_ || cluster.index >= balancers_.size() || snapshot_->clusters[cluster.index].get() != &cluster) {
    return nullptr;
  }
  return &balancers_[cluster.index];
}

const ClusterHealth& Worker::health(const Cluster& cluster) const { return health_->clusters[cluster.index]; }

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
    std::vector<Session*> sessions(sessions_.begin(), sessions_.end());
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
      factory_(*this, al.listener, std::move(socket));
    }
    if (!draining_) accept(al);
  });
}

std::list<Session*>::iterator Worker::registerSession(Session* s) {
  active_connections_.fetch_add(1, std::memory_order_relaxed);
  return sessions_.insert(sessions_.end(), s);
}

void Worker::unregisterSession(std::list<Session*>::iterator it) {
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
    std::vector<Session*> sessions(sessions_.begin(), sessions_.end());
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
  std::vector<Session*> sessions(sessions_.begin(), sessions_.end());
  for (auto* s : sessions) s->forceClose();
  pools_.closeAll();
}

}  // namespace trellis::proxy
