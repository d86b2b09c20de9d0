// Whether a failed or unwanted try of a request is tried again, and after how long: the pure
// part of Envoy's route retry_policy, apart from sockets and clocks so it is unit-tested alone.
//
// The request flow asks it after every try. A policy retries a try that failed with an event
// its `retry_on` names (a reset, a connect failure, a per-try timeout) or that answered a status
// it names (5xx, gateway-error, retriable-4xx, retriable-status-codes), while retries are left.
// Whether the cluster's circuit breaker (max_retries or the retry budget) lets the retry start,
// and whether the request body was kept for replay, are decided by the flow.
#pragma once

#include <chrono>
#include <cstdint>

#include "proxy/request/proxy_error.h"
#include "proxy/snapshot/snapshot.h"

namespace trellis::proxy {

class RetryState {
 public:
  // `policy` may be null: nothing is retried.
  explicit RetryState(const RetryPolicy* policy) : policy_(policy) {}

  bool enabled() const { return policy_ != nullptr && policy_->num_retries > 0; }
  bool retriesLeft() const { return policy_ != nullptr && used_ < policy_->num_retries; }
  uint32_t used() const { return used_; }

  // The policy covers this failure (ignoring how many retries are left).
  bool coversFailure(RetryEvent event) const;
  // The policy covers this response status.
  bool coversStatus(uint16_t status) const;

  // Counts one retry and returns its back-off: uniform in [0, (2^n - 1) x base], capped at
  // max, where n is the number of retries so far (Envoy's formula). `random` is any 64-bit draw.
  std::chrono::milliseconds next(uint64_t random);

  const RetryPolicy* policy() const { return policy_; }

 private:
  const RetryPolicy* policy_;
  uint32_t used_ = 0;
};

// Envoy's retry budget and max_retries as one limit: how many retries may be active at once
// in the cluster given the active requests (CircuitBreakerConfig).
int64_t maxActiveRetries(const CircuitBreakerConfig& cb, int64_t active_requests, int64_t pending_requests);

}  // namespace trellis::proxy
