// 1,000 concurrent ADS streams in one process against one server: every stream gets its node's
// resources, then one setResources per node changes the clusters of all of them, and the time from
// the first of those calls to the last ACK is printed ("push latency"). It is a measurement, not
// an assertion; the test asserts that every stream ACKed the new version.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>

#include "xds/server/ads_server.h"
#include "xds/server/node_snapshot.h"
#include "xds/server/snapshot_cache.h"
#include "xds/server/test_support.h"

namespace trellis::xds::server {
namespace {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

constexpr int kStreams = 1000;
constexpr int kChannels = 8;

// An ADS client on gRPC's callback API: subscribes to CDS and LDS and ACKs every response.
class AckingClient final : public grpc::ClientBidiReactor<DiscoveryRequest, DiscoveryResponse> {
 public:
  AckingClient(envoy::service::discovery::v3::AggregatedDiscoveryService::Stub& stub, const std::string& node) {
    stub.async()->StreamAggregatedResources(&context_, this);
    DiscoveryRequest cds;
    cds.mutable_node()->set_id(node);
    cds.set_type_url(std::string(kClusterType));
    enqueue(std::move(cds));
    DiscoveryRequest lds;
    lds.set_type_url(std::string(kListenerType));
    enqueue(std::move(lds));
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    DiscoveryRequest ack;
    ack.set_type_url(response_.type_url());
    ack.set_version_info(response_.version_info());
    ack.set_response_nonce(response_.nonce());
    enqueue(std::move(ack));
    StartRead(&response_);
  }

  void OnWriteDone(bool ok) override {
    DiscoveryRequest* next = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.pop_front();
      if (!ok || queue_.empty()) {
        writing_ = false;
        return;
      }
      next = &queue_.front();
    }
    StartWrite(next);
  }

  void OnDone(const grpc::Status&) override {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    cv_.notify_all();
  }

  void cancelAndWait() {
    context_.TryCancel();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_; });
  }

 private:
  void enqueue(DiscoveryRequest request) {
    DiscoveryRequest* next = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(request));  // deque: the element being written stays put
      if (writing_) return;
      writing_ = true;
      next = &queue_.front();
    }
    StartWrite(next);
  }

  grpc::ClientContext context_;
  DiscoveryResponse response_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<DiscoveryRequest> queue_;
  bool writing_ = false;
  bool done_ = false;
};

NodeResources nodeResources(int node, int timeout_seconds) {
  NodeResources r;
  r.by_type[std::string(kListenerType)]["in"] = testing::listenerAny("in", 10000 + node);
  r.by_type[std::string(kClusterType)]["app"] = testing::clusterAny("app", timeout_seconds);
  const std::string peer = "peer-" + std::to_string(node);
  r.by_type[std::string(kClusterType)][peer] = testing::clusterAny(peer, 1);
  return r;
}

// Counts ACKs of one expected version per (node, type) and wakes a waiter at a target count.
class AckCounter {
 public:
  void expect(const std::string& node, const std::string& type_url, const std::string& version) {
    std::lock_guard<std::mutex> lock(mu_);
    expected_[{node, type_url}] = version;
  }
  void onAck(const std::string& node, const std::string& type_url, const std::string& version) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = expected_.find({node, type_url});
    if (it == expected_.end() || it->second != version) return;
    expected_.erase(it);
    last_ack_ = std::chrono::steady_clock::now();
    cv_.notify_all();
  }
  // Waits until every expected ACK arrived; returns the time of the last one, or nothing.
  std::optional<std::chrono::steady_clock::time_point> waitAll(std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [this] { return expected_.empty(); })) return std::nullopt;
    return last_ack_;
  }
  size_t missing() {
    std::lock_guard<std::mutex> lock(mu_);
    return expected_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::pair<std::string, std::string>, std::string> expected_;
  std::chrono::steady_clock::time_point last_ack_;
};

TEST(AdsLoadTest, ThousandStreamsAllAckAnUpdate) {
  spdlog::set_level(spdlog::level::warn);
  SnapshotCache cache;
  AckCounter counter;
  cache.setAckObserver([&counter](const std::string& node, const std::string& type_url, const std::string& version) {
    counter.onAck(node, type_url, version);
  });
  auto started = AdsServer::start(cache, "127.0.0.1:0");
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<AdsServer> server = std::move(*started);

  auto node = [](int i) { return "node-" + std::to_string(i); };
  for (int i = 0; i < kStreams; ++i) {
    NodeResources r = nodeResources(i, 1);
    counter.expect(node(i), std::string(kClusterType), contentVersion(r.by_type[std::string(kClusterType)]));
    counter.expect(node(i), std::string(kListenerType), contentVersion(r.by_type[std::string(kListenerType)]));
    cache.setResources(node(i), std::move(r));
  }

  // Several connections, as from many proxies (a distinct argument keeps gRPC from sharing one).
  std::vector<std::unique_ptr<envoy::service::discovery::v3::AggregatedDiscoveryService::Stub>> stubs;
  for (int c = 0; c < kChannels; ++c) {
    grpc::ChannelArguments args;
    args.SetInt("trellis.test.connection", c);
    stubs.push_back(envoy::service::discovery::v3::AggregatedDiscoveryService::NewStub(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(server->port()), grpc::InsecureChannelCredentials(), args)));
  }
  const auto connect_start = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<AckingClient>> clients;
  for (int i = 0; i < kStreams; ++i) {
    clients.push_back(std::make_unique<AckingClient>(*stubs[i % kChannels], node(i)));
  }
  auto initial = counter.waitAll(std::chrono::seconds(120));
  ASSERT_TRUE(initial.has_value()) << counter.missing() << " initial ACKs missing";
  const auto connected_ms =
      std::chrono::duration<double, std::milli>(*initial - connect_start).count();
  EXPECT_EQ(cache.totals().streams_connected, kStreams);
  // Streams must not cost a thread each (this process holds both the server and the clients).
  const auto threads = std::distance(std::filesystem::directory_iterator("/proc/self/task"),
                                     std::filesystem::directory_iterator());
  std::printf("threads in the process with %d streams open: %ld\n", kStreams, static_cast<long>(threads));
  EXPECT_LT(threads, 200);

  // The update: new clusters for every node.
  std::vector<NodeResources> updates;
  for (int i = 0; i < kStreams; ++i) {
    updates.push_back(nodeResources(i, 2));
    counter.expect(node(i), std::string(kClusterType),
                   contentVersion(updates.back().by_type[std::string(kClusterType)]));
  }
  const auto push_start = std::chrono::steady_clock::now();
  for (int i = 0; i < kStreams; ++i) cache.setResources(node(i), std::move(updates[i]));
  const auto calls_done = std::chrono::steady_clock::now();
  auto last_ack = counter.waitAll(std::chrono::seconds(120));
  ASSERT_TRUE(last_ack.has_value()) << counter.missing() << " update ACKs missing";

  const double calls_ms = std::chrono::duration<double, std::milli>(calls_done - push_start).count();
  const double push_ms = std::chrono::duration<double, std::milli>(*last_ack - push_start).count();
  std::printf("ADS push latency, %d streams on %d connections: setResources for all nodes took %.1f ms; "
              "first setResources to last ACK: %.1f ms (initial subscribe of all streams to last ACK: %.1f ms)\n",
              kStreams, kChannels, calls_ms, push_ms, connected_ms);
  RecordProperty("push_latency_ms", std::to_string(push_ms));

  SnapshotCache::Totals totals = cache.totals();
  EXPECT_EQ(totals.responses_sent, 3u * kStreams);
  EXPECT_EQ(totals.acks, 3u * kStreams);
  EXPECT_EQ(totals.nacks, 0u);

  for (auto& client : clients) client->cancelAndWait();
  server->shutdown();
  EXPECT_EQ(cache.totals().streams_connected, 0);
}

}  // namespace
}  // namespace trellis::xds::server
