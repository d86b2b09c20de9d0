// Heap allocations per proxied request in steady state, and where they come from.
//
// Runs a real trellis-proxy in this process (proxy::Server from a bootstrap: one listener on
// 127.0.0.1:0, one STATIC cluster) in front of an in-process keep-alive upstream, drives it
// with a few blocking keep-alive client connections, and counts operator new calls with the
// replacements in alloc_counter.cc. After a warm-up (pools, buffers and caches filled), the
// counters are read, the measured requests run, and the counters are read again; the
// difference on the proxy's worker threads divided by the requests is the number the design
// wants at zero. The first allocations on the workers after warm-up carry a backtrace and are
// reported grouped by call site in proxy code. One run per response body size.
//
//   bazel run -c opt //bench/micro:alloc_per_request -- [--requests=100000] [--warmup=10000]
//       [--connections=4] [--concurrency=1] [--requests_per_connection=0]
//       [--body_sizes=64,1024,65536] [--samples=5000] [--sites=20] [--max_allocs_per_request=X]
//
// Exit status 0 when every run proxied every request (and, with --max_allocs_per_request, the
// workers stayed at or under it), 1 otherwise, 2 for a usage error.
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/micro/alloc_counter.h"
#include "bench/micro/call_sites.h"
#include "bench/micro/keepalive_client.h"
#include "bench/micro/upstream_stub.h"
#include "config/bootstrap/bootstrap.h"
#include "proxy/server/server.h"

namespace trellis::bench::micro {
namespace {

struct Options {
  uint64_t warmup = 10000;
  uint64_t requests = 100000;
  uint32_t connections = 4;
  uint32_t concurrency = 1;
  uint64_t requests_per_connection = 0;  // 0: each client keeps one connection for the whole run
  // Not 0 by default: a Content-Length: 0 response stalls its connection until the route
  // timeout (a proxy bug, see README.md); --body_sizes=0 reproduces it.
  std::vector<size_t> body_sizes = {64, 1024, 64 * 1024};
  size_t samples = 5000;
  size_t sites = 20;
  double max_allocs_per_request = -1;  // < 0: no limit
};

bool parseUint(const std::string& s, uint64_t& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtoull(s.c_str(), &end, 10);
  return end && *end == '\0';
}

std::optional<Options> parseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    size_t eq = arg.find('=');
    std::string name = arg.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    uint64_t v = 0;
    if (name == "--warmup" && parseUint(value, v)) {
      o.warmup = v;
    } else if (name == "--requests" && parseUint(value, v) && v > 0) {
      o.requests = v;
    } else if (name == "--connections" && parseUint(value, v) && v > 0 && v <= 256) {
      o.connections = static_cast<uint32_t>(v);
    } else if (name == "--concurrency" && parseUint(value, v) && v > 0 && v <= 64) {
      o.concurrency = static_cast<uint32_t>(v);
    } else if (name == "--requests_per_connection" && parseUint(value, v)) {
      o.requests_per_connection = v;
    } else if (name == "--samples" && parseUint(value, v)) {
      o.samples = v;
    } else if (name == "--sites" && parseUint(value, v)) {
      o.sites = v;
    } else if (name == "--max_allocs_per_request" && !value.empty()) {
      o.max_allocs_per_request = std::atof(value.c_str());
    } else if (name == "--body_sizes" && !value.empty()) {
      o.body_sizes.clear();
      size_t pos = 0;
      while (pos <= value.size()) {
        size_t comma = value.find(',', pos);
        if (comma == std::string::npos) comma = value.size();
        if (!parseUint(value.substr(pos, comma - pos), v) || v > 128 * 1024) {
          std::fprintf(stderr, "--body_sizes: '%s' is not a size in bytes (0-131072)\n", value.c_str());
          return std::nullopt;
        }
        o.body_sizes.push_back(v);
        pos = comma + 1;
      }
    } else {
      std::fprintf(stderr,
                   "unknown or invalid argument '%s'\n"
                   "usage: alloc_per_request [--requests=N] [--warmup=N] [--connections=N] [--concurrency=N]\n"
                   "       [--requests_per_connection=N] [--body_sizes=B,B,...] [--samples=N] [--sites=N]\n"
                   "       [--max_allocs_per_request=X]\n",
                   arg.c_str());
      return std::nullopt;
    }
  }
  return o;
}

std::string bootstrapFor(uint16_t upstream_port) {
  return R"(node: {id: alloc-bench, cluster: bench}
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
          route_config:
            name: local
            virtual_hosts:
            - name: backend
              domains: ["bench.local"]
              routes:
              - match: {prefix: "/"}
                route: {cluster: backend, timeout: 5s}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
  clusters:
  - name: backend
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: )" +
         std::to_string(upstream_port) + "}}}\n";
}

const std::string kRequest =
    "GET /api/v1/items/42?view=full HTTP/1.1\r\n"
    "Host: bench.local\r\n"
    "User-Agent: trellis-alloc-bench/1\r\n"
    "Accept: application/json\r\n"
    "X-B3-TraceId: 80f198ee56343ba864fe8b2a57d3eff7\r\n"
    "\r\n";

struct RoleCounts {
  alloc::Counts by_role[static_cast<size_t>(alloc::Role::kCount)];
};

RoleCounts snapshotCounts() {
  RoleCounts c;
  for (size_t r = 0; r < static_cast<size_t>(alloc::Role::kCount); ++r) {
    c.by_role[r] = alloc::read(static_cast<alloc::Role>(r));
  }
  return c;
}

struct RunResult {
  size_t body = 0;
  uint64_t requests = 0;
  RoleCounts delta;
  double seconds = 0;
  uint64_t untagged_threads = 0;
  size_t sampled = 0;
  std::vector<CallSite> sites;
};

std::optional<RunResult> runOne(const Options& o, size_t body) {
  const uint64_t threads_before = alloc::untaggedThreads();
  UpstreamStub upstream(body);
  if (!upstream.start()) return std::nullopt;
  auto bootstrap = config::parseBootstrap(bootstrapFor(upstream.port()), "alloc-bench.yaml");
  if (!bootstrap.ok()) {
    std::fprintf(stderr, "%s\n", bootstrap.status().ToString().c_str());
    return std::nullopt;
  }
  proxy::ServerOptions so;
  so.concurrency = o.concurrency;
  so.drain_time = std::chrono::milliseconds(1000);
  so.bootstrap_source = "alloc-bench.yaml";
  auto created = proxy::Server::create(*bootstrap, so);
  if (!created.ok()) {
    std::fprintf(stderr, "%s\n", created.status().ToString().c_str());
    return std::nullopt;
  }
  std::unique_ptr<proxy::Server> server = std::move(*created);
  if (auto st = server->start(); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return std::nullopt;
  }
  const uint16_t port = server->listeners().at(0).address.port();
  std::thread proxy_main([&server] {
    alloc::setThreadRole(alloc::Role::ProxyMain);
    server->run();
  });

  // Every client passes three points with the harness: warm-up done, go, measured done.
  std::barrier sync(static_cast<std::ptrdiff_t>(o.connections) + 1);
  std::atomic<bool> failed{false};
  std::mutex failure_mu;
  std::string failure;
  std::vector<std::thread> clients;
  for (uint32_t k = 0; k < o.connections; ++k) {
    auto share = [&](uint64_t total) { return total / o.connections + (k < total % o.connections ? 1 : 0); };
    clients.emplace_back([&, k, warm = share(o.warmup), measured = share(o.requests)] {
      alloc::setThreadRole(alloc::Role::Client);
      KeepAliveClient client;
      auto fail = [&](const std::string& why) {
        std::lock_guard<std::mutex> lock(failure_mu);
        if (failure.empty()) failure = "connection " + std::to_string(k) + ": " + why;
        failed = true;
      };
      if (!client.connect(port)) fail(client.error());
      uint64_t on_connection = 0;
      auto run = [&](uint64_t n) {
        for (uint64_t i = 0; i < n && !failed; ++i) {
          if (o.requests_per_connection > 0 && on_connection == o.requests_per_connection) {
            on_connection = 0;
            if (!client.connect(port)) {
              fail(client.error());
              break;
            }
          }
          ++on_connection;
          if (!client.exchange(kRequest, body)) fail(client.error());
        }
      };
      run(warm);
      sync.arrive_and_wait();
      sync.arrive_and_wait();
      run(measured);
      sync.arrive_and_wait();
    });
  }
  sync.arrive_and_wait();
  const RoleCounts before = snapshotCounts();
  alloc::startSampling(o.samples);
  const auto t0 = std::chrono::steady_clock::now();
  sync.arrive_and_wait();
  sync.arrive_and_wait();
  const auto t1 = std::chrono::steady_clock::now();
  alloc::stopSampling();
  const RoleCounts after = snapshotCounts();

  for (auto& t : clients) t.join();
  server->shutdown();
  proxy_main.join();
  server.reset();
  upstream.stop();
  if (failed) {
    std::fprintf(stderr, "body %zu: %s\n", body, failure.c_str());
    return std::nullopt;
  }

  RunResult r;
  r.body = body;
  r.requests = o.requests;
  for (size_t i = 0; i < static_cast<size_t>(alloc::Role::kCount); ++i) {
    r.delta.by_role[i] = after.by_role[i] - before.by_role[i];
  }
  r.seconds = std::chrono::duration<double>(t1 - t0).count();
  r.untagged_threads = alloc::untaggedThreads() - threads_before;
  auto samples = alloc::samples();
  r.sampled = samples.size();
  r.sites = groupCallSites(samples);
  return r;
}

std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

std::string sizeName(size_t b) {
  if (b >= 1024 && b % 1024 == 0) return std::to_string(b / 1024) + " KiB";
  return std::to_string(b) + " B";
}

double perRequest(uint64_t v, uint64_t requests) { return static_cast<double>(v) / static_cast<double>(requests); }

void printResults(const Options& o, const std::vector<RunResult>& runs) {
  char date[32];
  std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  std::printf("## Heap allocations per proxied request (steady state)\n\n");
  std::printf("%s; %u CPUs (%s); proxy concurrency %u; %u keep-alive client connections, "
              "%s; %llu warm-up + %llu measured requests per body size.\n\n",
              date, std::thread::hardware_concurrency(), cpuModel().c_str(), o.concurrency, o.connections,
              o.requests_per_connection == 0
                  ? "each kept for the whole run"
                  : ("a new connection every " + std::to_string(o.requests_per_connection) + " request(s)").c_str(),
              static_cast<unsigned long long>(o.warmup), static_cast<unsigned long long>(o.requests));
  std::printf("| response body | proxy workers: allocs/req | bytes/req | frees/req | worker threads seen | proxy main "
              "thread: allocs (total) | client allocs/req | upstream allocs/req | req/s (blocking clients, "
              "informative) |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& r : runs) {
    const auto& w = r.delta.by_role[static_cast<size_t>(alloc::Role::Untagged)];
    const auto& m = r.delta.by_role[static_cast<size_t>(alloc::Role::ProxyMain)];
    const auto& c = r.delta.by_role[static_cast<size_t>(alloc::Role::Client)];
    const auto& u = r.delta.by_role[static_cast<size_t>(alloc::Role::Upstream)];
    std::printf("| %s | %.3f | %.1f | %.3f | %llu | %llu | %.3f | %.3f | %.0f |\n", sizeName(r.body).c_str(),
                perRequest(w.allocs, r.requests), perRequest(w.bytes, r.requests), perRequest(w.frees, r.requests),
                static_cast<unsigned long long>(r.untagged_threads), static_cast<unsigned long long>(m.allocs),
                perRequest(c.allocs, r.requests),
                perRequest(u.allocs, r.requests), static_cast<double>(r.requests) / r.seconds);
  }
  std::printf("\n\"Worker threads seen\" counts the untagged threads that allocated during the run; it should equal "
              "the proxy's concurrency (%u), or something other than the workers is being counted as the proxy.\n",
              o.concurrency);

  for (const auto& r : runs) {
    const auto& w = r.delta.by_role[static_cast<size_t>(alloc::Role::Untagged)];
    const double per_req = perRequest(w.allocs, r.requests);
    std::printf("\n### Call sites, %s response body: first %zu allocations on the workers after warm-up\n\n",
                sizeName(r.body).c_str(), r.sampled);
    if (r.sampled == 0) {
      std::printf("No allocation on the worker threads during the measured requests.\n");
      continue;
    }
    std::printf("| samples | share | ~allocs/req | avg bytes | site (innermost frame under proxy/) | via (caller of "
                "operator new) | outer proxy frames |\n");
    std::printf("|---:|---:|---:|---:|---|---|---|\n");
    size_t shown = 0;
    for (const auto& s : r.sites) {
      if (shown++ == o.sites) break;
      const double share = static_cast<double>(s.count) / static_cast<double>(r.sampled);
      std::printf("| %llu | %.1f%% | %.3f | %llu | `%s` | `%s` | %s |\n", static_cast<unsigned long long>(s.count),
                  100 * share, share * per_req, static_cast<unsigned long long>(s.bytes / s.count), s.site.c_str(),
                  s.via.c_str(), s.chain.empty() ? "" : ("`" + s.chain + "`").c_str());
    }
    if (r.sites.size() > o.sites) std::printf("\n(%zu more sites not shown)\n", r.sites.size() - o.sites);
  }
}

}  // namespace
}  // namespace trellis::bench::micro

int main(int argc, char** argv) {
  using namespace trellis::bench::micro;
  alloc::setThreadRole(alloc::Role::Harness);
  alloc::prepareSampling();
  auto options = parseOptions(argc, argv);
  if (!options) return 2;
  std::vector<RunResult> runs;
  for (size_t body : options->body_sizes) {
    auto r = runOne(*options, body);
    if (!r) return 1;
    runs.push_back(std::move(*r));
  }
  printResults(*options, runs);
  if (options->max_allocs_per_request >= 0) {
    for (const auto& r : runs) {
      const auto& w = r.delta.by_role[static_cast<size_t>(alloc::Role::Untagged)];
      if (perRequest(w.allocs, r.requests) > options->max_allocs_per_request) {
        std::fprintf(stderr, "body %zu: %.3f allocations per request on the workers, over the limit %.3f\n", r.body,
                     perRequest(w.allocs, r.requests), options->max_allocs_per_request);
        return 1;
      }
    }
  }
  return 0;
}
