// CloudFormation YAML for `trellis-inject ecs`: a read-only JSON view of a yaml-cpp tree (short
// form tags as the long-form intrinsics they stand for), the plan's edits applied to the tree
// itself, and an emitter that writes the tags back as they were written (!Sub, !Ref, !GetAtt X.Y,
// !Join [...]). yaml-cpp drops comments; callers say so.
#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "deploy/inject/ecs_plan.h"

namespace trellis::deploy::inject {

// {"Ref": X} for `!Ref X`, {"Fn::Sub": X} for `!Sub X`, {"Fn::GetAtt": "A.B"} for `!GetAtt A.B`,
// {"Condition": X} for `!Condition X`, {"Fn::NAME": X} for any other `!NAME`. Scalars are strings.
Json yamlView(const YAML::Node& node);

// New YAML for JSON the plan built: strings that YAML would read as a number, a boolean or null
// are quoted.
YAML::Node yamlFromJson(const Json& value);

// The plan's edits on a resource's Properties (PascalCase).
void applyEdits(YAML::Node properties, const std::vector<Edit>& edits);

// The document with its tags in short form, flow collections kept flow, quoted scalars quoted.
std::string emitYaml(const YAML::Node& document);

}  // namespace trellis::deploy::inject
