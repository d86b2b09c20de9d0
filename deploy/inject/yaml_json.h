// Kubernetes YAML <-> nlohmann::ordered_json, for `trellis-inject k8s`: documents are read into
// the same tree the pod injection works on and, when changed, written back as YAML with their
// keys in the original order.
//
// Scalars are typed the way Kubernetes' YAML reader (YAML 1.1 rules) types them: quoted scalars
// and `!!str` are strings; plain ones are null (`~`, `null`, empty), booleans (true/false,
// yes/no, on/off, any case), integers (decimal, 0x hex, 0o/leading-0 octal), floats, else
// strings. Written back, a string that would read as something else is double-quoted, so a
// round trip keeps every value's type. Comments and anchors are not kept (yaml-cpp drops them).
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "absl/status/statusor.h"

namespace trellis::deploy {

// Errors name the path in the document ("spec.template.metadata.labels: ...").
absl::StatusOr<nlohmann::ordered_json> yamlToJson(const YAML::Node& node);

// Block-style YAML of `value`, ending with a newline.
std::string jsonToYaml(const nlohmann::ordered_json& value);

}  // namespace trellis::deploy
