// ACK/NACK, nonces and subscriptions, as the xDS protocol defines them for state of the world.
#include "xds/client/ads_mux.h"

namespace trellis::xds::client {

namespace {
// Requests go out in this order on a new stream (clusters and their endpoints before the
// listeners and routes that use them).
const char* const kOrder[] = {kClusterType, kEndpointType, kListenerType, kRouteType};
}  // namespace

AdsMux::AdsMux(envoy::config::core::v3::Node node, Send send, Subscriber subscriber)
    : node_(std::move(node)), send_(std::move(send)), subscriber_(std::move(subscriber)) {}

void AdsMux::subscribeWildcard(const std::string& type_url) {
  auto& st = types_[type_url];
  if (st.wildcard) return;
  st.wildcard = true;
  if (connected_) sendRequest(type_url, st, absl::OkStatus());
}

void AdsMux::setNames(const std::string& type_url, std::set<std::string> names) {
  auto& st = types_[type_url];
  if (st.names == names) return;
  // An empty set unsubscribes from everything of that type (it is never a wildcard here).
  st.names = std::move(names);
  if (connected_) sendRequest(type_url, st, absl::OkStatus());
}

void AdsMux::onStreamEstablished() {
  connected_ = true;
  node_sent_ = false;
  for (const char* type : kOrder) {
    auto it = types_.find(type);
    if (it == types_.end()) continue;
    auto& st = it->second;
    if (!st.wildcard && st.names.empty()) continue;
    // A new stream starts without nonces; the accepted version tells the server what we have.
    st.nonce.clear();
    sendRequest(type, st, absl::OkStatus());
  }
}

void AdsMux::onStreamClosed() { connected_ = false; }

void AdsMux::onResponse(const Response& response) {
  auto it = types_.find(response.type_url());
  if (it == types_.end()) return;  // a type we never asked for: nothing to ACK
  auto& st = it->second;
  st.received = true;
  st.nonce = response.nonce();
  std::vector<google::protobuf::Any> resources;
  absl::Status status;
  for (const auto& any : response.resources()) {
    if (any.type_url() != response.type_url()) {
      status = absl::InvalidArgumentError("resource of type " + any.type_url() + " in a " + response.type_url() +
                                          " response");
      break;
    }
    resources.push_back(any);
  }
  if (status.ok()) status = subscriber_(response.type_url(), resources, response.version_info());
  if (status.ok()) {
    st.version = response.version_info();
    ++st.accepted;
    st.last_error.clear();
  } else {
    ++st.rejected;
    st.last_error = std::string(status.message());
  }
  if (connected_) sendRequest(response.type_url(), st, status);
}

void AdsMux::sendRequest(const std::string& type_url, const TypeState& st, const absl::Status& error) {
  Request req;
  if (!node_sent_) {
    *req.mutable_node() = node_;
    node_sent_ = true;
  }
  req.set_type_url(type_url);
  req.set_version_info(st.version);
  req.set_response_nonce(st.nonce);
  if (!st.wildcard) {
    for (const auto& n : st.names) req.add_resource_names(n);
  }
  if (!error.ok()) {
    req.mutable_error_detail()->set_code(static_cast<int>(error.code()));
    req.mutable_error_detail()->set_message(std::string(error.message()));
  }
  send_(req);
}

}  // namespace trellis::xds::client
