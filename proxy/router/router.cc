// Matching in Envoy's semantics (virtual host domains, route match fields, header matchers)
// and weighted choice.
#include "proxy/router/router.h"

#include <algorithm>
#include <numeric>

namespace trellis::proxy {

namespace {

std::string lowerCopy(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  return out;
}

// Host without a trailing ":port" (IPv6 literals keep their brackets).
std::string_view stripPort(std::string_view host) {
  size_t colon = host.rfind(':');
  if (colon == std::string_view::npos) return host;
  if (host.find(']') != std::string_view::npos && host.rfind(']') > colon) return host;
  for (size_t i = colon + 1; i < host.size(); ++i) {
    if (host[i] < '0' || host[i] > '9') return host;
  }
  return host.substr(0, colon);
}

bool startsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool endsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

}  // namespace

bool StringMatch::matches(std::string_view s) const {
  switch (kind) {
    case Kind::Exact:
      return ignore_case ? http::equalsIgnoreCase(s, value) : s == value;
    case Kind::Prefix:
      return ignore_case ? http::startsWithIgnoreCase(s, value) : startsWith(s, value);
    case Kind::Suffix:
      return ignore_case ? http::endsWithIgnoreCase(s, value) : endsWith(s, value);
    case Kind::Contains:
      if (!ignore_case) return s.find(value) != std::string_view::npos;
      for (size_t i = 0; i + value.size() <= s.size(); ++i) {
        if (http::equalsIgnoreCase(s.substr(i, value.size()), value)) return true;
      }
      return false;
    case Kind::Regex:
      return RE2::FullMatch(re2::StringPiece(s.data(), s.size()), *regex);
  }
  return false;
}

VirtualHostTable::VirtualHostTable(const std::vector<VirtualHost>& hosts) {
  for (const auto& vh : hosts) {
    for (const auto& d : vh.domains) {
      if (d == "*") {
        if (!any_) any_ = &vh;
      } else if (d.front() == '*') {
        suffixes_.emplace_back(lowerCopy(d.substr(1)), &vh);
      } else if (d.back() == '*') {
        prefixes_.emplace_back(lowerCopy(d.substr(0, d.size() - 1)), &vh);
      } else {
        exact_.emplace(lowerCopy(d), &vh);
      }
    }
  }
  auto longestFirst = [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); };
  std::stable_sort(suffixes_.begin(), suffixes_.end(), longestFirst);
  std::stable_sort(prefixes_.begin(), prefixes_.end(), longestFirst);
}

const VirtualHost* VirtualHostTable::findExact(std::string_view host) const {
  char buf[256];
  if (host.size() > sizeof(buf)) return nullptr;
  for (size_t i = 0; i < host.size(); ++i) {
    char c = host[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
  auto it = exact_.find(absl::string_view(buf, host.size()));
  return it == exact_.end() ? nullptr : it->second;
}

const VirtualHost* VirtualHostTable::findWildcard(std::string_view host) const {
  // A wildcard must stand for at least one character.
  for (const auto& [suffix, vh] : suffixes_) {
    if (host.size() > suffix.size() && http::endsWithIgnoreCase(host, suffix)) return vh;
  }
  for (const auto& [prefix, vh] : prefixes_) {
    if (host.size() > prefix.size() && http::startsWithIgnoreCase(host, prefix)) return vh;
  }
  return nullptr;
}

const VirtualHost* VirtualHostTable::find(std::string_view host) const {
  // Domains may be written with or without a port: try the host as sent, then without its
  // port, before falling back to the catch-all.
  std::string_view bare = stripPort(host);
  if (auto* vh = findExact(host)) return vh;
  if (bare.size() != host.size()) {
    if (auto* vh = findExact(bare)) return vh;
  }
  if (auto* vh = findWildcard(host)) return vh;
  if (bare.size() != host.size()) {
    if (auto* vh = findWildcard(bare)) return vh;
  }
  return any_;
}

namespace {

// The request's value for a header matcher: pseudo-headers, or all values of that name
// joined by ',' (RFC 9110 §5.3). Returns false when absent.
bool headerValue(const http::MessageHead& req, const std::string& name, std::string_view& out) {
  if (name[0] == ':') {
    if (name == ":method") {
      out = req.method;
      return true;
    }
    if (name == ":path") {
      out = req.target;
      return true;
    }
    if (name == ":authority") {
      const auto* h = req.find("host");
      if (!h) return false;
      out = h->value;
      return true;
    }
    return false;
  }
  thread_local std::string joined;
  const http::HeaderField* first = nullptr;
  bool multiple = false;
  for (const auto& h : req.headers) {
    if (!http::equalsIgnoreCase(h.name, name)) continue;
    if (!first) {
      first = &h;
      continue;
    }
    if (!multiple) {
      joined.assign(first->value);
      multiple = true;
    }
    joined.push_back(',');
    joined.append(h.value);
  }
  if (!first) return false;
  out = multiple ? std::string_view(joined) : first->value;
  return true;
}

bool headerMatches(const HeaderMatch& m, const http::MessageHead& req) {
  std::string_view value;
  bool present = headerValue(req, m.name, value);
  bool result;
  if (m.present_only) {
    result = present == m.present_value;
  } else {
    // A matcher on a value never matches an absent header, even inverted (Envoy's rule).
    if (!present) return false;
    result = m.match.matches(value);
  }
  return m.invert ? !result : result;
}

}  // namespace

bool routeMatches(const RouteMatch& match, const http::MessageHead& req) {
  switch (match.kind) {
    case RouteMatch::PathKind::Prefix:
      if (match.case_sensitive ? !startsWith(req.target, match.path)
                               : !http::startsWithIgnoreCase(req.target, match.path)) {
        return false;
      }
      break;
    case RouteMatch::PathKind::Path: {
      std::string_view p = req.pathOnly();
      if (match.case_sensitive ? p != match.path : !http::equalsIgnoreCase(p, match.path)) return false;
      break;
    }
    case RouteMatch::PathKind::Regex: {
      std::string_view p = req.pathOnly();
      if (!RE2::FullMatch(re2::StringPiece(p.data(), p.size()), *match.regex)) return false;
      break;
    }
  }
  for (const auto& h : match.headers) {
    if (!headerMatches(h, req)) return false;
  }
  return true;
}

const Route* matchRoute(const VirtualHost& vhost, const http::MessageHead& req) {
  for (const auto& r : vhost.routes) {
    if (routeMatches(r.match, req)) return &r;
  }
  return nullptr;
}

const WeightedTarget* pickTarget(const ForwardAction& action, FastRandom& random) {
  return pickTarget(action.targets, action.total_weight, random);
}

const WeightedTarget* pickTarget(const std::vector<WeightedTarget>& targets, uint32_t total_weight, FastRandom& random) {
  if (targets.size() == 1) return targets[0].weight > 0 ? &targets[0] : nullptr;
  if (total_weight == 0) return nullptr;
  uint32_t r = random.below(total_weight);
  for (const auto& t : targets) {
    if (r < t.weight) return &t;
    r -= t.weight;
  }
  return nullptr;
}

std::vector<uint32_t> buildSchedule(const std::vector<uint32_t>& weights, size_t max_len) {
  std::vector<uint64_t> w(weights.begin(), weights.end());
  uint64_t sum = std::accumulate(w.begin(), w.end(), uint64_t{0});
  if (sum == 0) return {};
  if (sum > max_len) {
    // Scale down, keeping every endpoint with a non-zero weight at least once.
    for (auto& x : w) {
      if (x > 0) x = std::max<uint64_t>(1, x * max_len / sum);
    }
    sum = std::accumulate(w.begin(), w.end(), uint64_t{0});
  } else {
    uint64_t g = 0;
    for (auto x : w) g = std::gcd(g, x);
    for (auto& x : w) x /= g;
    sum /= g;
  }
  // Smooth weighted round robin: each step adds every weight to its running total, picks the
  // largest and subtracts the sum from it. Spreads a heavy endpoint's turns evenly.
  std::vector<int64_t> current(w.size(), 0);
  std::vector<uint32_t> order;
  order.reserve(sum);
  for (uint64_t step = 0; step < sum; ++step) {
    size_t best = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      current[i] += static_cast<int64_t>(w[i]);
      if (current[i] > current[best]) best = i;
    }
    current[best] -= static_cast<int64_t>(sum);
    order.push_back(static_cast<uint32_t>(best));
  }
  return order;
}

}  // namespace trellis::proxy
