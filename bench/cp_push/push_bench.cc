// The push benchmark's run; see push_bench.h.
#include "bench/cp_push/push_bench.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/cp_push/cp_process.h"
#include "bench/cp_push/mesh_gen.h"
#include "bench/cp_push/proxy_stream.h"
#include "bench/cp_push/push_tracker.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"

namespace trellis::bench::cp_push {
namespace {

using Clock = std::chrono::steady_clock;
using Stub = envoy::service::discovery::v3::AggregatedDiscoveryService::Stub;

double msBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// Both this process (one socket per connection) and the cp (one per proxy) need a descriptor
// per proxy; the cp inherits the limit set here.
std::string raiseFdLimit(int needed) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return "getrlimit failed";
  const rlim_t want = static_cast<rlim_t>(needed);
  if (limit.rlim_cur >= want) return "";
  if (limit.rlim_max < want) limit.rlim_max = want;  // allowed for root only
  limit.rlim_cur = want;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    rlimit now{};
    ::getrlimit(RLIMIT_NOFILE, &now);
    if (now.rlim_max >= want) {
      now.rlim_cur = want;
      if (::setrlimit(RLIMIT_NOFILE, &now) == 0) return "";
    }
    return absl::StrCat("cannot raise the open-file limit to ", needed, " (hard limit ", now.rlim_max,
                        "): fewer proxies, or raise `ulimit -n`");
  }
  return "";
}

// The number after `label` in the cp's build line: "mesh build #3 applied: 1003 node(s), 0 removed,
// built in 54 ms (load 40 ms, ...), published in 9 ms" gives 54 for "built in " and 9 for
// "published in ". Older cps log neither phases nor publishing.
std::optional<double> msAfter(const std::string& line, const std::string& label) {
  const size_t at = line.find(label);
  if (at == std::string::npos) return std::nullopt;
  const size_t start = at + label.size();
  const size_t end = line.find(" ms", start);
  double ms = 0;
  if (end == std::string::npos || !absl::SimpleAtod(line.substr(start, end - start), &ms)) return std::nullopt;
  return ms;
}

std::string buildPhases(const std::string& line) {
  const size_t open = line.find(" ms (", line.find("built in "));
  if (open == std::string::npos) return "";
  const size_t close = line.find(')', open);
  return close == std::string::npos ? "" : line.substr(open + 5, close - open - 5);
}

std::map<std::string, long> difference(const std::map<std::string, long>& after,
                                       const std::map<std::string, long>& before) {
  std::map<std::string, long> out;
  for (const auto& [type, count] : after) {
    auto it = before.find(type);
    const long delta = count - (it == before.end() ? 0 : it->second);
    if (delta != 0) out[type] = delta;
  }
  return out;
}

class Run {
 public:
  explicit Run(const PushBenchOptions& options) : options_(options) {}

  PushBenchResult go() {
    result_.nodes = options_.nodes;
    result_.connections = options_.connections > 0 ? std::min(options_.connections, options_.nodes) : options_.nodes;
    result_.error = steps();
    finish();
    return std::move(result_);
  }

 private:
  void progress(const std::string& text) {
    if (!options_.quiet) std::fprintf(stderr, "cp-push-bench: %s\n", text.c_str());
  }

  std::string steps() {
    if (options_.nodes < 1 || options_.rounds < 0) return "nodes must be at least 1 and rounds at least 0";
    if (std::string error = raiseFdLimit(options_.nodes + result_.connections + 512); !error.empty()) return error;

    MeshShape shape;
    shape.nodes = options_.nodes;
    shape.targets = options_.targets;
    shape.sidecars = options_.sidecars;
    shape.terraform = options_.terraform;
    if (absl::Status written = writeMesh(options_.mesh_dir, shape); !written.ok()) return written.ToString();
    progress(absl::StrCat("mesh with ", shape.nodes, " client nodes written to ", options_.mesh_dir.string()));

    const auto cp_started = Clock::now();
    auto cp = CpProcess::start({options_.cp_binary, "--mesh-dir", options_.mesh_dir.string(), "--listen",
                                "127.0.0.1:0", "--admin", "127.0.0.1:0", "--dns-refresh-s", "0"},
                               options_.cp_log);
    if (!cp.ok()) return cp.status().ToString();
    cp_ = std::move(*cp);
    const auto ads_line = cp_->waitForLine("ADS listening on", 0, options_.timeout);
    if (!ads_line) return "trellis-cp did not log its ADS port:\n" + cp_->tail(20);
    const std::optional<int> ads_port = portFromLogLine(cp_->line(*ads_line).text);
    if (!ads_port) return "no port in: " + cp_->line(*ads_line).text;
    if (!cp_->waitForLine("admin listening on", 0, options_.timeout)) {
      return "trellis-cp did not log its admin port:\n" + cp_->tail(20);
    }
    const auto first_build = cp_->waitForLine("mesh build #1 ", 0, options_.timeout);
    if (!first_build) return "trellis-cp did not finish its first build:\n" + cp_->tail(20);
    const CpProcess::LogLine build_line = cp_->line(*first_build);
    if (build_line.text.find(" applied") == std::string::npos) {
      return "the generated mesh is not valid:\n" + cp_->tail(20);
    }
    result_.first_build_ms = msAfter(build_line.text, "built in ");
    result_.cp_ready_ms = msBetween(cp_started, build_line.time);
    result_.cp_before_streams = readProcStats(cp_->pid());
    progress(absl::StrCat("trellis-cp serves ADS on port ", *ads_port, ": ", build_line.text));

    tracker_ = std::make_unique<PushTracker>(options_.nodes);
    for (int c = 0; c < result_.connections; ++c) {
      grpc::ChannelArguments args;
      // Each channel its own subchannel, so each is its own TCP connection (as separate proxies).
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetMaxReceiveMessageSize(64 << 20);
      stubs_.push_back(envoy::service::discovery::v3::AggregatedDiscoveryService::NewStub(grpc::CreateCustomChannel(
          absl::StrCat("127.0.0.1:", *ads_port), grpc::InsecureChannelCredentials(), args)));
    }
    const auto cpu_before_fetch = readProcStats(cp_->pid());
    const auto streams_started = Clock::now();
    for (int i = 0; i < options_.nodes; ++i) {
      streams_.push_back(std::make_unique<ProxyStream>(i, clientNodeId(i, shape), *tracker_));
      streams_.back()->start(*stubs_[static_cast<size_t>(i % result_.connections)]);
    }
    const auto initial = tracker_->waitInitial(options_.timeout);
    if (!initial) {
      return absl::StrCat("only ", tracker_->initialCount(), " of ", options_.nodes,
                          " proxies got their initial configuration",
                          tracker_->streamsEnded() > 0 ? "; first stream end: " + tracker_->firstEnd() : "",
                          "\ncp log:\n", cp_->tail(10));
    }
    result_.initial_fetch_ms = msBetween(streams_started, *initial);
    result_.cp_connected = readProcStats(cp_->pid());
    if (cpu_before_fetch && result_.cp_connected) {
      result_.cp_cpu_initial_s = result_.cp_connected->cpuSeconds() - cpu_before_fetch->cpuSeconds();
    }
    progress(absl::StrCat("initial fetch of ", options_.nodes, " proxies: ", result_.initial_fetch_ms, " ms"));

    for (int round = 1; round <= options_.rounds; ++round) {
      if (std::string error = runRound(round, shape); !error.empty()) return error;
    }
    return "";
  }

  std::string runRound(int round, const MeshShape& shape) {
    // A quiet moment, so the cp has finished logging and scheduling the previous round.
    std::this_thread::sleep_for(options_.pause);
    RoundResult out;
    out.round = round;
    const std::vector<int> weights = roundWeights(round, shape.targets);
    out.weights = weightsSignature(weights);
    tracker_->startRound(out.weights);
    const auto responses_before = tracker_->responses();
    const auto cpu_before = readProcStats(cp_->pid());
    const size_t first_line = cp_->lineCount();

    const auto edited = Clock::now();
    if (absl::Status written = writeRoute(options_.mesh_dir, weights); !written.ok()) return written.ToString();
    PushTracker::Round acks = tracker_->waitRound(options_.timeout);
    const auto cpu_after = readProcStats(cp_->pid());

    out.acked = acks.acked;
    out.responses = difference(tracker_->responses(), responses_before);
    if (cpu_before && cpu_after) out.cp_cpu_s = cpu_after->cpuSeconds() - cpu_before->cpuSeconds();
    if (!acks.ack_times.empty()) {
      std::vector<Clock::time_point>& times = acks.ack_times;
      std::sort(times.begin(), times.end());
      out.first_ack_ms = msBetween(edited, times.front());
      out.median_ack_ms = msBetween(edited, times[times.size() / 2]);
      out.push_ms = msBetween(edited, times.back());
    }
    if (auto applied = cp_->waitForLine("applied:", first_line, std::chrono::seconds(5))) {
      const CpProcess::LogLine line = cp_->line(*applied);
      out.applied_ms = msBetween(edited, line.time);
      out.build_ms = msAfter(line.text, "built in ");
      out.build_phases = buildPhases(line.text);
      out.publish_ms = msAfter(line.text, "published in ");
    }
    result_.rounds.push_back(out);
    progress(absl::StrCat("round ", round, " (weights ", out.weights, "): ", out.acked, " of ", options_.nodes,
                          " ACKed, push latency ", out.push_ms, " ms"));
    if (out.acked != options_.nodes) {
      return absl::StrCat("round ", round, ": only ", out.acked, " of ", options_.nodes,
                          " proxies ACKed the new routes within ", options_.timeout.count(), " ms",
                          tracker_->streamsEnded() > 0 ? "; first stream end: " + tracker_->firstEnd() : "",
                          "\ncp log:\n", cp_->tail(10));
    }
    return "";
  }

  // Closes every stream, then stops the cp (also after a failure).
  void finish() {
    if (cp_) result_.cp_end = readProcStats(cp_->pid());
    result_.harness_end = readProcStats(::getpid());
    for (auto& stream : streams_) stream->cancel();
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    bool all_done = true;
    for (auto& stream : streams_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (!stream->waitDone(std::max(left, std::chrono::milliseconds(0)))) all_done = false;
    }
    if (!all_done) {
      // A reactor gRPC still runs must outlive it: leave them (the process is about to end).
      for (auto& stream : streams_) (void)stream.release();
      for (auto& stub : stubs_) (void)stub.release();
      (void)tracker_.release();
      if (result_.error.empty()) result_.error = "some streams did not end within 30 s of their cancellation";
    }
    streams_.clear();
    stubs_.clear();
    if (cp_) cp_->stop();
    cp_.reset();
  }

  const PushBenchOptions& options_;
  PushBenchResult result_;
  std::unique_ptr<CpProcess> cp_;
  std::unique_ptr<PushTracker> tracker_;
  std::vector<std::unique_ptr<Stub>> stubs_;
  std::vector<std::unique_ptr<ProxyStream>> streams_;
};

}  // namespace

PushBenchResult runPushBench(const PushBenchOptions& options) { return Run(options).go(); }

}  // namespace trellis::bench::cp_push
