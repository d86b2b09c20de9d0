// One input file of `trellis-inject ecs`, whatever its shape: register-task-definition input,
// describe-task-definition output ({"taskDefinition": {...}}), or a CloudFormation template in
// JSON or YAML with AWS::ECS::TaskDefinition resources. Converts in memory; writing is the
// command's job, after every input converted.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "deploy/inject/ecs_plan.h"

namespace trellis::deploy::inject {

struct ConvertedFile {
  std::string output;                // the whole new file; the input's bytes when nothing changed
  bool changed = false;
  std::vector<std::string> changes;  // "WHERE: what changed", WHERE naming the resource and field
  std::vector<std::string> notes;    // kept things worth knowing, and what the format loses
};

// `path` only names the file in messages. An error's message starts with the path and names the
// resource (if any), the field and the value.
absl::StatusOr<ConvertedFile> convertEcsFile(const std::string& path, const std::string& content,
                                             const EcsOptions& options);

}  // namespace trellis::deploy::inject
