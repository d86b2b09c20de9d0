// The file writer: lines reach the file (by block, by timer, at shutdown), a writer stuck on a
// pipe nobody reads makes workers drop and count whole blocks instead of waiting, reopen
// follows a rotated file, and a path that cannot be opened is an error naming it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>

#include "proxy/accesslog/access_log.h"
#include "proxy/accesslog/log_files.h"

namespace trellis::proxy::accesslog {
namespace {

std::string tempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void addLine(FileSink& sink, uint32_t w, std::string_view line) {
  sink.buffer(w) += line;
  sink.lineAdded(w);
}

// Bounded polling for something another thread does.
template <class F>
bool eventually(F f) {
  for (int i = 0; i < 500; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return f();
}

TEST(FileSinkTest, LinesReachTheFileAtShutdown) {
  const auto path = tempPath("shutdown.log");
  std::remove(path.c_str());
  StatsStore stats(3);
  LogFiles files(2, stats);
  auto sink = files.open(path);
  ASSERT_TRUE(sink.ok()) << sink.status();
  auto again = files.open(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(sink->get(), again->get());  // one sink per path, shared by every snapshot
  addLine(**sink, 0, "a\n");
  addLine(**sink, 1, "b\n");
  addLine(**sink, 0, "c\n");
  files.flushAndStop();
  const std::string text = slurp(path);
  EXPECT_EQ(text.size(), 6u);
  EXPECT_NE(text.find("a\nc\n"), std::string::npos) << text;  // one worker's lines stay in order
  EXPECT_NE(text.find("b\n"), std::string::npos) << text;
  EXPECT_EQ(stats.filesystem().write_buffered.load(), 2u);
  EXPECT_EQ(stats.filesystem().write_completed.load(), 2u);
  EXPECT_EQ(stats.filesystem().write_total_buffered.load(), 0);
}

TEST(FileSinkTest, AFullBlockIsHandedOverAtOnce) {
  const auto path = tempPath("block.log");
  std::remove(path.c_str());
  StatsStore stats(2);
  FileSinkOptions opts;
  opts.block_bytes = 64;
  opts.flush_interval = std::chrono::hours(1);  // no timer: only the block size hands over
  LogFiles files(1, stats, opts);
  auto sink = files.open(path);
  ASSERT_TRUE(sink.ok());
  for (int i = 0; i < 10; ++i) addLine(**sink, 0, "0123456789\n");  // 110 bytes: one block of 66
  EXPECT_TRUE(eventually([&] { return slurp(path).size() == 66; })) << slurp(path).size();
  files.flushAndStop();
  EXPECT_EQ(slurp(path).size(), 110u);
}

TEST(FileSinkTest, AnIdleWorkersLinesAreFlushedByTheTimer) {
  const auto path = tempPath("timer.log");
  std::remove(path.c_str());
  StatsStore stats(2);
  FileSinkOptions opts;
  opts.flush_interval = std::chrono::milliseconds(20);
  LogFiles files(1, stats, opts);
  boost::asio::io_context worker;
  auto guard = boost::asio::make_work_guard(worker);
  std::thread t([&] { worker.run(); });
  files.setWorkerContexts({&worker});
  auto sink = files.open(path);
  ASSERT_TRUE(sink.ok());
  boost::asio::post(worker, [&] { addLine(**sink, 0, "lonely line\n"); });
  EXPECT_TRUE(eventually([&] { return slurp(path) == "lonely line\n"; }));
  EXPECT_EQ(stats.filesystem().flushed_by_timer.load(), 1u);
  guard.reset();
  worker.stop();
  t.join();
  files.flushAndStop();
}

TEST(FileSinkTest, ABlockedWriterMakesWorkersDropAndCountNeverWait) {
  std::signal(SIGPIPE, SIG_IGN);
  const auto path = tempPath("stuck.fifo");
  std::remove(path.c_str());
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  // A reader that opens the pipe and reads nothing until the end: the writer blocks once the
  // pipe's buffer (64 KiB) is full.
  const int reader = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  StatsStore stats(2);
  FileSinkOptions opts;
  opts.block_bytes = 4096;
  opts.max_queued_blocks = 2;
  LogFiles files(1, stats, opts);
  auto sink = files.open(path);
  ASSERT_TRUE(sink.ok()) << sink.status();
  const std::string line(99, 'x');
  const std::string nl = line + "\n";
  constexpr int kLines = 20000;  // 2 MB: far more than the pipe and the queue hold
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kLines; ++i) addLine(**sink, 0, nl);
  const auto took = std::chrono::steady_clock::now() - started;
  // Not a timing assertion on speed: a worker that waited on the writer would wait forever.
  EXPECT_LT(took, std::chrono::seconds(30));
  const uint64_t dropped = (*sink)->droppedLines();
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(dropped % 41, 0u) << "whole blocks are dropped (41 lines of 100 bytes fill a 4096-byte block)";
  EXPECT_EQ(stats.accessLog().dropped_lines.load(), dropped);
  // Drain the pipe so the writer can finish; every line not dropped arrives, whole.
  // Read until the writer has finished (flushAndStop returned, the last partial block
  // included), then take what is left in the pipe.
  std::atomic<bool> finished{false};
  std::thread stopper([&] {
    files.flushAndStop();
    finished.store(true);
  });
  std::string got;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(reader, buf, sizeof buf);
    if (n > 0) {
      got.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (finished.load()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stopper.join();
  while (true) {
    const ssize_t n = ::read(reader, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(stats.filesystem().write_failed.load(), 0u);
  ::close(reader);
  EXPECT_EQ(got.size(), (kLines - dropped) * nl.size());
  std::remove(path.c_str());
}

TEST(FileSinkTest, ReopenFollowsARotatedFile) {
  const auto path = tempPath("rotate.log");
  const auto rotated = path + ".1";
  std::remove(path.c_str());
  std::remove(rotated.c_str());
  StatsStore stats(2);
  FileSinkOptions opts;
  opts.block_bytes = 1;  // every line is a block
  LogFiles files(1, stats, opts);
  auto sink = files.open(path);
  ASSERT_TRUE(sink.ok());
  addLine(**sink, 0, "before\n");
  ASSERT_TRUE(eventually([&] { return slurp(path) == "before\n"; }));
  ASSERT_EQ(std::rename(path.c_str(), rotated.c_str()), 0);
  files.reopenAll();
  ASSERT_TRUE(eventually([&] { return slurp(path).empty() && access(path.c_str(), F_OK) == 0; }));
  addLine(**sink, 0, "after\n");
  files.flushAndStop();
  EXPECT_EQ(slurp(rotated), "before\n");
  EXPECT_EQ(slurp(path), "after\n");
}

TEST(FileSinkTest, APathThatCannotBeOpenedIsAnErrorNamingIt) {
  StatsStore stats(2);
  LogFiles files(1, stats);
  auto sink = files.open("/nonexistent-dir/access.log");
  ASSERT_FALSE(sink.ok());
  EXPECT_NE(sink.status().message().find("'/nonexistent-dir/access.log'"), std::string::npos) << sink.status();
  EXPECT_TRUE(files.open("/dev/stdout").ok());
}

}  // namespace
}  // namespace trellis::proxy::accesslog
