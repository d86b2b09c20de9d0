// RunStats: what one load engine observed during the measurement window, mergeable across
// engine threads. Failures are kept by kind because "errors: 12" tells nothing: a refused
// connect, a reset mid-response and a timeout point at different faults.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

#include "bench/histogram.h"

namespace trellis::bench {

using Clock = std::chrono::steady_clock;

enum class Failure {
  kConnect,   // TCP connect refused or failed
  kReset,     // connection reset or closed while a request was outstanding
  kTimeout,   // no complete response within --timeout (or never sent before the hard stop)
  kProtocol,  // malformed response, or bytes the server sent without being asked
};
inline constexpr int kFailureKinds = 4;
const char* failureName(Failure failure);

struct RunStats {
  LatencyHistogram latency;          // ns, one sample per complete measured response
  uint64_t sent = 0;                 // measured requests written to a connection
  uint64_t completed = 0;            // measured requests answered with a complete response
  std::array<uint64_t, 6> statusClass{};  // [1]..[5]: 1xx..5xx final statuses; [0]: other
  std::array<uint64_t, kFailureKinds> failures{};
  uint64_t interimResponses = 0;     // 1xx responses skipped before a final one
  uint64_t serverCloses = 0;         // connections the server closed (Connection: close, idle)
  Clock::time_point windowStart{};   // start of the measurement window
  Clock::time_point lastCompletion{};  // last measured response (windowStart if none)

  uint64_t failureCount(Failure f) const { return failures[static_cast<int>(f)]; }
  uint64_t totalFailures() const;
  // Responses with status >= 400 plus failures of every kind.
  uint64_t errors() const { return totalFailures() + statusClass[4] + statusClass[5]; }
  // Completed measured requests per second of wall time from the window start to the last
  // completion.
  double achievedRate() const;
  void merge(const RunStats& other);
};

}  // namespace trellis::bench
