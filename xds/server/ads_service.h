// The gRPC service envoy.service.discovery.v3.AggregatedDiscoveryService bound to a SnapshotCache:
// every StreamAggregatedResources call becomes an AdsStream.
#pragma once

#include <grpcpp/grpcpp.h>

#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "xds/server/snapshot_cache.h"

namespace trellis::xds::server {

class AdsService final : public envoy::service::discovery::v3::AggregatedDiscoveryService::CallbackService {
 public:
  // `cache` must outlive the service and every stream (AdsServer::shutdown ends them all).
  explicit AdsService(SnapshotCache& cache) : cache_(cache) {}

  // AggregatedDiscoveryService::CallbackService
  grpc::ServerBidiReactor<envoy::service::discovery::v3::DiscoveryRequest,
                          envoy::service::discovery::v3::DiscoveryResponse>*
  StreamAggregatedResources(grpc::CallbackServerContext* context) override;

 private:
  SnapshotCache& cache_;
};

}  // namespace trellis::xds::server
