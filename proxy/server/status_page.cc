// The admin `/` page; see status_page.h. Plain HTML tables with a little CSS, no JavaScript.
#include "proxy/server/status_page.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proxy/server/clusters_document.h"
#include "proxy/server/upstream_health.h"

namespace trellis::proxy {
namespace {

constexpr const char* kStyle = R"(
body { font-family: sans-serif; margin: 1.5em; color: #1d2733; background: #f6f8fa; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
h2 { font-size: 1.1em; margin-top: 1.6em; border-bottom: 2px solid #3b6ea5; padding-bottom: 0.2em; }
table { border-collapse: collapse; background: #fff; margin-top: 0.5em; }
th, td { border: 1px solid #c8d1dc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #dde7f2; }
.ok { color: #176b2c; font-weight: bold; }
.bad { color: #b3261e; font-weight: bold; }
.warn { color: #8a5a00; font-weight: bold; }
.meta { color: #4a5a6a; }
)";

std::string e(std::string_view text) { return htmlEscape(text); }

std::string direction(TrafficDirection d) {
  switch (d) {
    case TrafficDirection::Inbound: return "INBOUND";
    case TrafficDirection::Outbound: return "OUTBOUND";
    case TrafficDirection::Unspecified: break;
  }
  return "UNSPECIFIED";
}

// "a 80%, b 20%" from weighted targets.
std::string weights(const std::vector<WeightedTarget>& targets, uint32_t total) {
  std::vector<std::string> parts;
  for (const auto& t : targets) {
    const double percent = total ? 100.0 * t.weight / total : 0;
    parts.push_back(absl::StrCat(e(t.cluster_name), " <b>", t.weight, "</b> (", static_cast<int>(percent + 0.5),
                                 "%)", t.cluster ? "" : " <span class=\"bad\">unknown cluster</span>"));
  }
  return absl::StrJoin(parts, "<br>");
}

void listeners(std::string& out, const StatusPageInput& in) {
  out += "<h2>Listeners</h2>\n<table id=\"listeners\"><tr><th>name</th><th>address</th><th>direction</th>"
         "<th>filter chains</th></tr>\n";
  for (const auto& l : in.snapshot->listeners) {
    std::string address = absl::StrCat(l->address.address().to_string(), ":", l->address.port());
    for (const auto& b : in.bound) {
      if (b.name == l->name) address = b.address;
    }
    std::vector<std::string> chains;
    for (size_t i = 0; i < l->filter_chains.size(); ++i) {
      const auto& fc = l->filter_chains[i];
      std::string name = fc.name.empty() ? absl::StrCat("#", i) : fc.name;
      const bool is_default = l->default_filter_chain && *l->default_filter_chain == i;
      chains.push_back(absl::StrCat(e(name), fc.http ? " (http " + e(fc.http->stat_prefix) + ")" : "",
                                    fc.tcp ? " (tcp " + e(fc.tcp->stat_prefix) + ")" : "", is_default ? " default" : ""));
    }
    absl::StrAppend(&out, "<tr><td>", e(l->name), "</td><td>", e(address), l->bind_to_port ? "" : " (not bound)",
                    "</td><td>", direction(l->direction), "</td><td>", absl::StrJoin(chains, "<br>"), "</td></tr>\n");
  }
  out += "</table>\n";
}

void routes(std::string& out, const StatusPageInput& in) {
  out += "<h2>Routes</h2>\n<table id=\"routes\"><tr><th>listener / chain</th><th>route config</th>"
         "<th>virtual host</th><th>route</th><th>clusters and weights</th></tr>\n";
  for (const auto& l : in.snapshot->listeners) {
    for (size_t i = 0; i < l->filter_chains.size(); ++i) {
      const auto& fc = l->filter_chains[i];
      const std::string where = absl::StrCat(e(l->name), " / ", e(fc.name.empty() ? absl::StrCat("#", i) : fc.name));
      if (fc.tcp) {
        absl::StrAppend(&out, "<tr><td>", where, "</td><td colspan=\"3\">tcp_proxy ", e(fc.tcp->stat_prefix),
                        "</td><td>", weights(fc.tcp->targets, fc.tcp->total_weight), "</td></tr>\n");
      }
      if (!fc.http || !fc.http->routes) continue;
      const RouteTable& table = *fc.http->routes;
      for (const auto& vh : table.virtual_hosts) {
        for (const auto& r : vh.routes) {
          std::string action;
          if (r.forward) action = weights(r.forward->targets, r.forward->total_weight);
          if (r.direct) action = absl::StrCat("direct response ", r.direct->status);
          absl::StrAppend(&out, "<tr><td>", where, "</td><td>", e(table.name), "</td><td>", e(vh.name), " (",
                          e(absl::StrJoin(vh.domains, ", ")), ")</td><td>", e(r.name), "</td><td>",
                          action, "</td></tr>\n");
        }
      }
    }
  }
  out += "</table>\n";
}

void clusters(std::string& out, const StatusPageInput& in) {
  out += "<h2>Clusters</h2>\n<table id=\"clusters\"><tr><th>cluster</th><th>healthy</th><th>host</th>"
         "<th>weight</th><th>health</th><th>requests</th></tr>\n";
  for (const auto& c : in.snapshot->clusters) {
    const ClusterHealth* ch = in.health && in.health->snapshot == in.snapshot && c->index < in.health->clusters.size()
                                  ? &in.health->clusters[c->index]
                                  : nullptr;
    const size_t rows = std::max<size_t>(1, c->endpoints.size());
    const std::string healthy = ch ? absl::StrCat(ch->healthy, " of ", c->endpoints.size(), ch->panic ? " (panic)" : "")
                                   : absl::StrCat(c->endpoints.size(), " of ", c->endpoints.size());
    absl::StrAppend(&out, "<tr><td rowspan=\"", rows, "\">", e(c->name), "</td><td rowspan=\"", rows, "\">", healthy,
                    "</td>");
    if (c->endpoints.empty()) out += "<td colspan=\"4\" class=\"meta\">no hosts</td></tr>\n";
    for (size_t i = 0; i < c->endpoints.size(); ++i) {
      const auto& ep = c->endpoints[i];
      const uint8_t f = ch && i < ch->flags.size() ? ch->flags[i] : 0;
      if (i) out += "<tr>";
      absl::StrAppend(&out, "<td>", e(hostAddress(ep.address)), "</td><td>", ep.weight, "</td><td class=\"",
                      f ? "bad" : "ok", "\">", e(healthFlagsText(f)), "</td><td>",
                      ep.counters ? absl::StrCat(ep.counters->rq_total.load()) : "", "</td></tr>\n");
    }
  }
  out += "</table>\n";
}

void localReplies(std::string& out, const StatusPageInput& in) {
  out += "<h2>Local replies by response flag</h2>\n<table id=\"local_replies\"><tr><th>counter</th>"
         "<th>count</th></tr>\n";
  bool any = false;
  for (const auto& s : in.stats) {
    if (s.family != "http" || s.stat.rfind("rq_response_flag_", 0) != 0 || s.value == 0) continue;
    any = true;
    absl::StrAppend(&out, "<tr><td>", e(s.name), "</td><td>", s.value, "</td></tr>\n");
  }
  if (!any) out += "<tr><td colspan=\"2\" class=\"meta\">none since start</td></tr>\n";
  out += "</table>\n";
}

void controlPlane(std::string& out, const StatusPageInput& in) {
  out += "<h2>Control plane</h2>\n";
  if (!in.xds) {
    out += "<p class=\"meta\" id=\"control_plane\">static bootstrap: no control plane</p>\n";
    return;
  }
  absl::StrAppend(&out, "<p id=\"control_plane\">", e(in.xds_target), ": ",
                  in.connected ? "<span class=\"ok\">connected</span>" : "<span class=\"bad\">not connected</span>",
                  "</p>\n<table id=\"xds_types\"><tr><th>type</th><th>accepted version</th><th>accepted</th>"
                  "<th>rejected</th><th>last NACK</th></tr>\n");
  for (const auto& [type, t] : in.types) {
    absl::StrAppend(&out, "<tr><td>", e(type), "</td><td>", e(t.version), "</td><td>", t.accepted, "</td><td>",
                    t.rejected, "</td><td", t.last_error.empty() ? ">" : " class=\"warn\">", e(t.last_error),
                    "</td></tr>\n");
  }
  out += "</table>\n";
}

}  // namespace

std::string htmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string statusPageHtml(const StatusPageInput& in) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>trellis-proxy ";
  absl::StrAppend(&out, e(in.node_id), "</title>\n<style>", kStyle, "</style></head>\n<body>\n");
  const char* state_class = in.state == "LIVE" ? "ok" : "warn";
  absl::StrAppend(&out, "<h1>trellis-proxy ", e(in.node_id), "</h1>\n<p class=\"meta\">state <b id=\"state\" class=\"",
                  state_class, "\">", e(in.state), "</b>");
  absl::StrAppend(&out, " &middot; config version <b id=\"version\">", e(in.snapshot->version),
                  "</b> &middot; <a href=\"/help\">admin commands</a></p>\n");
  listeners(out, in);
  routes(out, in);
  clusters(out, in);
  localReplies(out, in);
  controlPlane(out, in);
  out += "</body></html>\n";
  return out;
}

}  // namespace trellis::proxy
