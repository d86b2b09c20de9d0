// LoadEngine: drives one event loop's share of a trellis-load run.
//
// Open loop (rate > 0): requests fall due on an OpenLoopSchedule; a due request goes out on an
// idle connection (round-robin over the connections), or waits in the backlog, its latency
// clock already running, until one is free. Closed loop (rate 0): each connection sends its
// next request as soon as the previous response completed. Requests are measured when their
// start time falls in the measurement window (after the warm-up); sending stops at the end of
// the window or after the request limit, and the engine finishes when nothing is left in
// flight, or at the hard stop. Several engines (one per --threads) split the connections and
// the rate between them and are merged afterwards.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/connection.h"
#include "bench/run_stats.h"
#include "bench/schedule.h"

namespace trellis::bench {

struct LoadPlan {
  boost::asio::ip::tcp::endpoint target;
  std::string request;     // the bytes of one request, sent as is
  bool headRequest = false;
  int connections = 1;
  double rate = 0;         // requests per second; 0 is closed loop
  Clock::time_point start;  // common to all engines of a run
  Clock::duration phase{};  // open loop: this engine's schedule starts at start + phase
  Clock::duration warmup{};
  Clock::duration duration = std::chrono::seconds(10);
  Clock::duration timeout = std::chrono::seconds(5);
  Clock::duration hardStopGrace = std::chrono::seconds(10);
  uint64_t requestLimit = 0;  // measured requests to send; 0: bounded by duration only
  size_t readBufferSize = 16 * 1024;
};

// Counters another thread may read while the engine runs (for the progress line).
struct EngineProgress {
  std::atomic<uint64_t> completed{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> inFlight{0};
  std::atomic<uint64_t> backlog{0};
  std::atomic<bool> finished{false};
};

class LoadEngine : public ConnectionOwner {
 public:
  LoadEngine(boost::asio::io_context& io, LoadPlan plan);
  ~LoadEngine() override;

  // Opens the connections and arms the timers; the caller then runs the io_context, which
  // returns when the engine has finished.
  void start();
  const RunStats& stats() const { return stats_; }
  const EngineProgress& progress() const { return progress_; }
  bool closedLoop() const { return plan_.rate <= 0; }

  // ConnectionOwner
  void onConnected(Connection& conn) override;
  void onConnectFailed(Connection& conn) override;
  void onResponse(Connection& conn, int status) override;
  void onRequestFailed(Connection& conn, Failure failure) override;
  void onIdleClosed(Connection& conn) override;

 private:
  void becameIdle(Connection& conn);
  void dispatchBacklog();
  void onScheduleTimer();
  void armScheduleTimer();
  void onSweep();
  bool sendingDone(Clock::time_point now) const;
  void maybeFinish(Clock::time_point now);
  void finish(bool hardStop);
  void countFailure(Failure failure, bool measured);
  void publishProgress();

  boost::asio::io_context& io_;
  LoadPlan plan_;
  Clock::time_point windowStart_;
  Clock::time_point windowEnd_;
  Clock::time_point hardStop_;
  std::optional<OpenLoopSchedule> schedule_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::deque<Connection*> idle_;  // open loop: idle connections, oldest first
  boost::asio::steady_timer scheduleTimer_;
  boost::asio::steady_timer sweepTimer_;
  uint64_t scheduled_ = 0;   // open loop: requests that fell due
  uint64_t dispatched_ = 0;  // open loop: requests handed to a connection (or expired)
  uint64_t measuredSends_ = 0;
  uint64_t inFlight_ = 0;
  bool finished_ = false;
  RunStats stats_;
  EngineProgress progress_;
};

}  // namespace trellis::bench
