// CPU time and memory of a process from /proc, for reporting what the control plane spent.
#pragma once

#include <sys/types.h>

#include <optional>

namespace trellis::bench::cp_push {

struct ProcStats {
  double cpu_user_s = 0;    // utime
  double cpu_system_s = 0;  // stime
  long rss_kib = 0;         // VmRSS
  long peak_rss_kib = 0;    // VmHWM (high-water mark since start)
  int threads = 0;

  double cpuSeconds() const { return cpu_user_s + cpu_system_s; }
};

// Nothing if the process is gone or /proc cannot be read.
std::optional<ProcStats> readProcStats(pid_t pid);

}  // namespace trellis::bench::cp_push
