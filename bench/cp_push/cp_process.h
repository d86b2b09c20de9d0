// trellis-cp as a child process of the benchmark: started with its stdout and stderr on a pipe,
// which a thread reads line by line and stamps with the time it arrived (steady clock), so the
// benchmark can wait for a log line and use its time for the latency breakdown. The pipe is
// always drained, so the cp never blocks on a full pipe however much it logs.
//
// The destructor ends the child (SIGTERM, then SIGKILL after a few seconds) and reaps it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace trellis::bench::cp_push {

class CpProcess {
 public:
  using Clock = std::chrono::steady_clock;
  struct LogLine {
    Clock::time_point time;  // when the line was read from the pipe
    std::string text;
  };

  // Starts `argv[0]` with `argv`. If `log_copy` is not empty, every line is also written there.
  static absl::StatusOr<std::unique_ptr<CpProcess>> start(const std::vector<std::string>& argv,
                                                          const std::string& log_copy = "");
  ~CpProcess();
  CpProcess(const CpProcess&) = delete;
  CpProcess& operator=(const CpProcess&) = delete;

  pid_t pid() const { return pid_; }

  // Waits for the first line at index >= `from` that contains `needle`; returns its index.
  // Nothing on timeout or when the output ended (the cp exited).
  std::optional<size_t> waitForLine(const std::string& needle, size_t from, std::chrono::milliseconds timeout);
  LogLine line(size_t index);
  size_t lineCount();
  // The last `count` lines, for error messages.
  std::string tail(size_t count);

  // SIGTERM, wait up to `grace` for the exit, then SIGKILL. Returns the exit status if it exited by
  // itself. Idempotent.
  std::optional<int> stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  CpProcess(pid_t pid, int out, const std::string& log_copy);
  void readLoop();

  pid_t pid_ = -1;
  int out_ = -1;
  std::thread reader_;
  std::ofstream log_copy_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<LogLine> lines_;
  bool eof_ = false;
};

// Reads "(port N)" at the end of a line such as "ADS listening on 127.0.0.1:0 (port 41234)".
std::optional<int> portFromLogLine(const std::string& line);

}  // namespace trellis::bench::cp_push
