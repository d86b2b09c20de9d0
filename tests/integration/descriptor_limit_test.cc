// The proxy at its descriptor limit: a child trellis-proxy started under `prlimit --nofile=N`
// is given more connections than it can accept. It must keep serving the connection it has,
// spend little CPU while exhausted (the accept loop backs off instead of spinning), count the
// backoff, and accept the queued connections once some close.
//
// argv[1] is the trellis-proxy binary.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/bootstrap_builder.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/raw_client.h"

namespace trellis::tests {
namespace {

// The binary, from the test's command line (gtest_main leaves unknown arguments in place).
std::string proxyBinary() {
  const auto args = ::testing::internal::GetArgvs();
  return args.size() > 1 ? args[1] : "";
}

std::string tmpPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name + "." + std::to_string(getpid());
}

// user + system CPU of `pid` in clock ticks (/proc/PID/stat fields 14 and 15).
long cpuTicks(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return utime + stime;
}

std::optional<ClientResponse> get(RawClient& c, const std::string& path) {
  if (!c.send(makeRequest("GET", path))) return std::nullopt;
  return c.readResponse();
}

// A child proxy with its descriptor limit set, killed (and reaped) by the destructor.
class ChildProxy {
 public:
  ChildProxy(const std::string& yaml, int nofile) {
    config_ = tmpPath("fdlimit.yaml");
    address_ = tmpPath("fdlimit.admin");
    log_ = tmpPath("fdlimit.log");
    std::ofstream(config_) << yaml;
    std::remove(address_.c_str());
    const std::string limit = "--nofile=" + std::to_string(nofile) + ":" + std::to_string(nofile);
    const std::string binary = proxyBinary();
    pid_ = fork();
    if (pid_ == 0) {
      // spdlog writes to stdout: both go to the log the test reads.
      int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        ::close(fd);
      }
      execlp("prlimit", "prlimit", limit.c_str(), binary.c_str(), "-c", config_.c_str(), "--concurrency",
             "1", "--drain-time-s", "0", "--admin-address-path", address_.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~ChildProxy() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    std::remove(config_.c_str());
    std::remove(address_.c_str());
    std::remove(log_.c_str());
  }
  // Whether the proxy's log has a line containing `text` within ~5 s (bounded poll).
  bool waitForLog(const std::string& text) {
    for (int i = 0; i < 500; ++i) {
      std::ifstream f(log_);
      std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      if (all.find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  pid_t pid() const { return pid_; }
  // The admin port once the proxy wrote it (bounded poll), else 0.
  uint16_t adminPort() {
    for (int i = 0; i < 1000; ++i) {
      std::ifstream f(address_);
      std::string line;
      if (std::getline(f, line) && line.find(':') != std::string::npos) {
        return static_cast<uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return 0;
  }

 private:
  std::string config_, address_, log_;
  pid_t pid_ = -1;
};

std::string adminGet(uint16_t port, const std::string& path) {
  auto c = RawClient::connect(port);
  if (!c) return "";
  auto r = get(*c, path);
  return r ? r->body : "";
}

int64_t statValue(uint16_t admin, const std::string& name) {
  std::string body = adminGet(admin, "/stats?filter=" + name);
  auto at = body.find(name + ": ");
  return at == std::string::npos ? -1 : std::stoll(body.substr(at + name.size() + 2));
}

TEST(DescriptorLimitTest, AtTheLimitTheProxyServesWhatItHasIdlesAndResumesWhenDescriptorsFree) {
  ASSERT_FALSE(proxyBinary().empty()) << "usage: descriptor_limit_test TRELLIS_PROXY";
  FakeUpstream upstream(replyWith(200, "ok"));
  ChildProxy proxy(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}}), 64);
  const uint16_t admin = proxy.adminPort();
  ASSERT_NE(admin, 0) << "the proxy did not start";
  std::string listeners = adminGet(admin, "/listeners");  // "main::127.0.0.1:PORT"
  ASSERT_NE(listeners.rfind(':'), std::string::npos) << listeners;
  const uint16_t port = static_cast<uint16_t>(std::stoi(listeners.substr(listeners.rfind(':') + 1)));

  // One connection in use before the limit (its upstream connection is pooled).
  auto established = RawClient::connect(port);
  ASSERT_NE(established, nullptr);
  auto first = get(*established, "/before");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);

  // More connections than descriptors: the kernel completes them all (the backlog), the proxy
  // accepts until EMFILE.
  std::vector<std::unique_ptr<RawClient>> flood;
  for (int i = 0; i < 120; ++i) {
    auto c = RawClient::connect(port, std::chrono::seconds(2));
    ASSERT_NE(c, nullptr) << "connect " << i;
    flood.push_back(std::move(c));
  }
  // (The admin endpoint cannot accept either now: watch the log instead.)
  ASSERT_TRUE(proxy.waitForLog("pausing accepts")) << "the proxy never reached its descriptor limit";

  // Exhausted: CPU over one second, far below a spinning core (100 ticks at 100 Hz).
  const long t0 = cpuTicks(proxy.pid());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const long ticks = cpuTicks(proxy.pid()) - t0;
  std::printf("cpu while exhausted: %ld ticks of %ld per second\n", ticks, sysconf(_SC_CLK_TCK));
  EXPECT_LT(ticks, sysconf(_SC_CLK_TCK) / 4) << "the accept loop spins at the descriptor limit";

  // The established connection is still served (over its pooled upstream connection).
  auto during = get(*established, "/during");
  ASSERT_TRUE(during) << established->error();
  EXPECT_EQ(during->status, 200);

  // Free descriptors: every other connection goes; the last one, still queued behind them, is
  // accepted and served.
  for (size_t i = 0; i + 1 < flood.size(); ++i) flood[i].reset();
  auto last = get(*flood.back(), "/after");
  ASSERT_TRUE(last) << flood.back()->error();
  EXPECT_EQ(last->status, 200);
  EXPECT_GT(statValue(admin, "listener.127.0.0.1_0.downstream_cx_accept_backoff"), 0)
      << adminGet(admin, "/stats?filter=accept");
}

}  // namespace
}  // namespace trellis::tests

