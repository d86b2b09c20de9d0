// Access logs end to end: a proxy with a file access log serves requests, and each line is read
// back and parsed field by field (Envoy's default text format, and a typed JSON format behind a
// response flag filter). A writer that cannot write (a pipe nobody reads) never stops requests:
// the lines it cannot take are dropped and counted.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/bootstrap_builder.h"
#include "tests/support/controllable_upstream.h"
#include "tests/support/proxy_under_test.h"
#include "tests/support/raw_client.h"

namespace trellis::tests {
namespace {

std::string tempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

std::vector<std::string> lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string fileLog(const std::string& path, const std::string& extra = "", const std::string& filter = "") {
  return "access_log: [{name: envoy.access_loggers.file, " + filter +
         "typed_config: {\"@type\": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog, "
         "path: \"" + path + "\"" + extra + "}}]";
}

TEST(AccessLogTest, DefaultFormatLinesParseBackFieldByField) {
  const std::string path = tempPath("default.log");
  std::remove(path.c_str());
  ControllableUpstream upstream("a");
  upstream.setData(ControllableUpstream::Behavior::slow(std::chrono::milliseconds(120)));
  auto proxy = ProxyUnderTest::start(bootstrapYaml(catchAllRoute("a"), {{"a", {upstream.port()}}}, {fileLog(path)}), 2);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto client = RawClient::connect((*proxy)->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->send(makeRequest("POST", "/colors?x=1", "front.mesh",
                                       {{"x-request-id", "req-1"}, {"user-agent", "trellis-test/1"}}, "hello")));
  auto first = client->readResponse();
  ASSERT_TRUE(first) << client->error();
  ASSERT_EQ(first->status, 200);
  ASSERT_TRUE(client->send(makeRequest("GET", "/second", "front.mesh")));
  auto second = client->readResponse();
  ASSERT_TRUE(second) << client->error();
  (*proxy)->shutdown();
  ASSERT_TRUE((*proxy)->waitStopped());

  const auto got = lines(path);
  ASSERT_EQ(got.size(), 2u);
  // [START] "METHOD PATH PROTOCOL" CODE FLAGS RX TX DURATION UPSTREAM_TIME "XFF" "UA" "ID" "AUTHORITY" "HOST"
  static const std::regex kLine(
      R"re(^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\] "(\S+) (\S+) (\S+)" (\d+) (\S+) (\d+) (\d+) (\d+) (\S+) "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)"$)re");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(got[0], m, kLine)) << got[0];
  EXPECT_EQ(m[2], "POST");
  EXPECT_EQ(m[3], "/colors?x=1");
  EXPECT_EQ(m[4], "HTTP/1.1");
  EXPECT_EQ(m[5], "200");
  EXPECT_EQ(m[6], "-");
  EXPECT_EQ(m[7], "5");
  EXPECT_EQ(std::stoul(m[8]), first->body.size());
  const auto duration = std::stoul(m[9]);
  const auto service = std::stoul(m[10]);
  EXPECT_GE(duration, 120u);
  EXPECT_GE(service, 120u);
  EXPECT_LE(service, duration);
  EXPECT_EQ(m[11], "-");  // no x-forwarded-for without use_remote_address
  EXPECT_EQ(m[12], "trellis-test/1");
  EXPECT_EQ(m[13], "req-1");
  EXPECT_EQ(m[14], "front.mesh");
  EXPECT_EQ(m[15], "127.0.0.1:" + std::to_string(upstream.port()));

  ASSERT_TRUE(std::regex_match(got[1], m, kLine)) << got[1];
  EXPECT_EQ(m[2], "GET");
  EXPECT_EQ(m[3], "/second");
  EXPECT_EQ(m[7], "0");
  EXPECT_EQ(m[12], "-");
  // The x-request-id the proxy generated, as the upstream saw it.
  EXPECT_TRUE(std::regex_match(m[13].str(), std::regex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")))
      << m[13];
}

TEST(AccessLogTest, JsonFormatBehindAResponseFlagFilter) {
  const std::string path = tempPath("json.log");
  std::remove(path.c_str());
  ControllableUpstream up("a");
  const uint16_t dead_port = up.port();
  up.die();  // connections to it are refused: 503 UF
  ControllableUpstream live("b");
  const std::string routes =
      "{name: r, virtual_hosts: [{name: v, domains: [\"*\"], routes: ["
      "{name: to-dead, match: {prefix: /dead}, route: {cluster: a}},"
      "{name: to-live, match: {prefix: /}, route: {cluster: b}}]}]}";
  const std::string json =
      ", log_format: {json_format: {code: \"%RESPONSE_CODE%\", flags: \"%RESPONSE_FLAGS%\", "
      "route: \"%ROUTE_NAME%\", cluster: \"%UPSTREAM_CLUSTER%\", path: \"%REQ(:PATH)%\", "
      "service: \"%UPSTREAM_SERVICE_TIME%\"}}";
  auto proxy = ProxyUnderTest::start(
      bootstrapYaml(routes, {{"a", {dead_port}}, {"b", {live.port()}}},
                    {fileLog(path, json, "filter: {response_flag_filter: {flags: [UF]}}, ")}),
      1);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto client = RawClient::connect((*proxy)->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->send(makeRequest("GET", "/ok")));
  auto ok = client->readResponse();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  ASSERT_TRUE(client->send(makeRequest("GET", "/dead/x")));
  auto dead = client->readResponse();
  ASSERT_TRUE(dead);
  EXPECT_EQ(dead->status, 503);
  (*proxy)->shutdown();
  ASSERT_TRUE((*proxy)->waitStopped());
  const auto got = lines(path);
  ASSERT_EQ(got.size(), 1u) << "only the UF request passes the filter";
  EXPECT_EQ(got[0],
            "{\"cluster\":\"a\",\"code\":503,\"flags\":\"UF\",\"path\":\"/dead/x\",\"route\":\"to-dead\",\"service\":null}");
}

TEST(AccessLogTest, APathThatCannotBeOpenedFailsStartUpNamingIt) {
  ControllableUpstream up("a");
  auto proxy = ProxyUnderTest::start(
      bootstrapYaml(catchAllRoute("a"), {{"a", {up.port()}}}, {fileLog("/nonexistent-dir/x.log")}), 1);
  ASSERT_FALSE(proxy.ok());
  EXPECT_NE(proxy.status().message().find("access_log[0].typed_config.path: cannot open '/nonexistent-dir/x.log'"),
            std::string::npos)
      << proxy.status();
}

TEST(AccessLogTest, ABlockedWriterNeverStopsRequests) {
  std::signal(SIGPIPE, SIG_IGN);
  const std::string path = tempPath("blocked.fifo");
  std::remove(path.c_str());
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  const int reader = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);  // holds the pipe open, reads nothing
  ASSERT_GE(reader, 0);
  ControllableUpstream up("a");
  // Lines of about 8 KiB: the pipe (64 KiB), the queue (16 blocks of 64 KiB) and the worker's
  // buffer are full after about 150 requests; every request after that has its line dropped.
  auto proxy = ProxyUnderTest::start(
      bootstrapYaml(catchAllRoute("a"), {{"a", {up.port()}}},
                    {fileLog(path, ", log_format: {text_format_source: {inline_string: \"%REQ(X-BIG)%\\n\"}}")}),
      1);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto client = RawClient::connect((*proxy)->port());
  ASSERT_NE(client, nullptr);
  const std::string big(8000, 'b');
  constexpr int kRequests = 400;
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(client->send(makeRequest("GET", "/", "svc", {{"x-big", big}})));
    auto r = client->readResponse();
    ASSERT_TRUE(r) << "request " << i << ": " << client->error();
    ASSERT_EQ(r->status, 200);
  }
  EXPECT_GT((*proxy)->stat("access_log.dropped_lines"), 0);
  EXPECT_LT((*proxy)->stat("access_log.dropped_lines"), kRequests);
  // Let the writer finish: read the pipe while the proxy stops (it flushes what it kept).
  (*proxy)->shutdown();
  uint64_t bytes = 0;
  char buf[65536];
  while (!(*proxy)->waitStopped(std::chrono::milliseconds(1))) {
    const ssize_t n = ::read(reader, buf, sizeof buf);
    if (n > 0) bytes += static_cast<uint64_t>(n);
  }
  for (ssize_t n; (n = ::read(reader, buf, sizeof buf)) > 0;) bytes += static_cast<uint64_t>(n);
  ::close(reader);
  const int64_t dropped = (*proxy)->stat("access_log.dropped_lines");
  EXPECT_EQ(bytes, static_cast<uint64_t>(kRequests - dropped) * (big.size() + 1));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace trellis::tests
