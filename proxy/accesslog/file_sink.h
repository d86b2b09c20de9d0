// One access log file: per-worker buffers, a bounded queue of blocks, and one writer thread.
//
// A worker formats a line straight into its own buffer (no lock, no allocation once the buffer
// has its working size). The buffer is handed to the queue as one block when it reaches
// `block_bytes`, or at the latest about `flush_interval` after its first line (the writer
// thread posts a hand-off to the worker's io_context when a buffer has waited that long). The
// hand-off, under one mutex, is the only synchronisation, once per block and never per line.
// The writer thread takes blocks off the queue and write()s them. If the writer falls behind
// (a slow disk, a pipe nobody reads) and the queue holds `max_queued_blocks`, a new block is
// dropped whole and its lines counted (access_log.dropped_lines): a worker never waits.
//
// Stats, summed over every file as Envoy's are: filesystem.write_buffered (blocks handed to
// the queue), write_completed, write_failed, flushed_by_timer, reopen_failed,
// write_total_buffered (bytes queued, a gauge), and the Trellis extension
// access_log.dropped_lines.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "absl/status/statusor.h"
#include "proxy/stats/stats.h"

namespace trellis::proxy::accesslog {

struct FileSinkOptions {
  size_t block_bytes = 64 * 1024;
  size_t max_queued_blocks = 16;  // 1 MiB of lines waiting for the disk, at the default block size
  std::chrono::milliseconds flush_interval{100};
};

// The counters every file writes to (owned by the StatsStore; updated with atomic adds since
// several writer threads share them).
struct FileSinkStats {
  Counter* write_buffered = nullptr;
  Counter* write_completed = nullptr;
  Counter* write_failed = nullptr;
  Counter* flushed_by_timer = nullptr;
  Counter* reopen_failed = nullptr;
  Gauge* write_total_buffered = nullptr;
  Counter* dropped_lines = nullptr;
};

class FileSink : public std::enable_shared_from_this<FileSink> {
 public:
  // Opens `path` (O_WRONLY|O_APPEND|O_CREAT; /dev/stdout and /dev/stderr are the process's own)
  // and starts its writer thread. `workers` is the number of worker threads that log.
  static absl::StatusOr<std::shared_ptr<FileSink>> open(const std::string& path, size_t workers,
                                                        FileSinkOptions options, FileSinkStats stats);
  ~FileSink();
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  const std::string& path() const { return path_; }

  // Worker `w`'s thread only: format a line into buffer(w), then call lineAdded(w).
  std::string& buffer(uint32_t w) { return slots_[w].buf; }
  void lineAdded(uint32_t w);
  // Hands worker `w`'s buffer to the queue (or drops it, counted, when the queue is full). On
  // worker `w`'s thread, or on any thread once the workers have stopped.
  void handOff(uint32_t w, bool by_timer = false);

  // Where the writer posts timed hand-offs, by worker id (set before the workers log).
  void setWorkerContexts(std::vector<boost::asio::io_context*> contexts);
  // Any thread: the writer reopens the file before its next write (logrotate).
  void reopen();
  // After the workers have stopped: hands every buffer over, writes everything queued, and
  // stops the writer thread. Idempotent.
  void flushAndStop();

  // For tests: lines dropped by this file.
  uint64_t droppedLines() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct alignas(64) Slot {
    std::string buf;
    uint64_t lines = 0;
    std::atomic<bool> pending{false};       // buf holds lines (for the writer's timer)
    std::atomic<bool> flush_posted{false};  // a timed hand-off is on its way to the worker
    std::chrono::steady_clock::time_point first_line{};
    std::atomic<int64_t> first_line_ns{0};  // first_line, readable by the writer
  };
  struct Block {
    std::string data;
    uint64_t lines = 0;
  };

  FileSink(std::string path, int fd, bool reopenable, size_t workers, FileSinkOptions options, FileSinkStats stats);
  void writerLoop();
  void postTimedHandOffs();
  void writeAll(const std::string& data);
  void doReopen();

  const std::string path_;
  int fd_;
  const bool reopenable_;  // not /dev/stdout, /dev/stderr
  const FileSinkOptions options_;
  const FileSinkStats stats_;
  std::vector<Slot> slots_;
  std::vector<boost::asio::io_context*> contexts_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable space_cv_;  // the writer took a block: flushAndStop may hand one over
  std::vector<Block> ring_;  // max_queued_blocks entries
  size_t head_ = 0;
  size_t count_ = 0;
  std::vector<std::string> free_;  // emptied blocks, handed back to workers
  bool stop_ = false;
  bool reopen_ = false;
  bool stopped_ = false;
  std::atomic<uint64_t> dropped_{0};
  std::thread writer_;
};

}  // namespace trellis::proxy::accesslog
