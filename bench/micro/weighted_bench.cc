// Micro-benchmarks of the two choices made for every forwarded request: which cluster
// (pickTarget over a route's weighted targets, with the worker's FastRandom) and which endpoint
// (the worker's round-robin cursor over the cluster's precomputed smooth weighted order).
#include <memory>
#include <vector>

#include <benchmark/benchmark.h>

#include "proxy/upstream/load_balancer.h"
#include "proxy/router/fast_random.h"
#include "proxy/router/router.h"

namespace trellis::bench::micro {
namespace {

proxy::ForwardAction action(const std::vector<uint32_t>& weights) {
  proxy::ForwardAction a;
  for (size_t i = 0; i < weights.size(); ++i) {
    a.targets.push_back(proxy::WeightedTarget{"cluster-" + std::to_string(i), static_cast<uint32_t>(i), weights[i]});
    a.total_weight += weights[i];
  }
  return a;
}

void BM_PickTarget(benchmark::State& state, std::vector<uint32_t> weights) {
  const proxy::ForwardAction a = action(weights);
  proxy::FastRandom random(42);
  // The split must come out as configured; otherwise the benchmark measures a broken choice.
  std::vector<uint64_t> picks(weights.size(), 0);
  for (auto _ : state) {
    const proxy::WeightedTarget* t = proxy::pickTarget(a, random);
    benchmark::DoNotOptimize(t);
    ++picks[*t->cluster];
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["share_of_first"] = static_cast<double>(picks[0]) / n;
}
BENCHMARK_CAPTURE(BM_PickTarget, one_target, std::vector<uint32_t>{1});
BENCHMARK_CAPTURE(BM_PickTarget, two_90_10, std::vector<uint32_t>{90, 10});
BENCHMARK_CAPTURE(BM_PickTarget, three_50_30_20, std::vector<uint32_t>{50, 30, 20});
BENCHMARK_CAPTURE(BM_PickTarget, ten_equal, std::vector<uint32_t>(10, 10));
BENCHMARK_CAPTURE(BM_PickTarget, ten_last_heaviest, std::vector<uint32_t>{1, 1, 1, 1, 1, 1, 1, 1, 1, 91});

// Endpoint choice as the request flow does it: the worker's LoadBalancer over a health view,
// for each policy, all hosts healthy or one in three failed.
void BM_PickHost(benchmark::State& state, proxy::LbPolicy policy, std::vector<uint32_t> weights, bool some_failed) {
  proxy::Cluster cluster;
  cluster.name = "backend";
  cluster.index = 3;
  cluster.lb_policy = policy;
  for (size_t i = 0; i < weights.size(); ++i) {
    proxy::Endpoint ep;
    ep.address =
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address_v4(0x0a000001u + static_cast<uint32_t>(i)), 8080);
    ep.weight = weights[i];
    cluster.endpoints.push_back(ep);
  }
  cluster.schedule = proxy::buildSchedule(weights);
  proxy::ClusterHealth health;
  health.flags.assign(weights.size(), 0);
  health.healthy = static_cast<uint32_t>(weights.size());
  if (some_failed) {
    for (size_t i = 0; i < weights.size(); i += 3) {
      health.flags[i] = proxy::kFailedActiveHc;
      --health.healthy;
    }
  }
  proxy::LoadBalancer lb(cluster);
  proxy::FastRandom random(42);
  for (auto _ : state) {
    auto host = lb.pick(health, random);
    benchmark::DoNotOptimize(host);
  }
  state.counters["schedule_len"] = static_cast<double>(cluster.schedule.size());
}
BENCHMARK_CAPTURE(BM_PickHost, rr_ten_equal, proxy::LbPolicy::RoundRobin, std::vector<uint32_t>(10, 1), false);
BENCHMARK_CAPTURE(BM_PickHost, rr_ten_weighted_1_to_10, proxy::LbPolicy::RoundRobin,
                  std::vector<uint32_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, false);
BENCHMARK_CAPTURE(BM_PickHost, rr_ten_equal_some_failed, proxy::LbPolicy::RoundRobin, std::vector<uint32_t>(10, 1),
                  true);
BENCHMARK_CAPTURE(BM_PickHost, least_request_ten, proxy::LbPolicy::LeastRequest, std::vector<uint32_t>(10, 1), false);
BENCHMARK_CAPTURE(BM_PickHost, random_ten, proxy::LbPolicy::Random, std::vector<uint32_t>(10, 1), false);
BENCHMARK_CAPTURE(BM_PickHost, peak_ewma_ten, proxy::LbPolicy::PeakEwma, std::vector<uint32_t>(10, 1), false);

// The schedule is built once per cluster at compile time; this is that cost.
void BM_BuildSchedule(benchmark::State& state) {
  std::vector<uint32_t> weights;
  for (int i = 0; i < state.range(0); ++i) weights.push_back(static_cast<uint32_t>(1 + i % 7));
  for (auto _ : state) {
    benchmark::DoNotOptimize(proxy::buildSchedule(weights));
  }
}
BENCHMARK(BM_BuildSchedule)->ArgName("endpoints")->Arg(10)->Arg(100);

}  // namespace
}  // namespace trellis::bench::micro

BENCHMARK_MAIN();
