// HealthRegistry: host records by cluster and address, and the view built from them.
#include "proxy/upstream/health_registry.h"

#include <set>

namespace trellis::proxy {

namespace {
constexpr uint8_t kActiveBits = kFailedActiveHc | kPendingActiveHc;
}  // namespace

bool HealthRegistry::setActiveHealth(const std::string& cluster, const boost::asio::ip::tcp::endpoint& addr,
                                     uint8_t hc_flags) {
  hc_flags &= kActiveBits;
  auto& rec = clusters_[cluster][addr];
  if (rec.has_active && rec.active_flags == hc_flags) return false;
  rec.has_active = true;
  rec.active_flags = hc_flags;
  return true;
}

bool HealthRegistry::setEjected(const std::string& cluster, const boost::asio::ip::tcp::endpoint& addr,
                                bool ejected) {
  auto& rec = clusters_[cluster][addr];
  if (rec.ejected == ejected) return false;
  rec.ejected = ejected;
  return true;
}

void HealthRegistry::retain(const Snapshot& snapshot) {
  std::map<std::string, std::set<boost::asio::ip::tcp::endpoint>> keep;
  for (const auto& c : snapshot.clusters) {
    auto& addrs = keep[c->name];
    for (const auto& e : c->endpoints) addrs.insert(e.address);
  }
  for (auto it = clusters_.begin(); it != clusters_.end();) {
    auto k = keep.find(it->first);
    if (k == keep.end()) {
      it = clusters_.erase(it);
      continue;
    }
    auto& hosts = it->second;
    for (auto h = hosts.begin(); h != hosts.end();) {
      h = k->second.count(h->first) ? std::next(h) : hosts.erase(h);
    }
    ++it;
  }
}

const HealthRegistry::HostRecord* HealthRegistry::find(const std::string& cluster,
                                                       const boost::asio::ip::tcp::endpoint& addr) const {
  auto c = clusters_.find(cluster);
  if (c == clusters_.end()) return nullptr;
  auto h = c->second.find(addr);
  return h == c->second.end() ? nullptr : &h->second;
}

std::shared_ptr<const HealthView> HealthRegistry::build(const Snapshot& snapshot, size_t stats_shard) const {
  auto view = std::make_shared<HealthView>();
  view->snapshot = &snapshot;
  view->clusters.resize(snapshot.clusters.size());
  for (size_t ci = 0; ci < snapshot.clusters.size(); ++ci) {
    const Cluster& cluster = *snapshot.clusters[ci];
    ClusterHealth& ch = view->clusters[ci];
    const bool active = !cluster.health_checks.empty();
    ch.flags.resize(cluster.endpoints.size(), 0);
    for (size_t ei = 0; ei < cluster.endpoints.size(); ++ei) {
      const Endpoint& ep = cluster.endpoints[ei];
      const HostRecord* rec = find(cluster.name, ep.address);
      uint8_t f = 0;
      if (!edsRoutable(ep.eds_health)) f |= kFailedEdsHealth;
      if (active) f |= (rec && rec->has_active) ? rec->active_flags : (kFailedActiveHc | kPendingActiveHc);
      if (rec && rec->ejected) f |= kFailedOutlierCheck;
      ch.flags[ei] = f;
      if (f == 0) ++ch.healthy;
    }
    const size_t total = cluster.endpoints.size();
    ch.panic = cluster.healthy_panic_threshold > 0 && total > 0 &&
               100.0 * static_cast<double>(ch.healthy) / static_cast<double>(total) < cluster.healthy_panic_threshold;
    if (cluster.stats) {
      auto& shard = cluster.stats->shard(stats_shard);
      shard.membership_total.store(static_cast<int64_t>(total), std::memory_order_relaxed);
      shard.membership_healthy.store(ch.healthy, std::memory_order_relaxed);
    }
  }
  return view;
}

}  // namespace trellis::proxy
