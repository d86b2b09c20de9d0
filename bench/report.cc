// Formatting of RunReport as a table and as JSON.
#include "bench/report.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace trellis::bench {

namespace {

constexpr std::pair<const char*, double> kPercentiles[] = {
    {"p50", 50.0}, {"p90", 90.0}, {"p99", 99.0}, {"p99.9", 99.9}};

std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

double micros(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

}  // namespace

std::string formatLatency(uint64_t ns) {
  const double v = static_cast<double>(ns);
  if (v < 1e3) return absl::StrFormat("%.0f ns", v);
  if (v < 1e6) return absl::StrFormat("%.0f us", v / 1e3);
  if (v < 1e9) return absl::StrFormat("%.2f ms", v / 1e6);
  return absl::StrFormat("%.2f s", v / 1e9);
}

std::string formatTable(const RunReport& r) {
  const RunStats& s = r.stats;
  std::string out;
  absl::StrAppend(&out, "trellis-load ", r.method, " ", r.url, "\n");
  if (r.closedLoop) {
    absl::StrAppendFormat(&out, "  mode        closed loop, %d connections, %d thread(s)\n",
                          r.connections, r.threads);
  } else {
    absl::StrAppendFormat(&out,
                          "  mode        open loop at %.0f req/s, %d connections, %d thread(s)\n",
                          r.targetRate, r.connections, r.threads);
  }
  absl::StrAppendFormat(&out, "  window      %.1f s after %.1f s warm-up", r.durationSeconds,
                        r.warmupSeconds);
  if (r.requestLimit > 0) absl::StrAppendFormat(&out, ", at most %d requests", r.requestLimit);
  out += "\n";
  absl::StrAppendFormat(&out, "  requests    %d sent, %d completed, %.1f req/s achieved\n", s.sent,
                        s.completed, s.achievedRate());
  absl::StrAppend(&out, "  latency     ",
                  r.closedLoop ? "(from send)" : "(from intended send time)", "\n");
  for (const auto& [name, p] : kPercentiles) {
    absl::StrAppendFormat(&out, "    %-8s %12s\n", name,
                          formatLatency(s.latency.valueAtPercentile(p)));
  }
  absl::StrAppendFormat(&out, "    %-8s %12s\n", "max", formatLatency(s.latency.max()));
  absl::StrAppendFormat(&out, "    %-8s %12s\n", "mean",
                        formatLatency(static_cast<uint64_t>(s.latency.mean())));
  absl::StrAppendFormat(&out, "  status      1xx %d  2xx %d  3xx %d  4xx %d  5xx %d", s.statusClass[1],
                        s.statusClass[2], s.statusClass[3], s.statusClass[4], s.statusClass[5]);
  if (s.statusClass[0] > 0) absl::StrAppendFormat(&out, "  other %d", s.statusClass[0]);
  out += "\n";
  absl::StrAppend(&out, "  failures   ");
  for (int i = 0; i < kFailureKinds; ++i) {
    absl::StrAppendFormat(&out, " %s %d", failureName(static_cast<Failure>(i)), s.failures[i]);
  }
  absl::StrAppendFormat(&out, "\n  errors      %d (failures + 4xx + 5xx)", s.errors());
  if (s.serverCloses > 0) absl::StrAppendFormat(&out, "; %d server closes", s.serverCloses);
  out += "\n";
  return out;
}

std::string formatJson(const RunReport& r) {
  const RunStats& s = r.stats;
  std::string out = "{";
  absl::StrAppend(&out, "\"url\": ", jsonString(r.url), ", \"method\": ", jsonString(r.method));
  absl::StrAppend(&out, ", \"mode\": \"", r.closedLoop ? "closed" : "open", "\"");
  absl::StrAppendFormat(&out, ", \"target_rate\": %.3f", r.closedLoop ? 0.0 : r.targetRate);
  absl::StrAppendFormat(&out, ", \"connections\": %d, \"threads\": %d", r.connections, r.threads);
  absl::StrAppendFormat(&out, ", \"warmup_s\": %.3f, \"duration_s\": %.3f", r.warmupSeconds,
                        r.durationSeconds);
  absl::StrAppendFormat(&out, ", \"request_limit\": %d", r.requestLimit);
  absl::StrAppendFormat(&out, ", \"sent\": %d, \"completed\": %d, \"achieved_rps\": %.3f", s.sent,
                        s.completed, s.achievedRate());
  out += ", \"latency_us\": {";
  for (const auto& [name, p] : kPercentiles) {
    absl::StrAppendFormat(&out, "\"%s\": %.3f, ", name, micros(s.latency.valueAtPercentile(p)));
  }
  absl::StrAppendFormat(&out, "\"max\": %.3f, \"mean\": %.3f, \"min\": %.3f}",
                        micros(s.latency.max()), s.latency.mean() / 1000.0,
                        micros(s.latency.min()));
  absl::StrAppendFormat(&out,
                        ", \"status\": {\"1xx\": %d, \"2xx\": %d, \"3xx\": %d, \"4xx\": %d, "
                        "\"5xx\": %d, \"other\": %d}",
                        s.statusClass[1], s.statusClass[2], s.statusClass[3], s.statusClass[4],
                        s.statusClass[5], s.statusClass[0]);
  out += ", \"failures\": {";
  for (int i = 0; i < kFailureKinds; ++i) {
    absl::StrAppendFormat(&out, "%s\"%s\": %d", i == 0 ? "" : ", ",
                          failureName(static_cast<Failure>(i)), s.failures[i]);
  }
  absl::StrAppendFormat(&out, "}, \"errors\": %d, \"server_closes\": %d, \"interim_responses\": %d}",
                        s.errors(), s.serverCloses, s.interimResponses);
  return out;
}

}  // namespace trellis::bench
