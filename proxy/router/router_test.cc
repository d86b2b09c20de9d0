// Virtual host lookup order, route matching, header matchers, weighted choice, WRR schedule.
#include "proxy/router/router.h"

#include <map>

#include <gtest/gtest.h>

namespace trellis::proxy {
namespace {

std::vector<VirtualHost> hosts(std::initializer_list<std::pair<const char*, std::vector<std::string>>> spec) {
  std::vector<VirtualHost> out;
  for (const auto& [name, domains] : spec) out.push_back(VirtualHost{name, domains, {}});
  return out;
}

TEST(VirtualHostTableTest, EnvoyOrderExactSuffixPrefixAny) {
  auto vhs = hosts({{"any", {"*"}},
                    {"exact", {"api.example.com", "api.example.com:8080"}},
                    {"suffix", {"*.example.com"}},
                    {"longsuffix", {"*.eu.example.com"}},
                    {"prefix", {"api.*"}}});
  VirtualHostTable t(vhs);
  EXPECT_EQ(t.find("api.example.com")->name, "exact");
  EXPECT_EQ(t.find("API.Example.com")->name, "exact");
  EXPECT_EQ(t.find("api.example.com:8080")->name, "exact");
  EXPECT_EQ(t.find("api.example.com:9999")->name, "exact");  // port stripped as fallback
  EXPECT_EQ(t.find("www.example.com")->name, "suffix");
  EXPECT_EQ(t.find("x.eu.example.com")->name, "longsuffix");
  EXPECT_EQ(t.find("www.example.com:80")->name, "suffix");
  EXPECT_EQ(t.find("api.other.org")->name, "prefix");
  EXPECT_EQ(t.find("other.org")->name, "any");
  EXPECT_EQ(t.find("")->name, "any");
  // A wildcard stands for at least one character.
  EXPECT_EQ(t.find(".example.com")->name, "any");
}

TEST(VirtualHostTableTest, NoCatchAllMeansNoMatch) {
  auto vhs = hosts({{"svc", {"svc.local", "svc.local:9080"}}});
  VirtualHostTable t(vhs);
  EXPECT_EQ(t.find("other"), nullptr);
  EXPECT_NE(t.find("svc.local:9080"), nullptr);
}

http::MessageHead request(std::string_view method, std::string_view target,
                          std::vector<http::HeaderField> headers = {}) {
  http::MessageHead h;
  h.method = method;
  h.target = target;
  h.headers = std::move(headers);
  return h;
}

TEST(RouteMatchTest, PrefixPathAndRegex) {
  RouteMatch prefix{RouteMatch::PathKind::Prefix, "/api", nullptr, true, {}};
  EXPECT_TRUE(routeMatches(prefix, request("GET", "/api/v1")));
  EXPECT_TRUE(routeMatches(prefix, request("GET", "/api?x")));
  EXPECT_FALSE(routeMatches(prefix, request("GET", "/API/v1")));
  prefix.case_sensitive = false;
  EXPECT_TRUE(routeMatches(prefix, request("GET", "/API/v1")));

  RouteMatch path{RouteMatch::PathKind::Path, "/exact", nullptr, true, {}};
  EXPECT_TRUE(routeMatches(path, request("GET", "/exact?q=1")));  // query is not part of the path
  EXPECT_FALSE(routeMatches(path, request("GET", "/exact/more")));

  RouteMatch re{RouteMatch::PathKind::Regex, "", std::make_shared<RE2>("/users/[0-9]+"), true, {}};
  EXPECT_TRUE(routeMatches(re, request("GET", "/users/42?x=y")));
  EXPECT_FALSE(routeMatches(re, request("GET", "/users/42/x")));  // full match
}

HeaderMatch headerMatch(std::string name, StringMatch::Kind kind, std::string value, bool invert = false) {
  HeaderMatch h;
  h.name = std::move(name);
  h.match.kind = kind;
  h.match.value = std::move(value);
  h.invert = invert;
  return h;
}

TEST(RouteMatchTest, Headers) {
  RouteMatch m{RouteMatch::PathKind::Prefix, "/", nullptr, true, {}};
  m.headers.push_back(headerMatch("x-version", StringMatch::Kind::Exact, "blue"));
  EXPECT_TRUE(routeMatches(m, request("GET", "/", {{"X-Version", "blue"}})));
  EXPECT_FALSE(routeMatches(m, request("GET", "/", {{"X-Version", "green"}})));
  EXPECT_FALSE(routeMatches(m, request("GET", "/")));

  // Inverted matchers still need the header to be present (Envoy's rule).
  m.headers[0] = headerMatch("x-version", StringMatch::Kind::Exact, "blue", true);
  EXPECT_TRUE(routeMatches(m, request("GET", "/", {{"x-version", "green"}})));
  EXPECT_FALSE(routeMatches(m, request("GET", "/")));

  m.headers[0] = headerMatch(":method", StringMatch::Kind::Exact, "POST");
  EXPECT_TRUE(routeMatches(m, request("POST", "/")));
  EXPECT_FALSE(routeMatches(m, request("GET", "/")));

  HeaderMatch present;
  present.name = "x-debug";
  present.present_only = true;
  m.headers[0] = present;
  EXPECT_TRUE(routeMatches(m, request("GET", "/", {{"x-debug", ""}})));
  EXPECT_FALSE(routeMatches(m, request("GET", "/")));
  m.headers[0].present_value = false;
  EXPECT_TRUE(routeMatches(m, request("GET", "/")));

  // Repeated headers are matched on their values joined by ','.
  m.headers[0] = headerMatch("x-tag", StringMatch::Kind::Exact, "a,b");
  EXPECT_TRUE(routeMatches(m, request("GET", "/", {{"x-tag", "a"}, {"x-tag", "b"}})));

  m.headers[0] = headerMatch("x-user", StringMatch::Kind::Regex, "");
  m.headers[0].match.regex = std::make_shared<RE2>("admin-[a-z]+");
  EXPECT_TRUE(routeMatches(m, request("GET", "/", {{"x-user", "admin-bob"}})));
  EXPECT_FALSE(routeMatches(m, request("GET", "/", {{"x-user", "bob"}})));

  for (auto [kind, value, yes, no] : std::vector<std::tuple<StringMatch::Kind, std::string, std::string, std::string>>{
           {StringMatch::Kind::Prefix, "ab", "abc", "cab"},
           {StringMatch::Kind::Suffix, "bc", "abc", "bca"},
           {StringMatch::Kind::Contains, "b", "abc", "ac"}}) {
    m.headers[0] = headerMatch("x-s", kind, value);
    EXPECT_TRUE(routeMatches(m, request("GET", "/", {{"x-s", yes}}))) << value;
    EXPECT_FALSE(routeMatches(m, request("GET", "/", {{"x-s", no}}))) << value;
  }
}

TEST(RouteMatchTest, FirstMatchingRouteWins) {
  VirtualHost vh;
  vh.routes.push_back(Route{"specific", RouteMatch{RouteMatch::PathKind::Prefix, "/a/b", nullptr, true, {}}, {}, {}});
  vh.routes.push_back(Route{"general", RouteMatch{RouteMatch::PathKind::Prefix, "/a", nullptr, true, {}}, {}, {}});
  EXPECT_EQ(matchRoute(vh, request("GET", "/a/b/c"))->name, "specific");
  EXPECT_EQ(matchRoute(vh, request("GET", "/a/x"))->name, "general");
  EXPECT_EQ(matchRoute(vh, request("GET", "/b")), nullptr);
}

TEST(WeightedChoiceTest, SharesFollowWeights) {
  ForwardAction a;
  a.targets = {{"red", 0, 80}, {"blue", 1, 20}, {"green", 2, 0}};
  a.total_weight = 100;
  FastRandom rnd(42);
  std::map<std::string, int> counts;
  const int n = 100000;
  for (int i = 0; i < n; ++i) counts[pickTarget(a, rnd)->cluster_name]++;
  EXPECT_NEAR(counts["red"] / double(n), 0.80, 0.01);
  EXPECT_NEAR(counts["blue"] / double(n), 0.20, 0.01);
  EXPECT_EQ(counts["green"], 0);
}

TEST(WeightedChoiceTest, AllZeroPicksNothing) {
  ForwardAction a;
  a.targets = {{"red", 0, 0}, {"blue", 1, 0}};
  a.total_weight = 0;
  FastRandom rnd(1);
  EXPECT_EQ(pickTarget(a, rnd), nullptr);
}

TEST(ScheduleTest, SmoothWeightedRoundRobin) {
  auto s = buildSchedule({5, 1, 1});
  ASSERT_EQ(s.size(), 7u);
  std::map<uint32_t, int> counts;
  for (auto i : s) counts[i]++;
  EXPECT_EQ(counts[0], 5);
  EXPECT_EQ(counts[1], 1);
  EXPECT_EQ(counts[2], 1);
  // Smooth: the heavy endpoint never takes more than 3 turns in a row here.
  int run = 0, longest = 0;
  for (auto i : s) {
    run = i == 0 ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  EXPECT_LE(longest, 3);
  EXPECT_EQ(buildSchedule({2, 2}).size(), 2u);  // reduced by the gcd
  EXPECT_TRUE(buildSchedule({0, 0}).empty());
  auto big = buildSchedule({100000, 1}, 1000);
  EXPECT_LE(big.size(), 1001u);
  EXPECT_NE(std::count(big.begin(), big.end(), 1u), 0);  // the light endpoint keeps a turn
}

}  // namespace
}  // namespace trellis::proxy
