// Stats blocks and their exposition as a flat list of summed values.
#include "proxy/stats/stats.h"

#include <algorithm>

namespace trellis::proxy {

std::string_view responseFlagName(ResponseFlag f) {
  switch (f) {
#define TRELLIS_FLAG_NAME(n) \
  case ResponseFlag::n:      \
    return #n;
    ALL_RESPONSE_FLAGS(TRELLIS_FLAG_NAME)
#undef TRELLIS_FLAG_NAME
    case ResponseFlag::Count:
      break;
  }
  return "-";
}

namespace {

template <class Map>
auto* findOrCreate(Map& map, const std::string& name, size_t shards) {
  auto it = map.find(name);
  if (it == map.end()) {
    using Block = typename Map::mapped_type::element_type;
    it = map.emplace(name, std::make_unique<Block>(name, shards)).first;
  }
  return it->second.get();
}

template <class Block>
void collectBlock(const Block& block, const std::string& family, std::vector<StatValue>& out) {
  size_t first = out.size();
  bool init = true;
  for (const auto& shard : block.shards()) {
    size_t i = first;
    shard.visit([&](const std::string& stat, int64_t v, bool gauge) {
      if (init) {
        out.push_back(StatValue{family + "." + block.name() + "." + stat, family, block.name(), stat, v, gauge});
      } else {
        out[i++].value += v;
      }
    });
    init = false;
  }
}

template <class Block>
void collectBlockHistograms(const Block& block, const std::string& family, std::vector<HistogramValue>& out) {
  size_t first = out.size();
  bool init = true;
  for (const auto& shard : block.shards()) {
    size_t i = first;
    shard.visitHistograms([&](const std::string& stat, const HistogramShard& h) {
      if (init) out.push_back(HistogramValue{family + "." + block.name() + "." + stat, family, block.name(), stat, {}, {}});
      out[i++].cumulative.add(h);
    });
    init = false;
  }
}

}  // namespace

HttpStats* StatsStore::http(const std::string& p) { return findOrCreate(http_, p, shards_); }
ListenerStats* StatsStore::listener(const std::string& n) { return findOrCreate(listeners_, n, shards_); }
TcpProxyStats* StatsStore::tcpProxy(const std::string& p) { return findOrCreate(tcp_proxies_, p, shards_); }
ClusterStats* StatsStore::cluster(const std::string& n) { return findOrCreate(clusters_, n, shards_); }

ConnectionCount* StatsStore::listenerConnections(const std::string& listener) {
  auto& slot = listener_connections_[listener];
  if (!slot) slot = std::make_unique<ConnectionCount>();
  return slot.get();
}

ClusterResources* StatsStore::resources(const std::string& cluster) {
  auto& slot = resources_[cluster];
  if (!slot) slot = std::make_unique<ClusterResources>();
  return slot.get();
}

HostCounters* StatsStore::host(const std::string& cluster, const std::string& address) {
  auto& slot = hosts_[{cluster, address}];
  if (!slot) slot = std::make_unique<HostCounters>();
  return slot.get();
}

std::string_view xdsTypeName(XdsType t) {
  switch (t) {
    case XdsType::Lds: return "lds";
    case XdsType::Cds: return "cds";
    case XdsType::Rds: return "rds";
    case XdsType::Eds: return "eds";
    case XdsType::Count: break;
  }
  return "-";
}

std::vector<StatValue> StatsStore::collect() const {
  std::vector<StatValue> out;
  for (const auto& [name, block] : http_) {
    collectBlock(*block, "http", out);
    for (size_t f = 0; f < kResponseFlagCount; ++f) {
      uint64_t sum = 0;
      for (const auto& shard : block->shards()) sum += shard.response_flags[f].load(std::memory_order_relaxed);
      std::string stat = "rq_response_flag_" + std::string(responseFlagName(static_cast<ResponseFlag>(f)));
      out.push_back(StatValue{"http." + name + "." + stat, "http", name, stat, static_cast<int64_t>(sum), false});
    }
  }
  for (const auto& [name, block] : listeners_) collectBlock(*block, "listener", out);
  for (const auto& [name, block] : tcp_proxies_) collectBlock(*block, "tcp", out);
  for (const auto& [name, block] : clusters_) collectBlock(*block, "cluster", out);
  server_.visit([&](const std::string& stat, int64_t v, bool gauge) {
    out.push_back(StatValue{"server." + stat, "server", "", stat, v, gauge});
  });
  filesystem_.visit([&](const std::string& stat, int64_t v, bool gauge) {
    out.push_back(StatValue{"filesystem." + stat, "filesystem", "", stat, v, gauge});
  });
  access_log_.visit([&](const std::string& stat, int64_t v, bool gauge) {
    out.push_back(StatValue{"access_log." + stat, "access_log", "", stat, v, gauge});
  });
  std::sort(out.begin(), out.end(), [](const StatValue& a, const StatValue& b) { return a.name < b.name; });
  return out;
}

std::vector<HistogramValue> StatsStore::collectHistograms(bool mark_interval) {
  std::vector<HistogramValue> out;
  for (const auto& [name, block] : http_) collectBlockHistograms(*block, "http", out);
  for (const auto& [name, block] : clusters_) collectBlockHistograms(*block, "cluster", out);
  for (auto& h : out) {
    auto& mark = interval_marks_[h.name];
    h.interval = h.cumulative.since(mark);
    if (mark_interval) mark = h.cumulative;
  }
  std::sort(out.begin(), out.end(), [](const HistogramValue& a, const HistogramValue& b) { return a.name < b.name; });
  return out;
}

}  // namespace trellis::proxy
