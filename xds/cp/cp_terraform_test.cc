// trellis-cp as a process on a folder of Terraform configuration: it serves the translation of a
// .tf file, and an edit of that file under --mesh-dir (the directory watcher sees it) makes it
// serve the new translation to a connected proxy. Also checks that `trellis-cp validate` prints
// the Terraform front-end's note. The .tf converter comes from the test's runfiles.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "bench/cp_push/cp_process.h"
#include "xds/server/node_resources.h"
#include "xds/server/test_support.h"

namespace {

namespace fs = std::filesystem;
using trellis::bench::cp_push::CpProcess;
using trellis::xds::server::kClusterType;
using trellis::xds::server::testing::AdsTestClient;
using trellis::xds::server::testing::resourceNames;

constexpr auto kWait = std::chrono::seconds(60);

void writeFile(const fs::path& path, const std::string& content) {
  // Written beside and renamed, as editors and terraform fmt do.
  const fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp");
  std::ofstream(tmp) << content;
  fs::rename(tmp, path);
}

std::string meshTf(int port) {
  return R"(
variable "mesh" {
  default = "demo"
}

resource "aws_appmesh_mesh" "demo" {
  name = var.mesh
}

resource "aws_appmesh_virtual_node" "front" {
  name      = "front"
  mesh_name = aws_appmesh_mesh.demo.id
  spec {
    listener {
      port_mapping {
        port     = )" + std::to_string(port) + R"(
        protocol = "http"
      }
    }
  }
}

provider "aws" {
  region = "us-west-2"
}
)";
}

std::string binary() { return std::string(std::getenv("TEST_SRCDIR")) + "/trellis/xds/trellis-cp"; }

int portFrom(CpProcess& cp, size_t line) {
  const std::string text = cp.line(line).text;
  const size_t at = text.rfind("(port ");
  if (at == std::string::npos) return 0;
  return std::atoi(text.c_str() + at + 6);
}

TEST(CpTerraformTest, EditOfATfFileIsServed) {
  const fs::path dir = fs::path(std::getenv("TEST_TMPDIR")) / "tf-mesh";
  fs::create_directories(dir);
  writeFile(dir / "main.tf", meshTf(8080));

  auto started = CpProcess::start({binary(), "--mesh-dir", dir.string(), "--listen", "127.0.0.1:0",
                                   "--admin", "127.0.0.1:0"});
  ASSERT_TRUE(started.ok()) << started.status();
  CpProcess& cp = **started;
  const auto ads = cp.waitForLine("ADS listening on", 0, kWait);
  ASSERT_TRUE(ads) << cp.tail(20);
  const int port = portFrom(cp, *ads);
  ASSERT_GT(port, 0) << cp.tail(20);
  const auto built = cp.waitForLine("mesh build #1 applied", 0, kWait);
  ASSERT_TRUE(built) << cp.tail(20);

  AdsTestClient proxy(port, "mesh/demo/virtualNode/front");
  proxy.request(std::string(kClusterType), {});
  const auto first = proxy.read();
  const std::set<std::string> before = resourceNames(first);
  EXPECT_TRUE(before.count("cds_ingress_demo_front_8080")) << first.DebugString();
  proxy.ack(first);

  writeFile(dir / "main.tf", meshTf(9090));
  ASSERT_TRUE(cp.waitForLine("mesh build #2 applied", *built, kWait)) << cp.tail(20);
  const auto second = proxy.read();
  const std::set<std::string> after = resourceNames(second);
  EXPECT_TRUE(after.count("cds_ingress_demo_front_9090")) << second.DebugString();
  EXPECT_FALSE(after.count("cds_ingress_demo_front_8080")) << second.DebugString();
  proxy.ack(second);
  proxy.close();
  EXPECT_EQ(cp.stop(), std::optional<int>(0)) << cp.tail(20);
}

TEST(CpTerraformTest, ValidatePrintsWhatWasSkipped) {
  const fs::path dir = fs::path(std::getenv("TEST_TMPDIR")) / "tf-validate";
  fs::create_directories(dir);
  writeFile(dir / "main.tf", meshTf(8080));
  auto started = CpProcess::start({binary(), "validate", dir.string()});
  ASSERT_TRUE(started.ok()) << started.status();
  CpProcess& cp = **started;
  EXPECT_TRUE(cp.waitForLine("main.tf: 1 block skipped (provider 1)", 0, kWait)) << cp.tail(20);
  EXPECT_TRUE(cp.waitForLine(dir.string() + ": valid; 1 node(s)", 0, kWait)) << cp.tail(20);
}

}  // namespace
