// Route retry_policy through a real in-process proxy: retries on 503 land on another host and
// succeed; never more than num_retries retries; per_try_timeout moves on from a hanging host;
// the route timeout bounds every try together; max_retries and the retry budget cap concurrent
// retries; a body over per_request_buffer_limit_bytes is streamed and not retried while a small
// one is replayed byte-exact; retriable_status_codes; retry_on reset for a cut response head.
#include <chrono>
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
using std::chrono::steady_clock;
using B = ControllableUpstream::Behavior;

// One catch-all route to cluster svc with `policy` (flow style) as its retry_policy and `extra`
// more route-action fields; `vhost_extra` goes into the virtual host.
std::string route(const std::string& policy, const std::string& extra = "", const std::string& vhost_extra = "") {
  return "{name: local, virtual_hosts: [{name: all, domains: [\"*\"], " + vhost_extra +
         " routes: [{match: {prefix: \"/\"}, route: {cluster: svc, retry_policy: " + policy +
         (extra.empty() ? "" : ", " + extra) + "}}]}]}";
}

const char* kPreviousHosts =
    "retry_host_predicate: [{name: envoy.retry_host_predicates.previous_hosts}], host_selection_retry_max_attempts: 5";

std::optional<ClientResponse> send(RawClient& c, const std::string& method = "GET", const std::string& body = "") {
  if (!c.send(makeRequest(method, "/x", "svc", {}, body))) return std::nullopt;
  return c.readResponse();
}

std::unique_ptr<ProxyUnderTest> startProxy(const std::string& yaml, uint32_t concurrency = 1) {
  auto p = ProxyUnderTest::start(yaml, concurrency, milliseconds(300));
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? std::move(*p) : nullptr;
}

TEST(RetryTest, A503IsRetriedOnAnotherHostAndSucceeds) {
  ControllableUpstream a("a"), b("b");
  a.setData(B::answer(503));
  auto p = startProxy(envoyBootstrap(
      route(std::string("{retry_on: \"5xx\", num_retries: 2, ") + kPreviousHosts + "}"),
      staticCluster("svc", {a.port(), b.port()})));
  ASSERT_NE(p, nullptr);
  auto client = RawClient::connect(p->port());
  ASSERT_NE(client, nullptr);
  constexpr int kRequests = 20;
  for (int i = 0; i < kRequests; ++i) {
    auto r = send(*client);
    ASSERT_TRUE(r) << client->error();
    ASSERT_EQ(r->status, 200) << "request " << i << ": " << r->body;
    ASSERT_EQ(*r->header("x-upstream"), "b");
  }
  // Round robin starts half the requests at a; each of those is retried once, on b.
  const auto first_at_a = static_cast<int64_t>(a.dataRequests());
  EXPECT_GE(first_at_a, kRequests / 2 - 1);
  EXPECT_EQ(b.dataRequests(), static_cast<size_t>(kRequests));
  EXPECT_EQ(p->stat("cluster.svc.upstream_rq_retry"), first_at_a);
  EXPECT_EQ(p->stat("cluster.svc.upstream_rq_retry_success"), first_at_a);
  EXPECT_EQ(p->stat("cluster.svc.upstream_rq_total"), kRequests);
  EXPECT_EQ(p->stat("http.ingress.downstream_rq_5xx"), 0);
}

TEST(RetryTest, NeverMoreThanNumRetriesRetries) {
  ControllableUpstream a("a"), b("b"), c("c"), d("d");
  for (auto* u : {&a, &b, &c, &d}) u->setData(B::answer(503));
  auto p = startProxy(envoyBootstrap(
      route(std::string("{retry_on: \"5xx\", num_retries: 2, retry_back_off: {base_interval: 0.001s}, ") +
            kPreviousHosts + "}"),
      staticCluster("svc", {a.port(), b.port(), c.port(), d.port()})));
  ASSERT_NE(p, nullptr);
  auto client = RawClient::connect(p->port());
  ASSERT_NE(client, nullptr);
  constexpr int kRequests = 6;
  for (int i = 0; i < kRequests; ++i) {
    auto r = send(*client);
    ASSERT_TRUE(r) << client->error();
    EXPECT_EQ(r->status, 503) << "the last try's answer is relayed";
  }
  // 1 + num_retries tries per request, counted where they arrive.
  size_t tries = 0;
  for (auto* u : {&a, &b, &c, &d}) tries += u->dataRequests();
  EXPECT_EQ(tries, static_cast<size_t>(kRequests * 3));
  EXPECT_EQ(p->stat("cluster.svc.upstream_rq_retry"), kRequests * 2);
  EXPECT_EQ(p->stat("cluster.svc.upstream_rq_retry_limit_exceeded"), kRequests);
  EXPECT_EQ(p->stat("cluster.svc.upstream_rq_retry_success"), 0);
  EXPECT_EQ(p->stat("http.ingress.rq_response_flag_URX"), kRequests);
}

TEST(RetryTest, PerTryTimeoutLeavesAHangingHostForAnother) {
  ControllableUpstream a("a"), b("b");
  a.setData(B::hang());
  auto p = startProxy(envoyBootstrap(
      route(std::string("{retry_on: \"5xx\", num_retries: 1, per_try_timeout: 0.2s, ") + kPreviousHosts + "}",
            "timeout: 3s"),
      staticCluster("svc", {a.port(), b.port()})));
  ASSERT_NE(p, nullptr);
  auto client = RawClient::connect(p->port());
  ASSERT_NE(client, nullptr);
  int slow = 0;
  for (int i = 0; i < 4; ++i) {
    const auto t0 = steady_clock::now();
    auto r = send(*client);
    const auto took = std::chrono::duration_cast<milliseconds>(steady_clock::now() - t0).count();
    ASSERT_TRUE(r) << client->error();
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(*r->header("x-upstream"), "b");
    if (took >= 180) ++slow;
    EXPECT_LT(took, 1500) << "waited for more than the per-try timeout";
  }
  // The requests that started at a waited one per-try timeout each, then went to b.
  EXPECT_EQ(static_cast<size_t>(slow), a.dataRequests());
  EXPECT_GE(a.dataRequests(), 1u);
  EXPECT_EQ(p->stat("cluster.svc.upstream_rq_per_try_timeout"), static_cast<int64_t>(a.dataRequests()));
  EXPECT_EQ(p->stat("cluster.svc.upstream_rq_retry_success"), static_cast<int64_t>(a.dataRequests()));
}

TEST(RetryTest, RouteTimeoutBoundsEveryTryTogether) {
  ControllableUpstream a("a"), b("b");
  a.setData(B::hang());
  b.setData(B::hang());
  // Five retries of 0.3 s would take 1.8 s; the route's 0.5 s ends them all.
  auto p = startProxy(envoyBootstrap(
      route("{retry_on: \"5xx,reset\", num_retries: 5, per_try_timeout: 0.3s, retry_back_off: {base_interval: 0.001s}}",
            "timeout: 0.5s"),
      staticCluster("svc", {a.port(), b.port()})));
  ASSERT_NE(p, nullptr);
  auto client = RawClient::connect(p->port());
  ASSERT_NE(client, nullptr);
  const auto t0 = steady_clock::now();
  auto r = send(*client);
  const auto took = std::chrono::duration_cast<milliseconds>(steady_clock::now() - t0).count();
  ASSERT_TRUE(r) << client->error();
  EXPECT_EQ(r->status, 504);
  EXPECT_GE(took, 450);
  EXPECT_LT(took, 1200);
  EXPECT_EQ(p->stat("http.ingress.rq_response_flag_UT"), 1);
  EXPECT_EQ(a.dataRequests() + b.dataRequests(), 2u) << "a first try, cut by its per-try timeout, and one retry";
  EXPECT_EQ(p->stat("cluster.svc.upstream_rq_per_try_timeout"), 1);
}

TEST(RetryTest, MaxRetriesAndRetryBudgetOverflowAreCounted) {
  // Both limits allow one active retry here: max_retries 1, and a budget of 20% of two active
  // requests (0) raised to min_retry_concurrency 1.
  for (const std::string cb : {"{thresholds: [{max_retries: 1}]}",
                               "{thresholds: [{retry_budget: {budget_percent: {value: 20}, min_retry_concurrency: 1}}]}"}) {
    SCOPED_TRACE(cb);
    ControllableUpstream a("a");
    // Request 1: 503, then its retry hangs (holding the one retry) until its per-try timeout,
    // then its second retry succeeds. Request 2, meanwhile: 503, and no retry may start.
    a.queueData(B::answer(503));
    a.queueData(B::hang());
    a.queueData(B::answer(503));
    auto p = startProxy(
        envoyBootstrap(route("{retry_on: \"5xx\", num_retries: 2, per_try_timeout: 0.5s}", "timeout: 5s"),
                       staticCluster("svc", {a.port()}, "    circuit_breakers: " + cb + "\n")),
        2);
    ASSERT_NE(p, nullptr);
    auto first = RawClient::connect(p->port());
    auto second = RawClient::connect(p->port());
    ASSERT_NE(first, nullptr);
    ASSERT_NE(second, nullptr);
    ASSERT_TRUE(first->send(makeRequest("GET", "/one")));
    // The retry is hanging at a.
    ASSERT_TRUE(waitUntil([&] { return a.dataRequests() == 2 && a.dataInFlight() == 1; }));
    const auto t0 = steady_clock::now();
    auto r2 = send(*second);
    const auto took = std::chrono::duration_cast<milliseconds>(steady_clock::now() - t0).count();
    ASSERT_TRUE(r2) << second->error();
    EXPECT_EQ(r2->status, 503);
    EXPECT_LT(took, 400) << "the overflowing request waited";
    EXPECT_EQ(p->stat("cluster.svc.upstream_rq_retry_overflow"), 1);
    EXPECT_EQ(a.dataRequests(), 3u);
    auto r1 = first->readResponse();
    ASSERT_TRUE(r1) << first->error();
    EXPECT_EQ(r1->status, 200);
    EXPECT_EQ(p->stat("cluster.svc.upstream_rq_retry"), 2);
    EXPECT_EQ(p->stat("cluster.svc.upstream_rq_retry_success"), 1);
  }
}

TEST(RetryTest, BodyOverTheBufferLimitIsStreamedNotRetriedAndASmallOneIsReplayedExactly) {
  ControllableUpstream a("a");
  auto p = startProxy(envoyBootstrap(route("{retry_on: \"5xx\", num_retries: 2}", "", "per_request_buffer_limit_bytes: 1024,"),
                                     staticCluster("svc", {a.port()})));
  ASSERT_NE(p, nullptr);
  auto client = RawClient::connect(p->port());
  ASSERT_NE(client, nullptr);

  std::string big(64 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  a.queueData(B::answer(503));
  auto r = send(*client, "POST", big);
  ASSERT_TRUE(r) << client->error();
  EXPECT_EQ(r->status, 503) << "a streamed body cannot be sent twice: the 503 is relayed";
  ASSERT_EQ(a.dataRequests(), 1u);
  EXPECT_EQ(a.dataRequestList()[0].body, big);
  EXPECT_EQ(p->stat("cluster.svc.retry_or_shadow_abandoned"), 1);
  EXPECT_EQ(p->stat("cluster.svc.upstream_rq_retry"), 0);

  // Within the limit: kept, and sent again whole on the retry.
  std::string small;
  for (int i = 0; i < 700; ++i) small += static_cast<char>(i % 251);  // every byte value but a few
  client = RawClient::connect(p->port());
  ASSERT_NE(client, nullptr);
  a.queueData(B::answer(503));
  r = send(*client, "PUT", small);
  ASSERT_TRUE(r) << client->error();
  EXPECT_EQ(r->status, 200);
  ASSERT_EQ(a.dataRequests(), 3u);
  const auto list = a.dataRequestList();
  EXPECT_EQ(list[1].body, small);
  EXPECT_EQ(list[2].body, small);
  EXPECT_EQ(*list[2].head.find("content-length"), std::to_string(small.size()));
  EXPECT_EQ(p->stat("cluster.svc.upstream_rq_retry"), 1);
  EXPECT_EQ(p->stat("cluster.svc.retry_or_shadow_abandoned"), 1);
}

TEST(RetryTest, RetriableStatusCodesRetryOnlyTheListedOnes) {
  ControllableUpstream a("a");
  auto p = startProxy(envoyBootstrap(
      route("{retry_on: \"retriable-status-codes\", retriable_status_codes: [418], num_retries: 1}"),
      staticCluster("svc", {a.port()})));
  ASSERT_NE(p, nullptr);
  auto client = RawClient::connect(p->port());
  ASSERT_NE(client, nullptr);
  a.queueData(B::answer(418));
  auto r = send(*client);
  ASSERT_TRUE(r) << client->error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(a.dataRequests(), 2u);

  a.queueData(B::answer(503));  // not listed: relayed as is
  r = send(*client);
  ASSERT_TRUE(r) << client->error();
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(a.dataRequests(), 3u);
  EXPECT_EQ(p->stat("cluster.svc.upstream_rq_retry"), 1);
}

TEST(RetryTest, RetryOnResetCoversAnUpstreamClosingMidHead) {
  ControllableUpstream a("a");
  const std::string routes =
      "{name: local, virtual_hosts: [{name: all, domains: [\"*\"], routes: ["
      "{match: {prefix: \"/plain\"}, route: {cluster: svc}}, "
      "{match: {prefix: \"/\"}, route: {cluster: svc, retry_policy: {retry_on: reset, num_retries: 1}}}]}]}";
  auto p = startProxy(envoyBootstrap(routes, staticCluster("svc", {a.port()})));
  ASSERT_NE(p, nullptr);
  auto client = RawClient::connect(p->port());
  ASSERT_NE(client, nullptr);
  a.queueData(B::closeMidHead());
  auto r = send(*client);
  ASSERT_TRUE(r) << client->error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(a.dataRequests(), 2u);
  EXPECT_EQ(p->stat("cluster.svc.upstream_rq_retry"), 1);
  EXPECT_EQ(p->stat("cluster.svc.upstream_rq_retry_success"), 1);

  // Without a policy the same cut head is a 503 UC.
  auto plain = RawClient::connect(p->port());
  ASSERT_NE(plain, nullptr);
  a.queueData(B::closeMidHead());
  ASSERT_TRUE(plain->send(makeRequest("GET", "/plain")));
  r = plain->readResponse();
  ASSERT_TRUE(r) << plain->error();
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(p->stat("http.ingress.rq_response_flag_UC"), 1);
  EXPECT_EQ(a.dataRequests(), 3u);
}

}  // namespace
}  // namespace trellis::tests
