// Bootstrap YAML text for in-process and child-process proxies.
#include "tests/support/bootstrap_builder.h"

namespace trellis::tests {

std::string bootstrapYaml(const std::string& route_config, const std::vector<ClusterSpec>& clusters,
                          const std::vector<std::string>& hcm_fields) {
  std::string y;
  y += "node: {id: itest, cluster: itest}\n";
  y += "admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}\n";
  y += "static_resources:\n";
  y += "  listeners:\n";
  y += "  - name: main\n";
  y += "    address: {socket_address: {address: 127.0.0.1, port_value: 0}}\n";
  y += "    filter_chains:\n";
  y += "    - filters:\n";
  y += "      - name: envoy.filters.network.http_connection_manager\n";
  y += "        typed_config:\n";
  y += "          \"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n";
  y += "          stat_prefix: ingress\n";
  y += "          codec_type: AUTO\n";
  for (const auto& f : hcm_fields) y += "          " + f + "\n";
  y += "          route_config: " + route_config + "\n";
  y += "          http_filters:\n";
  y += "          - name: envoy.filters.http.router\n";
  y += "            typed_config: {\"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}\n";
  y += "  clusters:\n";
  for (const auto& c : clusters) {
    y += "  - name: " + c.name + "\n";
    y += "    type: STATIC\n";
    y += "    connect_timeout: " + c.connect_timeout + "\n";
    y += "    lb_policy: ROUND_ROBIN\n";
    y += "    load_assignment:\n";
    y += "      cluster_name: " + c.name + "\n";
    y += "      endpoints:\n";
    y += "      - lb_endpoints:\n";
    for (uint16_t p : c.ports) {
      y += "        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: " + std::to_string(p) + "}}}\n";
    }
  }
  return y;
}

std::string catchAllRoute(const std::string& cluster, const std::string& route_extra) {
  std::string action = "{cluster: " + cluster + (route_extra.empty() ? "" : ", " + route_extra) + "}";
  return "{name: local, virtual_hosts: [{name: all, domains: [\"*\"], routes: [{match: {prefix: \"/\"}, route: " +
         action + "}]}]}";
}

}  // namespace trellis::tests
