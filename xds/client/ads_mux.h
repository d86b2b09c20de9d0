// The per-type protocol state of an ADS (state-of-the-world) client.
//
// It knows nothing of gRPC or threads: the stream hands it responses, it hands back the
// requests to send (ACK, NACK, subscription changes, the initial requests of a new stream).
// For each type it keeps the last accepted version, the last nonce and the subscribed names
// (LDS and CDS are wildcard; RDS and EDS follow what the listeners and clusters reference).
// A subscriber decides whether a response is accepted: its status becomes the NACK's
// error_detail, and a NACKed response changes nothing.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/any.pb.h>

#include "absl/status/status.h"
#include "envoy/config/core/v3/base.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace trellis::xds::client {

inline constexpr char kListenerType[] = "type.googleapis.com/envoy.config.listener.v3.Listener";
inline constexpr char kRouteType[] = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
inline constexpr char kClusterType[] = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr char kEndpointType[] = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

class AdsMux {
 public:
  using Request = envoy::service::discovery::v3::DiscoveryRequest;
  using Response = envoy::service::discovery::v3::DiscoveryResponse;
  using Send = std::function<void(const Request&)>;
  // Returns OK to accept (ACK) or the reason to reject (NACK). `resources` are checked to be
  // of `type_url` already.
  using Subscriber = std::function<absl::Status(const std::string& type_url,
                                                const std::vector<google::protobuf::Any>& resources,
                                                const std::string& version)>;

  AdsMux(envoy::config::core::v3::Node node, Send send, Subscriber subscriber);

  // Declares interest in a type: wildcard (LDS, CDS) or by name (RDS, EDS). Sends a request
  // when the stream is up and the set changed.
  void subscribeWildcard(const std::string& type_url);
  void setNames(const std::string& type_url, std::set<std::string> names);

  // Stream events.
  void onStreamEstablished();
  void onStreamClosed();
  void onResponse(const Response& response);

  // Observability.
  struct TypeState {
    bool wildcard = false;
    std::set<std::string> names;
    std::string version;  // last accepted
    std::string nonce;    // last received
    uint64_t accepted = 0;
    uint64_t rejected = 0;
    std::string last_error;
    bool received = false;  // any response (accepted or not) since start
  };
  const std::map<std::string, TypeState>& types() const { return types_; }
  bool connected() const { return connected_; }

 private:
  void sendRequest(const std::string& type_url, const TypeState& st, const absl::Status& error);

  envoy::config::core::v3::Node node_;
  Send send_;
  Subscriber subscriber_;
  std::map<std::string, TypeState> types_;
  bool connected_ = false;
  bool node_sent_ = false;
};

}  // namespace trellis::xds::client
