// /clusters in Envoy's text and JSON formats; see clusters_document.h.
#include "proxy/server/clusters_document.h"

#include "proxy/server/upstream_health.h"
#include "proxy/stats/stats.h"

namespace trellis::proxy {
namespace {

const ClusterHealth* healthOf(const Snapshot& snapshot, const HealthView* view, const Cluster& c) {
  return view && view->snapshot == &snapshot && c.index < view->clusters.size() ? &view->clusters[c.index] : nullptr;
}

envoy::config::core::v3::HealthStatus edsStatus(EdsHealth h) {
  using envoy::config::core::v3::HealthStatus;
  switch (h) {
    case EdsHealth::Unknown: return HealthStatus::UNKNOWN;
    case EdsHealth::Healthy: return HealthStatus::HEALTHY;
    case EdsHealth::Unhealthy: return HealthStatus::UNHEALTHY;
    case EdsHealth::Draining: return HealthStatus::DRAINING;
    case EdsHealth::Timeout: return HealthStatus::TIMEOUT;
    case EdsHealth::Degraded: return HealthStatus::DEGRADED;
  }
  return HealthStatus::UNKNOWN;
}

}  // namespace

std::string healthFlagsText(uint8_t f) {
  std::string flags;
  if (f & kFailedActiveHc) flags += "/failed_active_hc";
  if (f & kFailedOutlierCheck) flags += "/failed_outlier_check";
  if (f & kFailedEdsHealth) flags += "/failed_eds_health";
  if (f & kPendingActiveHc) flags += "/pending_active_hc";
  return flags.empty() ? "healthy" : flags;
}

std::string clustersText(const Snapshot& snapshot, const HealthView* view) {
  std::string body;
  for (const auto& c : snapshot.clusters) {
    const auto& cb = c->circuit_breakers;
    const std::string p = c->name + "::";
    body += p + "default_priority::max_connections::" + std::to_string(cb.max_connections) + "\n";
    body += p + "default_priority::max_pending_requests::" + std::to_string(cb.max_pending_requests) + "\n";
    body += p + "default_priority::max_requests::" + std::to_string(cb.max_requests) + "\n";
    body += p + "default_priority::max_retries::" + std::to_string(cb.max_retries) + "\n";
    const ClusterHealth* ch = healthOf(snapshot, view, *c);
    for (size_t i = 0; i < c->endpoints.size(); ++i) {
      const auto& e = c->endpoints[i];
      const std::string h = p + hostAddress(e.address) + "::";
      if (e.counters) {
        body += h + "cx_active::" + std::to_string(e.counters->cx_active.load()) + "\n";
        body += h + "rq_active::" + std::to_string(e.counters->rq_active.load()) + "\n";
        body += h + "rq_error::" + std::to_string(e.counters->rq_error.load()) + "\n";
        body += h + "rq_success::" + std::to_string(e.counters->rq_success.load()) + "\n";
        body += h + "rq_total::" + std::to_string(e.counters->rq_total.load()) + "\n";
      }
      body += h + "weight::" + std::to_string(e.weight) + "\n";
      const uint8_t f = ch && i < ch->flags.size() ? ch->flags[i] : 0;
      body += h + "health_flags::" + healthFlagsText(f) + "\n";
    }
  }
  return body;
}

envoy::admin::v3::Clusters clustersDocument(const Snapshot& snapshot, const HealthView* view) {
  envoy::admin::v3::Clusters doc;
  for (const auto& c : snapshot.clusters) {
    auto& status = *doc.add_cluster_statuses();
    status.set_name(c->name);
    status.set_observability_name(c->name);
    auto& limits = *status.mutable_circuit_breakers()->add_thresholds();
    limits.mutable_max_connections()->set_value(c->circuit_breakers.max_connections);
    limits.mutable_max_pending_requests()->set_value(c->circuit_breakers.max_pending_requests);
    limits.mutable_max_requests()->set_value(c->circuit_breakers.max_requests);
    limits.mutable_max_retries()->set_value(c->circuit_breakers.max_retries);
    const ClusterHealth* ch = healthOf(snapshot, view, *c);
    for (size_t i = 0; i < c->endpoints.size(); ++i) {
      const auto& e = c->endpoints[i];
      auto& host = *status.add_host_statuses();
      auto& sa = *host.mutable_address()->mutable_socket_address();
      sa.set_address(e.address.address().to_string());
      sa.set_port_value(e.address.port());
      host.set_weight(e.weight);
      if (e.counters) {
        auto metric = [&](const char* name, uint64_t value, bool gauge) {
          auto& m = *host.add_stats();
          m.set_name(name);
          m.set_value(value);
          m.set_type(gauge ? envoy::admin::v3::SimpleMetric::GAUGE : envoy::admin::v3::SimpleMetric::COUNTER);
        };
        metric("cx_active", static_cast<uint64_t>(e.counters->cx_active.load()), true);
        metric("rq_active", static_cast<uint64_t>(e.counters->rq_active.load()), true);
        metric("rq_error", static_cast<uint64_t>(e.counters->rq_error.load()), false);
        metric("rq_success", static_cast<uint64_t>(e.counters->rq_success.load()), false);
        metric("rq_total", static_cast<uint64_t>(e.counters->rq_total.load()), false);
      }
      const uint8_t f = ch && i < ch->flags.size() ? ch->flags[i] : 0;
      auto& health = *host.mutable_health_status();
      health.set_failed_active_health_check((f & kFailedActiveHc) != 0);
      health.set_pending_active_hc((f & kPendingActiveHc) != 0);
      health.set_failed_outlier_check((f & kFailedOutlierCheck) != 0);
      health.set_eds_health_status(edsStatus(e.eds_health));
    }
  }
  return doc;
}

}  // namespace trellis::proxy
