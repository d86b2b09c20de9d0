// Classification of the served resource types; see node_resources.h.
#include "xds/server/node_resources.h"

namespace trellis::xds::server {

bool isServedType(std::string_view type_url) {
  return type_url == kListenerType || type_url == kRouteType || type_url == kClusterType ||
         type_url == kEndpointType;
}

bool isWildcardType(std::string_view type_url) {
  return type_url == kListenerType || type_url == kClusterType;
}

int pushRank(std::string_view type_url) {
  if (type_url == kClusterType) return 0;
  if (type_url == kEndpointType) return 1;
  if (type_url == kListenerType) return 2;
  if (type_url == kRouteType) return 3;
  return 4;
}

}  // namespace trellis::xds::server
