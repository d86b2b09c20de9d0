// The cp's parts in-process: rebuild-and-publish with a fake MeshBuilder (a bad build keeps the
// good one served, over a real ADS stream too), the status page, the folder watcher's debounce.
// The admin HTTP server has its own tests in xds/admin.
#include "xds/cp/control_plane.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <google/protobuf/util/json_util.h>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "xds/cp/dir_watcher.h"
#include "xds/cp/status_page.h"
#include "xds/server/ads_server.h"
#include "xds/server/test_support.h"

namespace trellis::cp {
namespace {

namespace fs = std::filesystem;
using xds::server::kClusterType;
using xds::server::kListenerType;

NodeResources listenerOn(uint32_t port) {
  NodeResources r;
  r.by_type[std::string(kListenerType)]["in"] = xds::server::testing::listenerAny("in", port);
  r.by_type[std::string(kClusterType)]["app"] = xds::server::testing::clusterAny("app", 1);
  return r;
}

std::string versionOf(xds::server::SnapshotCache& cache, const std::string& node, std::string_view type) {
  for (const auto& n : cache.status()) {
    if (n.node_id != node) continue;
    for (const auto& t : n.types) {
      if (t.type_url == type) return t.version;
    }
  }
  return "";
}

TEST(ControlPlaneTest, InvalidBuildKeepsTheLastGoodOneServed) {
  spdlog::set_level(spdlog::level::off);
  xds::server::SnapshotCache cache;
  MeshBuild next;
  std::string seen_dir;
  ControlPlane cp(cache, [&](const std::string& dir) {
    seen_dir = dir;
    return next;
  }, "/meshes/demo");
  auto server = xds::server::AdsServer::start(cache, "127.0.0.1:0");
  ASSERT_TRUE(server.ok());

  next.nodes["front"] = listenerOn(8080);
  next.nodes["back"] = listenerOn(9090);
  ASSERT_TRUE(cp.rebuild());
  EXPECT_EQ(seen_dir, "/meshes/demo");
  const std::string front_v1 = versionOf(cache, "front", kListenerType);
  ASSERT_FALSE(front_v1.empty());

  xds::server::testing::AdsTestClient proxy((*server)->port(), "front");
  proxy.request(std::string(kListenerType), {});
  auto first = proxy.read();
  EXPECT_EQ(first.version_info(), front_v1);
  proxy.ack(first);

  // A broken folder: errors recorded, nothing applied.
  next.nodes.clear();
  next.nodes["front"] = listenerOn(1);
  next.errors = {"front.json (document 1): demo/VirtualNode/front: spec.listeners[0]: \"bad\" value"};
  EXPECT_FALSE(cp.rebuild());
  EXPECT_EQ(versionOf(cache, "front", kListenerType), front_v1);
  EXPECT_FALSE(versionOf(cache, "back", kListenerType).empty());
  ASSERT_TRUE(cp.lastBuild().has_value());
  EXPECT_EQ(cp.lastBuild()->number, 2u);
  ASSERT_TRUE(cp.lastGoodBuild().has_value());
  EXPECT_EQ(cp.lastGoodBuild()->number, 1u);
  // The JSON is escaped (the error quotes "bad") and parses back into the same message.
  const std::string json = statusJson(cp);
  EXPECT_NE(json.find("spec.listeners[0]: \\\"bad\\\" value"), std::string::npos) << json;
  trellis::cp::v1::Status parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok()) << json;
  EXPECT_EQ(parsed.last_good_build().number(), 1u);
  EXPECT_EQ(parsed.last_build().number(), 2u);
  EXPECT_FALSE(parsed.last_build().ok());
  ASSERT_EQ(parsed.last_build().errors_size(), 1);
  EXPECT_NE(parsed.last_build().errors(0).find("\"bad\" value"), std::string::npos);
  bool front = false;
  for (const auto& node : parsed.nodes()) front = front || node.node_id() == "front";
  EXPECT_TRUE(front) << json;
  EXPECT_NE(statsText(cp).find("cp.builds_failed: 1\n"), std::string::npos);

  // Fixed, and "back" is gone: front gets its new listeners, back is removed.
  next.errors.clear();
  next.nodes["front"] = listenerOn(8081);
  ASSERT_TRUE(cp.rebuild());
  auto update = proxy.read();
  EXPECT_EQ(update.type_url(), kListenerType);
  EXPECT_NE(update.version_info(), front_v1);
  EXPECT_EQ(versionOf(cache, "back", kListenerType), "");
  EXPECT_EQ(cp.buildsOk(), 2u);
  EXPECT_EQ(cp.buildsFailed(), 1u);
  (*server)->shutdown();
}

TEST(DirWatcherTest, BurstOfChangesGivesOneCallback) {
  const fs::path dir = fs::path(std::getenv("TEST_TMPDIR")) / "watched";
  fs::create_directories(dir);
  boost::asio::io_context io;
  int calls = 0;
  DirWatcher watcher(io, dir.string(), std::chrono::milliseconds(100), [&] {
    ++calls;
    io.stop();
  });
  ASSERT_TRUE(watcher.start().ok());
  std::ofstream(dir / "a.json") << "{}";
  std::ofstream(dir / "b.yaml") << "x: 1";
  fs::rename(dir / "b.yaml", dir / "c.yaml");
  fs::remove(dir / "a.json");
  io.run_for(std::chrono::seconds(10));
  EXPECT_EQ(calls, 1);

  // Dot files are ignored; a real file after them is seen.
  io.restart();
  std::ofstream(dir / ".swap") << "x";
  std::ofstream(dir / "d.json") << "{}";
  io.run_for(std::chrono::seconds(10));
  EXPECT_EQ(calls, 2);

  DirWatcher missing(io, (dir / "nope").string(), std::chrono::milliseconds(100), [] {});
  absl::Status status = missing.start();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("nope"), std::string::npos);
}

}  // namespace
}  // namespace trellis::cp
