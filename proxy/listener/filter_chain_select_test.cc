// Envoy's filter-chain precedence, one criterion at a time, plus the default chain, whether the
// TLS inspector is needed, CIDR containment and server-name wildcards.
#include "proxy/listener/filter_chain_select.h"

#include <gtest/gtest.h>

namespace trellis::proxy {
namespace {

namespace ip = boost::asio::ip;

CidrRange cidr(const char* address, uint8_t prefix_len) { return CidrRange{ip::make_address(address), prefix_len}; }

// A listener whose chains are named by their position's purpose; the default chain, when given,
// goes last as compile puts it.
struct ListenerBuilder {
  Listener listener;

  ListenerBuilder& chain(const std::string& name, FilterChainMatch match) {
    FilterChain c;
    c.name = name;
    c.match = std::move(match);
    listener.filter_chains.push_back(std::move(c));
    return *this;
  }
  ListenerBuilder& defaultChain(FilterChainMatch match = {}) {
    chain("default", std::move(match));
    listener.default_filter_chain = static_cast<uint32_t>(listener.filter_chains.size() - 1);
    return *this;
  }
};

ConnectionFacts facts(const char* local, uint16_t port, std::string sni = "", bool tls = false,
                      std::vector<std::string> alpn = {}) {
  ConnectionFacts f;
  f.local = ip::tcp::endpoint(ip::make_address(local), port);
  f.remote = ip::tcp::endpoint(ip::make_address("10.9.9.9"), 40000);
  f.sni = std::move(sni);
  f.tls = tls;
  f.tls_inspected = tls;
  f.alpn = std::move(alpn);
  return f;
}

// The name of the selected chain, or "none".
std::string selected(const Listener& l, const ConnectionFacts& f) {
  const std::optional<uint32_t> i = selectFilterChain(l, f);
  return i ? l.filter_chains.at(*i).name : "none";
}

TEST(FilterChainSelectTest, PortSpecificBeatsPortless) {
  ListenerBuilder b;
  b.chain("portless", {}).chain("p8080", {.destination_port = 8080}).chain("p9090", {.destination_port = 9090});
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 8080)), "p8080");
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 9090)), "p9090");
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 80)), "portless");
}

TEST(FilterChainSelectTest, PortMatchIsFinalEvenIfLaterStepsFail) {
  // Once a port-specific chain exists, portless chains are out even if the port chain fails a
  // later step (Envoy does not backtrack).
  ListenerBuilder b;
  b.chain("portless", {}).chain("p443-sni", {.destination_port = 443, .server_names = {"a.example.com"}});
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "a.example.com", true)), "p443-sni");
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "b.example.com", true)), "none");
  b.defaultChain();
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "b.example.com", true)), "default");
}

TEST(FilterChainSelectTest, LongestPrefixWins) {
  ListenerBuilder b;
  b.chain("any-ip", {})
      .chain("ten-8", {.prefix_ranges = {cidr("10.0.0.0", 8)}})
      .chain("ten-24", {.prefix_ranges = {cidr("192.168.0.0", 16), cidr("10.1.2.0", 24)}})
      .chain("host", {.prefix_ranges = {cidr("10.1.2.3", 32)}});
  EXPECT_EQ(selected(b.listener, facts("10.1.2.3", 80)), "host");
  EXPECT_EQ(selected(b.listener, facts("10.1.2.4", 80)), "ten-24");
  EXPECT_EQ(selected(b.listener, facts("192.168.7.7", 80)), "ten-24");
  EXPECT_EQ(selected(b.listener, facts("10.200.0.1", 80)), "ten-8");
  EXPECT_EQ(selected(b.listener, facts("172.16.0.1", 80)), "any-ip");
}

TEST(FilterChainSelectTest, PrefixZeroMatchesItsFamilyOnly) {
  ListenerBuilder b;
  b.chain("v4-all", {.prefix_ranges = {cidr("0.0.0.0", 0)}}).chain("v6-all", {.prefix_ranges = {cidr("::", 0)}});
  EXPECT_EQ(selected(b.listener, facts("1.2.3.4", 80)), "v4-all");
  EXPECT_EQ(selected(b.listener, facts("2001:db8::1", 80)), "v6-all");
}

TEST(FilterChainSelectTest, Ipv6AndIpv4Mapped) {
  ListenerBuilder b;
  b.chain("v6-32", {.prefix_ranges = {cidr("2001:db8::", 32)}})
      .chain("v6-64", {.prefix_ranges = {cidr("2001:db8:0:1::", 64)}})
      .chain("v4-ten", {.prefix_ranges = {cidr("10.0.0.0", 8)}})
      .chain("rest", {});
  EXPECT_EQ(selected(b.listener, facts("2001:db8:0:1::5", 80)), "v6-64");
  EXPECT_EQ(selected(b.listener, facts("2001:db8:ffff::5", 80)), "v6-32");
  EXPECT_EQ(selected(b.listener, facts("2001:db9::1", 80)), "rest");
  // A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d.
  EXPECT_EQ(selected(b.listener, facts("::ffff:10.1.1.1", 80)), "v4-ten");
  EXPECT_EQ(selected(b.listener, facts("::ffff:11.1.1.1", 80)), "rest");
}

TEST(FilterChainSelectTest, ExactNameBeatsWildcardBeatsNone) {
  ListenerBuilder b;
  b.chain("no-names", {})
      .chain("wild", {.server_names = {"*.example.com"}})
      .chain("exact", {.server_names = {"other.test", "api.example.com"}});
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "api.example.com", true)), "exact");
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "other.test", true)), "exact");
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "www.example.com", true)), "wild");
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "example.com", true)), "no-names");
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "", true)), "no-names");
}

TEST(FilterChainSelectTest, LongestWildcardSuffixWins) {
  ListenerBuilder b;
  b.chain("short", {.server_names = {"*.com"}})
      .chain("long", {.server_names = {"*.eu.example.com"}})
      .chain("mid", {.server_names = {"*.example.com"}});
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "a.eu.example.com", true)), "long");
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "a.b.eu.example.com", true)), "long");
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "eu.example.com", true)), "mid");
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "x.org.com", true)), "short");
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "x.org", true)), "none");
}

TEST(FilterChainSelectTest, NoSniOnlyMatchesChainsWithoutNames) {
  ListenerBuilder b;
  b.chain("named", {.server_names = {"a.example.com"}});
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "", true)), "none");
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443)), "none");
}

TEST(FilterChainSelectTest, TransportProtocol) {
  ListenerBuilder b;
  b.chain("empty", {}).chain("tls", {.transport_protocol = "tls"}).chain("raw", {.transport_protocol = "raw_buffer"});
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "", true)), "tls");
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "", false)), "raw");

  ListenerBuilder only_tls;
  only_tls.chain("tls", {.transport_protocol = "tls"}).chain("empty", {});
  EXPECT_EQ(selected(only_tls.listener, facts("10.0.0.1", 443, "", true)), "tls");
  EXPECT_EQ(selected(only_tls.listener, facts("10.0.0.1", 443, "", false)), "empty");

  ListenerBuilder strict;
  strict.chain("tls", {.transport_protocol = "tls"});
  EXPECT_EQ(selected(strict.listener, facts("10.0.0.1", 443, "", false)), "none");
}

TEST(FilterChainSelectTest, ApplicationProtocols) {
  ListenerBuilder b;
  b.chain("any-alpn", {.transport_protocol = "tls"})
      .chain("http1", {.transport_protocol = "tls", .application_protocols = {"http/1.1"}})
      .chain("h2", {.transport_protocol = "tls", .application_protocols = {"h2", "h2c"}});
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "", true, {"h2", "http/1.1"})), "h2");
  // The connection's order decides, not the chains'.
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "", true, {"http/1.1", "h2"})), "http1");
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "", true, {"spdy/3", "h2"})), "h2");
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "", true, {"spdy/3"})), "any-alpn");
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "", true)), "any-alpn");
}

TEST(FilterChainSelectTest, StepsCombineInOrder) {
  // The server-name step runs before transport: the exact name chain wins even though another
  // chain matches the transport more specifically.
  ListenerBuilder b;
  b.chain("tls-any-name", {.destination_port = 443, .transport_protocol = "tls"})
      .chain("named", {.destination_port = 443, .server_names = {"a.example.com"}})
      .chain("other-port", {.destination_port = 8443, .server_names = {"a.example.com"}, .transport_protocol = "tls"});
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "a.example.com", true)), "named");
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "b.example.com", true)), "tls-any-name");
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 443, "b.example.com", false)), "none");
}

TEST(FilterChainSelectTest, FirstSurvivorInConfigOrder) {
  ListenerBuilder b;
  b.chain("first", {.prefix_ranges = {cidr("10.0.0.0", 8)}}).chain("second", {.prefix_ranges = {cidr("10.0.0.0", 8)}});
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 80)), "first");
}

TEST(FilterChainSelectTest, DefaultChainWhenNothingMatches) {
  ListenerBuilder b;
  b.chain("p80", {.destination_port = 80}).defaultChain();
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 80)), "p80");
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 81)), "default");

  ListenerBuilder no_default;
  no_default.chain("p80", {.destination_port = 80});
  EXPECT_EQ(selectFilterChain(no_default.listener, facts("10.0.0.1", 81)), std::nullopt);

  Listener empty;
  EXPECT_EQ(selectFilterChain(empty, facts("10.0.0.1", 81)), std::nullopt);
}

TEST(FilterChainSelectTest, DefaultChainIsNeverMatchedAsARegularChain) {
  // The default chain's own match (here one that would match everything, and more specifically
  // than the regular chain) plays no part.
  ListenerBuilder b;
  b.chain("p80-tls", {.destination_port = 80, .transport_protocol = "tls"})
      .defaultChain({.destination_port = 80, .prefix_ranges = {cidr("10.0.0.0", 8)}});
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 80, "", true)), "p80-tls");
  EXPECT_EQ(selected(b.listener, facts("10.0.0.1", 80, "", false)), "default");
  // A default in the middle of the list (not where compile puts it) is still skipped.
  Listener l;
  l.filter_chains.resize(2);
  l.filter_chains[0].name = "default";
  l.filter_chains[1].name = "regular";
  l.filter_chains[1].match.destination_port = 80;
  l.default_filter_chain = 0;
  EXPECT_EQ(selected(l, facts("10.0.0.1", 80)), "regular");
  EXPECT_EQ(selected(l, facts("10.0.0.1", 81)), "default");
  EXPECT_FALSE(selectionNeedsTls(l, facts("10.0.0.1", 81)));
}

TEST(FilterChainSelectTest, SelectionNeedsTls) {
  ListenerBuilder b;
  b.chain("mysql", {.destination_port = 3306})
      .chain("ten-net-plain", {.destination_port = 25, .prefix_ranges = {cidr("10.0.0.0", 8)}})
      .chain("smtp-tls", {.destination_port = 25, .transport_protocol = "tls"})
      .chain("sni", {.server_names = {"api.example.com"}})
      .defaultChain({.transport_protocol = "tls"});
  // A TCP-only port chain: nothing later can depend on the ClientHello.
  EXPECT_FALSE(selectionNeedsTls(b.listener, facts("10.0.0.1", 3306)));
  // The IP step already picked the plain chain.
  EXPECT_FALSE(selectionNeedsTls(b.listener, facts("10.0.0.1", 25)));
  // Elsewhere on port 25 the TLS chain is what is left.
  EXPECT_TRUE(selectionNeedsTls(b.listener, facts("192.168.1.1", 25)));
  // An unknown port falls to the portless chain with server names.
  EXPECT_TRUE(selectionNeedsTls(b.listener, facts("10.0.0.1", 8443)));

  ListenerBuilder plain;
  plain.chain("p80", {.destination_port = 80}).chain("rest", {}).defaultChain({.server_names = {"x.example"}});
  EXPECT_FALSE(selectionNeedsTls(plain.listener, facts("10.0.0.1", 80)));
  EXPECT_FALSE(selectionNeedsTls(plain.listener, facts("10.0.0.1", 81)));

  ListenerBuilder alpn_only;
  alpn_only.chain("h2", {.application_protocols = {"h2"}});
  EXPECT_TRUE(selectionNeedsTls(alpn_only.listener, facts("10.0.0.1", 80)));
  ListenerBuilder raw_only;
  raw_only.chain("raw", {.transport_protocol = "raw_buffer"});
  EXPECT_TRUE(selectionNeedsTls(raw_only.listener, facts("10.0.0.1", 80)));
}

TEST(FilterChainSelectTest, ServerNameMatches) {
  EXPECT_TRUE(serverNameMatches("example.com", "example.com"));
  EXPECT_FALSE(serverNameMatches("example.com", "a.example.com"));
  EXPECT_FALSE(serverNameMatches("*.example.com", "example.com"));
  EXPECT_TRUE(serverNameMatches("*.example.com", "a.example.com"));
  EXPECT_TRUE(serverNameMatches("*.example.com", "a.b.example.com"));
  EXPECT_FALSE(serverNameMatches("*.example.com", "xexample.com"));
  EXPECT_FALSE(serverNameMatches("*.example.com", ".example.com"));
  EXPECT_FALSE(serverNameMatches("*.example.com", "a.example.org"));
  EXPECT_FALSE(serverNameMatches("*", "example.com"));
  EXPECT_FALSE(serverNameMatches("*", "*"));
  EXPECT_FALSE(serverNameMatches("*.example.com", ""));
}

TEST(CidrRangeTest, Contains) {
  EXPECT_TRUE(cidr("10.1.0.0", 16).contains(ip::make_address("10.1.255.255")));
  EXPECT_FALSE(cidr("10.1.0.0", 16).contains(ip::make_address("10.2.0.0")));
  EXPECT_TRUE(cidr("10.1.2.0", 23).contains(ip::make_address("10.1.3.9")));
  EXPECT_FALSE(cidr("10.1.2.0", 23).contains(ip::make_address("10.1.4.0")));
  EXPECT_TRUE(cidr("10.1.2.3", 32).contains(ip::make_address("10.1.2.3")));
  EXPECT_FALSE(cidr("10.1.2.3", 32).contains(ip::make_address("10.1.2.2")));
  EXPECT_TRUE(cidr("0.0.0.0", 0).contains(ip::make_address("255.255.255.255")));
  EXPECT_FALSE(cidr("0.0.0.0", 0).contains(ip::make_address("::1")));
  EXPECT_FALSE(cidr("::", 0).contains(ip::make_address("1.2.3.4")));
  EXPECT_TRUE(cidr("::", 0).contains(ip::make_address("::1")));
  EXPECT_TRUE(cidr("fd00::", 7).contains(ip::make_address("fc12::1")));
  EXPECT_FALSE(cidr("fd00::", 8).contains(ip::make_address("fc12::1")));
  EXPECT_TRUE(cidr("2001:db8::1", 128).contains(ip::make_address("2001:db8::1")));
  EXPECT_FALSE(cidr("2001:db8::1", 128).contains(ip::make_address("2001:db8::2")));
  // IPv4-mapped addresses count as IPv4, and a mapped range as the IPv4 range it stands for.
  EXPECT_TRUE(cidr("10.0.0.0", 8).contains(ip::make_address("::ffff:10.3.3.3")));
  EXPECT_FALSE(cidr("::", 0).contains(ip::make_address("::ffff:10.3.3.3")));
  EXPECT_TRUE(cidr("::ffff:10.0.0.0", 104).contains(ip::make_address("10.3.3.3")));
  EXPECT_FALSE(cidr("::ffff:10.0.0.0", 104).contains(ip::make_address("11.3.3.3")));
}

}  // namespace
}  // namespace trellis::proxy
