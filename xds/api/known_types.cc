// Lists built once from the generated descriptors; see known_types.h.
#include "xds/api/known_types.h"

#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/extensions/access_loggers/file/v3/file.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/listener/original_dst/v3/original_dst.pb.h"
#include "envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "envoy/extensions/resource_monitors/downstream_connections/v3/downstream_connections.pb.h"
#include "envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "envoy/service/discovery/v3/ads.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "trellis/extensions/filters/http/egress_policy/v1/egress_policy.pb.h"
#include "trellis/extensions/load_balancing_policies/peak_ewma/v1/peak_ewma.pb.h"

namespace trellis::xds::api {

const std::vector<const google::protobuf::Descriptor*>& resourceTypes() {
  static const auto* types = new std::vector<const google::protobuf::Descriptor*>{
      envoy::config::listener::v3::Listener::descriptor(),
      envoy::config::route::v3::RouteConfiguration::descriptor(),
      envoy::config::cluster::v3::Cluster::descriptor(),
      envoy::config::endpoint::v3::ClusterLoadAssignment::descriptor(),
  };
  // The bootstrap and the discovery messages are not carried in an Any, but touching them here
  // links their files (and, through their imports, every other file of the subset).
  static const bool linked [[maybe_unused]] =
      envoy::config::bootstrap::v3::Bootstrap::descriptor() != nullptr &&
      envoy::service::discovery::v3::DiscoveryResponse::descriptor() != nullptr;
  return *types;
}

const std::vector<const google::protobuf::Descriptor*>& extensionTypes() {
  static const auto* types = new std::vector<const google::protobuf::Descriptor*>{
      envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager::
          descriptor(),
      envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy::descriptor(),
      envoy::extensions::filters::http::router::v3::Router::descriptor(),
      envoy::extensions::filters::listener::original_dst::v3::OriginalDst::descriptor(),
      envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector::descriptor(),
      trellis::extensions::filters::http::egress_policy::v1::EgressPolicy::descriptor(),
      envoy::extensions::retry::host::previous_hosts::v3::PreviousHostsPredicate::descriptor(),
      envoy::extensions::upstreams::http::v3::HttpProtocolOptions::descriptor(),
      envoy::extensions::resource_monitors::downstream_connections::v3::DownstreamConnectionsConfig::descriptor(),
      trellis::extensions::load_balancing_policies::peak_ewma::v1::PeakEwma::descriptor(),
      envoy::extensions::access_loggers::file::v3::FileAccessLog::descriptor(),
  };
  return *types;
}

// ads.proto holds only the service, so no message type pulls its generated file into a statically
// linked binary; this reference to the file's descriptor table (declared by the generated header)
// does.
extern const void* const kAdsProtoFile;
const void* const kAdsProtoFile = &descriptor_table_envoy_2fservice_2fdiscovery_2fv3_2fads_2eproto;

const google::protobuf::ServiceDescriptor& adsService() {
  static const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          "envoy.service.discovery.v3.AggregatedDiscoveryService");
  return *service;
}

std::string typeUrl(const google::protobuf::Descriptor& type) {
  return std::string(kTypeUrlPrefix) + type.full_name();
}

}  // namespace trellis::xds::api
