// The cp child process and its timestamped log; see cp_process.h.
#include "bench/cp_push/cp_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace trellis::bench::cp_push {

absl::StatusOr<std::unique_ptr<CpProcess>> CpProcess::start(const std::vector<std::string>& argv,
                                                            const std::string& log_copy) {
  if (argv.empty()) return absl::InvalidArgumentError("no program to start");
  if (::access(argv[0].c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("cannot run '", argv[0], "': ", std::strerror(errno)));
  }
  // Everything the child needs is prepared before fork: after it, only exec-safe calls.
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(error)));
  }
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  return std::unique_ptr<CpProcess>(new CpProcess(pid, fds[0], log_copy));
}

CpProcess::CpProcess(pid_t pid, int out, const std::string& log_copy) : pid_(pid), out_(out) {
  if (!log_copy.empty()) log_copy_.open(log_copy, std::ios::trunc);
  reader_ = std::thread([this] { readLoop(); });
}

CpProcess::~CpProcess() {
  stop();
  // The child is gone, so the pipe reaches its end and the reader returns.
  if (reader_.joinable()) reader_.join();
  if (out_ >= 0) ::close(out_);
}

void CpProcess::readLoop() {
  std::string pending;
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::read(out_, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    const auto now = Clock::now();
    pending.append(buffer, static_cast<size_t>(n));
    std::vector<LogLine> complete;
    size_t start = 0;
    for (size_t eol; (eol = pending.find('\n', start)) != std::string::npos; start = eol + 1) {
      complete.push_back(LogLine{now, pending.substr(start, eol - start)});
    }
    pending.erase(0, start);
    if (complete.empty()) continue;
    if (log_copy_.is_open()) {
      for (const LogLine& line : complete) log_copy_ << line.text << '\n';
      log_copy_.flush();
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (LogLine& line : complete) lines_.push_back(std::move(line));
    cv_.notify_all();
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!pending.empty()) lines_.push_back(LogLine{Clock::now(), pending});
  eof_ = true;
  cv_.notify_all();
}

std::optional<size_t> CpProcess::waitForLine(const std::string& needle, size_t from,
                                             std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::unique_lock<std::mutex> lock(mu_);
  for (size_t i = from;;) {
    for (; i < lines_.size(); ++i) {
      if (lines_[i].text.find(needle) != std::string::npos) return i;
    }
    if (eof_) return std::nullopt;
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && i == lines_.size()) return std::nullopt;
  }
}

CpProcess::LogLine CpProcess::line(size_t index) {
  std::lock_guard<std::mutex> lock(mu_);
  return index < lines_.size() ? lines_[index] : LogLine{};
}

size_t CpProcess::lineCount() {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_.size();
}

std::string CpProcess::tail(size_t count) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (size_t i = lines_.size() > count ? lines_.size() - count : 0; i < lines_.size(); ++i) {
    absl::StrAppend(&out, lines_[i].text, "\n");
  }
  return out;
}

std::optional<int> CpProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return std::nullopt;
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + grace;
  int status = 0;
  pid_t reaped = 0;
  // Polling with a short pause: a child's exit has no descriptor to wait on here.
  while ((reaped = ::waitpid(pid_, &status, WNOHANG)) == 0 && Clock::now() < deadline) {
    ::usleep(10'000);
  }
  if (reaped == 0) {
    ::kill(pid_, SIGKILL);
    reaped = ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return std::nullopt;
  }
  pid_ = -1;
  if (reaped < 0 || !WIFEXITED(status)) return std::nullopt;
  return WEXITSTATUS(status);
}

std::optional<int> portFromLogLine(const std::string& line) {
  const size_t at = line.rfind("(port ");
  if (at == std::string::npos) return std::nullopt;
  const size_t end = line.find(')', at);
  if (end == std::string::npos) return std::nullopt;
  int port = 0;
  if (!absl::SimpleAtoi(line.substr(at + 6, end - at - 6), &port) || port <= 0 || port > 65535) return std::nullopt;
  return port;
}

}  // namespace trellis::bench::cp_push
