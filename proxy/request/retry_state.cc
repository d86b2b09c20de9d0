// Retry decisions and back-off (see retry_state.h).
#include "proxy/request/retry_state.h"

#include <algorithm>
#include <cmath>

namespace trellis::proxy {

bool RetryState::coversFailure(RetryEvent event) const {
  if (!policy_) return false;
  const uint32_t on = policy_->retry_on;
  // A try that got no response at all counts for 5xx and gateway-error too, as in Envoy; a
  // connect failure also counts for reset.
  constexpr uint32_t kNoResponse = RetryPolicy::k5xx | RetryPolicy::kGatewayError | RetryPolicy::kReset;
  switch (event) {
    case RetryEvent::None:
      return false;
    case RetryEvent::ConnectFailure:
      return (on & (kNoResponse | RetryPolicy::kConnectFailure)) != 0;
    case RetryEvent::Reset:
      return (on & kNoResponse) != 0;
  }
  return false;
}

bool RetryState::coversStatus(uint16_t status) const {
  if (!policy_) return false;
  const uint32_t on = policy_->retry_on;
  if ((on & RetryPolicy::k5xx) && status >= 500 && status <= 599) return true;
  if ((on & RetryPolicy::kGatewayError) && (status == 502 || status == 503 || status == 504)) return true;
  if ((on & RetryPolicy::kRetriable4xx) && status == 409) return true;
  if (on & RetryPolicy::kRetriableStatusCodes) {
    for (auto code : policy_->retriable_status_codes) {
      if (code == status) return true;
    }
  }
  return false;
}

std::chrono::milliseconds RetryState::next(uint64_t random) {
  ++used_;
  if (!policy_) return std::chrono::milliseconds(0);
  const int64_t base = policy_->back_off_base.count();
  const int64_t cap = std::max<int64_t>(policy_->back_off_max.count(), base);
  // (2^n - 1) x base, without overflow for large n.
  int64_t ceiling = cap;
  if (used_ < 32) ceiling = std::min<int64_t>(cap, ((int64_t{1} << used_) - 1) * base);
  if (ceiling <= 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(static_cast<int64_t>(random % static_cast<uint64_t>(ceiling + 1)));
}

int64_t maxActiveRetries(const CircuitBreakerConfig& cb, int64_t active_requests, int64_t pending_requests) {
  if (!cb.has_retry_budget) return cb.max_retries;
  auto budget = static_cast<int64_t>(
      std::floor(static_cast<double>(active_requests + pending_requests) * cb.retry_budget_percent / 100.0));
  return std::max<int64_t>(budget, cb.min_retry_concurrency);
}

}  // namespace trellis::proxy
