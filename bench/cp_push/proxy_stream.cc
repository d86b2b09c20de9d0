// The simulated proxy's ADS stream; see proxy_stream.h.
#include "bench/cp_push/proxy_stream.h"

#include "absl/strings/str_join.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace trellis::bench::cp_push {
namespace {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

constexpr char kClusterType[] = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
constexpr char kEndpointType[] = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
constexpr char kListenerType[] = "type.googleapis.com/envoy.config.listener.v3.Listener";
constexpr char kRouteType[] = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
constexpr char kOutboundRoutePrefix[] = "rds_egress_";  // trellis-cp's outbound RouteConfiguration

unsigned typeBit(const std::string& type_url) {
  if (type_url == kClusterType) return 1;
  if (type_url == kEndpointType) return 2;
  if (type_url == kListenerType) return 4;
  if (type_url == kRouteType) return 8;
  return 0;
}
constexpr unsigned kAllTypes = 15;

// The names of the ClusterLoadAssignments the EDS clusters of a CDS response ask for.
std::set<std::string> edsNames(const DiscoveryResponse& response) {
  std::set<std::string> names;
  for (const google::protobuf::Any& any : response.resources()) {
    envoy::config::cluster::v3::Cluster cluster;
    if (!any.UnpackTo(&cluster) || cluster.type() != envoy::config::cluster::v3::Cluster::EDS) continue;
    const std::string& service = cluster.eds_cluster_config().service_name();
    names.insert(service.empty() ? cluster.name() : service);
  }
  return names;
}

// The RouteConfigurations the HTTP connection managers of an LDS response ask for.
std::set<std::string> rdsNames(const DiscoveryResponse& response) {
  std::set<std::string> names;
  for (const google::protobuf::Any& any : response.resources()) {
    envoy::config::listener::v3::Listener listener;
    if (!any.UnpackTo(&listener)) continue;
    for (const auto& chain : listener.filter_chains()) {
      for (const auto& filter : chain.filters()) {
        envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager manager;
        if (filter.typed_config().UnpackTo(&manager) && manager.has_rds()) {
          names.insert(manager.rds().route_config_name());
        }
      }
    }
  }
  return names;
}

// The weights of the weighted routes in the outbound RouteConfiguration ("40,30,30"), or "" if
// the response has none.
std::string routeWeights(const DiscoveryResponse& response) {
  std::vector<uint32_t> weights;
  for (const google::protobuf::Any& any : response.resources()) {
    envoy::config::route::v3::RouteConfiguration config;
    if (!any.UnpackTo(&config) || config.name().rfind(kOutboundRoutePrefix, 0) != 0) continue;
    for (const auto& host : config.virtual_hosts()) {
      for (const auto& route : host.routes()) {
        if (!route.route().has_weighted_clusters()) continue;
        for (const auto& cluster : route.route().weighted_clusters().clusters()) {
          weights.push_back(cluster.weight().value());
        }
      }
    }
  }
  return absl::StrJoin(weights, ",");
}

}  // namespace

ProxyStream::ProxyStream(int index, std::string node_id, PushTracker& tracker)
    : index_(index), node_id_(std::move(node_id)), tracker_(tracker) {}

void ProxyStream::start(envoy::service::discovery::v3::AggregatedDiscoveryService::Stub& stub) {
  stub.async()->StreamAggregatedResources(&context_, this);
  // Operations started before StartCall are queued by gRPC.
  sendRequest(kClusterType);
  sendRequest(kListenerType);
  StartRead(&response_);
  StartCall();
}

void ProxyStream::cancel() { context_.TryCancel(); }

bool ProxyStream::waitDone(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return done_; });
}

void ProxyStream::OnReadDone(bool ok) {
  if (!ok) return;  // the stream is ending; OnDone follows
  handleResponse();
  StartRead(&response_);
}

void ProxyStream::handleResponse() {
  const std::string& type_url = response_.type_url();
  tracker_.onResponse(type_url);
  TypeState& state = types_[type_url];
  state.version = response_.version_info();
  state.nonce = response_.nonce();

  // A new set of clusters or listeners may name other endpoints or routes: subscribe to them
  // before ACKing, as a proxy warming its clusters does.
  auto resubscribe = [this](const std::string& dependent, std::set<std::string> names) {
    TypeState& sub = types_[dependent];
    if (names == sub.names) return;
    sub.names = std::move(names);
    sendRequest(dependent);
  };
  if (type_url == kClusterType) resubscribe(kEndpointType, edsNames(response_));
  if (type_url == kListenerType) resubscribe(kRouteType, rdsNames(response_));

  sendRequest(type_url);  // the ACK
  if (type_url == kRouteType) tracker_.onRouteAck(index_, routeWeights(response_));
  if (acked_types_ != kAllTypes) {
    acked_types_ |= typeBit(type_url);
    if (acked_types_ == kAllTypes) tracker_.onInitialConfig(index_);
  }
}

void ProxyStream::sendRequest(const std::string& type_url) {
  const TypeState& state = types_[type_url];
  DiscoveryRequest request;
  if (!node_sent_) {
    request.mutable_node()->set_id(node_id_);
    request.mutable_node()->set_user_agent_name("cp-push-bench");
    node_sent_ = true;
  }
  request.set_type_url(type_url);
  request.set_version_info(state.version);
  request.set_response_nonce(state.nonce);
  for (const std::string& name : state.names) request.add_resource_names(name);
  enqueue(std::move(request));
}

void ProxyStream::enqueue(DiscoveryRequest request) {
  DiscoveryRequest* next = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    writes_.push_back(std::move(request));  // a deque keeps the element being written in place
    if (writing_) return;
    writing_ = true;
    next = &writes_.front();
  }
  StartWrite(next);
}

void ProxyStream::OnWriteDone(bool ok) {
  DiscoveryRequest* next = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    writes_.pop_front();
    if (!ok || writes_.empty()) {
      writing_ = false;
      return;
    }
    next = &writes_.front();
  }
  StartWrite(next);
}

void ProxyStream::OnDone(const grpc::Status& status) {
  tracker_.onStreamEnd(index_, status.ok() ? std::string("ended by the server")
                                           : std::to_string(status.error_code()) + " " + status.error_message());
  std::lock_guard<std::mutex> lock(mu_);
  done_ = true;
  cv_.notify_all();
}

}  // namespace trellis::bench::cp_push
