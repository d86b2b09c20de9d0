// The main thread's view of upstream health: it runs the active health checkers and the outlier
// detectors of the current snapshot's clusters, keeps their verdicts in a HealthRegistry, and
// hands out a new immutable HealthView whenever a verdict changes.
//
// The Server calls apply() with every snapshot it installs (the view it returns goes to the
// workers with that snapshot) and forwards the workers' outlier signals to onOutlierSignal().
// Checkers and detectors whose cluster and config are unchanged keep running across snapshots
// (a route edit does not reset health); a cluster whose health_checks or outlier_detection
// changed gets new ones. Main thread only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "proxy/snapshot/snapshot.h"
#include "proxy/stats/stats.h"
#include "proxy/upstream/health_checker.h"
#include "proxy/upstream/health_registry.h"
#include "proxy/upstream/health_view.h"
#include "proxy/upstream/outlier_detector.h"

namespace trellis::proxy {

class UpstreamHealth {
 public:
  using Publish = std::function<void(std::shared_ptr<const HealthView>)>;

  // `publish` receives every view built after a health change (for the current snapshot).
  UpstreamHealth(boost::asio::io_context& ctx, StatsStore& stats, Publish publish);
  ~UpstreamHealth();

  // The snapshot about to be installed: checkers and detectors follow its clusters; returns the
  // view to install with it.
  std::shared_ptr<const HealthView> apply(std::shared_ptr<const Snapshot> snapshot);
  // A worker saw a host cross a consecutive-failure threshold.
  void onOutlierSignal(const std::string& cluster, const std::string& address, OutlierSignal signal);
  // Stops every checker and detector (shutdown).
  void stop();
  // Every host of every checked cluster has completed its first check.
  bool initialChecksDone() const;
  // Called after each completed check until initialChecksDone() (for the server's readiness).
  void setOnCheck(std::function<void()> on_check) { on_check_ = std::move(on_check); }

  // The current view (for /clusters).
  const std::shared_ptr<const HealthView>& view() const { return view_; }

 private:
  struct ClusterState {
    std::unique_ptr<ClusterHealthChecker> checker;
    HealthCheckConfig checker_config;
    std::unique_ptr<OutlierMonitor> outlier;
    OutlierDetectionConfig outlier_config;
    std::map<std::string, boost::asio::ip::tcp::endpoint> addresses;  // "ip:port" -> endpoint
  };
  void republish();

  boost::asio::io_context& ctx_;
  StatsStore& stats_;
  Publish publish_;
  std::function<void()> on_check_;
  HealthRegistry registry_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::shared_ptr<const HealthView> view_;
  std::map<std::string, ClusterState> clusters_;
  uint64_t seed_;
  bool stopped_ = false;
};

// "ip:port", IPv6 in brackets: how HostCounters and outlier detection name a host.
std::string hostAddress(const boost::asio::ip::tcp::endpoint& ep);

}  // namespace trellis::proxy
