// The stats exposition of the admin endpoint: /stats text and /stats/prometheus.
#include "proxy/admin/admin_server.h"

#include <cctype>
#include <map>
#include <vector>

#include "proxy/stats/stats.h"

namespace trellis::proxy {

std::string formatStatsText(const StatsStore& stats, const std::string& filter) {
  std::string out;
  for (const auto& v : stats.collect()) {
    if (!filter.empty() && v.name.find(filter) == std::string::npos) continue;
    out += v.name + ": " + std::to_string(v.value) + "\n";
  }
  return out;
}

std::string formatStatsPrometheus(const StatsStore& stats) {
  // Envoy's metric names and labels, so dashboards built for App Mesh's Envoy keep working.
  // Samples of one metric are grouped under a single TYPE line, as the text format requires.
  std::map<std::string, std::pair<bool, std::vector<std::string>>> metrics;
  for (const auto& v : stats.collect()) {
    std::string metric = "envoy_" + v.family + "_" + v.stat;
    for (auto& c : metric) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
    }
    std::string label;
    if (v.family == "cluster") label = "{envoy_cluster_name=\"" + v.scope + "\"}";
    if (v.family == "http") label = "{envoy_http_conn_manager_prefix=\"" + v.scope + "\"}";
    if (v.family == "listener") label = "{envoy_listener_address=\"" + v.scope + "\"}";
    if (v.family == "tcp") label = "{envoy_tcp_prefix=\"" + v.scope + "\"}";
    auto& entry = metrics[metric];
    entry.first = v.gauge;
    entry.second.push_back(metric + label + " " + std::to_string(v.value) + "\n");
  }
  std::string out;
  for (const auto& [metric, entry] : metrics) {
    out += "# TYPE " + metric + (entry.first ? " gauge\n" : " counter\n");
    for (const auto& line : entry.second) out += line;
  }
  return out;
}

}  // namespace trellis::proxy
