// The per-node store the control plane writes and the ADS streams read: each node's resources in
// versioned form, the streams open for it, and what was sent, ACKed and NACKed (for the admin page
// and logs). setResources hands the new snapshot to the node's open streams, which push only the
// types whose version changed.
//
// Thread safety: every public method may be called from any thread. One mutex guards the node
// table; it is never held while calling into a stream or the ACK observer, so streams (which hold
// their own lock while reporting here) cannot deadlock with it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "xds/server/node_resources.h"
#include "xds/server/node_snapshot.h"

namespace trellis::xds::server {

// Implemented by a stream: receives every new snapshot of the node it serves.
class SnapshotWatcher {
 public:
  virtual ~SnapshotWatcher() = default;
  // `snapshot` is null when the node's resources were removed. `generation` increases with every
  // change in the cache; a watcher keeps the highest it has seen.
  virtual void onSnapshot(std::shared_ptr<const NodeSnapshot> snapshot, uint64_t generation) = 0;
};

class SnapshotCache {
 public:
  using AckObserver =
      std::function<void(const std::string& node, const std::string& type_url, const std::string& version)>;

  struct NackRecord {
    std::string version;  // the version the client rejected
    std::string message;  // error_detail.message
    std::chrono::system_clock::time_point time;
  };
  struct TypeStatus {
    std::string type_url;
    std::string version;  // current version in the cache ("" if the node has no resources)
    size_t resources = 0;
    std::string version_sent;   // last version sent to the node, on any of its streams
    std::string version_acked;  // last version the node ACKed
    std::optional<NackRecord> last_nack;
    uint64_t responses_sent = 0;
    uint64_t acks = 0;
    uint64_t nacks = 0;
  };
  struct NodeStatus {
    std::string node_id;
    bool has_resources = false;
    int connected_streams = 0;
    std::vector<TypeStatus> types;  // in push order: clusters, endpoints, listeners, routes, others
    uint64_t responses_sent = 0;
    uint64_t acks = 0;
    uint64_t nacks = 0;
  };
  struct Totals {
    uint64_t responses_sent = 0;
    uint64_t acks = 0;
    uint64_t nacks = 0;
    uint64_t stale_requests = 0;
    uint64_t streams_opened = 0;
    int streams_connected = 0;
    size_t nodes_with_resources = 0;
  };

  SnapshotCache() = default;
  SnapshotCache(const SnapshotCache&) = delete;
  SnapshotCache& operator=(const SnapshotCache&) = delete;

  // Replaces the node's resources. Versions are per node and per type: a digest of the type's
  // content, so they change only when the content does. The node's open streams are told only if
  // some type changed, and each pushes only the changed types it subscribed to.
  void setResources(const std::string& node_id, NodeResources resources);

  // Forgets the node's resources. Its open streams stay open and keep what they were sent (a proxy
  // whose node left the mesh keeps its last configuration rather than losing every listener); they
  // are served again on the next setResources.
  void removeNode(const std::string& node_id);

  // Every node with resources or an open stream, by node id.
  std::vector<NodeStatus> status() const;
  Totals totals() const;

  // Called (on a gRPC thread, with no lock held) whenever a node ACKs a version of a type.
  void setAckObserver(AckObserver observer);

  // Maps the node.id a proxy presents to the key its resources are stored under (trellis-cp
  // accepts both "mesh/M/virtualNode/N" and the virtual node's ARN). Identity by default; an
  // id the function cannot map is used as it is. Set before the server starts.
  using NodeKeyFunction = std::function<std::string(const std::string& node_id)>;
  void setNodeKeyFunction(NodeKeyFunction fn) { node_key_ = std::move(fn); }
  std::string nodeKey(const std::string& node_id) const { return node_key_ ? node_key_(node_id) : node_id; }

  // ---- Reporting from the streams (AdsStream) ----

  // Registers a stream of `node_id`; returns the node's current snapshot (null if none) and its
  // generation.
  std::shared_ptr<const NodeSnapshot> attach(const std::string& node_id, std::weak_ptr<SnapshotWatcher> watcher,
                                             uint64_t& generation);
  void detach(const std::string& node_id, const SnapshotWatcher* watcher);
  void recordSent(const std::string& node_id, const std::string& type_url, const std::string& version);
  void recordAck(const std::string& node_id, const std::string& type_url, const std::string& version);
  void recordNack(const std::string& node_id, const std::string& type_url, const std::string& version,
                  const std::string& message);
  void recordStale(const std::string& node_id, const std::string& type_url);
  // True the first time a type URL that is not served is seen (so it is logged once).
  bool firstSightOfUnknownType(const std::string& type_url);

 private:
  struct TypeCounters {
    std::string version_sent;
    std::string version_acked;
    std::optional<NackRecord> last_nack;
    uint64_t responses_sent = 0;
    uint64_t acks = 0;
    uint64_t nacks = 0;
  };
  struct Watch {
    const SnapshotWatcher* key;
    std::weak_ptr<SnapshotWatcher> watcher;
  };
  struct NodeEntry {
    std::shared_ptr<const NodeSnapshot> snapshot;
    std::vector<Watch> watches;
    std::map<std::string, TypeCounters> counters;
  };

  // Drops the node's entry when it has neither resources nor streams. Requires mu_.
  void collectIfIdle(std::map<std::string, NodeEntry>::iterator it);
  std::vector<std::shared_ptr<SnapshotWatcher>> liveWatchers(NodeEntry& entry);

  mutable std::mutex mu_;
  std::map<std::string, NodeEntry> nodes_;
  uint64_t generation_ = 0;
  Totals totals_;
  std::set<std::string> unknown_types_;
  std::shared_ptr<const AckObserver> ack_observer_;
  NodeKeyFunction node_key_;
};

}  // namespace trellis::xds::server
