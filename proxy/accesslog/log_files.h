// The access log files of one proxy, by path, owned by the server and shared by every snapshot.
//
// The snapshot compiler opens a file through this registry when a config names it; a later
// config naming the same path gets the same FileSink, so an update never reopens a file or
// loses the lines buffered for it. Files stay open for the life of the process (a handful of
// paths at most). /reopen_logs reopens them all (logrotate); shutdown flushes them after the
// workers have stopped, so no formatted line is lost.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "absl/status/statusor.h"
#include "proxy/accesslog/file_sink.h"
#include "proxy/stats/stats.h"

namespace trellis::proxy::accesslog {

class LogFiles {
 public:
  // `workers`: the worker threads that log (FileSink slots). Registers the filesystem.* stats.
  LogFiles(size_t workers, StatsStore& stats, FileSinkOptions options = {});
  ~LogFiles();

  // Main thread (compile). The file at `path`, opened at the first call.
  absl::StatusOr<std::shared_ptr<FileSink>> open(const std::string& path);
  // Where timed hand-offs go, by worker id; applies to files opened before and after.
  void setWorkerContexts(std::vector<boost::asio::io_context*> contexts);
  // Any thread.
  void reopenAll();
  // After the workers have stopped.
  void flushAndStop();

 private:
  size_t workers_;
  FileSinkOptions options_;
  FileSinkStats stats_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<FileSink>> files_;
  std::vector<boost::asio::io_context*> contexts_;
};

}  // namespace trellis::proxy::accesslog
