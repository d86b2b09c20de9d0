// RetryState: which failures and statuses a retry_policy retries, how many times, the back-off
// range, and the retry budget.
#include "proxy/request/retry_state.h"

#include <gtest/gtest.h>

namespace trellis::proxy {
namespace {

RetryPolicy policy(uint32_t on, uint32_t retries = 2) {
  RetryPolicy p;
  p.retry_on = on;
  p.num_retries = retries;
  return p;
}

TEST(RetryStateTest, NoPolicyRetriesNothing) {
  RetryState r(nullptr);
  EXPECT_FALSE(r.enabled());
  EXPECT_FALSE(r.retriesLeft());
  EXPECT_FALSE(r.coversFailure(RetryEvent::Reset));
  EXPECT_FALSE(r.coversStatus(503));
}

TEST(RetryStateTest, FiveXxCoversEveryServerErrorAndNoResponse) {
  auto p = policy(RetryPolicy::k5xx);
  RetryState r(&p);
  EXPECT_TRUE(r.coversStatus(500));
  EXPECT_TRUE(r.coversStatus(503));
  EXPECT_TRUE(r.coversStatus(599));
  EXPECT_FALSE(r.coversStatus(404));
  EXPECT_FALSE(r.coversStatus(200));
  EXPECT_TRUE(r.coversFailure(RetryEvent::Reset));
  EXPECT_TRUE(r.coversFailure(RetryEvent::ConnectFailure));
  EXPECT_FALSE(r.coversFailure(RetryEvent::None));
}

TEST(RetryStateTest, GatewayErrorCoversOnly502To504) {
  auto p = policy(RetryPolicy::kGatewayError);
  RetryState r(&p);
  EXPECT_FALSE(r.coversStatus(500));
  EXPECT_TRUE(r.coversStatus(502));
  EXPECT_TRUE(r.coversStatus(503));
  EXPECT_TRUE(r.coversStatus(504));
  EXPECT_TRUE(r.coversFailure(RetryEvent::Reset));
}

TEST(RetryStateTest, ConnectFailureDoesNotCoverResetsOrStatuses) {
  auto p = policy(RetryPolicy::kConnectFailure);
  RetryState r(&p);
  EXPECT_TRUE(r.coversFailure(RetryEvent::ConnectFailure));
  EXPECT_FALSE(r.coversFailure(RetryEvent::Reset));
  EXPECT_FALSE(r.coversStatus(503));
}

TEST(RetryStateTest, ResetCoversConnectFailuresToo) {
  auto p = policy(RetryPolicy::kReset);
  RetryState r(&p);
  EXPECT_TRUE(r.coversFailure(RetryEvent::Reset));
  EXPECT_TRUE(r.coversFailure(RetryEvent::ConnectFailure));
  EXPECT_FALSE(r.coversStatus(503));
}

TEST(RetryStateTest, RetriableStatusCodesAnd4xx) {
  auto p = policy(RetryPolicy::kRetriableStatusCodes | RetryPolicy::kRetriable4xx);
  p.retriable_status_codes = {418, 503};
  RetryState r(&p);
  EXPECT_TRUE(r.coversStatus(418));
  EXPECT_TRUE(r.coversStatus(503));
  EXPECT_TRUE(r.coversStatus(409));
  EXPECT_FALSE(r.coversStatus(502));
  EXPECT_FALSE(r.coversFailure(RetryEvent::Reset));
}

TEST(RetryStateTest, NumRetriesBoundsTheRetries) {
  auto p = policy(RetryPolicy::k5xx, 2);
  RetryState r(&p);
  EXPECT_TRUE(r.retriesLeft());
  r.next(0);
  EXPECT_TRUE(r.retriesLeft());
  r.next(0);
  EXPECT_FALSE(r.retriesLeft());
  EXPECT_EQ(r.used(), 2u);
}

TEST(RetryStateTest, BackOffGrowsExponentiallyAndIsCapped) {
  auto p = policy(RetryPolicy::k5xx, 10);
  p.back_off_base = std::chrono::milliseconds(25);
  p.back_off_max = std::chrono::milliseconds(250);
  RetryState r(&p);
  // The largest draw shows the ceiling: (2^n - 1) x 25 ms, at most 250 ms.
  const uint64_t big = ~uint64_t{0};
  std::vector<int64_t> ceilings{25, 75, 175, 250, 250};
  for (int64_t c : ceilings) {
    auto d = r.next(big - (big % static_cast<uint64_t>(c + 1)) - 1);  // random % (c+1) == c
    EXPECT_EQ(d.count(), c);
  }
  RetryState again(&p);
  for (int i = 0; i < 10; ++i) {
    auto d = again.next(static_cast<uint64_t>(i) * 7919u);
    EXPECT_GE(d.count(), 0);
    EXPECT_LE(d.count(), 250);
  }
}

TEST(RetryStateTest, BudgetOrMaxRetries) {
  CircuitBreakerConfig cb;
  cb.max_retries = 3;
  EXPECT_EQ(maxActiveRetries(cb, 1000, 0), 3);
  cb.has_retry_budget = true;
  cb.retry_budget_percent = 20;
  cb.min_retry_concurrency = 3;
  EXPECT_EQ(maxActiveRetries(cb, 5, 0), 3);      // at least min_retry_concurrency
  EXPECT_EQ(maxActiveRetries(cb, 100, 0), 20);   // 20% of active requests
  EXPECT_EQ(maxActiveRetries(cb, 90, 10), 20);   // pending requests count as active
}

}  // namespace
}  // namespace trellis::proxy
