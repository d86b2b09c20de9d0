// Flag parsing for trellis-load.
#include "bench/load_options.h"

#include <charconv>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace trellis::bench {

namespace {

absl::Status badValue(const std::string& flag, const std::string& value, const char* allowed) {
  return absl::InvalidArgumentError(
      absl::StrCat(flag, " '", value, "': ", allowed));
}

absl::StatusOr<int64_t> parseCount(const std::string& flag, const std::string& value,
                                   int64_t min, int64_t max) {
  int64_t v = 0;
  if (!absl::SimpleAtoi(value, &v) || v < min || v > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " '", value, "': expected an integer in ", min, "..", max));
  }
  return v;
}

}  // namespace

absl::StatusOr<double> parseDuration(const std::string& flag, const std::string& value) {
  std::string number = value;
  double scale = 1;
  if (absl::EndsWith(value, "ms")) {
    number = value.substr(0, value.size() - 2);
    scale = 1e-3;
  } else if (absl::EndsWith(value, "s")) {
    number = value.substr(0, value.size() - 1);
  } else if (absl::EndsWith(value, "m")) {
    number = value.substr(0, value.size() - 1);
    scale = 60;
  }
  double v = 0;
  if (!absl::SimpleAtod(number, &v) || !std::isfinite(v) || v < 0 || v * scale > 86400) {
    return badValue(flag, value, "expected a duration such as 10, 10s, 250ms or 2m (at most 24h)");
  }
  return v * scale;
}

absl::StatusOr<LoadOptions> parseLoadOptions(const std::vector<std::string>& args) {
  LoadOptions o;
  bool closed = false;
  bool rateGiven = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::string value;
    bool hasValue = false;
    if (const size_t eq = flag.find('='); absl::StartsWith(flag, "--") && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      hasValue = true;
    }
    auto next = [&]() -> absl::StatusOr<std::string> {
      if (hasValue) return value;
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat(flag, ": missing value"));
      }
      return args[++i];
    };
    if (flag == "--help" || flag == "-h") {
      o.help = true;
      return o;
    }
    if (flag == "--closed") {
      closed = true;
    } else if (flag == "--quiet" || flag == "-q") {
      o.quiet = true;
    } else if (flag == "--url" || flag == "-u") {
      absl::StatusOr<std::string> v = next();
      if (!v.ok()) return v.status();
      o.url = *v;
    } else if (flag == "--rate" || flag == "-R") {
      absl::StatusOr<std::string> v = next();
      if (!v.ok()) return v.status();
      if (!absl::SimpleAtod(*v, &o.rate) || !std::isfinite(o.rate) || o.rate < 0 || o.rate > 1e8) {
        return badValue(flag, *v, "expected requests per second in 0..1e8 (0: closed loop)");
      }
      rateGiven = true;
    } else if (flag == "--connections" || flag == "-c") {
      absl::StatusOr<std::string> v = next();
      if (!v.ok()) return v.status();
      absl::StatusOr<int64_t> n = parseCount(flag, *v, 1, 100000);
      if (!n.ok()) return n.status();
      o.connections = static_cast<int>(*n);
    } else if (flag == "--threads" || flag == "-t") {
      absl::StatusOr<std::string> v = next();
      if (!v.ok()) return v.status();
      absl::StatusOr<int64_t> n = parseCount(flag, *v, 1, 256);
      if (!n.ok()) return n.status();
      o.threads = static_cast<int>(*n);
    } else if (flag == "--duration" || flag == "-d" || flag == "--warmup" || flag == "--timeout") {
      absl::StatusOr<std::string> v = next();
      if (!v.ok()) return v.status();
      absl::StatusOr<double> d = parseDuration(flag, *v);
      if (!d.ok()) return d.status();
      if (flag == "--warmup") {
        o.warmupSeconds = *d;
      } else if (flag == "--timeout") {
        if (*d <= 0 || *d > 10) return badValue(flag, *v, "expected a timeout above 0 and at most 10s");
        o.timeoutSeconds = *d;
      } else {
        if (*d <= 0) return badValue(flag, *v, "expected a duration above 0");
        o.durationSeconds = *d;
      }
    } else if (flag == "--requests" || flag == "-n") {
      absl::StatusOr<std::string> v = next();
      if (!v.ok()) return v.status();
      absl::StatusOr<int64_t> n = parseCount(flag, *v, 1, int64_t{1} << 40);
      if (!n.ok()) return n.status();
      o.requests = static_cast<uint64_t>(*n);
    } else if (flag == "--header" || flag == "-H") {
      absl::StatusOr<std::string> v = next();
      if (!v.ok()) return v.status();
      auto header = parseHeader(*v);
      if (!header.ok()) return header.status();
      o.request.headers.push_back(*std::move(header));
    } else if (flag == "--method" || flag == "-m") {
      absl::StatusOr<std::string> v = next();
      if (!v.ok()) return v.status();
      if (v->empty() || v->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos) {
        return badValue(flag, *v, "expected an upper-case method name such as GET or POST");
      }
      o.request.method = *v;
    } else if (flag == "--body-size") {
      absl::StatusOr<std::string> v = next();
      if (!v.ok()) return v.status();
      absl::StatusOr<int64_t> n = parseCount(flag, *v, 0, 64 << 20);
      if (!n.ok()) return n.status();
      o.request.bodySize = static_cast<size_t>(*n);
    } else if (flag == "--json") {
      absl::StatusOr<std::string> v = next();
      if (!v.ok()) return v.status();
      o.jsonPath = *v;
    } else if (flag == "--hold-connections") {
      absl::StatusOr<std::string> v = next();
      if (!v.ok()) return v.status();
      absl::StatusOr<int64_t> n = parseCount(flag, *v, 1, 1000000);
      if (!n.ok()) return n.status();
      o.holdConnections = static_cast<int>(*n);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag '", flag, "' (see --help)"));
    }
  }
  if (o.url.empty()) return absl::InvalidArgumentError("--url is required");
  absl::StatusOr<Target> target = parseTarget(o.url);
  if (!target.ok()) return target.status();
  o.target = *std::move(target);
  if (closed) {
    if (rateGiven && o.rate > 0) {
      return absl::InvalidArgumentError("--closed and --rate > 0 contradict each other");
    }
    o.rate = 0;
  }
  if (o.threads > o.connections) o.threads = o.connections;
  return o;
}

const char* loadUsage() {
  return R"(usage: trellis-load --url http://ADDR:PORT/PATH [flags]

Open loop (--rate R > 0): R requests per second on a fixed schedule, latency measured from
each request's intended send time (no coordinated omission). Closed loop (--rate 0, --closed,
the default): every connection sends its next request when the previous response completed.

  --url URL            http://IPv4[:PORT]/..., http://[IPv6]:PORT/... or http://localhost...
  --rate R             requests per second (0: closed loop)          [0]
  --closed             closed loop
  -c, --connections C  keep-alive connections                        [10]
  -t, --threads N      event-loop threads, each with C/N connections [1]
  -d, --duration D     measurement window: 10, 10s, 500ms, 2m         [10s]
  --warmup W           unmeasured time before the window              [1s]
  -n, --requests N     stop after N measured requests (also bounded by --duration)
  --timeout T          per-request timeout, at most 10s                [5s]
  -H, --header "N: v"  extra request header (repeatable)
  -m, --method M       request method                                 [GET]
  --body-size N        request body of N bytes, with Content-Length   [0]
  --json FILE          also write the report as JSON (- for stdout)
  -q, --quiet          no progress lines on stderr
  --hold-connections N open N connections, send one request on each, then hold them idle
                       until SIGINT/SIGTERM or --duration; prints "holding N connections"
The run ends at the latest warmup + duration + 10s.
)";
}

}  // namespace trellis::bench
