// One simulated proxy: an ADS stream (state of the world) on gRPC's callback API that behaves as a
// sidecar does towards trellis-cp. It subscribes to every Cluster and Listener (wildcard CDS and
// LDS), then to the ClusterLoadAssignments its EDS clusters name and the RouteConfigurations its
// listeners' HTTP connection managers name, and ACKs every response with its version_info and
// nonce. Each ACK of an outbound RouteConfiguration is reported to the PushTracker with the
// weights of its weighted route. No thread per stream: gRPC runs the reactions on its own threads.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "bench/cp_push/push_tracker.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"

namespace trellis::bench::cp_push {

class ProxyStream final : public grpc::ClientBidiReactor<envoy::service::discovery::v3::DiscoveryRequest,
                                                         envoy::service::discovery::v3::DiscoveryResponse> {
 public:
  ProxyStream(int index, std::string node_id, PushTracker& tracker);

  // Opens the stream and sends the CDS and LDS subscriptions.
  void start(envoy::service::discovery::v3::AggregatedDiscoveryService::Stub& stub);
  // Cancels the call; OnDone follows.
  void cancel();
  // True once OnDone ran (the object may then be destroyed).
  bool waitDone(std::chrono::milliseconds timeout);

  // grpc::ClientBidiReactor
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  struct TypeState {
    std::string version;  // of the last response (what an ACK or a new subscription carries)
    std::string nonce;
    std::set<std::string> names;  // the subscription (empty for the wildcard types)
  };

  // Answers response_ (runs in OnReadDone; one read is outstanding at a time, so no lock).
  void handleResponse();
  // Sends a request for `type_url` carrying its state's version, nonce and names.
  void sendRequest(const std::string& type_url);
  void enqueue(envoy::service::discovery::v3::DiscoveryRequest request);

  const int index_;
  const std::string node_id_;
  PushTracker& tracker_;
  grpc::ClientContext context_;
  envoy::service::discovery::v3::DiscoveryResponse response_;

  // Touched only by handleResponse (serial) and before the call starts.
  std::map<std::string, TypeState> types_;
  unsigned acked_types_ = 0;  // bit per type: CDS, EDS, LDS, RDS
  bool node_sent_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<envoy::service::discovery::v3::DiscoveryRequest> writes_;  // front: being written
  bool writing_ = false;
  bool done_ = false;
};

}  // namespace trellis::bench::cp_push
