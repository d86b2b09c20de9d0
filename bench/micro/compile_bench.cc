// Micro-benchmarks of configuration compilation (proxy/snapshot): what the main thread spends
// turning a large Envoy-style config into the immutable Snapshot the workers run on.
//
// The large config is 1,000 STATIC clusters of 10 endpoints each and one listener whose route
// configuration has 100 virtual hosts of 10 routes (1,000 routes, every fifth one a weighted
// split). It is compiled repeatedly against one StatsStore, as an xDS update would be (stat
// blocks of known names are reused), and once per iteration against a fresh store (a cold
// start). Each iteration also destroys the snapshot it built.
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "bench/micro/config_gen.h"
#include "config/bootstrap/bootstrap.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "proxy/router/router.h"
#include "proxy/snapshot/compile.h"

namespace trellis::bench::micro {
namespace {

const ConfigShape kLarge{100, 10, 1000, 10};

const std::string& largeYaml() {
  static const std::string yaml = bootstrapYaml(generatedRouteConfig(kLarge), kLarge);
  return yaml;
}

const proxy::CompileInput& largeInput() {
  static const proxy::CompileInput input = compileInputOrDie(largeYaml());
  return input;
}

void setShapeCounters(benchmark::State& state, const ConfigShape& s) {
  state.counters["clusters"] = s.clusters;
  state.counters["endpoints"] = s.clusters * s.endpoints_per_cluster;
  state.counters["routes"] = s.virtual_hosts * s.routes_per_host;
}

void BM_CompileSnapshotLarge(benchmark::State& state) {
  const proxy::CompileInput& in = largeInput();
  proxy::StatsStore stats(3);
  compileOrDie(in, stats);  // creates the stat blocks, as the first snapshot did
  for (auto _ : state) {
    auto snap = proxy::compileSnapshot(in, stats);
    if (!snap.ok()) {
      state.SkipWithError("compile failed");
      return;
    }
    benchmark::DoNotOptimize(snap->get());
  }
  setShapeCounters(state, kLarge);
}
BENCHMARK(BM_CompileSnapshotLarge)->Unit(benchmark::kMillisecond);

void BM_CompileSnapshotLargeColdStats(benchmark::State& state) {
  const proxy::CompileInput& in = largeInput();
  for (auto _ : state) {
    state.PauseTiming();
    auto stats = std::make_unique<proxy::StatsStore>(3);
    state.ResumeTiming();
    auto snap = proxy::compileSnapshot(in, *stats);
    if (!snap.ok()) {
      state.SkipWithError("compile failed");
      return;
    }
    benchmark::DoNotOptimize(snap->get());
    state.PauseTiming();
    snap = absl::StatusOr<std::shared_ptr<const proxy::Snapshot>>();
    stats.reset();
    state.ResumeTiming();
  }
  setShapeCounters(state, kLarge);
}
BENCHMARK(BM_CompileSnapshotLargeColdStats)->Unit(benchmark::kMillisecond);

// Start-up's first step for the same config: YAML text to protos (config::parseBootstrap).
void BM_ParseBootstrapYamlLarge(benchmark::State& state) {
  const std::string& yaml = largeYaml();
  for (auto _ : state) {
    auto b = config::parseBootstrap(yaml, "generated.yaml");
    if (!b.ok()) {
      state.SkipWithError("parse failed");
      return;
    }
    benchmark::DoNotOptimize(b->static_resources().clusters_size());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * yaml.size()));
  setShapeCounters(state, kLarge);
}
BENCHMARK(BM_ParseBootstrapYamlLarge)->Unit(benchmark::kMillisecond);

// The route configuration alone (what an RDS update costs), against the compiled clusters.
void BM_CompileRouteTable1000Routes(benchmark::State& state) {
  const proxy::CompileInput& in = largeInput();
  proxy::StatsStore stats(3);
  auto snap = compileOrDie(in, stats);
  envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
  if (!in.listeners.at(0).resource.filter_chains(0).filters(0).typed_config().UnpackTo(&hcm)) {
    state.SkipWithError("no HttpConnectionManager");
    return;
  }
  for (auto _ : state) {
    auto table = proxy::compileRouteTable(hcm.route_config(), "route_config", snap->clusters, true);
    if (!table.ok()) {
      state.SkipWithError("compile failed");
      return;
    }
    benchmark::DoNotOptimize(table->get());
  }
  state.counters["routes"] = kLarge.virtual_hosts * kLarge.routes_per_host;
}
BENCHMARK(BM_CompileRouteTable1000Routes)->Unit(benchmark::kMicrosecond);

// The domain lookup table alone: VirtualHostTable over 100 and 1,000 virtual hosts of three
// domains each (two exact, one wildcard).
void BM_BuildVirtualHostTable(benchmark::State& state) {
  const ConfigShape shape{static_cast<int>(state.range(0)), 1, 1, 1};
  proxy::StatsStore stats(2);
  auto snap = compileOrDie(compileInputOrDie(bootstrapYaml(generatedRouteConfig(shape), shape)), stats);
  const auto& hosts = snap->listeners.at(0)->filter_chains.at(0).http->routes->virtual_hosts;
  for (auto _ : state) {
    proxy::VirtualHostTable table(hosts);
    benchmark::DoNotOptimize(&table);
  }
  state.counters["domains"] = static_cast<double>(hosts.size() * 3);
}
BENCHMARK(BM_BuildVirtualHostTable)->ArgName("vhosts")->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace trellis::bench::micro

BENCHMARK_MAIN();
