// Load balancing policies through a real in-process proxy: LEAST_REQUEST avoids a host with a
// request outstanding, RANDOM spreads without a fixed rotation, and the PeakEwma extension sends
// clearly less traffic to a slow host. One worker, so one balancer sees every request.
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/controllable_upstream.h"
#include "tests/support/proxy_under_test.h"
#include "tests/support/raw_client.h"
#include "tests/support/resilience.h"

namespace trellis::tests {
namespace {

using std::chrono::milliseconds;
using B = ControllableUpstream::Behavior;

const char* kRoute = R"({name: local, virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: svc}}]}]})";

// `n` sequential GETs on one connection; the answering upstream of each, in order.
std::vector<std::string> run(RawClient& c, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    if (!c.send(makeRequest("GET", "/lb"))) break;
    auto r = c.readResponse();
    if (!r || r->status != 200 || !r->header("x-upstream")) break;
    out.push_back(*r->header("x-upstream"));
  }
  return out;
}

std::map<std::string, int> countOf(const std::vector<std::string>& v) {
  std::map<std::string, int> m;
  for (const auto& s : v) ++m[s];
  return m;
}

TEST(LoadBalancingTest, LeastRequestAvoidsTheHostWithARequestOutstanding) {
  ControllableUpstream a("a"), b("b"), c("c");
  for (auto* u : {&a, &b, &c}) u->setData(B::hang());
  auto proxy = ProxyUnderTest::start(
      envoyBootstrap(kRoute, staticCluster("svc", {a.port(), b.port(), c.port()},
                                           "    lb_policy: LEAST_REQUEST\n    least_request_lb_config: {choice_count: 3}\n")),
      1, milliseconds(300));
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  // One request held at whichever host it reaches; then every host answers at once.
  auto held = RawClient::connect((*proxy)->port());
  ASSERT_NE(held, nullptr);
  ASSERT_TRUE(held->send(makeRequest("GET", "/held")));
  ControllableUpstream* busy = nullptr;
  ASSERT_TRUE(waitUntil([&] {
    for (auto* u : {&a, &b, &c}) {
      if (u->dataInFlight() == 1) busy = u;
    }
    return busy != nullptr;
  }));
  for (auto* u : {&a, &b, &c}) u->setData(B::ok());

  auto client = RawClient::connect((*proxy)->port());
  ASSERT_NE(client, nullptr);
  constexpr int kRequests = 300;
  auto got = run(*client, kRequests);
  ASSERT_EQ(got.size(), static_cast<size_t>(kRequests));
  auto counts = countOf(got);
  // Three draws per pick: the busy host wins only when all three land on it, (1/3)^3 = 3.7%
  // (11 expected); round robin would give it 100.
  EXPECT_LT(counts[busy->name()], 40) << busy->name() << " is busy";
  for (auto* u : {&a, &b, &c}) {
    if (u != busy) {
      EXPECT_GT(counts[u->name()], 100) << u->name();
    }
  }
  held->close();
}

TEST(LoadBalancingTest, RandomSpreadsWithoutAFixedRotation) {
  ControllableUpstream a("a"), b("b"), c("c");
  auto proxy = ProxyUnderTest::start(
      envoyBootstrap(kRoute, staticCluster("svc", {a.port(), b.port(), c.port()}, "    lb_policy: RANDOM\n")), 1,
      milliseconds(300));
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto client = RawClient::connect((*proxy)->port());
  ASSERT_NE(client, nullptr);
  constexpr int kRequests = 600;
  auto got = run(*client, kRequests);
  ASSERT_EQ(got.size(), static_cast<size_t>(kRequests));
  auto counts = countOf(got);
  for (auto* u : {&a, &b, &c}) {
    // 200 expected, standard deviation 11.5: +-80 is about seven.
    EXPECT_GT(counts[u->name()], 120) << u->name();
    EXPECT_LT(counts[u->name()], 280) << u->name();
  }
  // Round robin never repeats a host back to back; a random pick does about a third of the time.
  int repeats = 0;
  for (size_t i = 1; i < got.size(); ++i) repeats += got[i] == got[i - 1] ? 1 : 0;
  EXPECT_GT(repeats, 120);
}

TEST(LoadBalancingTest, PeakEwmaSendsClearlyLessTrafficToASlowHost) {
  ControllableUpstream a("a"), b("b"), c("c");
  a.setData(B::slow(milliseconds(20)));
  const std::string ewma = R"(    load_balancing_policy:
      policies:
      - typed_extension_config:
          name: trellis.load_balancing_policies.peak_ewma
          typed_config:
            "@type": type.googleapis.com/trellis.extensions.load_balancing_policies.peak_ewma.v1.PeakEwma
            decay_time: 10s
)";
  auto proxy = ProxyUnderTest::start(
      envoyBootstrap(kRoute, staticCluster("svc", {a.port(), b.port(), c.port()}, ewma)), 1, milliseconds(300));
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto client = RawClient::connect((*proxy)->port());
  ASSERT_NE(client, nullptr);
  constexpr int kRequests = 300;
  auto got = run(*client, kRequests);
  ASSERT_EQ(got.size(), static_cast<size_t>(kRequests));
  auto counts = countOf(got);
  // An even share would be 100. Once a's 20 ms is sampled, its cost stays far above b's and c's
  // (well under a millisecond on loopback) and it loses every comparison. How b and c share the
  // rest depends on which of the two measures faster (one request at a time, so their costs are
  // their latencies alone): only their sum is asserted.
  EXPECT_LT(counts["a"], 15);
  EXPECT_GT(counts["b"] + counts["c"], kRequests - 15);
  EXPECT_GT(counts["b"], 0);
  EXPECT_GT(counts["c"], 0);
  EXPECT_EQ(a.dataRequests(), static_cast<size_t>(counts["a"]));
}

}  // namespace
}  // namespace trellis::tests
