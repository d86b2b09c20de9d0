// The per-stream xDS protocol rules; see stream_state.h.
#include "xds/server/stream_state.h"

#include <limits>

namespace trellis::xds::server {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

StreamState::Scope StreamState::scopeOf(const DiscoveryRequest& request) {
  Scope scope;
  for (const std::string& name : request.resource_names()) {
    if (name == "*") {
      scope.wildcard = true;
    } else {
      scope.names.insert(name);
    }
  }
  if (scope.names.empty() && isWildcardType(request.type_url())) scope.wildcard = true;
  if (scope.wildcard) scope.names.clear();
  return scope;
}

StreamState::Outcome StreamState::onRequest(const DiscoveryRequest& request) {
  Outcome outcome;
  auto [it, first] = types_.try_emplace(request.type_url());
  TypeState& state = it->second;
  if (first) {
    state.requested = scopeOf(request);
    // A reconnecting client names the version it holds: treat it as sent for the same scope.
    state.sent = state.requested;
    state.sent_version = request.version_info();
    outcome.kind = Kind::kSubscribe;
    outcome.version = request.version_info();
    return outcome;
  }
  if (!state.nonce.empty() && request.response_nonce() != state.nonce) {
    outcome.kind = Kind::kStale;
    return outcome;
  }
  state.requested = scopeOf(request);
  if (!state.awaiting_answer) {
    outcome.kind = Kind::kUpdate;
    return outcome;
  }
  state.awaiting_answer = false;
  outcome.version = state.sent_version;
  if (request.has_error_detail()) {
    outcome.kind = Kind::kNack;
    outcome.error = request.error_detail().message();
  } else {
    outcome.kind = Kind::kAck;
  }
  return outcome;
}

bool StreamState::nextResponse(const NodeSnapshot& snapshot, DiscoveryResponse& response) {
  TypeState* due = nullptr;
  const std::string* due_type = nullptr;
  const TypeSnapshot* due_snapshot = nullptr;
  int due_rank = std::numeric_limits<int>::max();
  for (auto& [type_url, state] : types_) {
    if (state.awaiting_answer) continue;
    const TypeSnapshot* current = snapshot.find(type_url);
    if (current == nullptr) continue;
    if (current->version == state.sent_version && state.requested == state.sent) continue;
    const int rank = pushRank(type_url);
    if (rank < due_rank) {
      due = &state;
      due_type = &type_url;
      due_snapshot = current;
      due_rank = rank;
    }
  }
  if (due == nullptr) return false;

  response.Clear();
  response.set_version_info(due_snapshot->version);
  response.set_type_url(*due_type);
  due->nonce = std::to_string(next_nonce_++);
  response.set_nonce(due->nonce);
  response.mutable_control_plane()->set_identifier("trellis-cp");
  if (due->requested.wildcard) {
    for (const auto& [name, any] : due_snapshot->resources) *response.add_resources() = any;
  } else {
    for (const std::string& name : due->requested.names) {
      auto found = due_snapshot->resources.find(name);
      if (found != due_snapshot->resources.end()) *response.add_resources() = found->second;
    }
  }
  due->sent = due->requested;
  due->sent_version = due_snapshot->version;
  due->awaiting_answer = true;
  return true;
}

std::string StreamState::sentVersion(const std::string& type_url) const {
  auto it = types_.find(type_url);
  return it == types_.end() ? std::string() : it->second.sent_version;
}

}  // namespace trellis::xds::server
