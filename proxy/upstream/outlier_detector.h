// Passive health: Envoy's outlier detection for consecutive 5xx and consecutive gateway failures.
//
// Two halves that meet through a posted event, as in Envoy:
// - On the request path every worker calls recordOutcome() with the response status (or the
//   status a local failure maps to). It updates the host's shared consecutive counters and says
//   when one has just reached its threshold; the worker then posts that signal to the main
//   thread. The success path only reads.
// - On the main thread one OutlierDetector per cluster decides: eject now (subject to the
//   enforcing_* percent and max_ejection_percent), and un-eject when the ejection time is over,
//   checked every cfg.interval. It is pure and clock-free so tests drive it with fake times.
//   OutlierMonitor is the thin Asio shell that runs it on a timer and reports each change of a
//   host's ejection through a callback, which rebuilds the HealthView (kFailedOutlierCheck).
//
// Counter resets: the detector resets a host's triggering counter whenever it handles that
// host's signal (ejected or not, so a host left in service by enforcement or overflow can be
// detected again after another run of failures), and both counters when it un-ejects a host,
// so a host back in service starts afresh. For that setHosts() may be given each host's
// HostCounters; without them (nullptr) the caller must do those resets itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "proxy/router/fast_random.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/stats/stats.h"

namespace trellis::proxy {

// A counter that has just reached its threshold. Both, when one response takes both counters to
// their thresholds at once (five 503s with both thresholds at 5): the detector then handles the
// gateway failure first and the 5xx second, as Envoy does when both cross.
enum class OutlierSignal : uint8_t { None, Consecutive5xx, ConsecutiveGatewayFailure, Both };

// Worker side, on every upstream outcome. `status` is the response status, or the one a local
// failure maps to (connect failure or reset: 503; timeout: 504). Gateway failures (502, 503,
// 504) count toward both counters; any other 5xx counts toward consecutive_5xx and ends a run of
// gateway failures; a non-5xx resets both (storing only into a counter that is not zero).
// Returns a signal only when a counter reaches its threshold exactly, so of all the workers
// exactly one posts it per crossing. A threshold of 0 disables that detection.
OutlierSignal recordOutcome(HostCounters& host, const OutlierDetectionConfig& cfg, uint16_t status);

class OutlierDetector {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // `stats` is the main thread's shard of the cluster's outlier_detection stats; `seed` drives
  // the enforcing_* percent draws.
  OutlierDetector(const OutlierDetectionConfig& cfg, OutlierDetectionStats& stats, uint64_t seed);

  // The cluster's hosts, by address "ip:port" (IPv6 in brackets). Hosts no longer listed are
  // forgotten (an ejected one leaves ejections_active); new ones start with no history.
  // `counters`, when given, is parallel to `addresses` (entries may be nullptr): the counters the
  // detector resets (see the file comment).
  void setHosts(const std::vector<std::string>& addresses,
                const std::vector<HostCounters*>& counters = {});

  // A worker reported a crossing. Returns true if the host is ejected now (false for an unknown
  // host, one already ejected, one left in by the enforcing percent or by max_ejection_percent).
  bool onSignal(const std::string& address, OutlierSignal signal, TimePoint now);

  // Run every cfg.interval. Returns the hosts whose ejection is over; they are no longer ejected.
  // A host ejected n times in a row is out for base_ejection_time x n, at most
  // max(max_ejection_time, base_ejection_time); each interval a host spends in service, one
  // interval or more after its last return, takes one off n.
  std::vector<std::string> onInterval(TimePoint now);

  bool ejected(const std::string& address) const;
  size_t ejectedCount() const { return ejected_count_; }
  // The current multiplier of the host's ejection time (0: never ejected, or decayed); for tests.
  uint32_t ejectionMultiplier(const std::string& address) const;

 private:
  struct Host {
    HostCounters* counters = nullptr;
    bool ejected = false;
    uint32_t multiplier = 0;  // Envoy's eject time backoff
    TimePoint ejected_at{};
    bool returned = false;  // un-ejected at least once: returned_at is set
    TimePoint returned_at{};
  };
  // One detection of `type` (Consecutive5xx or ConsecutiveGatewayFailure).
  bool detect(Host& host, OutlierSignal type, TimePoint now);
  bool enforced(OutlierSignal type);
  std::chrono::milliseconds ejectionTime(const Host& host) const;

  OutlierDetectionConfig cfg_;
  OutlierDetectionStats& stats_;
  FastRandom random_;
  std::unordered_map<std::string, Host> hosts_;
  size_t ejected_count_ = 0;
};

// Runs an OutlierDetector on the main thread: a timer every cfg.interval and a callback for each
// ejection (ejected = true) and return (false). Main thread only, like the detector; workers
// post their signals to it. Destroying the monitor cancels its timer.
class OutlierMonitor {
 public:
  using Callback = std::function<void(const std::string& address, bool ejected)>;

  OutlierMonitor(boost::asio::io_context& io, const OutlierDetectionConfig& cfg,
                 OutlierDetectionStats& stats, uint64_t seed, Callback callback);
  ~OutlierMonitor();
  OutlierMonitor(const OutlierMonitor&) = delete;
  OutlierMonitor& operator=(const OutlierMonitor&) = delete;

  void setHosts(const std::vector<std::string>& addresses,
                const std::vector<HostCounters*>& counters = {});
  // Forwards to the detector with the current time; calls the callback if the host is ejected.
  void onSignal(const std::string& address, OutlierSignal signal);

  const OutlierDetector& detector() const { return detector_; }

 private:
  void arm();

  OutlierDetector detector_;
  std::chrono::milliseconds interval_;
  boost::asio::steady_timer timer_;
  Callback callback_;
  // Handlers hold a weak reference: one already queued when the monitor goes away does nothing.
  std::shared_ptr<OutlierMonitor*> alive_;
};

}  // namespace trellis::proxy
