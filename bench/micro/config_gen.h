// Synthetic Envoy-style bootstraps for the micro-benchmarks, and the names they contain.
//
// The routing and compilation benchmarks need configurations of a given shape (so many virtual
// hosts, routes, clusters, endpoints) whose contents they can aim at: "the route at the front",
// "a host that matches only a wildcard at the end". This file writes such a bootstrap as YAML
// text, parses it with the proxy's own loader and compiles it with the proxy's own compiler,
// so the benchmarks run on exactly what trellis-proxy would run on. The domain and path
// helpers below are the single source of the names the generator writes.
#pragma once

#include <memory>
#include <string>

#include "proxy/snapshot/compile.h"
#include "proxy/snapshot/snapshot.h"
#include "proxy/stats/stats.h"

namespace trellis::bench::micro {

struct ConfigShape {
  int virtual_hosts = 1;
  int routes_per_host = 10;
  int clusters = 10;
  int endpoints_per_cluster = 1;
};

// Virtual host `v` has the exact domains exactDomain(v) and exactDomain(v) + ":8080", and one
// wildcard: `*.ns-NNNN.example.com` for even v, `api-NNNN.*` for odd v (all wildcards of a kind
// have the same length, so the lookup scans them in configuration order).
std::string exactDomain(int v);
// A Host header that only the wildcard of virtual host `v` matches.
std::string wildcardHost(int v);
// Route `r` of every virtual host matches the prefix routePrefix(r); requestPath(r) is a path
// under it. Every fifth route splits its traffic over two clusters by weight.
std::string routePrefix(int r);
std::string requestPath(int r);
std::string clusterName(int c);

// The route configuration of `shape` in YAML block style, indented for bootstrapYaml().
std::string generatedRouteConfig(const ConfigShape& shape);

// A bootstrap with an admin address, one listener on 127.0.0.1:0 whose HTTP connection manager
// carries `route_config` (YAML, as from generatedRouteConfig or written by hand with the same
// indentation), and `shape.clusters` STATIC clusters of `shape.endpoints_per_cluster` endpoints.
std::string bootstrapYaml(const std::string& route_config, const ConfigShape& shape);

// Parses `yaml` with config::parseBootstrap into the compiler's input. Benchmark set-up: a
// failure is a bug in the generator, so it prints the error and aborts.
proxy::CompileInput compileInputOrDie(const std::string& yaml);
std::shared_ptr<const proxy::Snapshot> compileOrDie(const proxy::CompileInput& input, proxy::StatsStore& stats);

}  // namespace trellis::bench::micro
