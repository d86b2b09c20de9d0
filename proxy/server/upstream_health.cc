// Health checkers and outlier detectors following the snapshot (see upstream_health.h).
#include "proxy/server/upstream_health.h"

#include <chrono>

#include <spdlog/spdlog.h>

namespace trellis::proxy {

std::string hostAddress(const boost::asio::ip::tcp::endpoint& ep) {
  const auto a = ep.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}

UpstreamHealth::UpstreamHealth(boost::asio::io_context& ctx, StatsStore& stats, Publish publish)
    : ctx_(ctx),
      stats_(stats),
      publish_(std::move(publish)),
      seed_(static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())) {}

UpstreamHealth::~UpstreamHealth() { stop(); }

void UpstreamHealth::stop() {
  stopped_ = true;
  for (auto& [name, cs] : clusters_) {
    if (cs.checker) cs.checker->stop();
    cs.checker.reset();
    cs.outlier.reset();
  }
  clusters_.clear();
}

std::shared_ptr<const HealthView> UpstreamHealth::apply(std::shared_ptr<const Snapshot> snapshot) {
  snapshot_ = std::move(snapshot);
  registry_.retain(*snapshot_);
  std::map<std::string, ClusterState> next;
  for (const auto& c : snapshot_->clusters) {
    ClusterState st;
    auto old = clusters_.find(c->name);
    if (old != clusters_.end()) st = std::move(old->second);
    st.addresses.clear();
    for (const auto& e : c->endpoints) st.addresses[hostAddress(e.address)] = e.address;

    // Active health checking: the first health_checks entry (compile allows one).
    if (c->health_checks.empty()) {
      st.checker.reset();
    } else {
      const auto& cfg = c->health_checks.front();
      if (!st.checker || !(st.checker_config == cfg)) {
        const std::string name = c->name;
        ClusterStats* cstats = c->stats;
        auto on_change = [this, name](const boost::asio::ip::tcp::endpoint& ep, uint8_t flags) {
          if (stopped_) return;
          spdlog::info("cluster '{}': host {} is {}", name, hostAddress(ep),
                       flags == 0 ? "healthy" : "unhealthy (active health check)");
          if (registry_.setActiveHealth(name, ep, flags)) republish();
        };
        auto had_traffic = [cstats] {
          for (const auto& shard : cstats->shards()) {
            if (shard.upstream_cx_total.load(std::memory_order_relaxed) > 0) return true;
          }
          return false;
        };
        st.checker.reset();
        st.checker = std::make_unique<ClusterHealthChecker>(ctx_, c->name, cfg, c->stats, stats_.mainShard(),
                                                            on_change, seed_++, had_traffic);
        st.checker_config = cfg;
        st.checker->setOnCheck([this] {
          if (on_check_ && !stopped_) on_check_();
        });
      }
      st.checker->setHosts(c->endpoints);
    }

    // Outlier detection.
    if (!c->outlier_detection) {
      st.outlier.reset();
    } else {
      const auto& cfg = *c->outlier_detection;
      if (!st.outlier || !(st.outlier_config == cfg)) {
        const std::string name = c->name;
        auto on_ejection = [this, name](const std::string& address, bool ejected) {
          if (stopped_) return;
          auto it = clusters_.find(name);
          if (it == clusters_.end()) return;
          auto ep = it->second.addresses.find(address);
          if (ep == it->second.addresses.end()) return;
          spdlog::info("cluster '{}': host {} {} by outlier detection", name, address,
                       ejected ? "ejected" : "returned");
          if (registry_.setEjected(name, ep->second, ejected)) republish();
        };
        st.outlier.reset();
        st.outlier = std::make_unique<OutlierMonitor>(ctx_, cfg, c->stats->shard(stats_.mainShard()).outlier_detection,
                                                      seed_++, on_ejection);
        st.outlier_config = cfg;
      }
      std::vector<std::string> addresses;
      std::vector<HostCounters*> counters;
      for (const auto& e : c->endpoints) {
        addresses.push_back(hostAddress(e.address));
        counters.push_back(e.counters);
      }
      st.outlier->setHosts(addresses, counters);
    }
    next[c->name] = std::move(st);
  }
  // Clusters that are gone stop their checkers and detectors here.
  for (auto& [name, st] : clusters_) {
    if (st.checker) st.checker->stop();
  }
  clusters_ = std::move(next);
  view_ = registry_.build(*snapshot_, stats_.mainShard());
  return view_;
}

bool UpstreamHealth::initialChecksDone() const {
  for (const auto& [name, st] : clusters_) {
    if (st.checker && !st.checker->allChecked()) return false;
  }
  return true;
}

void UpstreamHealth::republish() {
  if (!snapshot_) return;
  view_ = registry_.build(*snapshot_, stats_.mainShard());
  publish_(view_);
}

void UpstreamHealth::onOutlierSignal(const std::string& cluster, const std::string& address, OutlierSignal signal) {
  auto it = clusters_.find(cluster);
  if (it == clusters_.end() || !it->second.outlier) return;
  it->second.outlier->onSignal(address, signal);
}

}  // namespace trellis::proxy
