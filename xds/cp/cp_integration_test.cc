// trellis-cp as a process: started on a temporary mesh folder with port 0 for ADS and admin, it
// serves a valid folder, then a file with an error is written. The error must show at /status
// while the last good build stays in force (/ready still LIVE); removing the file heals it; SIGTERM
// ends the process with status 0. Progress is followed through the cp's log on a pipe.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "xds/cp/cp_process.h"
#include "trellis/cp/v1/status.pb.h"

namespace {

namespace fs = std::filesystem;

using trellis::cp::testing::CpProcess;


struct HttpResponse {
  int status = 0;
  std::string body;
};

HttpResponse httpGet(int port, const std::string& path) {
  HttpResponse result;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    (void)!::write(fd, request.data(), request.size());
    std::string raw;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) raw.append(buf, static_cast<size_t>(n));
    if (raw.size() > 12) (void)absl::SimpleAtoi(raw.substr(9, 3), &result.status);
    const size_t body = raw.find("\r\n\r\n");
    if (body != std::string::npos) result.body = raw.substr(body + 4);
  }
  ::close(fd);
  return result;
}

int portFrom(const std::optional<std::string>& line) {
  int port = 0;
  if (!line) return 0;
  const size_t at = line->rfind("(port ");
  if (at == std::string::npos) return 0;
  (void)absl::SimpleAtoi(line->substr(at + 6, line->find(')', at) - at - 6), &port);
  return port;
}

void writeFile(const fs::path& path, const std::string& content) {
  // Written beside and renamed, as editors and config tools do.
  const fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp");
  std::ofstream(tmp) << content;
  fs::rename(tmp, path);
}

// /status parsed back into its message (the test fails on JSON that does not parse).
trellis::cp::v1::Status parseStatus(const std::string& body) {
  trellis::cp::v1::Status status;
  const auto parsed = google::protobuf::util::JsonStringToMessage(body, &status);
  EXPECT_TRUE(parsed.ok()) << parsed.ToString() << "\n" << body;
  return status;
}

TEST(CpIntegrationTest, InvalidFileIsReportedWhileTheLastGoodBuildIsKept) {
  const fs::path dir = fs::path(std::getenv("TEST_TMPDIR")) / "mesh";
  fs::create_directories(dir);
  writeFile(dir / "mesh.json", R"({"meshName": "demo", "spec": {}})");
  writeFile(dir / "front.json", R"({"meshName": "demo", "virtualNodeName": "front", "spec": {
      "listeners": [{"portMapping": {"port": 8080, "protocol": "http"}}],
      "serviceDiscovery": {"dns": {"hostname": "front.demo.local"}}}})");

  const std::string binary = std::string(std::getenv("TEST_SRCDIR")) + "/trellis/xds/trellis-cp";
  CpProcess cp({binary, "--mesh-dir", dir.string(), "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"});
  const int ads_port = portFrom(cp.waitForLine("ADS listening on"));
  const int admin_port = portFrom(cp.waitForLine("admin listening on"));
  ASSERT_GT(ads_port, 0) << cp.log();
  ASSERT_GT(admin_port, 0) << cp.log();
  ASSERT_TRUE(cp.waitForLine("mesh build #1 applied")) << cp.log();

  EXPECT_EQ(httpGet(admin_port, "/ready").status, 200);
  HttpResponse status = httpGet(admin_port, "/status");
  ASSERT_EQ(status.status, 200);
  trellis::cp::v1::Status parsed = parseStatus(status.body);
  EXPECT_EQ(parsed.last_build().number(), 1u) << status.body;
  EXPECT_TRUE(parsed.last_build().ok()) << status.body;

  // An invalid file: a port App Mesh does not allow.
  writeFile(dir / "bad.json", R"({"meshName": "demo", "virtualNodeName": "bad", "spec": {
      "listeners": [{"portMapping": {"port": 70000, "protocol": "http"}}]}})");
  ASSERT_TRUE(cp.waitForLine("mesh build #2 failed")) << cp.log();

  status = httpGet(admin_port, "/status");
  ASSERT_EQ(status.status, 200);
  parsed = parseStatus(status.body);
  EXPECT_EQ(parsed.last_build().number(), 2u) << status.body;
  EXPECT_FALSE(parsed.last_build().ok()) << status.body;
  ASSERT_GE(parsed.last_build().errors_size(), 1) << status.body;
  EXPECT_EQ(parsed.last_build().errors(0).rfind(
                "bad.json (document 1): demo/VirtualNode/bad: spec.listeners[0].portMapping.port", 0),
            0u)
      << status.body;
  EXPECT_EQ(parsed.last_good_build().number(), 1u) << status.body;
  EXPECT_EQ(httpGet(admin_port, "/ready").status, 200);
  HttpResponse stats = httpGet(admin_port, "/stats");
  EXPECT_NE(stats.body.find("cp.builds_failed: 1\n"), std::string::npos) << stats.body;
  EXPECT_NE(stats.body.find("cp.builds_ok: 1\n"), std::string::npos) << stats.body;

  // Removing the file makes the folder valid again (as build #3: the write above caused exactly one
  // rebuild).
  fs::remove(dir / "bad.json");
  ASSERT_TRUE(cp.waitForLine("mesh build #3 applied")) << cp.log();
  status = httpGet(admin_port, "/status");
  EXPECT_EQ(parseStatus(status.body).last_good_build().number(), 3u) << status.body;
  EXPECT_EQ(status.body.find("bad.json"), std::string::npos) << status.body;

  EXPECT_EQ(cp.stop(SIGTERM), std::optional<int>(0)) << cp.log();
}

TEST(CpIntegrationTest, ValidateCommandExitsByResult) {
  const fs::path dir = fs::path(std::getenv("TEST_TMPDIR")) / "validate";
  fs::create_directories(dir);
  writeFile(dir / "mesh.json", R"({"meshName": "demo", "spec": {}})");
  const std::string binary = std::string(std::getenv("TEST_SRCDIR")) + "/trellis/xds/trellis-cp";
  {
    CpProcess ok({binary, "validate", dir.string()});
    EXPECT_TRUE(ok.waitForLine(": valid;")) << ok.log();
    EXPECT_EQ(ok.stop(0), std::optional<int>(0));
  }
  writeFile(dir / "node.json", R"({"meshName": "demo", "virtualNodeName": "n", "spec": {
      "listeners": [{"portMapping": {"port": 0, "protocol": "http"}}]}})");
  writeFile(dir / "broken.json", "{ not json");
  CpProcess bad({binary, "validate", dir.string()});
  EXPECT_TRUE(bad.waitForLine("2 error(s)")) << bad.log();
  EXPECT_NE(bad.log().find("broken.json"), std::string::npos) << bad.log();
  EXPECT_NE(bad.log().find("node.json"), std::string::npos) << bad.log();
  EXPECT_EQ(bad.stop(0), std::optional<int>(1));
}

TEST(CpIntegrationTest, EgressAllowedHostsFlagIsCheckedAndDocumented) {
  const std::string binary = std::string(std::getenv("TEST_SRCDIR")) + "/trellis/xds/trellis-cp";
  {
    CpProcess bad({binary, "--mesh-dir", "/nonexistent", "--egress-allowed-hosts=*.amazonaws.com,api.*.example"});
    const auto line = bad.waitForLine("trellis-cp:");
    ASSERT_TRUE(line) << bad.log();
    EXPECT_NE(line->find("--egress-allowed-hosts='*.amazonaws.com,api.*.example': entry 2 \"api.*.example\": '*' is "
                         "allowed only as a leading \"*.\""),
              std::string::npos)
        << *line;
    EXPECT_EQ(bad.stop(0), std::optional<int>(2));
  }
  {
    CpProcess empty({binary, "--mesh-dir", "/nonexistent", "--egress-allowed-hosts", ",x.example"});
    EXPECT_TRUE(empty.waitForLine("entry 1 \"\": empty entry")) << empty.log();
    EXPECT_EQ(empty.stop(0), std::optional<int>(2));
  }
  CpProcess help({binary, "--help"});
  EXPECT_TRUE(help.waitForLine("Under egressFilter DROP_ALL, the hosts outside the mesh a node may still reach")) << help.log();
  EXPECT_EQ(help.stop(0), std::optional<int>(0));
}

}  // namespace

namespace {

// Kubernetes fields the CRD does not define: validate prints the pruned-field warning and passes;
// with --strict it fails on them.
TEST(CpIntegrationTest, ValidatePrintsPrunedKubernetesFieldsAndStrictRefusesThem) {
  const fs::path dir = fs::path(std::getenv("TEST_TMPDIR")) / "pruned";
  fs::create_directories(dir);
  writeFile(dir / "mesh.yaml", R"(apiVersion: appmesh.k8s.aws/v1beta2
kind: Mesh
metadata: {name: demo, labels: {team: a}, annotations: {note: x}}
spec: {}
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualNode
metadata: {name: web, namespace: shop}
spec:
  listeners: [{portMapping: {port: 8080, protocol: http}, foo: bar}]
  serviceDiscovery: {awsCloudMap: {namespaceName: shop.local, serviceName: web}}
---
apiVersion: trellis.dev/v1
kind: Endpoints
mesh: demo
virtualNode: web_shop
endpoints: [{address: 127.0.0.1}]
)");
  const std::string binary = std::string(std::getenv("TEST_SRCDIR")) + "/trellis/xds/trellis-cp";
  {
    CpProcess ok({binary, "validate", dir.string()});
    EXPECT_TRUE(ok.waitForLine("warning: mesh.yaml (document 2): spec.listeners[0].foo: not in the VirtualNode CRD "
                               "schema; the API server would prune it (ignored)"))
        << ok.log();
    EXPECT_TRUE(ok.waitForLine(": valid;")) << ok.log();
    EXPECT_EQ(ok.stop(0), std::optional<int>(0));
  }
  CpProcess strict({binary, "validate", dir.string(), "--strict"});
  // The node is not loaded, so its Endpoints document names a node that is not there either.
  EXPECT_TRUE(strict.waitForLine("2 error(s)")) << strict.log();
  EXPECT_NE(strict.log().find("spec.listeners[0].foo: not in the VirtualNode CRD schema; the API server would prune "
                              "it (an error with --strict)"),
            std::string::npos)
      << strict.log();
  EXPECT_EQ(strict.stop(0), std::optional<int>(1));
}

}  // namespace
