// The immutable, versioned form of one node's NodeResources that streams read without locks.
// SnapshotCache builds a new NodeSnapshot on every setResources and hands it to the node's streams;
// a type whose content did not change keeps its TypeSnapshot (and so its version) by pointer.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "xds/server/node_resources.h"

namespace trellis::xds::server {

struct TypeSnapshot {
  // A digest of the type's content (names, type URLs and bytes of every resource): equal content
  // gives an equal version, across control-plane restarts too, so a reconnecting proxy that
  // already holds this content is not sent it again.
  std::string version;
  std::map<std::string, google::protobuf::Any> resources;  // by resource name
};

struct NodeSnapshot {
  // Cache-wide increasing number: a stream that is handed two snapshots of its node out of order
  // keeps the newer one.
  uint64_t generation = 0;
  // Always holds the four served types (empty ones too: "no listeners" is an answer); other type
  // URLs given to setResources are kept but never requested successfully.
  std::map<std::string, std::shared_ptr<const TypeSnapshot>, std::less<>> types;

  const TypeSnapshot* find(std::string_view type_url) const;
};

// The version of a set of resources (hex digest, 24 characters).
std::string contentVersion(const std::map<std::string, google::protobuf::Any>& resources);

using VersionedTypes = std::map<std::string, std::shared_ptr<const TypeSnapshot>, std::less<>>;

// Moves every type of `resources` into a TypeSnapshot with its version, adding the served types
// that are absent as empty. The digests are computed here, outside any lock of the cache.
VersionedTypes versionTypes(NodeResources resources);

}  // namespace trellis::xds::server
