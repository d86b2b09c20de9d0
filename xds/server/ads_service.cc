// Creates one AdsStream per ADS call; see ads_service.h.
#include "xds/server/ads_service.h"

#include "xds/server/ads_stream.h"

namespace trellis::xds::server {

grpc::ServerBidiReactor<envoy::service::discovery::v3::DiscoveryRequest,
                        envoy::service::discovery::v3::DiscoveryResponse>*
AdsService::StreamAggregatedResources(grpc::CallbackServerContext* context) {
  return AdsStream::start(cache_, context->peer());
}

}  // namespace trellis::xds::server
