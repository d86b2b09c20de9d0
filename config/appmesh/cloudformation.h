// The CloudFormation front-end: a template (YAML or JSON) with AWS::AppMesh::* resources becomes
// the `aws appmesh` CLI input documents CloudFormation would have sent App Mesh's API. Intrinsic
// functions are evaluated offline (cloudformation_intrinsics.h); property names go from
// CloudFormation's PascalCase to the API's camelCase; resources of other types are skipped and
// counted in a note. The format is described in config/appmesh/README.md, "CloudFormation
// templates".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "yaml-cpp/yaml.h"
#include "config/appmesh/frontend.h"
#include "config/appmesh/load_options.h"

namespace trellis::config::appmesh {

// The file as a CloudFormation template, or nullopt when it is not one (its first document is
// not a map with `Resources` or `AWSTemplateFormatVersion`).
std::optional<FrontendResult> readCloudFormation(const InputFile& file,
                                                 const std::vector<YAML::Node>* documents,
                                                 const LoadOptions& options);

// The App Mesh API's name for a CloudFormation property name: "PortMapping" -> "portMapping",
// with CloudFormation's exceptions ("DNS" -> "dns", "AWSCloudMap" -> "awsCloudMap", "TLS" ->
// "tls", ...).
std::string apiPropertyName(const std::string& cloudFormationName);

}  // namespace trellis::config::appmesh
