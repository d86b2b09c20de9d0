// Reads YAML (or JSON, which is parsed as YAML) into a protobuf message, guided by the message's
// descriptor, the way Envoy reads its YAML configs: field names in snake_case or camelCase, proto3
// JSON forms for well-known types ("5s" durations, wrappers as bare scalars, Struct as free-form
// YAML) and google.protobuf.Any as a mapping with "@type". Shared by the proxy's bootstrap loader
// and trellis-cp. Every error names the path in the document, e.g.
//   static_resources.clusters[1].circuit_breakrs: unknown field (envoy.config.cluster.v3.Cluster
//   has no field 'circuit_breakrs'; did you mean 'circuit_breakers'?)
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "yaml-cpp/yaml.h"

namespace trellis::config {

struct YamlToProtoOptions {
  // The message types a google.protobuf.Any may hold. When empty, any message type linked into the
  // program (DescriptorPool::generated_pool()) is accepted; when set, an "@type" naming another
  // type is an error that lists these.
  std::vector<const google::protobuf::Descriptor*> any_types;
};

// Fills `out` (cleared first) from `node`. `path_prefix` is prepended to the paths in error
// messages (empty for a document's root). On error, `out` is left cleared and the status is
// INVALID_ARGUMENT with a message "<path>: <what is wrong>". Never throws.
absl::Status yamlToProto(const YAML::Node& node, google::protobuf::Message& out,
                         std::string_view path_prefix, const YamlToProtoOptions& options = {});

}  // namespace trellis::config
