// Request routing: virtual host by Host, route by path/headers/method, cluster by weight.
//
// All of it reads the immutable RouteTable compiled into the snapshot; nothing allocates in
// the common case (header matches on a repeated header join the values in a per-thread
// scratch string, as Envoy does).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "proxy/http/message_head.h"
#include "proxy/router/fast_random.h"
#include "proxy/snapshot/snapshot.h"

namespace trellis::proxy {

class VirtualHostTable {
 public:
  // `hosts` must outlive the table (both live in the same RouteTable).
  explicit VirtualHostTable(const std::vector<VirtualHost>& hosts);

  // Host header value as received (may carry a port); nullptr when no virtual host matches.
  const VirtualHost* find(std::string_view host) const;

 private:
  const VirtualHost* findExact(std::string_view host) const;
  const VirtualHost* findWildcard(std::string_view host) const;

  absl::flat_hash_map<std::string, const VirtualHost*> exact_;
  // (suffix without '*', host), longest first.
  std::vector<std::pair<std::string, const VirtualHost*>> suffixes_;
  // (prefix without '*', host), longest first.
  std::vector<std::pair<std::string, const VirtualHost*>> prefixes_;
  const VirtualHost* any_ = nullptr;
};

// First route of `vhost` whose match accepts the request, or nullptr.
const Route* matchRoute(const VirtualHost& vhost, const http::MessageHead& request);

bool routeMatches(const RouteMatch& match, const http::MessageHead& request);

// Picks one target by weight; `targets` with weight 0 are never picked. nullptr only when all
// weights are zero.
const WeightedTarget* pickTarget(const ForwardAction& action, FastRandom& random);
// The same over any weighted list (a tcp_proxy's weighted_clusters).
const WeightedTarget* pickTarget(const std::vector<WeightedTarget>& targets, uint32_t total_weight, FastRandom& random);

// Builds the smooth weighted round-robin order for endpoint weights (at most `max_len` long,
// weights scaled down proportionally when their sum exceeds it).
std::vector<uint32_t> buildSchedule(const std::vector<uint32_t>& weights, size_t max_len = 4096);

}  // namespace trellis::proxy
