// Outlier detection: the workers' consecutive-failure counting, the main thread's ejection
// decisions, and the timer that returns ejected hosts to service (see outlier_detector.h).
#include "proxy/upstream/outlier_detector.h"

#include <algorithm>
#include <unordered_set>

namespace trellis::proxy {
namespace {

bool isGatewayFailure(uint16_t status) { return status == 502 || status == 503 || status == 504; }

void resetIfSet(std::atomic<uint32_t>& counter) {
  if (counter.load(std::memory_order_relaxed) != 0) counter.store(0, std::memory_order_relaxed);
}

// fetch_add hands each worker a distinct previous value, so exactly one sees the threshold.
bool bumpReaches(std::atomic<uint32_t>& counter, uint32_t threshold) {
  return counter.fetch_add(1, std::memory_order_relaxed) + 1 == threshold;
}

}  // namespace

OutlierSignal recordOutcome(HostCounters& host, const OutlierDetectionConfig& cfg, uint16_t status) {
  if (status < 500 || status > 599) {
    resetIfSet(host.consecutive_5xx);
    resetIfSet(host.consecutive_gateway_failure);
    return OutlierSignal::None;
  }
  bool gateway_crossed = false;
  if (isGatewayFailure(status)) {
    gateway_crossed = bumpReaches(host.consecutive_gateway_failure, cfg.consecutive_gateway_failure);
  } else {
    resetIfSet(host.consecutive_gateway_failure);  // a 500 ends a run of gateway failures
  }
  const bool five_xx_crossed = bumpReaches(host.consecutive_5xx, cfg.consecutive_5xx);
  if (gateway_crossed && five_xx_crossed) return OutlierSignal::Both;
  if (gateway_crossed) return OutlierSignal::ConsecutiveGatewayFailure;
  if (five_xx_crossed) return OutlierSignal::Consecutive5xx;
  return OutlierSignal::None;
}

OutlierDetector::OutlierDetector(const OutlierDetectionConfig& cfg, OutlierDetectionStats& stats,
                                 uint64_t seed)
    : cfg_(cfg), stats_(stats), random_(seed) {}

void OutlierDetector::setHosts(const std::vector<std::string>& addresses,
                               const std::vector<HostCounters*>& counters) {
  std::unordered_set<std::string> keep(addresses.begin(), addresses.end());
  for (auto it = hosts_.begin(); it != hosts_.end();) {
    if (keep.count(it->first) != 0) {
      ++it;
      continue;
    }
    if (it->second.ejected) {
      --ejected_count_;
      add(stats_.ejections_active, -1);
    }
    it = hosts_.erase(it);
  }
  for (size_t i = 0; i < addresses.size(); ++i) {
    Host& host = hosts_[addresses[i]];  // a new host starts with no history
    if (i < counters.size()) host.counters = counters[i];
  }
}

bool OutlierDetector::onSignal(const std::string& address, OutlierSignal signal, TimePoint now) {
  // Signals cross threads: the host may have been removed since the worker posted.
  auto it = hosts_.find(address);
  if (it == hosts_.end()) return false;
  Host& host = it->second;
  switch (signal) {
    case OutlierSignal::None:
      return false;
    case OutlierSignal::Consecutive5xx:
    case OutlierSignal::ConsecutiveGatewayFailure:
      return detect(host, signal, now);
    case OutlierSignal::Both: {
      const bool by_gateway = detect(host, OutlierSignal::ConsecutiveGatewayFailure, now);
      const bool by_5xx = detect(host, OutlierSignal::Consecutive5xx, now);
      return by_gateway || by_5xx;
    }
  }
  return false;
}

bool OutlierDetector::detect(Host& host, OutlierSignal type, TimePoint now) {
  const bool gateway = type == OutlierSignal::ConsecutiveGatewayFailure;
  // Whatever happens next, this run of failures has been reported: start counting a new one.
  if (host.counters != nullptr) {
    (gateway ? host.counters->consecutive_gateway_failure : host.counters->consecutive_5xx)
        .store(0, std::memory_order_relaxed);
  }
  if (host.ejected) return false;  // a late report from before the ejection

  inc(gateway ? stats_.ejections_detected_consecutive_gateway_failure
              : stats_.ejections_detected_consecutive_5xx);
  inc(stats_.ejections_total);

  // Within max_ejection_percent counting this host, or nothing ejected yet: one host can always
  // be ejected, however few the hosts.
  const double percent_after =
      100.0 * static_cast<double>(ejected_count_ + 1) / static_cast<double>(hosts_.size());
  if (ejected_count_ > 0 && percent_after > static_cast<double>(cfg_.max_ejection_percent)) {
    inc(stats_.ejections_overflow);
    return false;
  }
  if (!enforced(type)) return false;

  inc(gateway ? stats_.ejections_enforced_consecutive_gateway_failure
              : stats_.ejections_enforced_consecutive_5xx);
  inc(stats_.ejections_enforced_total);
  add(stats_.ejections_active, 1);
  ++ejected_count_;
  host.ejected = true;
  host.ejected_at = now;
  // Grow the multiplier only while the time it gives is below the cap.
  const auto base = cfg_.base_ejection_time;
  const auto cap = std::max(cfg_.max_ejection_time, base);
  if (base * host.multiplier < cap) ++host.multiplier;
  return true;
}

bool OutlierDetector::enforced(OutlierSignal type) {
  const uint32_t percent = type == OutlierSignal::ConsecutiveGatewayFailure
                               ? cfg_.enforcing_consecutive_gateway_failure
                               : cfg_.enforcing_consecutive_5xx;
  return random_.below(100) < percent;
}

std::chrono::milliseconds OutlierDetector::ejectionTime(const Host& host) const {
  const auto base = cfg_.base_ejection_time;
  const auto cap = std::max(cfg_.max_ejection_time, base);
  return std::min(base * std::max<uint32_t>(host.multiplier, 1), cap);
}

std::vector<std::string> OutlierDetector::onInterval(TimePoint now) {
  std::vector<std::string> returned;
  for (auto& [address, host] : hosts_) {
    if (!host.ejected) {
      // In service for at least an interval since its return: forget one ejection.
      if (host.returned && host.multiplier > 0 && now - host.returned_at >= cfg_.interval) {
        --host.multiplier;
      }
      continue;
    }
    if (now - host.ejected_at < ejectionTime(host)) continue;
    host.ejected = false;
    host.returned = true;
    host.returned_at = now;
    --ejected_count_;
    add(stats_.ejections_active, -1);
    // Back in service with clean counts, so a counter left near its threshold by the other kind
    // of failure does not eject it again at once.
    if (host.counters != nullptr) {
      host.counters->consecutive_5xx.store(0, std::memory_order_relaxed);
      host.counters->consecutive_gateway_failure.store(0, std::memory_order_relaxed);
    }
    returned.push_back(address);
  }
  return returned;
}

bool OutlierDetector::ejected(const std::string& address) const {
  auto it = hosts_.find(address);
  return it != hosts_.end() && it->second.ejected;
}

uint32_t OutlierDetector::ejectionMultiplier(const std::string& address) const {
  auto it = hosts_.find(address);
  return it == hosts_.end() ? 0 : it->second.multiplier;
}

OutlierMonitor::OutlierMonitor(boost::asio::io_context& io, const OutlierDetectionConfig& cfg,
                               OutlierDetectionStats& stats, uint64_t seed, Callback callback)
    : detector_(cfg, stats, seed),
      interval_(std::max(cfg.interval, std::chrono::milliseconds(1))),
      timer_(io),
      callback_(std::move(callback)),
      alive_(std::make_shared<OutlierMonitor*>(this)) {
  arm();
}

OutlierMonitor::~OutlierMonitor() {
  *alive_ = nullptr;  // a handler running a callback that destroys us must not re-arm
  alive_.reset();
  timer_.cancel();
}

void OutlierMonitor::setHosts(const std::vector<std::string>& addresses,
                              const std::vector<HostCounters*>& counters) {
  detector_.setHosts(addresses, counters);
}

void OutlierMonitor::onSignal(const std::string& address, OutlierSignal signal) {
  if (detector_.onSignal(address, signal, std::chrono::steady_clock::now()) && callback_) {
    callback_(address, true);
  }
}

void OutlierMonitor::arm() {
  timer_.expires_after(interval_);
  timer_.async_wait([weak = std::weak_ptr<OutlierMonitor*>(alive_)](const boost::system::error_code& ec) {
    const std::shared_ptr<OutlierMonitor*> alive = weak.lock();
    if (ec || !alive || *alive == nullptr) return;
    OutlierMonitor& self = **alive;
    for (const std::string& address : self.detector_.onInterval(std::chrono::steady_clock::now())) {
      if (self.callback_) self.callback_(address, false);
      if (*alive == nullptr) return;
    }
    self.arm();
  });
}

}  // namespace trellis::proxy
