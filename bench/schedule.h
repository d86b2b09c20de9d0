// OpenLoopSchedule: the fixed send times of an open-loop run.
//
// Request i is due at start + i / rate, whatever happened to the requests before it. Its
// latency is measured from that intended time, so a stall that delays sending (a busy
// connection, a slow event loop, a server that stops reading) is counted in full instead of
// being hidden by the generator politely waiting ("coordinated omission").
#pragma once

#include <cstdint>

#include "bench/run_stats.h"

namespace trellis::bench {

class OpenLoopSchedule {
 public:
  // `limit` is the number of requests in the schedule; request i exists for i < limit.
  OpenLoopSchedule(Clock::time_point start, double ratePerSecond, uint64_t limit);

  Clock::time_point at(uint64_t index) const;
  // How many requests are due at `now`: the count of i < limit with at(i) <= now.
  uint64_t dueBy(Clock::time_point now) const;
  // How many requests are due strictly before `t` (ignoring the limit).
  uint64_t countBefore(Clock::time_point t) const;
  uint64_t limit() const { return limit_; }
  double rate() const { return rate_; }

 private:
  Clock::time_point start_;
  double rate_;
  double periodNs_;
  uint64_t limit_;
};

}  // namespace trellis::bench
