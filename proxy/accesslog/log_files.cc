// The registry of access log files by path; see log_files.h.
#include "proxy/accesslog/log_files.h"

namespace trellis::proxy::accesslog {

LogFiles::LogFiles(size_t workers, StatsStore& stats, FileSinkOptions options)
    : workers_(workers), options_(options) {
  stats_.write_buffered = &stats.filesystem().write_buffered;
  stats_.write_completed = &stats.filesystem().write_completed;
  stats_.write_failed = &stats.filesystem().write_failed;
  stats_.flushed_by_timer = &stats.filesystem().flushed_by_timer;
  stats_.reopen_failed = &stats.filesystem().reopen_failed;
  stats_.write_total_buffered = &stats.filesystem().write_total_buffered;
  stats_.dropped_lines = &stats.accessLog().dropped_lines;
}

LogFiles::~LogFiles() { flushAndStop(); }

absl::StatusOr<std::shared_ptr<FileSink>> LogFiles::open(const std::string& path) {
  std::lock_guard lk(mu_);
  if (auto it = files_.find(path); it != files_.end()) return it->second;
  auto sink = FileSink::open(path, workers_, options_, stats_);
  if (!sink.ok()) return sink.status();
  (*sink)->setWorkerContexts(contexts_);
  files_.emplace(path, *sink);
  return *sink;
}

void LogFiles::setWorkerContexts(std::vector<boost::asio::io_context*> contexts) {
  std::lock_guard lk(mu_);
  contexts_ = std::move(contexts);
  for (auto& [path, sink] : files_) sink->setWorkerContexts(contexts_);
}

void LogFiles::reopenAll() {
  std::lock_guard lk(mu_);
  for (auto& [path, sink] : files_) sink->reopen();
}

void LogFiles::flushAndStop() {
  std::lock_guard lk(mu_);
  for (auto& [path, sink] : files_) {
    sink->setWorkerContexts({});
    sink->flushAndStop();
  }
}

}  // namespace trellis::proxy::accesslog
