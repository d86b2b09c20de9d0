// Merging and derived figures of RunStats.
#include "bench/run_stats.h"

#include <algorithm>

namespace trellis::bench {

const char* failureName(Failure failure) {
  switch (failure) {
    case Failure::kConnect: return "connect";
    case Failure::kReset: return "reset";
    case Failure::kTimeout: return "timeout";
    case Failure::kProtocol: return "protocol";
  }
  return "unknown";
}

uint64_t RunStats::totalFailures() const {
  uint64_t total = 0;
  for (uint64_t f : failures) total += f;
  return total;
}

double RunStats::achievedRate() const {
  const double seconds = std::chrono::duration<double>(lastCompletion - windowStart).count();
  return seconds > 0 ? static_cast<double>(completed) / seconds : 0.0;
}

void RunStats::merge(const RunStats& other) {
  latency.merge(other.latency);
  sent += other.sent;
  completed += other.completed;
  for (size_t i = 0; i < statusClass.size(); ++i) statusClass[i] += other.statusClass[i];
  for (size_t i = 0; i < failures.size(); ++i) failures[i] += other.failures[i];
  interimResponses += other.interimResponses;
  serverCloses += other.serverCloses;
  windowStart = std::min(windowStart, other.windowStart);
  lastCompletion = std::max(lastCompletion, other.lastCompletion);
}

}  // namespace trellis::bench
