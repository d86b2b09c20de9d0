// Node table, change detection and status of the ADS server; see snapshot_cache.h.
#include "xds/server/snapshot_cache.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace trellis::xds::server {

void SnapshotCache::setResources(const std::string& node_id, NodeResources resources) {
  VersionedTypes types = versionTypes(std::move(resources));  // digests outside the lock
  std::shared_ptr<const NodeSnapshot> installed;
  uint64_t generation = 0;
  std::vector<std::shared_ptr<SnapshotWatcher>> watchers;
  std::vector<std::string> changed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    NodeEntry& entry = nodes_[node_id];
    auto snapshot = std::make_shared<NodeSnapshot>();
    generation = snapshot->generation = ++generation_;
    for (auto& [type_url, type] : types) {
      const TypeSnapshot* before = entry.snapshot ? entry.snapshot->find(type_url) : nullptr;
      if (before != nullptr && before->version == type->version) {
        // Keep the old object: streams and status compare by version, and memory stays shared.
        snapshot->types.emplace(type_url, entry.snapshot->types.find(type_url)->second);
      } else {
        changed.push_back(type_url);
        snapshot->types.emplace(type_url, std::move(type));
      }
    }
    if (entry.snapshot) {
      for (const auto& [type_url, type] : entry.snapshot->types) {
        if (!snapshot->types.contains(type_url)) changed.push_back(type_url);
      }
    }
    entry.snapshot = snapshot;
    installed = snapshot;
    if (changed.empty()) return;
    watchers = liveWatchers(entry);
  }
  spdlog::debug("xds: node '{}': {} type(s) changed, {} stream(s) to tell", node_id, changed.size(),
                watchers.size());
  for (auto& watcher : watchers) watcher->onSnapshot(installed, generation);
}

void SnapshotCache::removeNode(const std::string& node_id) {
  std::vector<std::shared_ptr<SnapshotWatcher>> watchers;
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = nodes_.find(node_id);
    if (it == nodes_.end() || it->second.snapshot == nullptr) return;
    it->second.snapshot.reset();
    generation = ++generation_;
    watchers = liveWatchers(it->second);
    collectIfIdle(it);
  }
  for (auto& watcher : watchers) watcher->onSnapshot(nullptr, generation);
}

std::vector<std::shared_ptr<SnapshotWatcher>> SnapshotCache::liveWatchers(NodeEntry& entry) {
  std::vector<std::shared_ptr<SnapshotWatcher>> live;
  live.reserve(entry.watches.size());
  for (const Watch& watch : entry.watches) {
    if (auto strong = watch.watcher.lock()) live.push_back(std::move(strong));
  }
  return live;
}

void SnapshotCache::collectIfIdle(std::map<std::string, NodeEntry>::iterator it) {
  if (it->second.snapshot == nullptr && it->second.watches.empty()) nodes_.erase(it);
}

std::vector<SnapshotCache::NodeStatus> SnapshotCache::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<NodeStatus> out;
  out.reserve(nodes_.size());
  for (const auto& [node_id, entry] : nodes_) {
    NodeStatus node;
    node.node_id = node_id;
    node.has_resources = entry.snapshot != nullptr;
    node.connected_streams = static_cast<int>(entry.watches.size());
    std::set<std::string> type_urls;
    if (entry.snapshot) {
      for (const auto& [type_url, type] : entry.snapshot->types) type_urls.insert(type_url);
    }
    for (const auto& [type_url, counters] : entry.counters) type_urls.insert(type_url);
    for (const std::string& type_url : type_urls) {
      TypeStatus type;
      type.type_url = type_url;
      if (const TypeSnapshot* current = entry.snapshot ? entry.snapshot->find(type_url) : nullptr) {
        type.version = current->version;
        type.resources = current->resources.size();
      }
      if (auto it = entry.counters.find(type_url); it != entry.counters.end()) {
        const TypeCounters& counters = it->second;
        type.version_sent = counters.version_sent;
        type.version_acked = counters.version_acked;
        type.last_nack = counters.last_nack;
        type.responses_sent = counters.responses_sent;
        type.acks = counters.acks;
        type.nacks = counters.nacks;
        node.responses_sent += counters.responses_sent;
        node.acks += counters.acks;
        node.nacks += counters.nacks;
      }
      node.types.push_back(std::move(type));
    }
    std::stable_sort(node.types.begin(), node.types.end(), [](const TypeStatus& a, const TypeStatus& b) {
      return pushRank(a.type_url) < pushRank(b.type_url);
    });
    out.push_back(std::move(node));
  }
  return out;
}

SnapshotCache::Totals SnapshotCache::totals() const {
  std::lock_guard<std::mutex> lock(mu_);
  Totals totals = totals_;
  totals.streams_connected = 0;
  totals.nodes_with_resources = 0;
  for (const auto& [node_id, entry] : nodes_) {
    totals.streams_connected += static_cast<int>(entry.watches.size());
    if (entry.snapshot) ++totals.nodes_with_resources;
  }
  return totals;
}

void SnapshotCache::setAckObserver(AckObserver observer) {
  std::lock_guard<std::mutex> lock(mu_);
  ack_observer_ = observer ? std::make_shared<const AckObserver>(std::move(observer)) : nullptr;
}

std::shared_ptr<const NodeSnapshot> SnapshotCache::attach(const std::string& node_id,
                                                          std::weak_ptr<SnapshotWatcher> watcher,
                                                          uint64_t& generation) {
  std::lock_guard<std::mutex> lock(mu_);
  NodeEntry& entry = nodes_[node_id];
  const SnapshotWatcher* key = watcher.lock().get();
  entry.watches.push_back(Watch{key, std::move(watcher)});
  ++totals_.streams_opened;
  generation = generation_;
  return entry.snapshot;
}

void SnapshotCache::detach(const std::string& node_id, const SnapshotWatcher* watcher) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return;
  std::erase_if(it->second.watches, [watcher](const Watch& watch) { return watch.key == watcher; });
  collectIfIdle(it);
}

void SnapshotCache::recordSent(const std::string& node_id, const std::string& type_url,
                               const std::string& version) {
  std::lock_guard<std::mutex> lock(mu_);
  ++totals_.responses_sent;
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return;
  TypeCounters& counters = it->second.counters[type_url];
  counters.version_sent = version;
  ++counters.responses_sent;
}

void SnapshotCache::recordAck(const std::string& node_id, const std::string& type_url,
                              const std::string& version) {
  std::shared_ptr<const AckObserver> observer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++totals_.acks;
    if (auto it = nodes_.find(node_id); it != nodes_.end()) {
      TypeCounters& counters = it->second.counters[type_url];
      counters.version_acked = version;
      ++counters.acks;
    }
    observer = ack_observer_;
  }
  if (observer) (*observer)(node_id, type_url, version);
}

void SnapshotCache::recordNack(const std::string& node_id, const std::string& type_url,
                               const std::string& version, const std::string& message) {
  spdlog::warn("xds: node '{}' rejected {} version {}: {}", node_id, type_url, version, message);
  std::lock_guard<std::mutex> lock(mu_);
  ++totals_.nacks;
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return;
  TypeCounters& counters = it->second.counters[type_url];
  counters.last_nack = NackRecord{version, message, std::chrono::system_clock::now()};
  ++counters.nacks;
}

void SnapshotCache::recordStale(const std::string& node_id, const std::string& type_url) {
  spdlog::debug("xds: node '{}': stale request for {} ignored", node_id, type_url);
  std::lock_guard<std::mutex> lock(mu_);
  ++totals_.stale_requests;
}

bool SnapshotCache::firstSightOfUnknownType(const std::string& type_url) {
  std::lock_guard<std::mutex> lock(mu_);
  // Bounded, so a client inventing type URLs cannot grow it without limit (it then goes unlogged).
  if (unknown_types_.size() >= 256) return false;
  return unknown_types_.insert(type_url).second;
}

}  // namespace trellis::xds::server
