// The per-file writer: buffers, hand-off, queue, writer thread; see file_sink.h.
#include "proxy/accesslog/file_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/post.hpp>

#include "absl/strings/str_cat.h"

namespace trellis::proxy::accesslog {

namespace {

int openFile(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

void bump(Counter* c, uint64_t n = 1) {
  if (c) c->fetch_add(n, std::memory_order_relaxed);
}

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

absl::StatusOr<std::shared_ptr<FileSink>> FileSink::open(const std::string& path, size_t workers,
                                                         FileSinkOptions options, FileSinkStats stats) {
  int fd = -1;
  bool reopenable = true;
  if (path == "/dev/stdout" || path == "/dev/stderr") {
    // The process's own stream, whatever it is (a terminal, a pipe, a file): never reopened.
    fd = ::fcntl(path == "/dev/stdout" ? 1 : 2, F_DUPFD_CLOEXEC, 3);
    reopenable = false;
  } else {
    fd = openFile(path);
  }
  if (fd < 0) {
    return absl::InvalidArgumentError(absl::StrCat("cannot open '", path, "' for appending: ", std::strerror(errno)));
  }
  if (workers == 0) workers = 1;
  if (options.max_queued_blocks == 0) options.max_queued_blocks = 1;
  auto sink = std::shared_ptr<FileSink>(new FileSink(path, fd, reopenable, workers, options, stats));
  sink->writer_ = std::thread([raw = sink.get()] { raw->writerLoop(); });
  return sink;
}

FileSink::FileSink(std::string path, int fd, bool reopenable, size_t workers, FileSinkOptions options,
                   FileSinkStats stats)
    : path_(std::move(path)),
      fd_(fd),
      reopenable_(reopenable),
      options_(options),
      stats_(stats),
      slots_(workers),
      ring_(options.max_queued_blocks) {
  for (auto& s : slots_) s.buf.reserve(options_.block_bytes + 16 * 1024);
  free_.reserve(options_.max_queued_blocks + workers + 1);
}

FileSink::~FileSink() {
  flushAndStop();
  if (fd_ >= 0) ::close(fd_);
}

void FileSink::setWorkerContexts(std::vector<boost::asio::io_context*> contexts) {
  std::lock_guard lk(mu_);
  contexts_ = std::move(contexts);
}

void FileSink::lineAdded(uint32_t w) {
  Slot& s = slots_[w];
  if (s.lines++ == 0) {
    s.first_line_ns.store(nowNs(), std::memory_order_relaxed);
    s.pending.store(true, std::memory_order_release);
  }
  if (s.buf.size() >= options_.block_bytes) handOff(w);
}

void FileSink::handOff(uint32_t w, bool by_timer) {
  Slot& s = slots_[w];
  if (by_timer) s.flush_posted.store(false, std::memory_order_relaxed);
  if (s.buf.empty()) return;
  const uint64_t lines = s.lines;
  const size_t bytes = s.buf.size();
  s.lines = 0;
  s.pending.store(false, std::memory_order_relaxed);
  std::unique_lock lk(mu_);
  if (count_ == ring_.size() || stopped_) {
    lk.unlock();
    // The writer is behind: the block goes, whole, and is counted. The buffer keeps its capacity.
    s.buf.clear();
    dropped_.fetch_add(lines, std::memory_order_relaxed);
    bump(stats_.dropped_lines, lines);
    return;
  }
  Block& b = ring_[(head_ + count_) % ring_.size()];
  b.data.swap(s.buf);
  b.lines = lines;
  ++count_;
  if (!free_.empty()) {
    s.buf.swap(free_.back());
    free_.pop_back();
  }
  // Counted before the writer can see the block, so a reader that finds the lines in the file
  // also finds them counted.
  bump(stats_.write_buffered);
  if (by_timer) bump(stats_.flushed_by_timer);
  if (stats_.write_total_buffered) stats_.write_total_buffered->fetch_add(static_cast<int64_t>(bytes));
  lk.unlock();
  cv_.notify_one();
  if (s.buf.capacity() < options_.block_bytes) s.buf.reserve(options_.block_bytes + 16 * 1024);  // warm-up only
}

void FileSink::reopen() {
  {
    std::lock_guard lk(mu_);
    reopen_ = true;
  }
  cv_.notify_one();
}

void FileSink::postTimedHandOffs() {
  // Buffers that have held lines for a flush interval are handed over by their own worker.
  const int64_t now = nowNs();
  const int64_t wait = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.flush_interval).count();
  for (size_t w = 0; w < slots_.size() && w < contexts_.size(); ++w) {
    Slot& s = slots_[w];
    if (!contexts_[w] || !s.pending.load(std::memory_order_acquire)) continue;
    if (now - s.first_line_ns.load(std::memory_order_relaxed) < wait) continue;
    if (s.flush_posted.exchange(true, std::memory_order_relaxed)) continue;
    boost::asio::post(*contexts_[w], [self = shared_from_this(), w] { self->handOff(static_cast<uint32_t>(w), true); });
  }
}

void FileSink::writeAll(const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      bump(stats_.write_failed);
      return;
    }
    off += static_cast<size_t>(n);
  }
  bump(stats_.write_completed);
}

void FileSink::doReopen() {
  if (!reopenable_) return;
  const int fd = openFile(path_);
  if (fd < 0) {
    bump(stats_.reopen_failed);  // keep writing to the old file
    return;
  }
  ::close(fd_);
  fd_ = fd;
}

void FileSink::writerLoop() {
  std::unique_lock lk(mu_);
  auto last_tick = std::chrono::steady_clock::now();
  for (;;) {
    cv_.wait_for(lk, options_.flush_interval, [&] { return stop_ || count_ > 0 || reopen_; });
    if (reopen_) {
      reopen_ = false;
      lk.unlock();
      doReopen();
      lk.lock();
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_tick >= options_.flush_interval / 2 && !stop_) {
      last_tick = now;
      postTimedHandOffs();
    }
    if (count_ == 0) {
      if (stop_) break;
      continue;
    }
    Block& b = ring_[head_];
    std::string data;
    data.swap(b.data);
    head_ = (head_ + 1) % ring_.size();
    --count_;
    space_cv_.notify_all();
    lk.unlock();
    writeAll(data);
    if (stats_.write_total_buffered) stats_.write_total_buffered->fetch_sub(static_cast<int64_t>(data.size()));
    data.clear();
    lk.lock();
    free_.push_back(std::move(data));
  }
}

void FileSink::flushAndStop() {
  {
    std::lock_guard lk(mu_);
    if (stopped_) return;
  }
  // The workers have stopped: what they formatted is not dropped now but waits for room (the
  // writer keeps draining the queue meanwhile).
  for (uint32_t w = 0; w < slots_.size(); ++w) {
    {
      std::unique_lock lk(mu_);
      space_cv_.wait(lk, [&] { return count_ < ring_.size(); });
    }
    handOff(w);
  }
  {
    std::lock_guard lk(mu_);
    stop_ = true;
    stopped_ = true;
  }
  cv_.notify_one();
  if (writer_.joinable()) writer_.join();
}

}  // namespace trellis::proxy::accesslog
