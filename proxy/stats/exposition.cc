// /stats (text, JSON) and /stats/prometheus from the collected values.
#include "proxy/stats/exposition.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>

namespace trellis::proxy {

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hexValue(s[i + 1]) >= 0 && hexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(hexValue(s[i + 1]) * 16 + hexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool selected(const std::string& name, const StatsQuery& q) {
  return !q.filter || RE2::PartialMatch(name, *q.filter);
}

// The shortest text that reads back as the same double, never in exponent form; "nan" for NaN.
std::string number(double v) {
  if (std::isnan(v)) return "nan";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

// Envoy prints a bucket bound with {:.32g}: "0.5", "1", "3600000".
std::string boundText(double b) {
  char buf[48];
  snprintf(buf, sizeof(buf), "%.32g", b);
  return buf;
}

std::string jsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string jsonNumber(double v) { return std::isnan(v) ? "null" : number(v); }

// Envoy's metric name and its one label for a family (its tag extraction of the scope).
std::string metricName(const std::string& family, const std::string& stat) {
  std::string metric = "envoy_" + family + "_" + stat;
  for (auto& c : metric) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  return metric;
}

std::string labelName(const std::string& family) {
  if (family == "cluster") return "envoy_cluster_name";
  if (family == "http") return "envoy_http_conn_manager_prefix";
  if (family == "listener") return "envoy_listener_address";
  if (family == "tcp") return "envoy_tcp_prefix";
  return "";
}

// `extra` is one more label ("le=\"0.5\"") or empty.
std::string labels(const std::string& family, const std::string& scope, const std::string& extra) {
  std::string name = labelName(family);
  std::string out;
  if (!name.empty()) out = name + "=\"" + escapeLabelValue(scope) + "\"";
  if (!extra.empty()) out += (out.empty() ? "" : ",") + extra;
  return out.empty() ? "" : "{" + out + "}";
}

}  // namespace

absl::StatusOr<StatsQuery> parseStatsQuery(std::string_view query) {
  StatsQuery q;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = param.find('=');
    std::string key = percentDecode(param.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : percentDecode(param.substr(eq + 1));
    if (key == "filter") {
      if (value.empty()) continue;
      auto re = std::make_shared<RE2>(value, RE2::Quiet);
      if (!re->ok()) {
        return absl::InvalidArgumentError("filter: invalid regex '" + value + "': " + re->error());
      }
      q.filter = std::move(re);
    } else if (key == "usedonly") {
      q.used_only = true;
    } else if (key == "format") {
      if (value == "json") {
        q.format = StatsQuery::Format::Json;
      } else if (value == "prometheus") {
        q.format = StatsQuery::Format::Prometheus;
      } else if (value == "text" || value.empty()) {
        q.format = StatsQuery::Format::Text;
      } else {
        return absl::InvalidArgumentError("format: '" + value + "' is not one of text, json, prometheus");
      }
    }
    // Other parameters (Envoy's type=, histogram_buckets=, ...) are ignored.
  }
  return q;
}

bool usedStat(const StatValue& v) { return v.value != 0; }
bool usedStat(const HistogramValue& h) { return h.cumulative.count > 0; }

std::string escapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string formatText(const std::vector<StatValue>& stats, const std::vector<HistogramValue>& histograms,
                       const StatsQuery& q) {
  std::string out;
  for (const auto& v : stats) {
    if (!selected(v.name, q) || (q.used_only && !usedStat(v))) continue;
    out += v.name + ": " + std::to_string(v.value) + "\n";
  }
  // Envoy's line: "name: P0(interval,cumulative) P25(...) ... P100(...)".
  for (const auto& h : histograms) {
    if (!selected(h.name, q) || (q.used_only && !usedStat(h))) continue;
    out += h.name + ":";
    if (!usedStat(h)) {
      out += " No recorded values\n";
      continue;
    }
    for (double quantile : kHistogramQuantiles) {
      out += " P" + number(quantile * 100) + "(" + number(h.interval.quantileMs(quantile)) + "," +
             number(h.cumulative.quantileMs(quantile)) + ")";
    }
    out += "\n";
  }
  return out;
}

std::string formatJson(const std::vector<StatValue>& stats, const std::vector<HistogramValue>& histograms,
                       const StatsQuery& q) {
  std::string out = "{\"stats\":[";
  bool first = true;
  for (const auto& v : stats) {
    if (!selected(v.name, q) || (q.used_only && !usedStat(v))) continue;
    out += first ? "" : ",";
    first = false;
    out += "{\"name\":" + jsonString(v.name) + ",\"value\":" + std::to_string(v.value) + "}";
  }
  std::string computed;
  for (const auto& h : histograms) {
    if (!selected(h.name, q) || (q.used_only && !usedStat(h))) continue;
    computed += computed.empty() ? "" : ",";
    computed += "{\"name\":" + jsonString(h.name) + ",\"values\":[";
    for (size_t i = 0; i < kHistogramQuantiles.size(); ++i) {
      computed += (i ? "," : "");
      computed += "{\"interval\":" + jsonNumber(h.interval.quantileMs(kHistogramQuantiles[i])) +
                  ",\"cumulative\":" + jsonNumber(h.cumulative.quantileMs(kHistogramQuantiles[i])) + "}";
    }
    computed += "]}";
  }
  // As Envoy: the histograms are one last element of "stats", present when there are any.
  if (!computed.empty()) {
    out += first ? "" : ",";
    out += "{\"histograms\":{\"supported_quantiles\":[";
    for (size_t i = 0; i < kHistogramQuantiles.size(); ++i) out += (i ? "," : "") + number(kHistogramQuantiles[i] * 100);
    out += "],\"computed_quantiles\":[" + computed + "]}}";
  }
  return out + "]}\n";
}

std::string formatPrometheus(const std::vector<StatValue>& stats, const std::vector<HistogramValue>& histograms,
                             const StatsQuery& q) {
  // Samples of one metric are grouped under a single TYPE line, as the text format requires.
  struct Metric {
    const char* type = "counter";
    std::string samples;
  };
  std::map<std::string, Metric> metrics;
  for (const auto& v : stats) {
    if (!selected(v.name, q) || (q.used_only && !usedStat(v))) continue;
    std::string metric = metricName(v.family, v.stat);
    auto& m = metrics[metric];
    m.type = v.gauge ? "gauge" : "counter";
    m.samples += metric + labels(v.family, v.scope, "") + " " + std::to_string(v.value) + "\n";
  }
  for (const auto& h : histograms) {
    if (!selected(h.name, q) || (q.used_only && !usedStat(h))) continue;
    std::string metric = metricName(h.family, h.stat);
    auto& m = metrics[metric];
    m.type = "histogram";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kHistogramBuckets; ++i) {
      cumulative += h.cumulative.buckets[i];
      std::string le = i < kHistogramBoundsMs.size() ? boundText(kHistogramBoundsMs[i]) : "+Inf";
      m.samples += metric + "_bucket" + labels(h.family, h.scope, "le=\"" + le + "\"") + " " +
                   std::to_string(cumulative) + "\n";
    }
    // The count is the buckets' total, so it always equals the +Inf bucket.
    m.samples += metric + "_sum" + labels(h.family, h.scope, "") + " " + number(h.cumulative.sumMs()) + "\n";
    m.samples += metric + "_count" + labels(h.family, h.scope, "") + " " + std::to_string(cumulative) + "\n";
  }
  std::string out;
  for (const auto& [metric, m] : metrics) out += "# TYPE " + metric + " " + m.type + "\n" + m.samples;
  return out;
}

StatsPage statsPage(StatsStore& store, std::string_view query) {
  auto q = parseStatsQuery(query);
  if (!q.ok()) return StatsPage{400, "text/plain; charset=utf-8", std::string(q.status().message()) + "\n"};
  if (q->format == StatsQuery::Format::Prometheus) return prometheusPage(store, query);
  auto stats = store.collect();
  auto histograms = store.collectHistograms(true);
  if (q->format == StatsQuery::Format::Json) {
    return StatsPage{200, "application/json", formatJson(stats, histograms, *q)};
  }
  return StatsPage{200, "text/plain; charset=utf-8", formatText(stats, histograms, *q)};
}

StatsPage prometheusPage(StatsStore& store, std::string_view query) {
  auto q = parseStatsQuery(query);
  if (!q.ok()) return StatsPage{400, "text/plain; charset=utf-8", std::string(q.status().message()) + "\n"};
  return StatsPage{200, "text/plain; version=0.0.4", formatPrometheus(store.collect(), store.collectHistograms(false), *q)};
}

}  // namespace trellis::proxy
