// Envoy's two downstream connection limits, shared by every worker: the overload manager's
// global limit (envoy.resource_monitors.global_downstream_max_connections) over all listeners, and
// a listener's own limit (runtime key envoy.resource_limits.listener.<name>.connection_limit).
//
// A connection is counted from the moment its worker registers its session until the session
// ends, on the listener that serves it (after an original-destination hand-off, the target). The
// accept step admits a new connection only below both limits: it reserves a place with one
// atomic add per limit, so workers accepting at once never exceed a limit together, and gives the
// reservation back once the session has registered (Worker::accept).
#pragma once

#include <atomic>
#include <cstdint>

namespace trellis::proxy {

struct ConnectionCount {
  alignas(64) std::atomic<int64_t> active{0};
  // 0: unlimited. Set by the main thread (at start, or when a listener is compiled), read by
  // the workers.
  std::atomic<int64_t> max{0};

  // Takes a place if one is free. Unlimited counts still count (for /stats and the reservation).
  bool tryReserve() {
    const int64_t before = active.fetch_add(1, std::memory_order_relaxed);
    const int64_t limit = max.load(std::memory_order_relaxed);
    if (limit > 0 && before >= limit) {
      active.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    return true;
  }
  void release() { active.fetch_sub(1, std::memory_order_relaxed); }
};

}  // namespace trellis::proxy
