// cp-push-bench: how fast trellis-cp pushes one route change to N connected proxies. It writes a
// mesh of N client nodes, starts trellis-cp on it, connects N simulated proxies over ADS, waits
// for their initial configuration, then edits the route weights K times and reports, per edit,
// the time from the file change to the last proxy's ACK of the new RouteConfiguration, with the
// cp's CPU time and memory. See README.md next to this file.
//
//   cp-push-bench [--nodes 1000] [--rounds 5] [--targets 3] [--connections 0] [--sidecars]
//                 [--cp PATH] [--dir DIR] [--cp-log FILE] [--timeout-s 120] [--pause-ms 500]
//                 [--format cli|cloudformation|terraform]
//   cp-push-bench --write-mesh DIR [--nodes N] [--targets T] [--sidecars] [--format cli|cloudformation|terraform]
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "bench/cp_push/cli_script_gen.h"
#include "bench/cp_push/mesh_gen.h"
#include "bench/cp_push/push_bench.h"

namespace {

namespace fs = std::filesystem;
using trellis::bench::cp_push::PushBenchOptions;
using trellis::bench::cp_push::PushBenchResult;
using trellis::bench::cp_push::RoundResult;

int usage(const std::string& error) {
  if (!error.empty()) std::fprintf(stderr, "cp-push-bench: %s\n", error.c_str());
  std::fprintf(stderr,
               "usage: cp-push-bench [--nodes 1000] [--rounds 5] [--targets 3] [--connections 0 (one per proxy)]\n"
               "                     [--sidecars] [--cp PATH] [--dir DIR] [--cp-log FILE] [--timeout-s 120]\n"
               "                     [--pause-ms 500] [--format cli|cloudformation|terraform]\n"
               "       cp-push-bench --write-mesh DIR [--nodes N] [--targets T] [--sidecars] [--format cli|cloudformation|terraform]\n"
               "       cp-push-bench --write-cli-script FILE [--nodes N] [--targets T]  (for trellis-cp import-cli)\n");
  return 2;
}

// trellis-cp from the runfiles (bazel run, bazel test, or the binary run from bazel-bin).
std::string findCp(const char* argv0) {
  std::vector<std::string> candidates;
  if (const char* srcdir = std::getenv("TEST_SRCDIR")) candidates.push_back(std::string(srcdir) + "/trellis/xds/trellis-cp");
  if (const char* runfiles = std::getenv("RUNFILES_DIR")) {
    candidates.push_back(std::string(runfiles) + "/trellis/xds/trellis-cp");
  }
  candidates.push_back("xds/trellis-cp");  // bazel run starts in the runfiles tree
  candidates.push_back(std::string(argv0) + ".runfiles/trellis/xds/trellis-cp");
  for (const std::string& candidate : candidates) {
    if (::access(candidate.c_str(), X_OK) == 0) return fs::absolute(candidate).string();
  }
  return "";
}

std::string ms(double value) { return absl::StrCat(static_cast<int64_t>(value * 10 + 0.5) / 10.0); }
std::string mib(long kib) { return absl::StrCat(static_cast<int64_t>(kib * 10 / 1024) / 10.0, " MiB"); }

std::string shortType(const std::string& type_url) {
  if (type_url.find("RouteConfiguration") != std::string::npos) return "RDS";
  if (type_url.find("ClusterLoadAssignment") != std::string::npos) return "EDS";
  if (type_url.find("Cluster") != std::string::npos) return "CDS";
  if (type_url.find("Listener") != std::string::npos) return "LDS";
  return type_url;
}

void report(const PushBenchOptions& options, const PushBenchResult& result) {
  std::printf("cp-push-bench: %d proxies on %d connections, %d target nodes%s%s, %zu round(s)\n", result.nodes,
              result.connections, options.targets, options.sidecars ? ", Sidecar documents" : "",
              options.format == trellis::bench::cp_push::MeshFormat::kTerraform ? ", mesh and nodes as Terraform .tf"
              : options.format == trellis::bench::cp_push::MeshFormat::kCloudFormation ? ", as CloudFormation templates" : "",
              result.rounds.size());
  if (result.first_build_ms) {
    std::printf("trellis-cp first build: %s ms (its own \"built in\"), first build applied %s ms after start\n",
                ms(*result.first_build_ms).c_str(), ms(result.cp_ready_ms).c_str());
  }
  if (result.initial_fetch_ms > 0) {
    std::printf("initial fetch of %d proxies: %s ms (streams opened -> every proxy ACKed CDS, EDS, LDS, RDS); "
                "cp CPU %s s\n",
                result.nodes, ms(result.initial_fetch_ms).c_str(), ms(result.cp_cpu_initial_s).c_str());
  }
  if (!result.rounds.empty()) {
    std::printf("%-5s %-10s %6s %9s %9s %9s %11s %9s %11s %10s  %s\n", "round", "weights", "acked", "first ms",
                "median ms", "push ms", "applied ms", "build ms", "publish ms", "cp CPU ms", "responses");
  }
  std::vector<double> push;
  for (const RoundResult& r : result.rounds) {
    std::vector<std::string> responses;
    for (const auto& [type, count] : r.responses) responses.push_back(absl::StrCat(count, " ", shortType(type)));
    std::printf("%-5d %-10s %6d %9s %9s %9s %11s %9s %11s %10s  %s\n", r.round, r.weights.c_str(), r.acked,
                ms(r.first_ack_ms).c_str(), ms(r.median_ack_ms).c_str(), ms(r.push_ms).c_str(),
                r.applied_ms ? ms(*r.applied_ms).c_str() : "-", r.build_ms ? ms(*r.build_ms).c_str() : "-",
                r.publish_ms ? ms(*r.publish_ms).c_str() : "-", ms(r.cp_cpu_s * 1000).c_str(),
                absl::StrJoin(responses, ", ").c_str());
    if (r.acked == result.nodes) push.push_back(r.push_ms);
  }
  for (const RoundResult& r : result.rounds) {
    if (!r.build_phases.empty()) std::printf("  round %d build: %s\n", r.round, r.build_phases.c_str());
  }
  if (!push.empty()) {
    std::sort(push.begin(), push.end());
    std::printf("push latency (route file renamed -> last of %d proxies ACKed): min %s ms, median %s ms, max %s ms\n",
                result.nodes, ms(push.front()).c_str(), ms(push[push.size() / 2]).c_str(), ms(push.back()).c_str());
  }
  auto line = [](const char* what, const std::optional<trellis::bench::cp_push::ProcStats>& s) {
    if (!s) return;
    std::printf("  %-26s RSS %-11s peak %-11s CPU %s s (user %s, system %s), %d threads\n", what,
                mib(s->rss_kib).c_str(), mib(s->peak_rss_kib).c_str(), ms(s->cpuSeconds()).c_str(),
                ms(s->cpu_user_s).c_str(), ms(s->cpu_system_s).c_str(), s->threads);
  };
  std::printf("trellis-cp (cumulative since its start):\n");
  line("before the streams:", result.cp_before_streams);
  line("after the initial fetch:", result.cp_connected);
  line("at the end:", result.cp_end);
  std::printf("this harness (shares the machine's cores with the cp):\n");
  line("at the end:", result.harness_end);
}

}  // namespace

int main(int argc, char** argv) {
  // As in trellis-cp: Debian's Abseil checks lock order on every absl::Mutex (gRPC's too) unless
  // told not to, which would make this process spend more of the CPU it shares with the cp.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  PushBenchOptions options;
  std::string write_only;
  std::string write_script;
  std::string dir;
  std::string cp;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto text = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    auto number = [&](int& out, int low, int high) {
      std::string value;
      return text(value) && absl::SimpleAtoi(value, &out) && out >= low && out <= high;
    };
    int seconds = 0;
    int millis = 0;
    if (arg == "--nodes") {
      if (!number(options.nodes, 1, 100000)) return usage("--nodes takes 1-100000");
    } else if (arg == "--rounds") {
      if (!number(options.rounds, 0, 1000)) return usage("--rounds takes 0-1000");
    } else if (arg == "--targets") {
      if (!number(options.targets, 2, 10)) return usage("--targets takes 2-10");
    } else if (arg == "--connections") {
      if (!number(options.connections, 0, 100000)) return usage("--connections takes 0 (one per proxy) or a count");
    } else if (arg == "--sidecars") {
      options.sidecars = true;
    } else if (arg == "--format") {
      std::string name;
      std::optional<trellis::bench::cp_push::MeshFormat> format;
      if (text(name)) format = trellis::bench::cp_push::parseMeshFormat(name);
      if (!format) return usage("--format takes cli, cloudformation or terraform");
      options.format = *format;
    } else if (arg == "--cp") {
      if (!text(cp)) return usage("--cp needs the trellis-cp binary");
    } else if (arg == "--dir") {
      if (!text(dir)) return usage("--dir needs a folder");
    } else if (arg == "--cp-log") {
      if (!text(options.cp_log)) return usage("--cp-log needs a file");
    } else if (arg == "--timeout-s") {
      if (!number(seconds, 1, 3600)) return usage("--timeout-s takes 1-3600");
      options.timeout = std::chrono::seconds(seconds);
    } else if (arg == "--pause-ms") {
      if (!number(millis, 0, 60000)) return usage("--pause-ms takes 0-60000");
      options.pause = std::chrono::milliseconds(millis);
    } else if (arg == "--write-cli-script") {
      if (!text(write_script)) return usage("--write-cli-script needs a file");
    } else if (arg == "--write-mesh") {
      if (!text(write_only)) return usage("--write-mesh needs a folder");
    } else if (arg == "-h" || arg == "--help") {
      usage("");
      return 0;
    } else {
      return usage("unknown argument '" + arg + "'");
    }
  }

  if (!write_script.empty()) {
    trellis::bench::cp_push::MeshShape shape;
    shape.nodes = options.nodes;
    shape.targets = options.targets;
    if (absl::Status s = trellis::bench::cp_push::writeCliScript(write_script, shape); !s.ok()) {
      std::fprintf(stderr, "cp-push-bench: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("wrote an aws appmesh script of %d client nodes and %d targets to %s\n", shape.nodes,
                shape.targets, write_script.c_str());
    return 0;
  }
  if (!write_only.empty()) {
    trellis::bench::cp_push::MeshShape shape;
    shape.nodes = options.nodes;
    shape.targets = options.targets;
    shape.sidecars = options.sidecars;
    shape.format = options.format;
    if (absl::Status s = trellis::bench::cp_push::writeMesh(write_only, shape); !s.ok()) {
      std::fprintf(stderr, "cp-push-bench: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("wrote a mesh of %d client nodes and %d targets to %s\n", shape.nodes, shape.targets,
                write_only.c_str());
    return 0;
  }

  options.cp_binary = cp.empty() ? findCp(argv[0]) : cp;
  if (options.cp_binary.empty()) return usage("trellis-cp not found in the runfiles; give --cp PATH");
  std::string temp;
  if (dir.empty()) {
    char pattern[] = "/tmp/cp-push-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) return usage("cannot create a temporary folder");
    temp = pattern;
    options.mesh_dir = fs::path(temp) / "mesh";
  } else {
    options.mesh_dir = dir;
  }

  const PushBenchResult result = trellis::bench::cp_push::runPushBench(options);
  report(options, result);
  if (!result.error.empty()) {
    std::fprintf(stderr, "cp-push-bench: FAILED: %s\n(mesh kept in %s)\n", result.error.c_str(),
                 options.mesh_dir.c_str());
    return 1;
  }
  if (!temp.empty()) {
    std::error_code ignored;
    fs::remove_all(temp, ignored);
  }
  return 0;
}
