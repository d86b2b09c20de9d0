// The push benchmark's logic against the real trellis-cp, small: 50 simulated proxies must each
// receive and ACK every route edit, and an edit of the weights must reach them as routes only.
// Nothing here asserts a time; the benchmark measures, this checks that what it measures happens.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <string>

#include "bench/cp_push/mesh_gen.h"
#include "bench/cp_push/push_bench.h"

namespace trellis::bench::cp_push {
namespace {

namespace fs = std::filesystem;

constexpr char kRouteType[] = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

PushBenchOptions smallRun(const std::string& name, int nodes, int rounds) {
  PushBenchOptions options;
  options.nodes = nodes;
  options.rounds = rounds;
  options.cp_binary = std::string(std::getenv("TEST_SRCDIR")) + "/trellis/xds/trellis-cp";
  options.mesh_dir = fs::path(std::getenv("TEST_TMPDIR")) / name;
  options.timeout = std::chrono::seconds(60);
  options.pause = std::chrono::milliseconds(0);
  options.quiet = true;
  return options;
}

void expectEveryProxyAckedEveryEdit(const PushBenchOptions& options, const PushBenchResult& result) {
  ASSERT_EQ(result.error, "");
  EXPECT_EQ(result.nodes, options.nodes);
  EXPECT_GT(result.initial_fetch_ms, 0);
  ASSERT_EQ(result.rounds.size(), static_cast<size_t>(options.rounds));
  for (const RoundResult& round : result.rounds) {
    SCOPED_TRACE("round " + std::to_string(round.round));
    EXPECT_EQ(round.weights, weightsSignature(roundWeights(round.round, options.targets)));
    EXPECT_EQ(round.acked, options.nodes);
    // One new RouteConfiguration per proxy, and nothing else: the weights change only routes.
    EXPECT_EQ(round.responses, (std::map<std::string, long>{{kRouteType, options.nodes}}));
    EXPECT_TRUE(round.applied_ms.has_value()) << "the cp did not log the build of the edit";
  }
}

TEST(CpPushTest, FiftyProxiesReceiveAndAckEveryRouteEdit) {
  const PushBenchOptions options = smallRun("mesh", 50, 3);
  expectEveryProxyAckedEveryEdit(options, runPushBench(options));
}

TEST(CpPushTest, SidecarDocumentsAndSharedConnections) {
  PushBenchOptions options = smallRun("mesh-sidecars", 50, 2);
  options.sidecars = true;
  options.targets = 2;
  options.connections = 5;
  expectEveryProxyAckedEveryEdit(options, runPushBench(options));
}

TEST(CpPushTest, CloudFormationTemplates) {
  PushBenchOptions options = smallRun("mesh-cloudformation", 20, 2);
  options.format = MeshFormat::kCloudFormation;
  expectEveryProxyAckedEveryEdit(options, runPushBench(options));
}

TEST(CpPushTest, RoundWeightsAreValidAndChangeEveryRound) {
  for (int targets = 2; targets <= 10; ++targets) {
    std::string previous;
    for (int round = 0; round < 200; ++round) {
      const std::vector<int> weights = roundWeights(round, targets);
      ASSERT_EQ(weights.size(), static_cast<size_t>(targets));
      EXPECT_EQ(std::accumulate(weights.begin(), weights.end(), 0), 100);
      for (int w : weights) EXPECT_GE(w, 0);
      const std::string signature = weightsSignature(weights);
      EXPECT_NE(signature, previous) << "round " << round << " of " << targets << " targets";
      previous = signature;
    }
  }
}

}  // namespace
}  // namespace trellis::bench::cp_push
