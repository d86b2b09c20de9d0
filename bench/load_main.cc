// trellis-load: composition root. Parses flags, splits the run over engine threads, prints
// progress, merges the engines' statistics and writes the report.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "bench/connection_holder.h"
#include "bench/load_engine.h"
#include "bench/load_options.h"
#include "bench/report.h"

namespace trellis::bench {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

Clock::duration seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

int runHold(const LoadOptions& o, const tcp::endpoint& endpoint) {
  asio::io_context io(1);
  ConnectionHolder* holderPtr = nullptr;
  ConnectionHolder holder(io, endpoint, buildRequest(o.target, o.request),
                          o.request.method == "HEAD", o.holdConnections, [&] {
                            std::printf("holding %d connections (%d failed)\n", holderPtr->held(),
                                        holderPtr->failed());
                            std::fflush(stdout);
                          });
  holderPtr = &holder;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer limit(io);
  auto stop = [&] {
    holder.stop();
    signals.cancel();
    limit.cancel();
  };
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) stop();
  });
  limit.expires_after(seconds(o.durationSeconds));
  limit.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) stop();
  });
  holder.start();
  io.run();
  std::fprintf(stderr, "trellis-load: held %d, failed %d, dropped by peer %d\n", holder.held(),
               holder.failed(), holder.dropped());
  return holder.failed() == 0 && holder.dropped() == 0 ? 0 : 1;
}

int runLoad(const LoadOptions& o, const tcp::endpoint& endpoint) {
  const std::string request = buildRequest(o.target, o.request);
  int threads = o.threads;
  if (o.requests > 0 && static_cast<uint64_t>(threads) > o.requests) threads = static_cast<int>(o.requests);
  const Clock::time_point start = Clock::now();
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::unique_ptr<LoadEngine>> engines;
  for (int k = 0; k < threads; ++k) {
    LoadPlan plan;
    plan.target = endpoint;
    plan.request = request;
    plan.headRequest = o.request.method == "HEAD";
    plan.connections = o.connections / threads + (k < o.connections % threads ? 1 : 0);
    plan.rate = o.rate / threads;
    plan.start = start;
    // Interleave the engines' schedules so that together they send at an even pace.
    if (o.rate > 0) plan.phase = seconds(k / o.rate);
    plan.warmup = seconds(o.warmupSeconds);
    plan.duration = seconds(o.durationSeconds);
    plan.timeout = seconds(o.timeoutSeconds);
    if (o.requests > 0) {
      plan.requestLimit = o.requests / threads + (static_cast<uint64_t>(k) < o.requests % threads ? 1 : 0);
    }
    contexts.push_back(std::make_unique<asio::io_context>(1));
    engines.push_back(std::make_unique<LoadEngine>(*contexts.back(), std::move(plan)));
  }

  std::mutex mutex;
  std::condition_variable cv;
  int running = threads;
  std::vector<std::thread> workers;
  for (int k = 0; k < threads; ++k) {
    workers.emplace_back([&, k] {
      engines[k]->start();
      contexts[k]->run();
      std::lock_guard lock(mutex);
      --running;
      cv.notify_all();
    });
  }

  const bool progress = !o.quiet && o.warmupSeconds + o.durationSeconds > 5;
  const Clock::time_point hardStop =
      start + seconds(o.warmupSeconds + o.durationSeconds + 10) + std::chrono::seconds(1);
  uint64_t lastCompleted = 0;
  Clock::time_point nextTick = start + std::chrono::seconds(1);
  {
    std::unique_lock lock(mutex);
    while (running > 0) {
      if (cv.wait_until(lock, std::min(nextTick, hardStop), [&] { return running == 0; })) break;
      const auto now = Clock::now();
      if (now >= hardStop) {
        // The engines stop themselves at their hard stop; this is the backstop.
        for (auto& c : contexts) c->stop();
        continue;
      }
      if (now < nextTick) continue;
      nextTick += std::chrono::seconds(1);
      if (!progress) continue;
      uint64_t completed = 0, errors = 0, inFlight = 0, backlog = 0;
      for (const auto& e : engines) {
        completed += e->progress().completed.load(std::memory_order_relaxed);
        errors += e->progress().errors.load(std::memory_order_relaxed);
        inFlight += e->progress().inFlight.load(std::memory_order_relaxed);
        backlog += e->progress().backlog.load(std::memory_order_relaxed);
      }
      const double t = std::chrono::duration<double>(now - start).count();
      const char* phase = t < o.warmupSeconds                      ? "warm-up"
                          : t < o.warmupSeconds + o.durationSeconds ? "measure"
                                                                    : "drain";
      std::fprintf(stderr,
                   "[%5.1fs] %-7s %10llu done %9llu/s  errors %llu  in-flight %llu  backlog %llu\n",
                   t, phase, static_cast<unsigned long long>(completed),
                   static_cast<unsigned long long>(completed - lastCompleted),
                   static_cast<unsigned long long>(errors),
                   static_cast<unsigned long long>(inFlight),
                   static_cast<unsigned long long>(backlog));
      lastCompleted = completed;
    }
  }
  for (auto& w : workers) w.join();

  RunReport report;
  report.url = o.url;
  report.method = o.request.method;
  report.closedLoop = o.rate <= 0;
  report.targetRate = o.rate;
  report.connections = o.connections;
  report.threads = threads;
  report.warmupSeconds = o.warmupSeconds;
  report.durationSeconds = o.durationSeconds;
  report.requestLimit = o.requests;
  report.stats = engines[0]->stats();
  for (int k = 1; k < threads; ++k) report.stats.merge(engines[k]->stats());

  std::fputs(formatTable(report).c_str(), stdout);
  if (!o.jsonPath.empty()) {
    const std::string json = formatJson(report) + "\n";
    if (o.jsonPath == "-") {
      std::fputs(json.c_str(), stdout);
    } else {
      std::ofstream out(o.jsonPath);
      out << json;
      if (!out) {
        std::fprintf(stderr, "trellis-load: cannot write --json '%s'\n", o.jsonPath.c_str());
        return 2;
      }
    }
  }
  return report.stats.completed > 0 ? 0 : 1;
}

}  // namespace
}  // namespace trellis::bench

int main(int argc, char** argv) {
  using namespace trellis::bench;
  const std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<LoadOptions> options = parseLoadOptions(args);
  if (!options.ok()) {
    std::fprintf(stderr, "trellis-load: %s\n\n%s", std::string(options.status().message()).c_str(),
                 loadUsage());
    return 2;
  }
  if (options->help) {
    std::fputs(loadUsage(), stdout);
    return 0;
  }
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(options->target.address, ec);
  if (ec) {
    std::fprintf(stderr, "trellis-load: bad address '%s'\n", options->target.address.c_str());
    return 2;
  }
  const boost::asio::ip::tcp::endpoint endpoint(address, options->target.port);
  if (options->holdConnections > 0) return runHold(*options, endpoint);
  return runLoad(*options, endpoint);
}
