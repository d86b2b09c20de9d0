// The push benchmark as a function, shared by cp-push-bench and its test: write the mesh, start
// trellis-cp on it, connect N simulated proxies, wait for their initial configuration, then K
// times edit the route weights and time how long until every proxy has ACKed the new outbound
// RouteConfiguration. Every wait is bounded; the cp is stopped before returning, whatever happened.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/cp_push/proc_stats.h"

namespace trellis::bench::cp_push {

struct PushBenchOptions {
  int nodes = 1000;  // simulated proxies (client virtual nodes)
  int rounds = 5;    // route edits
  int targets = 3;   // target nodes of the weighted route
  int connections = 0;  // TCP connections the streams share; 0: one per proxy, as real sidecars
  bool sidecars = false;  // write Sidecar documents (see mesh_gen.h)
  bool terraform = false;  // write the mesh and nodes as Terraform .tf files (see mesh_gen.h)
  std::string cp_binary;  // trellis-cp
  std::filesystem::path mesh_dir;  // where the mesh is written (created)
  std::string cp_log;  // if set, a copy of the cp's log
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};  // bound of every single wait
  std::chrono::milliseconds pause{std::chrono::milliseconds(500)};  // quiet time before each edit
  bool quiet = false;  // no progress lines on stderr
};

struct RoundResult {
  int round = 0;
  std::string weights;  // "40,30,30"
  int acked = 0;        // proxies that ACKed the new routes
  double push_ms = 0;   // edit -> last ACK
  double first_ack_ms = 0;
  double median_ack_ms = 0;
  std::optional<double> applied_ms;  // edit -> the cp logged "mesh build #K applied"
  std::optional<double> build_ms;    // the cp's own "built in X ms" (load + validate + translate + pack)
  std::string build_phases;          // the cp's "(load A ms, validate B ms, ...)", if it logs it
  std::optional<double> publish_ms;  // the cp's "published in X ms" (every node's setResources)
  double cp_cpu_s = 0;               // the cp's CPU time from the edit to the last ACK
  std::map<std::string, long> responses;  // responses the proxies received in the round, by type
};

struct PushBenchResult {
  int nodes = 0;
  int connections = 0;
  std::optional<double> first_build_ms;  // the cp's first "built in X ms"
  double cp_ready_ms = 0;                // cp start -> first build applied
  double initial_fetch_ms = 0;           // streams opened -> every proxy ACKed CDS, EDS, LDS and RDS
  double cp_cpu_initial_s = 0;           // the cp's CPU time during the initial fetch
  std::optional<ProcStats> cp_before_streams;
  std::optional<ProcStats> cp_connected;  // after the initial fetch
  std::optional<ProcStats> cp_end;        // after the last round
  std::optional<ProcStats> harness_end;   // this process (it shares the CPU with the cp)
  std::vector<RoundResult> rounds;
  std::string error;  // empty: every wait succeeded
};

PushBenchResult runPushBench(const PushBenchOptions& options);

}  // namespace trellis::bench::cp_push
