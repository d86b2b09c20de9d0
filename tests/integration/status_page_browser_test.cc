// The admin `/` page in a real headless browser (Debian's chromium): a proxy with a known config,
// chromium's --dump-dom must show its listener, clusters, a host's health and a route weight,
// and its --screenshot must be a 1280x900 PNG with real content (many colours, rows that
// differ), not a blank or error page. When chromium cannot run, the test fails with the reason.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/bootstrap_builder.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/proxy_under_test.h"

namespace trellis::tests {
namespace {

struct ChildRun {
  bool started = false;
  int exit_code = -1;
  bool timed_out = false;
  std::string output;  // stdout and stderr
};

// Runs `args` with its output in a file, killing it (by its pid) after `timeout`.
ChildRun run(const std::vector<std::string>& args, const std::string& out_path, std::chrono::seconds timeout) {
  ChildRun result;
  const pid_t pid = fork();
  if (pid < 0) return result;
  if (pid == 0) {
    const int fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    setpgid(0, 0);  // its own group, so its helper processes are killed with it
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  result.started = true;
  const auto until = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() > until) {
      result.timed_out = true;
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // bounded polling of the child
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  std::ifstream in(out_path);
  std::stringstream ss;
  ss << in.rdbuf();
  result.output = ss.str();
  return result;
}

uint32_t be32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) | (uint32_t(uint8_t(s[at + 2])) << 8) |
         uint32_t(uint8_t(s[at + 3]));
}

struct Png {
  uint32_t width = 0, height = 0;
  size_t distinct_colours = 0;
  size_t distinct_rows = 0;
  std::string error;
};

// Reads an 8-bit RGB or RGBA PNG (what chromium writes) and measures its content.
Png inspect(const std::string& file) {
  Png png;
  if (file.size() < 33 || file.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) {
    png.error = "not a PNG";
    return png;
  }
  std::string idat;
  uint8_t depth = 0, colour = 0;
  for (size_t at = 8; at + 8 <= file.size();) {
    const uint32_t len = be32(file, at);
    const std::string type = file.substr(at + 4, 4);
    if (at + 12 + len > file.size()) break;
    if (type == "IHDR") {
      png.width = be32(file, at + 8);
      png.height = be32(file, at + 12);
      depth = uint8_t(file[at + 16]);
      colour = uint8_t(file[at + 17]);
    } else if (type == "IDAT") {
      idat += file.substr(at + 8, len);
    }
    at += 12 + len;
  }
  const size_t channels = colour == 6 ? 4 : colour == 2 ? 3 : 0;
  if (depth != 8 || channels == 0) {
    png.error = "unexpected PNG format (depth " + std::to_string(depth) + ", colour " + std::to_string(colour) + ")";
    return png;
  }
  const size_t stride = png.width * channels;
  std::string raw((stride + 1) * png.height, '\0');
  uLongf raw_len = raw.size();
  if (uncompress(reinterpret_cast<Bytef*>(raw.data()), &raw_len, reinterpret_cast<const Bytef*>(idat.data()),
                 idat.size()) != Z_OK ||
      raw_len != raw.size()) {
    png.error = "cannot inflate the image data";
    return png;
  }
  // Undo the per-row filters (PNG spec, section 9).
  std::vector<uint8_t> prev(stride, 0), row(stride);
  std::set<uint32_t> colours;
  std::set<std::string> rows;
  for (uint32_t y = 0; y < png.height; ++y) {
    const uint8_t filter = uint8_t(raw[y * (stride + 1)]);
    const uint8_t* in = reinterpret_cast<const uint8_t*>(raw.data()) + y * (stride + 1) + 1;
    for (size_t x = 0; x < stride; ++x) {
      const int a = x >= channels ? row[x - channels] : 0;
      const int b = prev[x];
      const int c = x >= channels ? prev[x - channels] : 0;
      int predicted = 0;
      switch (filter) {
        case 1: predicted = a; break;
        case 2: predicted = b; break;
        case 3: predicted = (a + b) / 2; break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: break;
      }
      row[x] = uint8_t(in[x] + predicted);
    }
    for (size_t x = 0; x + channels <= stride; x += channels) {
      colours.insert((uint32_t(row[x]) << 16) | (uint32_t(row[x + 1]) << 8) | row[x + 2]);
    }
    rows.insert(std::string(row.begin(), row.end()));
    prev = row;
  }
  png.distinct_colours = colours.size();
  png.distinct_rows = rows.size();
  return png;
}

TEST(StatusPageBrowserTest, ChromiumRendersTheStatusPage) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  ASSERT_NE(tmp, nullptr);
  const std::string dir = tmp;
  FakeUpstream upstream(replyWith(200, "ok"));
  const std::string routes =
      R"({name: colours, virtual_hosts: [{name: colourteller, domains: ["*"], routes: [{name: split,)"
      R"( match: {prefix: "/"}, route: {weighted_clusters: {clusters: [{name: red, weight: 70},)"
      R"( {name: blue, weight: 30}]}}}]}]})";
  auto proxy = ProxyUnderTest::start(bootstrapYaml(routes, {{"red", {upstream.port()}}, {"blue", {upstream.port()}}}), 1);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  const std::string url = "http://127.0.0.1:" + std::to_string((*proxy)->adminPort()) + "/";

  const std::vector<std::string> common = {"chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                                           "--no-first-run", "--disable-extensions", "--user-data-dir=" + dir + "/profile",
                                           "--window-size=1280,900"};
  setenv("HOME", dir.c_str(), 1);

  std::vector<std::string> dump = common;
  dump.push_back("--dump-dom");
  dump.push_back(url);
  ChildRun dom = run(dump, dir + "/dom.txt", std::chrono::seconds(90));
  ASSERT_TRUE(dom.started) << "cannot fork";
  ASSERT_FALSE(dom.timed_out) << "chromium --dump-dom did not finish in 90 s:\n" << dom.output;
  ASSERT_EQ(dom.exit_code, 0) << "chromium cannot run (install Debian's chromium: scripts/setup):\n" << dom.output;
  EXPECT_NE(dom.output.find("<td>main</td>"), std::string::npos) << dom.output;  // the listener
  EXPECT_NE(dom.output.find("<td rowspan=\"1\">red</td>"), std::string::npos) << dom.output;
  EXPECT_NE(dom.output.find("<td rowspan=\"1\">blue</td>"), std::string::npos) << dom.output;
  EXPECT_NE(dom.output.find("class=\"ok\">healthy</td>"), std::string::npos) << dom.output;
  EXPECT_NE(dom.output.find("red <b>70</b> (70%)"), std::string::npos) << dom.output;
  EXPECT_NE(dom.output.find("blue <b>30</b> (30%)"), std::string::npos) << dom.output;

  std::vector<std::string> shot = common;
  const std::string png_path = dir + "/status.png";
  shot.push_back("--screenshot=" + png_path);
  shot.push_back(url);
  ChildRun screenshot = run(shot, dir + "/screenshot.txt", std::chrono::seconds(90));
  ASSERT_FALSE(screenshot.timed_out) << screenshot.output;
  ASSERT_EQ(screenshot.exit_code, 0) << screenshot.output;
  std::ifstream in(png_path, std::ios::binary);
  ASSERT_TRUE(in) << "no screenshot written:\n" << screenshot.output;
  std::stringstream bytes;
  bytes << in.rdbuf();
  const Png png = inspect(bytes.str());
  ASSERT_EQ(png.error, "");
  EXPECT_EQ(png.width, 1280u);
  EXPECT_EQ(png.height, 900u);
  // Text, table borders and coloured headings: a blank or one-colour page has a handful.
  EXPECT_GT(png.distinct_colours, 20u);
  EXPECT_GT(png.distinct_rows, 50u);
}

}  // namespace
}  // namespace trellis::tests
