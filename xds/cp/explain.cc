// `trellis-cp explain` (see explain.h): a pure rendering of one proxy's translated resources,
// and the command that loads a folder to render.
#include "xds/cp/explain.h"

#include <iostream>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/appmesh/loader.h"
#include "config/appmesh/validate.h"
#include "envoy/extensions/access_loggers/file/v3/file.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "xds/cp/resolve_host.h"

namespace trellis::cp {

namespace {

namespace am = config::appmesh;
namespace xroute = envoy::config::route::v3;
namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;
namespace tcp = envoy::extensions::filters::network::tcp_proxy::v3;

std::string quoted(const std::string& text) { return absl::StrCat("\"", text, "\""); }

std::string millis(const google::protobuf::Duration& d) {
  const int64_t ms = d.seconds() * 1000 + d.nanos() / 1000000;
  return ms % 1000 == 0 ? absl::StrCat(ms / 1000, "s") : absl::StrCat(ms, "ms");
}

// "  from color-mesh/VirtualNode/front (front.json (document 1))" lines for `name`.
void appendOrigins(std::string& out, const am::ProxyResources& proxy, const std::string& name,
                   const std::string& indent) {
  auto found = proxy.origins.find(name);
  if (found == proxy.origins.end()) return;
  for (const am::Origin& origin : found->second) {
    absl::StrAppend(&out, indent, "from ", origin.resource, " (", origin.source.label(), ")\n");
  }
}

std::string stringMatch(const envoy::type::matcher::v3::StringMatcher& m) {
  if (m.has_exact()) return absl::StrCat("= ", quoted(m.exact()));
  if (m.has_prefix()) return absl::StrCat("starts with ", quoted(m.prefix()));
  if (m.has_suffix()) return absl::StrCat("ends with ", quoted(m.suffix()));
  if (m.has_contains()) return absl::StrCat("contains ", quoted(m.contains()));
  if (m.has_safe_regex()) return absl::StrCat("matches /", m.safe_regex().regex(), "/");
  return "?";
}

std::string routeMatch(const xroute::RouteMatch& m) {
  std::vector<std::string> parts;
  if (m.has_prefix()) parts.push_back(absl::StrCat("path starts with ", quoted(m.prefix())));
  if (m.has_path()) parts.push_back(absl::StrCat("path = ", quoted(m.path())));
  if (m.has_safe_regex()) parts.push_back(absl::StrCat("path matches /", m.safe_regex().regex(), "/"));
  for (const auto& h : m.headers()) {
    std::string text = h.invert_match() ? "not " : "";
    if (h.has_present_match() || h.present_match()) {
      absl::StrAppend(&text, h.name(), " present");
    } else {
      absl::StrAppend(&text, h.name(), " ", stringMatch(h.string_match()));
    }
    parts.push_back(text);
  }
  return absl::StrJoin(parts, ", ");
}

std::string routeAction(const xroute::Route& route) {
  if (route.has_direct_response()) {
    return absl::StrCat("answered by the proxy: ", route.direct_response().status());
  }
  const xroute::RouteAction& a = route.route();
  std::string out;
  if (a.has_weighted_clusters()) {
    uint64_t total = 0;
    for (const auto& c : a.weighted_clusters().clusters()) total += c.weight().value();
    std::vector<std::string> targets;
    for (const auto& c : a.weighted_clusters().clusters()) {
      targets.push_back(absl::StrCat(c.name(), " weight ", c.weight().value(), " (",
                                     total == 0 ? 0 : (100 * c.weight().value() + total / 2) / total,
                                     "%)"));
    }
    out = absl::StrCat("-> ", absl::StrJoin(targets, ", "));
  } else {
    out = absl::StrCat("-> ", a.cluster());
  }
  if (!a.prefix_rewrite().empty()) absl::StrAppend(&out, "; path prefix rewritten to ", quoted(a.prefix_rewrite()));
  if (!a.host_rewrite_literal().empty()) absl::StrAppend(&out, "; Host rewritten to ", quoted(a.host_rewrite_literal()));
  if (a.has_timeout()) absl::StrAppend(&out, "; timeout ", millis(a.timeout()));
  if (a.has_retry_policy()) {
    absl::StrAppend(&out, "; retries ", a.retry_policy().num_retries().value(), " on ", a.retry_policy().retry_on());
  }
  return out;
}

std::string chainMatch(const envoy::config::listener::v3::FilterChain& chain) {
  const auto& m = chain.filter_chain_match();
  std::vector<std::string> parts;
  if (m.has_destination_port()) parts.push_back(absl::StrCat("port ", m.destination_port().value()));
  for (const auto& r : m.prefix_ranges()) parts.push_back(absl::StrCat(r.address_prefix(), "/", r.prefix_len().value()));
  if (!m.transport_protocol().empty()) parts.push_back(m.transport_protocol());
  if (m.server_names_size() > 0) parts.push_back(absl::StrCat("SNI ", absl::StrJoin(m.server_names(), ",")));
  return parts.empty() ? "any connection" : absl::StrJoin(parts, ", ");
}

std::string chainFilter(const envoy::config::listener::v3::FilterChain& chain) {
  if (chain.filters_size() == 0) return "no filter";
  const auto& any = chain.filters(0).typed_config();
  hcm::HttpConnectionManager manager;
  if (any.UnpackTo(&manager) && any.Is<hcm::HttpConnectionManager>()) {
    std::string out = absl::StrCat("HTTP, routes ", manager.rds().route_config_name());
    for (const auto& f : manager.http_filters()) {
      if (f.name() != "envoy.filters.http.router") absl::StrAppend(&out, ", filter ", f.name());
    }
    for (const auto& log : manager.access_log()) {
      envoy::extensions::access_loggers::file::v3::FileAccessLog file;
      if (log.typed_config().UnpackTo(&file)) absl::StrAppend(&out, ", access log ", file.path());
    }
    return out;
  }
  tcp::TcpProxy proxy;
  if (any.Is<tcp::TcpProxy>() && any.UnpackTo(&proxy)) {
    if (!proxy.has_weighted_clusters()) return absl::StrCat("TCP -> ", proxy.cluster());
    std::vector<std::string> targets;
    for (const auto& c : proxy.weighted_clusters().clusters()) {
      targets.push_back(absl::StrCat(c.name(), " weight ", c.weight()));
    }
    return absl::StrCat("TCP -> ", absl::StrJoin(targets, ", "));
  }
  return chain.filters(0).name();
}

std::string socketAddress(const envoy::config::core::v3::Address& address) {
  const auto& s = address.socket_address();
  const bool v6 = s.address().find(':') != std::string::npos;
  return v6 ? absl::StrCat("[", s.address(), "]:", s.port_value()) : absl::StrCat(s.address(), ":", s.port_value());
}

}  // namespace

std::string explainProxy(const std::string& node_id, const am::TranslateResult& result, bool* found) {
  if (found != nullptr) *found = false;
  absl::StatusOr<std::string> key = am::nodeKeyFromNodeId(node_id);
  std::vector<std::string> known;
  for (const auto& [name, proxy] : result.proxies) known.push_back(name);
  if (!key.ok()) return absl::StrCat(key.status().message(), "\n");
  auto it = result.proxies.find(*key);
  if (it == result.proxies.end()) {
    return absl::StrCat(*key, ": no such virtual node or virtual gateway in this folder (known: ",
                        known.empty() ? "none" : absl::StrJoin(known, ", "), ")\n");
  }
  if (found != nullptr) *found = true;
  const am::ProxyResources& proxy = it->second;
  std::string out = absl::StrCat("Proxy ", *key, *key == node_id ? "" : absl::StrCat(" (node.id ", quoted(node_id), ")"),
                                 ": ", proxy.listeners.size(), " listener(s), ", proxy.routes.size(),
                                 " route configuration(s), ", proxy.clusters.size(), " cluster(s)\n");

  absl::StrAppend(&out, "\nListeners\n");
  for (const auto& listener : proxy.listeners) {
    absl::StrAppend(&out, "  ", listener.name(), " on ", socketAddress(listener.address()), "\n");
    appendOrigins(out, proxy, listener.name(), "    ");
    for (const auto& chain : listener.filter_chains()) {
      absl::StrAppend(&out, "    chain ", chain.name(), " [", chainMatch(chain), "]: ", chainFilter(chain), "\n");
    }
    if (listener.has_default_filter_chain()) {
      const auto& chain = listener.default_filter_chain();
      absl::StrAppend(&out, "    default chain ", chain.name(), ": ", chainFilter(chain), "\n");
    }
  }

  absl::StrAppend(&out, "\nRoutes\n");
  for (const auto& routes : proxy.routes) {
    absl::StrAppend(&out, "  ", routes.name(), "\n");
    appendOrigins(out, proxy, routes.name(), "    ");
    for (const auto& host : routes.virtual_hosts()) {
      absl::StrAppend(&out, "    virtual host ", host.name(), " (", absl::StrJoin(host.domains(), ", "), ")\n");
      if (host.routes_size() == 0) absl::StrAppend(&out, "      no routes: every request gets 404\n");
      for (const auto& route : host.routes()) {
        absl::StrAppend(&out, "      ", route.name(), ": ", routeMatch(route.match()), "\n        ",
                        routeAction(route), "\n");
        appendOrigins(out, proxy, absl::StrCat(host.name(), "/", route.name()), "        ");
      }
    }
  }

  absl::StrAppend(&out, "\nClusters\n");
  for (const auto& cluster : proxy.clusters) {
    std::vector<std::string> endpoints;
    for (const auto& cla : proxy.endpoints) {
      if (cla.cluster_name() != cluster.name()) continue;
      for (const auto& locality : cla.endpoints()) {
        for (const auto& lb : locality.lb_endpoints()) {
          std::string text = socketAddress(lb.endpoint().address());
          if (lb.has_load_balancing_weight()) absl::StrAppend(&text, " weight ", lb.load_balancing_weight().value());
          endpoints.push_back(text);
        }
      }
    }
    std::string kind = cluster.type() == envoy::config::cluster::v3::Cluster::ORIGINAL_DST
                           ? "original destination"
                           : absl::StrCat(endpoints.size(), " endpoint(s)",
                                          endpoints.empty() ? "" : ": " + absl::StrJoin(endpoints, ", "));
    absl::StrAppend(&out, "  ", cluster.name(), ": ", kind, "\n");
    for (const auto& check : cluster.health_checks()) {
      absl::StrAppend(&out, "    health check ",
                      check.has_http_health_check() ? absl::StrCat("HTTP ", check.http_health_check().path()) : "TCP connect",
                      " every ", millis(check.interval()), "\n");
    }
    if (cluster.has_outlier_detection()) {
      absl::StrAppend(&out, "    outlier detection after ", cluster.outlier_detection().consecutive_5xx().value(),
                      " consecutive 5xx\n");
    }
    if (cluster.circuit_breakers().thresholds_size() > 0) {
      const auto& t = cluster.circuit_breakers().thresholds(0);
      constexpr uint32_t kUnlimited = 2147483647;
      if (t.max_connections().value() != kUnlimited || t.max_pending_requests().value() != kUnlimited ||
          t.max_requests().value() != kUnlimited) {
        absl::StrAppend(&out, "    circuit breakers: connections ", t.max_connections().value(), ", pending ",
                        t.max_pending_requests().value(), ", requests ", t.max_requests().value(), "\n");
      }
    }
    appendOrigins(out, proxy, cluster.name(), "    ");
  }

  // What the translation said about the resources this proxy came from.
  std::set<std::string> resources;
  for (const auto& [name, origins] : proxy.origins) {
    for (const am::Origin& origin : origins) resources.insert(origin.resource);
  }
  auto concerns = [&](const std::string& line) {
    for (const std::string& r : resources) {
      if (line.find(absl::StrCat(": ", r, ":")) != std::string::npos) return true;
    }
    return false;
  };
  std::vector<std::string> errors, warnings;
  for (const std::string& e : result.errors) {
    if (concerns(e)) errors.push_back(e);
  }
  for (const std::string& w : result.warnings) {
    if (concerns(w)) warnings.push_back(w);
  }
  if (!errors.empty() || !warnings.empty()) {
    absl::StrAppend(&out, "\nTranslation notes on these resources\n");
    for (const std::string& e : errors) absl::StrAppend(&out, "  error: ", e, "\n");
    for (const std::string& w : warnings) absl::StrAppend(&out, "  warning: ", w, "\n");
  }
  return out;
}

int explainMain(int argc, char** argv) {
  const char* usage = "usage: trellis-cp explain NODE [--mesh-dir DIR | DIR]\n"
                      "  NODE: mesh/MESH/virtualNode/NODE, mesh/MESH/virtualGateway/GATEWAY or their ARN\n";
  std::string node;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--mesh-dir") {
      if (i + 1 >= argc) {
        std::cerr << "trellis-cp explain: --mesh-dir needs a folder\n" << usage;
        return 2;
      }
      dir = argv[++i];
    } else if (node.empty()) {
      node = arg;
    } else if (dir.empty()) {
      dir = arg;
    } else {
      std::cerr << "trellis-cp explain: unexpected argument '" << arg << "'\n" << usage;
      return 2;
    }
  }
  if (node.empty() || dir.empty()) {
    std::cerr << "trellis-cp explain: " << (node.empty() ? "NODE" : "the mesh folder") << " is required\n" << usage;
    return 2;
  }
  am::LoadResult loaded = am::loadMeshDirWithErrors(dir);
  std::vector<std::string> errors = loaded.errors;
  for (const am::ValidationError& e : am::validate(loaded.mesh)) errors.push_back(e.toString());
  if (!errors.empty()) {
    for (const std::string& e : errors) std::cout << e << "\n";
    std::cout << dir << ": " << errors.size() << " error(s); trellis-cp serves nothing from it\n";
    return 1;
  }
  am::TranslateResult result = am::translate(loaded.mesh, resolveHost);
  bool found = false;
  std::cout << explainProxy(node, result, &found);
  return found ? 0 : 1;
}

}  // namespace trellis::cp
