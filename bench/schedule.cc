// Time arithmetic of OpenLoopSchedule. Times are computed from the index, never accumulated,
// so rounding does not drift over a long run.
#include "bench/schedule.h"

#include <algorithm>
#include <cmath>

namespace trellis::bench {

OpenLoopSchedule::OpenLoopSchedule(Clock::time_point start, double ratePerSecond, uint64_t limit)
    : start_(start), rate_(ratePerSecond), periodNs_(1e9 / ratePerSecond), limit_(limit) {}

Clock::time_point OpenLoopSchedule::at(uint64_t index) const {
  const auto offset = static_cast<int64_t>(std::llround(static_cast<double>(index) * periodNs_));
  return start_ + std::chrono::nanoseconds(offset);
}

uint64_t OpenLoopSchedule::countBefore(Clock::time_point t) const {
  if (t <= start_) return 0;
  const double elapsedNs = static_cast<double>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t - start_).count());
  // Estimate, then correct by the exact comparison so that at(i) < t for exactly the result.
  auto n = static_cast<uint64_t>(std::ceil(elapsedNs / periodNs_));
  while (n > 0 && at(n - 1) >= t) --n;
  while (at(n) < t) ++n;
  return n;
}

uint64_t OpenLoopSchedule::dueBy(Clock::time_point now) const {
  return std::min(limit_, countBefore(now + std::chrono::nanoseconds(1)));
}

}  // namespace trellis::bench
