// LoadEngine: dispatch, accounting and termination of one event loop's share of a run.
#include "bench/load_engine.h"

#include <algorithm>

namespace trellis::bench {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
// How often timeouts, the end of a closed-loop window and the hard stop are checked, and the
// progress counters published.
constexpr auto kSweepInterval = std::chrono::milliseconds(50);
// Pause before reconnecting after a failed connect, so a refused port is not hammered.
constexpr auto kReconnectDelay = std::chrono::milliseconds(100);
}  // namespace

LoadEngine::LoadEngine(asio::io_context& io, LoadPlan plan)
    : io_(io), plan_(std::move(plan)), scheduleTimer_(io), sweepTimer_(io) {
  windowStart_ = plan_.start + plan_.warmup;
  windowEnd_ = windowStart_ + plan_.duration;
  hardStop_ = windowEnd_ + plan_.hardStopGrace;
  stats_.windowStart = windowStart_;
  stats_.lastCompletion = windowStart_;
  if (!closedLoop()) {
    const OpenLoopSchedule unbounded(plan_.start + plan_.phase, plan_.rate, UINT64_MAX);
    uint64_t limit = unbounded.countBefore(windowEnd_);
    if (plan_.requestLimit > 0) {
      limit = std::min(limit, unbounded.countBefore(windowStart_) + plan_.requestLimit);
    }
    schedule_.emplace(plan_.start + plan_.phase, plan_.rate, limit);
  }
}

LoadEngine::~LoadEngine() = default;

void LoadEngine::start() {
  connections_.reserve(plan_.connections);
  for (int i = 0; i < plan_.connections; ++i) {
    connections_.push_back(
        std::make_unique<Connection>(io_, *this, plan_.target, plan_.readBufferSize, i));
  }
  for (auto& conn : connections_) conn->connect();
  if (!closedLoop()) armScheduleTimer();
  sweepTimer_.expires_after(kSweepInterval);
  sweepTimer_.async_wait([this](const error_code& ec) {
    if (!ec) onSweep();
  });
}

void LoadEngine::onConnected(Connection& conn) { becameIdle(conn); }

void LoadEngine::onConnectFailed(Connection& conn) {
  const auto now = Clock::now();
  if (now >= windowStart_) countFailure(Failure::kConnect, true);
  if (finished_) return;
  conn.connect(kReconnectDelay);
}

void LoadEngine::onResponse(Connection& conn, int status) {
  const auto now = Clock::now();
  --inFlight_;
  if (conn.measured()) {
    const auto latency = std::chrono::duration_cast<std::chrono::nanoseconds>(now - conn.start());
    stats_.latency.record(static_cast<uint64_t>(std::max<int64_t>(latency.count(), 0)));
    ++stats_.completed;
    const int cls = status / 100;
    ++stats_.statusClass[cls >= 1 && cls <= 5 ? cls : 0];
    stats_.lastCompletion = now;
  }
  if (finished_) return;
  if (conn.state() == Connection::State::kClosed) {
    ++stats_.serverCloses;
    conn.connect();
    maybeFinish(now);
    return;
  }
  becameIdle(conn);
}

void LoadEngine::onRequestFailed(Connection& conn, Failure failure) {
  --inFlight_;
  countFailure(failure, conn.measured());
  if (finished_) return;
  conn.connect();
  maybeFinish(Clock::now());
}

void LoadEngine::onIdleClosed(Connection& conn) {
  ++stats_.serverCloses;
  if (!closedLoop()) {
    auto it = std::find(idle_.begin(), idle_.end(), &conn);
    if (it != idle_.end()) idle_.erase(it);
  }
  if (finished_) return;
  conn.connect();
}

void LoadEngine::becameIdle(Connection& conn) {
  if (finished_) return;
  if (!closedLoop()) {
    idle_.push_back(&conn);
    dispatchBacklog();
    maybeFinish(Clock::now());
    return;
  }
  const auto now = Clock::now();
  if (sendingDone(now)) {
    maybeFinish(now);
    return;
  }
  const bool measured = now >= windowStart_;
  if (measured) {
    ++measuredSends_;
    ++stats_.sent;
  }
  ++inFlight_;
  conn.send(plan_.request, plan_.headRequest, now, measured);
}

void LoadEngine::dispatchBacklog() {
  while (dispatched_ < scheduled_ && !idle_.empty()) {
    Connection* conn = idle_.front();
    idle_.pop_front();
    const auto intended = schedule_->at(dispatched_++);
    const bool measured = intended >= windowStart_;
    if (measured) ++stats_.sent;
    ++inFlight_;
    conn->send(plan_.request, plan_.headRequest, intended, measured);
  }
}

void LoadEngine::armScheduleTimer() {
  if (scheduled_ >= schedule_->limit()) return;
  scheduleTimer_.expires_at(schedule_->at(scheduled_));
  scheduleTimer_.async_wait([this](const error_code& ec) {
    if (!ec) onScheduleTimer();
  });
}

void LoadEngine::onScheduleTimer() {
  if (finished_) return;
  const auto now = Clock::now();
  scheduled_ = std::max(scheduled_, schedule_->dueBy(now));
  dispatchBacklog();
  armScheduleTimer();
  maybeFinish(now);
}

void LoadEngine::onSweep() {
  if (finished_) return;
  const auto now = Clock::now();
  if (now >= hardStop_) {
    finish(true);
    return;
  }
  const auto deadline = now - plan_.timeout;
  for (auto& conn : connections_) conn->expireIfSentBefore(deadline);
  if (!closedLoop()) {
    // Requests that waited in the backlog longer than the timeout are given up as timeouts.
    while (dispatched_ < scheduled_ && schedule_->at(dispatched_) < deadline) {
      countFailure(Failure::kTimeout, schedule_->at(dispatched_) >= windowStart_);
      ++dispatched_;
    }
  }
  publishProgress();
  maybeFinish(now);
  if (finished_) return;
  sweepTimer_.expires_after(kSweepInterval);
  sweepTimer_.async_wait([this](const error_code& ec) {
    if (!ec) onSweep();
  });
}

bool LoadEngine::sendingDone(Clock::time_point now) const {
  if (!closedLoop()) return scheduled_ >= schedule_->limit() && dispatched_ >= scheduled_;
  if (now >= windowEnd_) return true;
  return plan_.requestLimit > 0 && measuredSends_ >= plan_.requestLimit;
}

void LoadEngine::maybeFinish(Clock::time_point now) {
  if (!finished_ && inFlight_ == 0 && sendingDone(now)) finish(false);
}

void LoadEngine::finish(bool hardStop) {
  finished_ = true;
  if (hardStop) {
    // Whatever is still outstanding or waiting never got an answer in time.
    for (auto& conn : connections_) {
      if (conn->state() == Connection::State::kBusy) countFailure(Failure::kTimeout, conn->measured());
    }
    if (!closedLoop()) {
      for (; dispatched_ < schedule_->limit(); ++dispatched_) {
        countFailure(Failure::kTimeout, schedule_->at(dispatched_) >= windowStart_);
      }
    }
  }
  inFlight_ = 0;
  for (auto& conn : connections_) {
    stats_.interimResponses += conn->interimResponses();
    conn->close();
  }
  idle_.clear();
  scheduleTimer_.cancel();
  sweepTimer_.cancel();
  publishProgress();
  progress_.finished.store(true, std::memory_order_release);
}

void LoadEngine::countFailure(Failure failure, bool measured) {
  if (measured) ++stats_.failures[static_cast<int>(failure)];
}

void LoadEngine::publishProgress() {
  progress_.completed.store(stats_.completed, std::memory_order_relaxed);
  progress_.errors.store(stats_.errors(), std::memory_order_relaxed);
  progress_.inFlight.store(inFlight_, std::memory_order_relaxed);
  progress_.backlog.store(closedLoop() ? 0 : scheduled_ - std::min(scheduled_, dispatched_),
                          std::memory_order_relaxed);
}

}  // namespace trellis::bench
