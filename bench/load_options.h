// Command line of trellis-load, parsed into LoadOptions. Errors name the flag, the value and
// what is allowed; they never throw.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/request.h"
#include "bench/target.h"

namespace trellis::bench {

struct LoadOptions {
  std::string url;
  Target target;
  RequestSpec request;
  double rate = 0;  // 0: closed loop
  int connections = 10;
  int threads = 1;
  double warmupSeconds = 1;
  double durationSeconds = 10;
  double timeoutSeconds = 5;
  uint64_t requests = 0;  // 0: no limit besides the duration
  std::string jsonPath;   // "" none, "-" stdout
  bool quiet = false;
  int holdConnections = 0;  // > 0: the --hold-connections helper mode
  bool help = false;
};

absl::StatusOr<LoadOptions> parseLoadOptions(const std::vector<std::string>& args);
// Parses "10", "10s", "250ms", "2m" into seconds.
absl::StatusOr<double> parseDuration(const std::string& flag, const std::string& value);
const char* loadUsage();

}  // namespace trellis::bench
