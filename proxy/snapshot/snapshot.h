// The compiled, immutable configuration the data plane runs on.
//
// The main thread builds a Snapshot from xDS resources or the bootstrap (proxy/snapshot/compile.h)
// and posts a std::shared_ptr<const Snapshot> to every worker. A request holds the snapshot it
// started with until it ends, so a config change never alters a request in flight. Nothing here
// is mutable after compilation; per-worker mutable state (round-robin cursors, connection pools)
// lives in the worker, indexed by Cluster::index.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <re2/re2.h>

#include "proxy/stats/stats.h"

namespace trellis::proxy {

using Duration = std::chrono::milliseconds;

struct Endpoint {
  boost::asio::ip::tcp::endpoint address;
  uint32_t weight = 1;
};

struct Cluster {
  std::string name;
  uint32_t index = 0;  // position in Snapshot::clusters; keys per-worker state
  Duration connect_timeout{5000};
  std::vector<Endpoint> endpoints;
  // Smooth weighted round-robin order over `endpoints` (indices), computed once at compile
  // time; each worker walks it with its own cursor.
  std::vector<uint32_t> schedule;
  ClusterStats* stats = nullptr;  // owned by the StatsStore, outlives every snapshot
};

struct StringMatch {
  enum class Kind { Exact, Prefix, Suffix, Contains, Regex };
  Kind kind = Kind::Exact;
  std::string value;
  bool ignore_case = false;
  std::shared_ptr<const RE2> regex;  // Kind::Regex only; RE2 is thread-safe for matching

  bool matches(std::string_view s) const;
};

struct HeaderMatch {
  std::string name;  // lower-case; ":method" and ":path" are pseudo-headers
  bool present_only = false;
  bool present_value = true;  // for present_only: whether presence or absence matches
  StringMatch match;
  bool invert = false;
};

struct RouteMatch {
  enum class PathKind { Prefix, Path, Regex };
  PathKind kind = PathKind::Prefix;
  std::string path;
  std::shared_ptr<const RE2> regex;
  bool case_sensitive = true;
  std::vector<HeaderMatch> headers;
};

struct WeightedTarget {
  std::string cluster_name;
  // Index into Snapshot::clusters, or nullopt when the cluster is unknown (503, flag NC).
  std::optional<uint32_t> cluster;
  uint32_t weight = 1;
};

struct ForwardAction {
  std::vector<WeightedTarget> targets;
  uint32_t total_weight = 0;
  Duration timeout{15000};  // 0 disables
  std::optional<std::string> prefix_rewrite;
};

struct DirectResponse {
  uint16_t status = 200;
  std::string body;
};

struct Route {
  std::string name;
  RouteMatch match;
  std::optional<ForwardAction> forward;       // exactly one of forward and direct is set
  std::optional<DirectResponse> direct;
};

struct VirtualHost {
  std::string name;
  std::vector<std::string> domains;  // lower-case, as configured
  std::vector<Route> routes;
};

// Domain lookup in Envoy's order: exact, then the longest `*suffix`, then the longest
// `prefix*`, then `*`. Built once per route configuration.
class VirtualHostTable;

struct RouteTable {
  std::string name;
  std::vector<VirtualHost> virtual_hosts;
  std::shared_ptr<const VirtualHostTable> lookup;
};

struct HttpOptions {
  Duration idle_timeout{3600 * 1000};   // downstream connection idle; 0 disables
  Duration request_headers_timeout{0};  // 0 disables
  uint32_t max_request_headers_bytes = 60 * 1024;
  uint32_t max_headers_count = 100;
  bool use_remote_address = false;
  bool skip_xff_append = false;
  bool generate_request_id = true;
  bool preserve_external_request_id = false;
};

struct Listener {
  std::string name;
  // The Listener resource, serialized deterministically: a config update that leaves it
  // unchanged leaves the running listener and its connections untouched.
  std::string source;
  boost::asio::ip::tcp::endpoint address;
  std::string stat_prefix;
  HttpOptions http;
  std::shared_ptr<const RouteTable> routes;
  HttpStats* http_stats = nullptr;
  ListenerStats* listener_stats = nullptr;
};

struct Snapshot {
  std::string version;
  std::vector<std::shared_ptr<const Listener>> listeners;
  std::vector<std::shared_ptr<const Cluster>> clusters;

  const Listener* findListener(const std::string& name) const;
};

}  // namespace trellis::proxy
