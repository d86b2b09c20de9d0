// Bootstrap YAML for a proxy under test: one HTTP listener on 127.0.0.1 port 0, an admin
// address on port 0, and STATIC clusters pointing at fake upstreams' ports.
//
// The route configuration is passed in YAML flow style (a JSON-like one-liner), which keeps
// tests readable and avoids indentation games:
//   bootstrapYaml(R"({virtual_hosts: [{name: v, domains: ["*"], routes: [...]}]})", {{"a", {port}}})
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace trellis::tests {

struct ClusterSpec {
  std::string name;
  std::vector<uint16_t> ports;  // endpoints on 127.0.0.1
  std::string connect_timeout = "1s";
};

// `hcm_fields` are extra HttpConnectionManager fields, one "key: value" (flow style) each,
// e.g. "use_remote_address: true".
std::string bootstrapYaml(const std::string& route_config, const std::vector<ClusterSpec>& clusters,
                          const std::vector<std::string>& hcm_fields = {});

// A route configuration with one catch-all virtual host whose single route sends everything
// under "/" to `cluster`; `route_extra` is appended inside the route action, e.g.
// "timeout: 0.5s".
std::string catchAllRoute(const std::string& cluster, const std::string& route_extra = "");

}  // namespace trellis::tests
