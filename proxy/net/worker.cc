// Worker thread, accept loops, snapshot delivery and drain.
#include "proxy/net/worker.h"

#include <algorithm>
#include <cerrno>
#include <chrono>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "proxy/stats/stats.h"

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

void Worker::removeListener(std::shared_ptr<const Listener> listener, std::chrono::milliseconds drain_time) {
  asio::post(ctx_, [this, listener = std::move(listener), drain_time] {
    for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
      if ((*it)->listener != listener) continue;
      closeAcceptor(**it);
      // The accept handler may still be queued with a reference to this entry: keep the
      // entry until this worker stops, it holds only a closed socket.
      retired_listeners_.push_back(std::move(*it));
      listeners_.erase(it);
      break;
    }
    discouraged_.push_back(listener.get());
    std::vector<Session*> sessions(sessions_.begin(), sessions_.end());
    for (auto* s : sessions) {
      if (s->listener() == listener.get()) s->onDrain();
    }
    // What is still open at the end of the drain time is closed, as at shutdown.
    auto timer = std::make_shared<asio::steady_timer>(ctx_, drain_time);
    timer->async_wait([this, timer, listener](const boost::system::error_code& ec) {
      if (ec) return;
      std::vector<Session*> left(sessions_.begin(), sessions_.end());
      for (auto* s : left) {
        if (s->listener() == listener.get()) s->forceClose();
      }
    });
  });
}

bool Worker::inScope(const Listener& listener, DrainScope scope) {
  return scope == DrainScope::All || listener.direction != TrafficDirection::Outbound;
}

bool Worker::draining(const Listener* listener) const {
  for (const Listener* l : discouraged_) {
    if (l == listener) return true;
  }
  return false;
}

void Worker::stopListeners(DrainScope scope) {
  asio::post(ctx_, [this, scope] {
    for (auto& al : listeners_) {
      if (inScope(*al->listener, scope)) closeAcceptor(*al);
    }
  });
}

void Worker::discourage(DrainScope scope) {
  asio::post(ctx_, [this, scope] {
    for (auto& al : listeners_) {
      if (inScope(*al->listener, scope) && !draining(al->listener.get())) discouraged_.push_back(al->listener.get());
    }
    std::vector<Session*> sessions(sessions_.begin(), sessions_.end());
    for (auto* s : sessions) {
      if (s->listener() && inScope(*s->listener(), scope)) s->onDrain();
    }
  });
}

void Worker::drain(DrainScope scope, std::function<void()> on_empty) {
  // Posted in this order, the three run back to back on the worker's thread: a connection
  // taken from the accept queue by stopListeners already belongs to a discouraged listener.
  discourage(scope);
  stopListeners(scope);
  asio::post(ctx_, [this, on_empty = std::move(on_empty)]() mutable {
    on_empty_ = std::move(on_empty);
    notifyIfDrained();
  });
}

void Worker::closeAcceptor(ActiveListener& al) {
  if (!al.acceptor->is_open()) return;
  // Closing a listening socket resets the connections in its queue, whose clients may already
  // have sent a request. Take them first; their sessions drain like the others.
  boost::system::error_code ec;
  al.acceptor->non_blocking(true, ec);
  while (!ec) {
    tcp::socket socket(ctx_);
    al.acceptor->accept(socket, ec);
    if (!ec) factory_(*this, al.listener, std::move(socket));
  }
  al.acceptor->close(ec);
  if (al.backoff) al.backoff->cancel();
}

bool Worker::drained() const {
  if (!sessions_.empty()) return false;
  auto waiting = [](const std::unique_ptr<ActiveListener>& al) {
    return al->accept_pending && !al->acceptor->is_open();
  };
  return std::none_of(listeners_.begin(), listeners_.end(), waiting) &&
         std::none_of(retired_listeners_.begin(), retired_listeners_.end(), waiting);
}

void Worker::notifyIfDrained() {
  if (!on_empty_ || !drained()) return;
  drained_.store(true, std::memory_order_release);
  on_empty_();
}

void Worker::accept(ActiveListener& al) {
  al.accept_pending = true;
  al.acceptor->async_accept([this, &al](const boost::system::error_code& ec, tcp::socket socket) {
    al.accept_pending = false;
    if (!al.acceptor->is_open()) {
      // The accept completed just before closeAcceptor closed the socket (the handler was
      // already queued): the connection is taken from the queue, so it is served like the
      // ones closeAcceptor took, not dropped. A drain waited for this handler.
      if (!ec) admit(al.listener, std::move(socket));
      notifyIfDrained();
      return;
    }
    if (ec == asio::error::operation_aborted) return;
    if (ec == asio::error::no_descriptors || ec.value() == ENFILE || ec == asio::error::no_buffer_space ||
        ec == asio::error::no_memory) {
      // Accepting again at once would fail again at once (the connection stays queued): a
      // full core spent on nothing. Wait until a connection of this worker closes, or for a
      // delay growing from 10 ms to 1 s; established connections are served meanwhile.
      constexpr std::chrono::milliseconds kFirst{10}, kMax{1000};
      if (al.listener->listener_stats) inc(al.listener->listener_stats->shard(id_).downstream_cx_accept_backoff);
      if (al.backoff_delay.count() == 0) {
        spdlog::warn("listener {}: accept failed: {}; pausing accepts until a connection closes (at most {} ms)",
                     al.listener->name, ec.message(), kMax.count());
      }
      al.backoff_delay = al.backoff_delay.count() == 0 ? kFirst : std::min(kMax, al.backoff_delay * 2);
      if (!al.backoff) al.backoff = std::make_unique<asio::steady_timer>(ctx_);
      al.paused = true;
      al.backoff->expires_after(al.backoff_delay);
      al.backoff->async_wait([this, &al](const boost::system::error_code&) {
        // Expired, or cancelled because a connection closed: either way, try again.
        al.paused = false;
        if (al.acceptor->is_open()) accept(al);
      });
      return;
    }
    if (ec) {
      // A connection aborted before it was accepted, and the like: the next one is fine.
      spdlog::warn("listener {}: accept failed: {}", al.listener->name, ec.message());
    } else {
      al.backoff_delay = std::chrono::milliseconds(0);
      admit(al.listener, std::move(socket));
    }
    accept(al);
  });
}

void Worker::admit(const std::shared_ptr<const Listener>& listener, tcp::socket socket) {
  // Reserve a place under each limit; the session the factory registers takes its own places
  // (registerSession), so the reservations go back once the factory returns.
  ConnectionCount* own = listener->connections;
  if (global_connections_ && !global_connections_->tryReserve()) {
    if (listener->listener_stats) inc(listener->listener_stats->shard(id_).downstream_global_cx_overflow);
    boost::system::error_code ignored;
    socket.close(ignored);
    return;
  }
  if (own && !own->tryReserve()) {
    if (global_connections_) global_connections_->release();
    if (listener->listener_stats) inc(listener->listener_stats->shard(id_).downstream_cx_overflow);
    boost::system::error_code ignored;
    socket.close(ignored);
    return;
  }
  factory_(*this, listener, std::move(socket));
  if (own) own->release();
  if (global_connections_) global_connections_->release();
}

void Worker::resumePausedAccepts() {
  for (auto& al : listeners_) {
    if (al->paused && al->backoff) al->backoff->cancel();
  }
}

std::list<Session*>::iterator Worker::registerSession(Session* s) {
  active_connections_.fetch_add(1, std::memory_order_relaxed);
  drained_.store(false, std::memory_order_release);
  if (global_connections_) global_connections_->active.fetch_add(1, std::memory_order_relaxed);
  if (const Listener* l = s->listener(); l && l->connections) l->connections->active.fetch_add(1, std::memory_order_relaxed);
  return sessions_.insert(sessions_.end(), s);
}

void Worker::unregisterSession(std::list<Session*>::iterator it) {
  if (const Listener* l = (*it)->listener(); l && l->connections) {
    l->connections->active.fetch_sub(1, std::memory_order_relaxed);
  }
  if (global_connections_) global_connections_->release();
  sessions_.erase(it);
  active_connections_.fetch_sub(1, std::memory_order_relaxed);
  resumePausedAccepts();  // a descriptor was freed
  notifyIfDrained();
}

void Worker::closeAll() {
  for (auto& al : listeners_) {
    boost::system::error_code ignored;
    al->acceptor->close(ignored);
    if (al->backoff) al->backoff->cancel();
  }
  std::vector<Session*> sessions(sessions_.begin(), sessions_.end());
  for (auto* s : sessions) s->forceClose();
  pools_.closeAll();
}

}  // namespace trellis::proxy
