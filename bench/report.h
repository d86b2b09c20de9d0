// The end-of-run report of trellis-load: a table for people, JSON for scripts (bench/compare).
#pragma once

#include <string>

#include "bench/run_stats.h"

namespace trellis::bench {

struct RunReport {
  std::string url;
  std::string method;
  bool closedLoop = true;
  double targetRate = 0;  // open loop only
  int connections = 0;
  int threads = 1;
  double warmupSeconds = 0;
  double durationSeconds = 0;
  uint64_t requestLimit = 0;
  RunStats stats;  // merged over the engines
};

std::string formatTable(const RunReport& report);
// One JSON object; latencies in microseconds.
std::string formatJson(const RunReport& report);
// "812 µs", "12.3 ms", "1.52 s": a nanosecond value in the unit that reads best.
std::string formatLatency(uint64_t ns);

}  // namespace trellis::bench
