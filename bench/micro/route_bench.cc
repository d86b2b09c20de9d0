// Micro-benchmarks of request routing (proxy/router): virtual host lookup and route matching
// on route tables compiled by compileSnapshot from generated Envoy-style bootstraps.
//
// Route matching is first-match over a virtual host's routes, so its cost depends on where the
// matching route sits; the benchmarks aim at the front, the middle and the end of tables of 10
// and 1,000 routes and 10 and 1,000 virtual hosts, and at misses (which scan everything).
// Domain lookup is a hash for exact domains and a scan for wildcards, so wildcard hits are
// aimed at both ends of the wildcard lists. Header and regex matches use small hand-written
// tables.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "absl/strings/str_format.h"
#include "bench/micro/config_gen.h"
#include "proxy/router/router.h"

namespace trellis::bench::micro {
namespace {

using proxy::http::HeaderField;
using proxy::http::MessageHead;

struct Compiled {
  std::unique_ptr<proxy::StatsStore> stats;
  std::shared_ptr<const proxy::Snapshot> snapshot;
  const proxy::RouteTable* table = nullptr;
};

Compiled compileRoutes(const std::string& route_config, const ConfigShape& shape) {
  Compiled c;
  c.stats = std::make_unique<proxy::StatsStore>(2);
  c.snapshot = compileOrDie(compileInputOrDie(bootstrapYaml(route_config, shape)), *c.stats);
  c.table = c.snapshot->listeners.at(0)->filter_chains.at(0).http->routes.get();
  return c;
}

// Generated tables are shared by every benchmark of the same shape (built once, untimed).
const Compiled& generatedTable(int virtual_hosts, int routes_per_host) {
  static std::map<std::pair<int, int>, Compiled> cache;
  auto key = std::make_pair(virtual_hosts, routes_per_host);
  auto it = cache.find(key);
  if (it == cache.end()) {
    ConfigShape shape{virtual_hosts, routes_per_host, 10, 1};
    it = cache.emplace(key, compileRoutes(generatedRouteConfig(shape), shape)).first;
  }
  return it->second;
}

// A request as bindHead() would leave it: views into strings the caller keeps alive.
struct Request {
  std::string target;
  std::vector<std::pair<std::string, std::string>> fields;
  MessageHead head;

  Request(std::string t, std::vector<std::pair<std::string, std::string>> f)
      : target(std::move(t)), fields(std::move(f)) {
    head.method = "GET";
    head.target = target;
    for (const auto& [n, v] : fields) head.headers.push_back(HeaderField{n, v});
  }
  // `head` holds views into the members: the object never moves.
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;
  std::string_view host() const { return head.find("host")->value; }
};

Request typicalRequest(std::string host, std::string target,
                       std::vector<std::pair<std::string, std::string>> extra = {}) {
  std::vector<std::pair<std::string, std::string>> f = {
      {"Host", std::move(host)},
      {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0"},
      {"Accept", "application/json, text/plain, */*"},
      {"Accept-Encoding", "gzip, deflate, br"},
      {"Accept-Language", "en-US,en;q=0.9"},
      {"X-Request-Id", "6f1c2b9e-8d44-4b1a-9a57-0c3e5d2f7a18"},
      {"X-Forwarded-For", "10.1.2.3"},
      {"X-B3-TraceId", "80f198ee56343ba864fe8b2a57d3eff7"},
      {"X-B3-SpanId", "e457b5a2e4d86bd1"},
      {"Cookie", "session=3a9f0c1d2e4b5a6978877665544332211; theme=dark"},
  };
  for (auto& e : extra) f.push_back(std::move(e));
  return Request(std::move(target), std::move(f));
}

// ---- host -> virtual host -> route ---------------------------------------------------------

enum Position { kFront, kMiddle, kEnd, kMissRoute, kMissHost };
const char* positionName(int p) {
  static const char* names[] = {"front", "middle", "end", "miss_route", "miss_host"};
  return names[p];
}

// VirtualHostTable::find + matchRoute, as DownstreamSession::handleRequest does them.
void BM_RouteRequest(benchmark::State& state) {
  const int vhosts = static_cast<int>(state.range(0));
  const int routes = static_cast<int>(state.range(1));
  const int pos = static_cast<int>(state.range(2));
  const Compiled& c = generatedTable(vhosts, routes);
  int v = pos == kFront ? 0 : pos == kMiddle ? vhosts / 2 : vhosts - 1;
  int r = pos == kFront ? 0 : pos == kMiddle ? routes / 2 : routes - 1;
  std::string host = pos == kMissHost ? "unknown.other-mesh.net" : exactDomain(v);
  std::string target = pos == kMissRoute ? "/static/app.js" : requestPath(r);
  Request req = typicalRequest(host, target);

  const proxy::Route* expected = pos >= kMissRoute ? nullptr : &c.table->virtual_hosts[v].routes[r];
  auto route = [&]() -> const proxy::Route* {
    const proxy::VirtualHost* vh = c.table->lookup->find(req.host());
    return vh ? proxy::matchRoute(*vh, req.head) : nullptr;
  };
  if (route() != expected) {
    state.SkipWithError("the table did not route the request where intended");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(route());
  }
  state.SetLabel(absl::StrFormat("%d vhosts x %d routes, %s", vhosts, routes, positionName(pos)));
}
BENCHMARK(BM_RouteRequest)
    ->ArgNames({"vhosts", "routes", "pos"})
    ->ArgsProduct({{10}, {10, 1000}, {kFront, kMiddle, kEnd, kMissRoute, kMissHost}})
    ->ArgsProduct({{1000}, {10}, {kFront, kMiddle, kEnd, kMissRoute, kMissHost}});

// ---- domain lookup alone -------------------------------------------------------------------

enum HostKind {
  kExact,
  kExactConfiguredPort,  // "name:8080", listed as a domain of its own
  kExactOtherPort,       // "name:9090": misses, then hits without the port
  kSuffixFront,
  kSuffixEnd,
  kPrefixFront,
  kPrefixEnd,
  kMiss,
  kMissWithPort,
  kHostKinds
};
const char* hostKindName(int k) {
  static const char* names[] = {"exact",        "exact_configured_port", "exact_other_port",
                                "suffix_front", "suffix_end",            "prefix_front",
                                "prefix_end",   "miss",                  "miss_with_port"};
  return names[k];
}

void BM_VirtualHostFind(benchmark::State& state) {
  const int vhosts = static_cast<int>(state.range(0));
  const int kind = static_cast<int>(state.range(1));
  const Compiled& c = generatedTable(vhosts, 1);
  const int last_even = (vhosts - 1) / 2 * 2;
  const int last_odd = vhosts % 2 == 0 ? vhosts - 1 : vhosts - 2;
  int v = -1;
  std::string host;
  switch (kind) {
    case kExact: v = vhosts / 2; host = exactDomain(v); break;
    case kExactConfiguredPort: v = vhosts / 2; host = exactDomain(v) + ":8080"; break;
    case kExactOtherPort: v = vhosts / 2; host = exactDomain(v) + ":9090"; break;
    case kSuffixFront: v = 0; host = wildcardHost(v); break;
    case kSuffixEnd: v = last_even; host = wildcardHost(v); break;
    case kPrefixFront: v = 1; host = wildcardHost(v); break;
    case kPrefixEnd: v = last_odd; host = wildcardHost(v); break;
    case kMiss: host = "unknown.other-mesh.net"; break;
    case kMissWithPort: host = "unknown.other-mesh.net:8080"; break;
  }
  const proxy::VirtualHost* expected = v < 0 ? nullptr : &c.table->virtual_hosts[v];
  if (c.table->lookup->find(host) != expected) {
    state.SkipWithError("the lookup did not find the intended virtual host");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(host);
    benchmark::DoNotOptimize(c.table->lookup->find(host));
  }
  state.SetLabel(absl::StrFormat("%d vhosts, %s", vhosts, hostKindName(kind)));
}
BENCHMARK(BM_VirtualHostFind)
    ->ArgNames({"vhosts", "kind"})
    ->ArgsProduct({{10, 1000}, benchmark::CreateDenseRange(0, kHostKinds - 1, 1)});

// ---- header and regex matches --------------------------------------------------------------

constexpr int kMatchRoutes = 10;

// One catch-all virtual host whose kMatchRoutes routes differ only in what `match(i)` says.
template <class Fn>
std::string matchTable(Fn match) {
  std::string y = "name: matches\nvirtual_hosts:\n- name: all\n  domains: [\"*\"]\n  routes:\n";
  for (int i = 0; i < kMatchRoutes; ++i) {
    y += "  - match: " + match(i) + "\n    route: {cluster: " + clusterName(0) + "}\n";
  }
  return y;
}

const Compiled& headerExactTable() {
  static Compiled c = compileRoutes(matchTable([](int i) {
    return absl::StrFormat("{prefix: \"/\", headers: [{name: x-canary, string_match: {exact: \"v%d\"}}]}", i);
  }), ConfigShape{1, 0, 1, 1});
  return c;
}
const Compiled& headerRegexTable() {
  static Compiled c = compileRoutes(matchTable([](int i) {
    return absl::StrFormat(
        "{prefix: \"/\", headers: [{name: x-canary, safe_regex_match: {regex: \"v%d-(alpha|beta|rc[0-9]+)\"}}]}", i);
  }), ConfigShape{1, 0, 1, 1});
  return c;
}
const Compiled& pathRegexTable() {
  static Compiled c = compileRoutes(matchTable([](int i) {
    return absl::StrFormat("{safe_regex: {regex: \"/svc-%d/users/[0-9]+/orders/[0-9a-f]{8}\"}}", i);
  }), ConfigShape{1, 0, 1, 1});
  return c;
}
const Compiled& methodAndHeaderTable() {
  // Two header matchers per route: the :method pseudo-header and a presence check.
  static Compiled c = compileRoutes(matchTable([](int i) {
    return absl::StrFormat(
        "{prefix: \"/\", headers: [{name: \":method\", string_match: {exact: \"GET\"}}, {name: x-tenant-%d, "
        "present_match: true}]}",
        i);
  }), ConfigShape{1, 0, 1, 1});
  return c;
}

// `hit` is the index of the route the request should match, or -1 for none.
void runMatch(benchmark::State& state, const Compiled& c, const Request& req, int hit) {
  const proxy::VirtualHost& vh = c.table->virtual_hosts.at(0);
  const proxy::Route* expected = hit < 0 ? nullptr : &vh.routes[hit];
  if (proxy::matchRoute(vh, req.head) != expected) {
    state.SkipWithError("the request did not match the intended route");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(proxy::matchRoute(vh, req.head));
  }
}

void BM_HeaderExactMatch(benchmark::State& state, int hit) {
  std::string value = hit < 0 ? "v99" : absl::StrFormat("v%d", hit);
  runMatch(state, headerExactTable(), typicalRequest("a", "/x", {{"X-Canary", value}}), hit);
}
BENCHMARK_CAPTURE(BM_HeaderExactMatch, front, 0);
BENCHMARK_CAPTURE(BM_HeaderExactMatch, end_of_10, kMatchRoutes - 1);
BENCHMARK_CAPTURE(BM_HeaderExactMatch, miss_10, -1);

void BM_HeaderRegexMatch(benchmark::State& state, int hit) {
  std::string value = hit < 0 ? "v99-beta" : absl::StrFormat("v%d-beta", hit);
  runMatch(state, headerRegexTable(), typicalRequest("a", "/x", {{"X-Canary", value}}), hit);
}
BENCHMARK_CAPTURE(BM_HeaderRegexMatch, front, 0);
BENCHMARK_CAPTURE(BM_HeaderRegexMatch, end_of_10, kMatchRoutes - 1);
BENCHMARK_CAPTURE(BM_HeaderRegexMatch, miss_10, -1);

void BM_PathRegexMatch(benchmark::State& state, int hit) {
  std::string path = absl::StrFormat("/svc-%d/users/12345/orders/deadbeef?expand=items", hit < 0 ? 99 : hit);
  runMatch(state, pathRegexTable(), typicalRequest("a", path), hit);
}
BENCHMARK_CAPTURE(BM_PathRegexMatch, front, 0);
BENCHMARK_CAPTURE(BM_PathRegexMatch, end_of_10, kMatchRoutes - 1);
BENCHMARK_CAPTURE(BM_PathRegexMatch, miss_10, -1);

void BM_MethodAndPresenceMatch(benchmark::State& state, int hit) {
  std::string name = absl::StrFormat("X-Tenant-%d", hit < 0 ? 99 : hit);
  runMatch(state, methodAndHeaderTable(), typicalRequest("a", "/x", {{name, "acme"}}), hit);
}
BENCHMARK_CAPTURE(BM_MethodAndPresenceMatch, end_of_10, kMatchRoutes - 1);

}  // namespace
}  // namespace trellis::bench::micro

BENCHMARK_MAIN();
