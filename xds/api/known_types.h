// The message types of Trellis's xDS API subset that travel inside google.protobuf.Any: the xDS
// resources of a DiscoveryResponse and the extension configs of a typed_config. Config loaders use
// these lists to resolve "@type" and to name the supported types in their errors; referencing them
// also guarantees that the generated code of every xds/api file is linked into the program.
#pragma once

#include <google/protobuf/descriptor.h>

#include <string>
#include <string_view>
#include <vector>

namespace trellis::xds::api {

inline constexpr std::string_view kTypeUrlPrefix = "type.googleapis.com/";

// Listener, RouteConfiguration, Cluster, ClusterLoadAssignment.
const std::vector<const google::protobuf::Descriptor*>& resourceTypes();

// HttpConnectionManager, TcpProxy (network filters), Router (HTTP filter), OriginalDst (listener
// filter).
const std::vector<const google::protobuf::Descriptor*>& extensionTypes();

// "type.googleapis.com/<full message name>".
std::string typeUrl(const google::protobuf::Descriptor& type);

// envoy.service.discovery.v3.AggregatedDiscoveryService (its descriptor is linked by this library
// too, even into static binaries).
const google::protobuf::ServiceDescriptor& adsService();

}  // namespace trellis::xds::api
