// Runs trellis-hcl2json with a timeout and caches its output by content: see terraform_hcl.h.
#include "config/appmesh/terraform_hcl.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

extern char** environ;

namespace trellis::config::appmesh::terraform {

namespace {

constexpr auto kTimeout = std::chrono::seconds(20);
constexpr size_t kCacheEntries = 512;  // .tf files of one folder, and a few edits of each
constexpr const char* kBinary = "trellis-hcl2json";
constexpr const char* kRunfilesPath = "trellis/config/appmesh/terraform/hcl2json/trellis-hcl2json";

std::atomic<size_t> runs{0};

struct CacheKey {
  std::string name;  // diagnostics carry the file's name, so it is part of the key
  std::string content;
  bool operator<(const CacheKey& other) const {
    return name != other.name ? name < other.name : content < other.content;
  }
};

std::mutex cacheMutex;
std::map<CacheKey, absl::StatusOr<std::string>>& cache() {
  static auto* entries = new std::map<CacheKey, absl::StatusOr<std::string>>();
  return *entries;
}

bool isExecutable(const std::string& path) { return !path.empty() && access(path.c_str(), X_OK) == 0; }

// Writes `input` to `toChild`, reads `fromChild` and `errChild` until both close or the deadline.
absl::Status exchange(int toChild, int fromChild, int errChild, const std::string& input,
                      std::string& out, std::string& err) {
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  size_t written = 0;
  bool outOpen = true, errOpen = true;
  fcntl(toChild, F_SETFL, O_NONBLOCK);
  if (input.empty()) {
    close(toChild);
    toChild = -1;
  }
  char buffer[65536];
  // A converter that exits before reading all its input must not kill trellis-cp with SIGPIPE:
  // block it on this thread while writing and drop a pending one afterwards.
  sigset_t pipeSignal, previous;
  sigemptyset(&pipeSignal);
  sigaddset(&pipeSignal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous);
  struct RestoreMask {
    sigset_t pipe, previous;
    ~RestoreMask() {
      const timespec zero{0, 0};
      while (sigtimedwait(&pipe, nullptr, &zero) > 0) {
      }
      pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    }
  } restore{pipeSignal, previous};
  while (outOpen || errOpen) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      if (toChild >= 0) close(toChild);
      return absl::DeadlineExceededError(
          absl::StrCat("did not finish within ", kTimeout.count(), " s"));
    }
    std::vector<pollfd> fds;
    if (toChild >= 0) fds.push_back({toChild, POLLOUT, 0});
    if (outOpen) fds.push_back({fromChild, POLLIN, 0});
    if (errOpen) fds.push_back({errChild, POLLIN, 0});
    const int ready = poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) return absl::InternalError(strerror(errno));
    for (const pollfd& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == toChild) {
        const ssize_t n = write(toChild, input.data() + written, input.size() - written);
        if (n > 0) written += static_cast<size_t>(n);
        if (n < 0 && errno != EAGAIN && errno != EINTR) written = input.size();  // child gone
        if (written == input.size()) {
          close(toChild);
          toChild = -1;
        }
        continue;
      }
      const ssize_t n = read(p.fd, buffer, sizeof(buffer));
      if (n > 0) {
        (p.fd == fromChild ? out : err).append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        (p.fd == fromChild ? outOpen : errOpen) = false;
      }
    }
  }
  if (toChild >= 0) close(toChild);
  return absl::OkStatus();
}

absl::StatusOr<std::string> run(const std::string& name, const std::string& content) {
  absl::StatusOr<std::string> binary = findHclConverter();
  if (!binary.ok()) return binary.status();
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot create pipes: ", strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::string nameArg = name;
  std::vector<char*> argv = {const_cast<char*>(binary->c_str()), const_cast<char*>("-name"),
                             nameArg.data(), nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, binary->c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (spawned != 0) {
    close(in[1]);
    close(out[0]);
    close(err[0]);
    return absl::UnavailableError(absl::StrCat("cannot run ", *binary, ": ", strerror(spawned)));
  }
  ++runs;
  std::string stdoutText, stderrText;
  absl::Status exchanged = exchange(in[1], out[0], err[0], content, stdoutText, stderrText);
  close(out[0]);
  close(err[0]);
  if (!exchanged.ok()) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!exchanged.ok()) {
    return absl::UnavailableError(absl::StrCat(*binary, " ", exchanged.message()));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return stdoutText;
  std::string message(absl::StripTrailingAsciiWhitespace(stderrText));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 1) return absl::InvalidArgumentError(message);
  return absl::UnavailableError(
      absl::StrCat(*binary, " failed (status ", status, ")", message.empty() ? "" : ": ", message));
}

}  // namespace

absl::StatusOr<std::string> findHclConverter() {
  std::vector<std::string> tried;
  if (const char* env = std::getenv("TRELLIS_HCL2JSON"); env != nullptr && *env != '\0') {
    if (isExecutable(env)) return std::string(env);
    return absl::UnavailableError(
        absl::StrCat("TRELLIS_HCL2JSON=", env, " is not an executable file"));
  }
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::string beside = (self.parent_path() / kBinary).string();
    tried.push_back(beside);
    if (isExecutable(beside)) return beside;
    // The Debian package keeps private helpers out of PATH: /usr/bin/trellis-cp and
    // /usr/lib/trellis/trellis-hcl2json.
    const std::string packaged = (self.parent_path().parent_path() / "lib" / "trellis" / kBinary).string();
    tried.push_back(packaged);
    if (isExecutable(packaged)) return packaged;
    const std::string runfiles = absl::StrCat(self.string(), ".runfiles/", kRunfilesPath);
    tried.push_back(runfiles);
    if (isExecutable(runfiles)) return runfiles;
  }
  for (const char* variable : {"RUNFILES_DIR", "TEST_SRCDIR"}) {
    if (const char* dir = std::getenv(variable); dir != nullptr && *dir != '\0') {
      const std::string path = absl::StrCat(dir, "/", kRunfilesPath);
      tried.push_back(path);
      if (isExecutable(path)) return path;
    }
  }
  return absl::UnavailableError(absl::StrCat(
      "the .tf converter ", kBinary, " was not found (looked at $TRELLIS_HCL2JSON, ",
      absl::StrJoin(tried, ", "), "); install it beside trellis-cp or set TRELLIS_HCL2JSON"));
}

absl::StatusOr<std::string> convertHclToJson(const std::string& name, const std::string& content) {
  CacheKey key{name, content};
  {
    std::lock_guard<std::mutex> lock(cacheMutex);
    auto it = cache().find(key);
    if (it != cache().end()) return it->second;
  }
  absl::StatusOr<std::string> result = run(name, content);
  if (absl::IsUnavailable(result.status())) return result;  // not a property of the file: retry
  std::lock_guard<std::mutex> lock(cacheMutex);
  if (cache().size() >= kCacheEntries) cache().clear();
  cache().emplace(std::move(key), result);
  return result;
}

size_t hclConverterRuns() { return runs.load(); }

}  // namespace trellis::config::appmesh::terraform
