// Versioning of node resources by content digest; see node_snapshot.h.
#include "xds/server/node_snapshot.h"

#include <openssl/evp.h>

#include <array>

namespace trellis::xds::server {
namespace {

void appendField(std::string& out, std::string_view bytes) {
  // Length-prefixed so that no two different sequences of fields serialize alike.
  const uint64_t n = bytes.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out.append(bytes);
}

}  // namespace

const TypeSnapshot* NodeSnapshot::find(std::string_view type_url) const {
  auto it = types.find(type_url);
  return it == types.end() ? nullptr : it->second.get();
}

std::string contentVersion(const std::map<std::string, google::protobuf::Any>& resources) {
  std::string material;
  for (const auto& [name, any] : resources) {
    appendField(material, name);
    appendField(material, any.type_url());
    appendField(material, any.value());
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(material.data(), material.size(), digest.data(), &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string version;
  for (unsigned int i = 0; i < 12 && i < length; ++i) {
    version.push_back(kHex[digest[i] >> 4]);
    version.push_back(kHex[digest[i] & 0xf]);
  }
  return version;
}

VersionedTypes versionTypes(NodeResources resources) {
  for (std::string_view type : {kListenerType, kRouteType, kClusterType, kEndpointType}) {
    resources.by_type.try_emplace(std::string(type));
  }
  VersionedTypes types;
  for (auto& [type_url, by_name] : resources.by_type) {
    auto type = std::make_shared<TypeSnapshot>();
    type->version = contentVersion(by_name);
    type->resources = std::move(by_name);
    types.emplace(type_url, std::move(type));
  }
  return types;
}

}  // namespace trellis::xds::server
