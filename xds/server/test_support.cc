// Test helpers for the ADS server; see test_support.h.
#include "xds/server/test_support.h"

#include <gtest/gtest.h>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"

namespace trellis::xds::server::testing {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

google::protobuf::Any listenerAny(const std::string& name, uint32_t port) {
  envoy::config::listener::v3::Listener listener;
  listener.set_name(name);
  auto* address = listener.mutable_address()->mutable_socket_address();
  address->set_address("0.0.0.0");
  address->set_port_value(port);
  google::protobuf::Any any;
  any.PackFrom(listener);
  return any;
}

google::protobuf::Any clusterAny(const std::string& name, int64_t connect_timeout_seconds) {
  envoy::config::cluster::v3::Cluster cluster;
  cluster.set_name(name);
  cluster.set_type(envoy::config::cluster::v3::Cluster::EDS);
  cluster.mutable_connect_timeout()->set_seconds(connect_timeout_seconds);
  cluster.mutable_eds_cluster_config()->set_service_name(name);
  google::protobuf::Any any;
  any.PackFrom(cluster);
  return any;
}

google::protobuf::Any routeAny(const std::string& name, const std::string& virtual_host) {
  envoy::config::route::v3::RouteConfiguration route;
  route.set_name(name);
  route.add_virtual_hosts()->set_name(virtual_host);
  google::protobuf::Any any;
  any.PackFrom(route);
  return any;
}

google::protobuf::Any endpointsAny(const std::string& cluster_name, uint32_t port) {
  envoy::config::endpoint::v3::ClusterLoadAssignment assignment;
  assignment.set_cluster_name(cluster_name);
  auto* address = assignment.add_endpoints()->add_lb_endpoints()->mutable_endpoint()->mutable_address();
  address->mutable_socket_address()->set_address("127.0.0.1");
  address->mutable_socket_address()->set_port_value(port);
  google::protobuf::Any any;
  any.PackFrom(assignment);
  return any;
}

std::set<std::string> resourceNames(const DiscoveryResponse& response) {
  std::set<std::string> names;
  for (const google::protobuf::Any& any : response.resources()) {
    if (envoy::config::listener::v3::Listener m; any.UnpackTo(&m)) {
      names.insert(m.name());
    } else if (envoy::config::cluster::v3::Cluster c; any.UnpackTo(&c)) {
      names.insert(c.name());
    } else if (envoy::config::route::v3::RouteConfiguration r; any.UnpackTo(&r)) {
      names.insert(r.name());
    } else if (envoy::config::endpoint::v3::ClusterLoadAssignment e; any.UnpackTo(&e)) {
      names.insert(e.cluster_name());
    } else {
      names.insert("<unknown " + any.type_url() + ">");
    }
  }
  return names;
}

AdsTestClient::AdsTestClient(int port, std::string node_id) : node_id_(std::move(node_id)) {
  channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  stub_ = envoy::service::discovery::v3::AggregatedDiscoveryService::NewStub(channel_);
  context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  stream_ = stub_->StreamAggregatedResources(&context_);
}

AdsTestClient::~AdsTestClient() {
  if (!closed_) {
    context_.TryCancel();
    stream_->Finish();
  }
}

void AdsTestClient::request(const std::string& type_url, const std::vector<std::string>& names,
                            const std::string& version, const std::string& nonce, const std::string& error) {
  DiscoveryRequest request;
  if (!sent_node_) {
    request.mutable_node()->set_id(node_id_);
    sent_node_ = true;
  }
  request.set_type_url(type_url);
  for (const std::string& name : names) request.add_resource_names(name);
  request.set_version_info(version);
  request.set_response_nonce(nonce);
  if (!error.empty()) {
    request.mutable_error_detail()->set_code(3);
    request.mutable_error_detail()->set_message(error);
  }
  EXPECT_TRUE(stream_->Write(request)) << "the stream ended before a request could be written";
}

DiscoveryResponse AdsTestClient::read() {
  DiscoveryResponse response;
  if (!stream_->Read(&response)) {
    ADD_FAILURE() << "the ADS stream ended (or timed out) while a response was expected";
    return DiscoveryResponse();
  }
  return response;
}

void AdsTestClient::ack(const DiscoveryResponse& response, const std::vector<std::string>& names) {
  request(response.type_url(), names, response.version_info(), response.nonce());
}

void AdsTestClient::nack(const DiscoveryResponse& response, const std::string& last_good_version,
                         const std::string& message, const std::vector<std::string>& names) {
  request(response.type_url(), names, last_good_version, response.nonce(), message);
}

grpc::Status AdsTestClient::close() {
  closed_ = true;
  stream_->WritesDone();
  return stream_->Finish();
}

AckWaiter::AckWaiter(SnapshotCache& cache) : cache_(cache) {
  cache_.setAckObserver([this](const std::string& node, const std::string& type_url, const std::string& version) {
    std::lock_guard<std::mutex> lock(mu_);
    acked_.emplace(node, type_url, version);
    cv_.notify_all();
  });
}

AckWaiter::~AckWaiter() { cache_.setAckObserver(nullptr); }

bool AckWaiter::waitFor(const std::string& node, const std::string& type_url, const std::string& version,
                        std::chrono::seconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return acked_.contains(std::make_tuple(node, type_url, version)); });
}

}  // namespace trellis::xds::server::testing
