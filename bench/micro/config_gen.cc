// Bootstrap YAML of a requested shape, parsed and compiled by the proxy's own code.
#include "bench/micro/config_gen.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "config/bootstrap/bootstrap.h"

namespace trellis::bench::micro {

std::string exactDomain(int v) { return absl::StrFormat("svc-%04d.mesh.local", v); }

std::string wildcardHost(int v) {
  return v % 2 == 0 ? absl::StrFormat("web.ns-%04d.example.com", v) : absl::StrFormat("api-%04d.internal", v);
}

std::string routePrefix(int r) { return absl::StrFormat("/api/v1/svc-%04d/", r); }
std::string requestPath(int r) { return absl::StrCat(routePrefix(r), "items/42?view=full&lang=en"); }
std::string clusterName(int c) { return absl::StrFormat("c%04d", c); }

namespace {

std::string wildcardDomain(int v) {
  return v % 2 == 0 ? absl::StrFormat("\"*.ns-%04d.example.com\"", v) : absl::StrFormat("\"api-%04d.*\"", v);
}

// Prefixes every line of `text` with `spaces` spaces.
std::string indent(const std::string& text, int spaces) {
  std::string pad(static_cast<size_t>(spaces), ' ');
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    if (nl > pos) absl::StrAppend(&out, pad, text.substr(pos, nl - pos));
    out += '\n';
    pos = nl + 1;
  }
  return out;
}

}  // namespace

std::string generatedRouteConfig(const ConfigShape& shape) {
  std::string y = "name: generated\nvirtual_hosts:\n";
  int next_cluster = 0;
  auto cluster = [&] { return clusterName(next_cluster++ % shape.clusters); };
  for (int v = 0; v < shape.virtual_hosts; ++v) {
    absl::StrAppend(&y, "- name: vh-", v, "\n");
    absl::StrAppend(&y, "  domains: [\"", exactDomain(v), "\", \"", exactDomain(v), ":8080\", ", wildcardDomain(v),
                    "]\n");
    absl::StrAppend(&y, "  routes:\n");
    for (int r = 0; r < shape.routes_per_host; ++r) {
      absl::StrAppend(&y, "  - match: {prefix: \"", routePrefix(r), "\"}\n");
      if (r % 5 == 4) {
        std::string a = cluster();
        std::string b = cluster();
        absl::StrAppend(&y, "    route: {weighted_clusters: {clusters: [{name: ", a, ", weight: 90}, {name: ", b,
                        ", weight: 10}]}, timeout: 3s}\n");
      } else {
        absl::StrAppend(&y, "    route: {cluster: ", cluster(), ", timeout: 3s}\n");
      }
    }
  }
  return y;
}

std::string bootstrapYaml(const std::string& route_config, const ConfigShape& shape) {
  std::string y = R"(node: {id: bench, cluster: bench}
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
static_resources:
  listeners:
  - name: main
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          codec_type: AUTO
          route_config:
)";
  y += indent(route_config, 12);
  y += R"(          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
  clusters:
)";
  for (int c = 0; c < shape.clusters; ++c) {
    absl::StrAppend(&y, "  - name: ", clusterName(c), "\n    type: STATIC\n    connect_timeout: 1s\n",
                    "    load_assignment:\n      cluster_name: ", clusterName(c),
                    "\n      endpoints:\n      - lb_endpoints:\n");
    for (int e = 0; e < shape.endpoints_per_cluster; ++e) {
      // 10.x.y.z: distinct addresses, as a mesh's endpoints would be.
      absl::StrAppend(&y, "        - endpoint: {address: {socket_address: {address: ",
                      absl::StrFormat("10.%d.%d.%d", (c >> 8) & 0xff, c & 0xff, e + 1), ", port_value: 8080}}}\n");
    }
  }
  return y;
}

proxy::CompileInput compileInputOrDie(const std::string& yaml) {
  auto b = config::parseBootstrap(yaml, "generated.yaml");
  if (!b.ok()) {
    std::fprintf(stderr, "bench config does not parse: %s\n", b.status().ToString().c_str());
    std::abort();
  }
  proxy::CompileInput in;
  const auto& sr = b->static_resources();
  for (int i = 0; i < sr.listeners_size(); ++i) {
    in.listeners.push_back({sr.listeners(i), absl::StrCat("static_resources.listeners[", i, "]")});
  }
  for (int i = 0; i < sr.clusters_size(); ++i) {
    in.clusters.push_back({sr.clusters(i), absl::StrCat("static_resources.clusters[", i, "]")});
  }
  in.version = "bench";
  return in;
}

std::shared_ptr<const proxy::Snapshot> compileOrDie(const proxy::CompileInput& input, proxy::StatsStore& stats) {
  auto snap = proxy::compileSnapshot(input, stats);
  if (!snap.ok()) {
    std::fprintf(stderr, "bench config does not compile: %s\n", snap.status().ToString().c_str());
    std::abort();
  }
  return *snap;
}

}  // namespace trellis::bench::micro
