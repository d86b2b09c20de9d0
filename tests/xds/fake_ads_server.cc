// The scripted ADS server: a synchronous gRPC service whose stream handler only reads and
// queues; the test thread writes.
#include "tests/xds/fake_ads_server.h"

#include <stdexcept>

namespace trellis::tests {

class FakeAdsServer::Service final : public envoy::service::discovery::v3::AggregatedDiscoveryService::Service {
 public:
  grpc::Status StreamAggregatedResources(
      grpc::ServerContext* context, grpc::ServerReaderWriter<Response, Request>* stream) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stream_ = stream;
      ++streams_;
    }
    Request req;
    while (stream->Read(&req)) {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
      cv_.notify_all();
    }
    std::lock_guard<std::mutex> lock(mu_);
    stream_ = nullptr;
    (void)context;
    return grpc::Status::OK;
  }

  bool send(const Response& r) {
    std::lock_guard<std::mutex> lock(mu_);
    return stream_ && stream_->Write(r);
  }

  std::optional<Request> waitFor(const std::function<bool(const Request&)>& pred, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    std::optional<Request> found;
    cv_.wait_for(lock, timeout, [&] {
      while (!requests_.empty()) {
        Request r = std::move(requests_.front());
        requests_.pop_front();
        if (pred(r)) {
          found = std::move(r);
          return true;
        }
      }
      return false;
    });
    return found;
  }

  size_t streams() const {
    std::lock_guard<std::mutex> lock(mu_);
    return streams_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  grpc::ServerReaderWriter<Response, Request>* stream_ = nullptr;
  std::deque<Request> requests_;
  size_t streams_ = 0;
};

FakeAdsServer::FakeAdsServer(int port) : service_(std::make_unique<Service>()) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) throw std::runtime_error("fake ADS server could not listen");
}

FakeAdsServer::~FakeAdsServer() { shutdown(); }

bool FakeAdsServer::send(const Response& response) { return service_->send(response); }

std::optional<FakeAdsServer::Request> FakeAdsServer::waitFor(const std::function<bool(const Request&)>& pred,
                                                             std::chrono::milliseconds timeout) {
  return service_->waitFor(pred, timeout);
}

size_t FakeAdsServer::streamsOpened() const { return service_->streams(); }

void FakeAdsServer::shutdown() {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now());  // cancels the open stream now
  server_->Wait();
  server_.reset();
}

std::string adsBootstrapYaml(const std::string& node_id, int ads_port) {
  return "\nnode: {id: \"" + node_id + R"(", cluster: front}
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
dynamic_resources:
  ads_config:
    api_type: GRPC
    transport_api_version: V3
    grpc_services: [{envoy_grpc: {cluster_name: xds_cluster}}]
  lds_config: {ads: {}, resource_api_version: V3, initial_fetch_timeout: 30s}
  cds_config: {ads: {}, resource_api_version: V3}
static_resources:
  clusters:
  - name: xds_cluster
    type: STATIC
    connect_timeout: 1s
    # As in every Envoy xDS bootstrap: the control plane speaks gRPC over HTTP/2.
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
    load_assignment:
      cluster_name: xds_cluster
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: )" +
         std::to_string(ads_port) + "}}}}]}]\n";
}

}  // namespace trellis::tests
