// One ADS stream (one proxy connection): reads DiscoveryRequests, runs them through StreamState,
// and writes the responses that the node's snapshot makes due. Built on gRPC's callback API, so an
// open stream costs memory, not a thread.
//
// Threading: gRPC runs the reactions (OnReadDone, OnWriteDone, OnDone) on its callback threads,
// and SnapshotCache calls onSnapshot on whatever thread called setResources. A per-stream mutex
// guards the state; it is released before every StartRead/StartWrite/Finish (gRPC may run a
// reaction inline) and before reporting an ACK (the observer is user code). One read and at most one
// write are outstanding at any time.
//
// Lifetime: the stream owns itself (self_) from creation until OnDone; the cache holds a weak
// pointer, so a setResources racing with the end of the stream either sees it alive or not at all.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>
#include <string>

#include "envoy/service/discovery/v3/discovery.pb.h"
#include "xds/server/snapshot_cache.h"
#include "xds/server/stream_state.h"

namespace trellis::xds::server {

class AdsStream final
    : public grpc::ServerBidiReactor<envoy::service::discovery::v3::DiscoveryRequest,
                                     envoy::service::discovery::v3::DiscoveryResponse>,
      public SnapshotWatcher,
      public std::enable_shared_from_this<AdsStream> {
 public:
  // Creates a stream and starts its first read; the returned reactor lives until OnDone.
  static AdsStream* start(SnapshotCache& cache, std::string peer);

  AdsStream(SnapshotCache& cache, std::string peer);

  // SnapshotWatcher
  void onSnapshot(std::shared_ptr<const NodeSnapshot> snapshot, uint64_t generation) override;

  // grpc::ServerBidiReactor
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;

 private:
  struct Ack {
    std::string type_url;
    std::string version;
  };

  // Handles request_ (mu_ held). Returns false if the stream must end (no node id).
  bool handleRequest(std::vector<Ack>& acks);
  // Starts the next due write, if none is in flight.
  void pump();
  // Finishes the call once reading has ended and no write is in flight.
  void maybeFinish();

  SnapshotCache& cache_;
  const std::string peer_;
  std::shared_ptr<AdsStream> self_;

  std::mutex mu_;
  envoy::service::discovery::v3::DiscoveryRequest request_;    // owned by the pending read
  envoy::service::discovery::v3::DiscoveryResponse response_;  // owned by the pending write
  std::string node_id_;  // from the first request; "" until then
  bool attached_ = false;
  std::shared_ptr<const NodeSnapshot> snapshot_;
  uint64_t generation_ = 0;
  StreamState state_;
  bool writing_ = false;
  bool write_failed_ = false;
  bool read_closed_ = false;
  bool finished_ = false;
  grpc::Status finish_status_;
};

}  // namespace trellis::xds::server
