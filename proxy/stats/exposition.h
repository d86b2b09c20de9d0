// The admin endpoint's views of the stats: /stats as text or JSON, /stats/prometheus, in
// Envoy's shapes, with Envoy's query parameters (filter as an RE2 regex, usedonly, format).
// The admin server only hands over the query string and sends back the page.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <re2/re2.h>

#include "absl/status/statusor.h"
#include "proxy/stats/stats.h"

namespace trellis::proxy {

struct StatsQuery {
  enum class Format { Text, Json, Prometheus };
  Format format = Format::Text;
  std::shared_ptr<const RE2> filter;  // null: every stat; else stats whose name it partly matches
  bool used_only = false;             // only stats that were ever written (see usedStat)
};

// Reads "filter=...&format=...&usedonly" (percent-decoded). An invalid regex or an unknown
// format is an error naming it.
absl::StatusOr<StatsQuery> parseStatsQuery(std::string_view query);

// What `usedonly` keeps: a counter or gauge that is not zero, a histogram with a value. (Envoy
// keeps a used flag per stat; a non-zero value is the cheap reading of it: a gauge that went up
// and back to zero is left out.)
bool usedStat(const StatValue& v);
bool usedStat(const HistogramValue& h);

std::string formatText(const std::vector<StatValue>& stats, const std::vector<HistogramValue>& histograms,
                       const StatsQuery& q);
std::string formatJson(const std::vector<StatValue>& stats, const std::vector<HistogramValue>& histograms,
                       const StatsQuery& q);
std::string formatPrometheus(const std::vector<StatValue>& stats, const std::vector<HistogramValue>& histograms,
                             const StatsQuery& q);

// A Prometheus label value: backslash, double quote and newline escaped.
std::string escapeLabelValue(std::string_view v);

// A whole admin page: status, content type, body. /stats (text or json by ?format) marks the
// histograms' interval; /stats/prometheus does not (Prometheus reads cumulative buckets).
struct StatsPage {
  int status = 200;
  std::string content_type;
  std::string body;
};
StatsPage statsPage(StatsStore& store, std::string_view query);
StatsPage prometheusPage(StatsStore& store, std::string_view query);

}  // namespace trellis::proxy
