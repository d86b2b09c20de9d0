// A scripted ADS server for tests: it records every DiscoveryRequest and sends exactly the
// responses a test gives it, so a test can walk the xDS protocol step by step (ACK, NACK,
// subscriptions, reconnect). One stream at a time; bound to 127.0.0.1 on a chosen or free port.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "envoy/service/discovery/v3/ads.grpc.pb.h"

namespace trellis::tests {

class FakeAdsServer {
 public:
  using Request = envoy::service::discovery::v3::DiscoveryRequest;
  using Response = envoy::service::discovery::v3::DiscoveryResponse;

  // port 0 picks a free port; pass the old port to "restart" a control plane.
  explicit FakeAdsServer(int port = 0);
  ~FakeAdsServer();

  int port() const { return port_; }
  // Sends on the current stream; false if no stream is open.
  bool send(const Response& response);
  // Waits for a request (received since the last call that consumed it) matching `pred`;
  // consumes every request up to and including it. nullopt on timeout.
  std::optional<Request> waitFor(const std::function<bool(const Request&)>& pred,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10));
  size_t streamsOpened() const;
  // Closes the stream and stops serving.
  void shutdown();

 private:
  class Service;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// A response of `type_url` carrying `resources`, with the given version and nonce.
template <class... M>
FakeAdsServer::Response makeResponse(const std::string& type_url, const std::string& version, const std::string& nonce,
                                     const M&... resources) {
  FakeAdsServer::Response r;
  r.set_type_url(type_url);
  r.set_version_info(version);
  r.set_nonce(nonce);
  (r.add_resources()->PackFrom(resources), ...);
  return r;
}

// A dynamic bootstrap for node `node_id` whose ADS server is 127.0.0.1:`ads_port` (the cluster
// "xds_cluster"), as the proxies of these tests use.
std::string adsBootstrapYaml(const std::string& node_id, int ads_port);

}  // namespace trellis::tests
