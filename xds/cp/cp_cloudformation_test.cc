// trellis-cp following a CloudFormation template in its --mesh-dir: a proxy connected over ADS
// gets the listener the template describes; editing the template (the port now comes from a
// parameter, overridden with --parameter) triggers a rebuild whose new listener is pushed to the
// same stream. The cp runs as a child process on port 0; its log, read from a pipe, says when a
// build is applied.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "xds/cp/cp_process.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "xds/server/test_support.h"

namespace {

namespace fs = std::filesystem;
using envoy::service::discovery::v3::DiscoveryResponse;

constexpr char kListenerType[] = "type.googleapis.com/envoy.config.listener.v3.Listener";

using CpChild = trellis::cp::testing::CpProcess;

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

// The names of the filter chains of every listener in an LDS response.
std::vector<std::string> filterChains(const DiscoveryResponse& response) {
  std::vector<std::string> names;
  for (const auto& any : response.resources()) {
    envoy::config::listener::v3::Listener listener;
    if (!any.UnpackTo(&listener)) continue;
    for (const auto& chain : listener.filter_chains()) names.push_back(chain.name());
  }
  return names;
}

bool has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

constexpr char kTemplate[] = R"(
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Mesh:
    Type: AWS::AppMesh::Mesh
    Properties: {MeshName: demo}
  Front:
    Type: AWS::AppMesh::VirtualNode
    Properties:
      MeshName: !GetAtt Mesh.MeshName
      VirtualNodeName: front
      Spec:
        Listeners: [{PortMapping: {Port: 8080, Protocol: http}}]
        ServiceDiscovery: {DNS: {Hostname: front.demo.local}}
)";

constexpr char kEditedTemplate[] = R"(
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  FrontPort: {Type: Number, Default: 8080}
Resources:
  Mesh:
    Type: AWS::AppMesh::Mesh
    Properties: {MeshName: demo}
  Front:
    Type: AWS::AppMesh::VirtualNode
    Properties:
      MeshName: !GetAtt Mesh.MeshName
      VirtualNodeName: front
      Spec:
        Listeners: [{PortMapping: {Port: !Ref FrontPort, Protocol: http}}]
        ServiceDiscovery: {DNS: {Hostname: front.demo.local}}
)";

TEST(CpCloudFormationTest, EditingTheTemplateServesTheNewTranslation) {
  const fs::path dir = fs::path(std::getenv("TEST_TMPDIR")) / "cfn-mesh";
  fs::create_directories(dir);
  writeFile(dir / "template.yaml", kTemplate);

  const std::string binary = std::string(std::getenv("TEST_SRCDIR")) + "/trellis/xds/trellis-cp";
  CpChild cp({binary, "--mesh-dir", dir.string(), "--listen", "127.0.0.1:0", "--admin",
              "127.0.0.1:0", "--parameter", "FrontPort=9090"});
  const int ads_port = portFrom(cp.waitForLine("ADS listening on"));
  ASSERT_GT(ads_port, 0) << cp.log();
  ASSERT_TRUE(cp.waitForLine("mesh build #1 applied")) << cp.log();

  trellis::xds::server::testing::AdsTestClient client(ads_port, "mesh/demo/virtualNode/front");
  client.request(kListenerType, {});
  const DiscoveryResponse first = client.read();
  ASSERT_EQ(first.type_url(), kListenerType);
  EXPECT_TRUE(has(filterChains(first), "ingress_http_8080"));
  client.ack(first);

  // The port now comes from a parameter; the command line's --parameter FrontPort=9090 wins over
  // its Default.
  writeFile(dir / "template.yaml", kEditedTemplate);
  ASSERT_TRUE(cp.waitForLine("mesh build #2 applied")) << cp.log();
  const DiscoveryResponse second = client.read();
  ASSERT_EQ(second.type_url(), kListenerType);
  EXPECT_NE(second.version_info(), first.version_info());
  EXPECT_TRUE(has(filterChains(second), "ingress_http_9090"));
  EXPECT_FALSE(has(filterChains(second), "ingress_http_8080"));
  client.ack(second);
}

}  // namespace
