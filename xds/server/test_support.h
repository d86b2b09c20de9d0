// Test helpers for the ADS server: small resources of each type, a blocking ADS client for one
// stream, and a waiter for ACKs reported by the cache. Shared by the server's tests and the cp's.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "xds/server/node_resources.h"
#include "xds/server/snapshot_cache.h"

namespace trellis::xds::server::testing {

google::protobuf::Any listenerAny(const std::string& name, uint32_t port);
google::protobuf::Any clusterAny(const std::string& name, int64_t connect_timeout_seconds);
google::protobuf::Any routeAny(const std::string& name, const std::string& virtual_host);
google::protobuf::Any endpointsAny(const std::string& cluster_name, uint32_t port);

// The names of the resources of a response (unpacked by type).
std::set<std::string> resourceNames(const envoy::service::discovery::v3::DiscoveryResponse& response);

// One ADS stream with blocking reads. Every read is bounded by the stream's deadline (60 s), so a
// missing response fails the test instead of hanging it.
class AdsTestClient {
 public:
  AdsTestClient(int port, std::string node_id);
  ~AdsTestClient();

  // Writes a request; the first one carries node.id.
  void request(const std::string& type_url, const std::vector<std::string>& names,
               const std::string& version = "", const std::string& nonce = "", const std::string& error = "");
  // The next response; adds a test failure (and returns an empty response) if the stream ended.
  envoy::service::discovery::v3::DiscoveryResponse read();
  void ack(const envoy::service::discovery::v3::DiscoveryResponse& response,
           const std::vector<std::string>& names = {});
  void nack(const envoy::service::discovery::v3::DiscoveryResponse& response, const std::string& last_good_version,
            const std::string& message, const std::vector<std::string>& names = {});
  // Half-closes and returns the server's status.
  grpc::Status close();

 private:
  std::string node_id_;
  bool sent_node_ = false;
  bool closed_ = false;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<envoy::service::discovery::v3::AggregatedDiscoveryService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<envoy::service::discovery::v3::DiscoveryRequest,
                                           envoy::service::discovery::v3::DiscoveryResponse>>
      stream_;
};

// Records the ACKs the cache reports and lets a test wait for one.
class AckWaiter {
 public:
  explicit AckWaiter(SnapshotCache& cache);
  ~AckWaiter();
  // True once `node` ACKed `version` of `type_url` (within `timeout`).
  bool waitFor(const std::string& node, const std::string& type_url, const std::string& version,
               std::chrono::seconds timeout = std::chrono::seconds(30));

 private:
  SnapshotCache& cache_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::tuple<std::string, std::string, std::string>> acked_;
};

}  // namespace trellis::xds::server::testing
