// /proc/PID/stat and /proc/PID/status readers; see proc_stats.h.
#include "bench/cp_push/proc_stats.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace trellis::bench::cp_push {

std::optional<ProcStats> readProcStats(pid_t pid) {
  const std::string base = "/proc/" + std::to_string(pid);
  ProcStats stats;
  {
    std::ifstream in(base + "/stat");
    std::string line;
    if (!std::getline(in, line)) return std::nullopt;
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    const size_t close = line.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(line.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    // Field 3 is the state; utime and stime are fields 14 and 15.
    for (int number = 3; number <= 15 && (fields >> field); ++number) {
      if (number == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
      if (number == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
    }
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    stats.cpu_user_s = static_cast<double>(utime) / ticks;
    stats.cpu_system_s = static_cast<double>(stime) / ticks;
  }
  std::ifstream status(base + "/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      status >> stats.rss_kib;
    } else if (key == "VmHWM:") {
      status >> stats.peak_rss_kib;
    } else if (key == "Threads:") {
      status >> stats.threads;
    }
    status.ignore(1 << 20, '\n');
  }
  return stats;
}

}  // namespace trellis::bench::cp_push
