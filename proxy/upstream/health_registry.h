// Main-thread bookkeeping of every host's health, turned into the immutable HealthView.
//
// The health checkers (active) and the outlier detector (ejections) report here, on the main
// thread, keyed by cluster name and address so a state outlives the snapshot it was observed
// under: a new snapshot with the same hosts keeps their health. After a change the main thread
// calls build() and posts the new view to the workers with the snapshot it belongs to
// (health_view.h). Not thread-safe: the main thread alone owns it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "proxy/snapshot/snapshot.h"
#include "proxy/upstream/health_view.h"

namespace trellis::proxy {

class HealthRegistry {
 public:
  // Returns true if the stored flags changed. `hc_flags` holds only the active-HC bits
  // (kFailedActiveHc, kPendingActiveHc); other bits are ignored.
  bool setActiveHealth(const std::string& cluster, const boost::asio::ip::tcp::endpoint& addr, uint8_t hc_flags);
  bool setEjected(const std::string& cluster, const boost::asio::ip::tcp::endpoint& addr, bool ejected);

  // Forgets clusters and hosts the snapshot no longer has.
  void retain(const Snapshot& snapshot);

  // A view for `snapshot`, indexed like it. Per endpoint: kFailedEdsHealth when its EDS health
  // is not routable; the active-HC flags when its cluster has health_checks (a host with no
  // recorded state yet is failed and pending); kFailedOutlierCheck when ejected. Panic when the
  // healthy percentage is below the cluster's healthy_panic_threshold (0 disables panic). Sets
  // the cluster's membership_total and membership_healthy gauges on `stats_shard`.
  std::shared_ptr<const HealthView> build(const Snapshot& snapshot, size_t stats_shard) const;

 private:
  struct HostRecord {
    bool has_active = false;
    uint8_t active_flags = 0;
    bool ejected = false;
  };
  using Hosts = std::map<boost::asio::ip::tcp::endpoint, HostRecord>;

  const HostRecord* find(const std::string& cluster, const boost::asio::ip::tcp::endpoint& addr) const;

  std::map<std::string, Hosts> clusters_;
};

}  // namespace trellis::proxy
