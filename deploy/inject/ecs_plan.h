// Planning the App Mesh -> Trellis change of one ECS task definition: which fields to change and
// why, computed on a read-only JSON view, as a list of edits that is then applied to the original
// document (ordered JSON, or the yaml-cpp tree of a CloudFormation template). Planning apart from
// applying is what lets the YAML path keep its tags: the view may be lossy, the edits are exact.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace trellis::deploy::inject {

using Json = nlohmann::ordered_json;

// register-task-definition / describe-task-definition JSON is camelCase; a CloudFormation
// AWS::ECS::TaskDefinition's Properties are PascalCase.
enum class FieldCase { kCamel, kPascal };

enum class Capture {
  kDefault,             // proxyConfiguration (the only choice on awsvpc that works on Fargate too)
  kProxyConfiguration,  // ECS installs the rules from proxyConfiguration (EC2 and Fargate)
  kInit,                // a trellis-init container with NET_ADMIN (EC2 only)
};

struct EcsOptions {
  std::string image;       // the sidecar image, e.g. trellis/trellis-proxy:0.1.0
  std::string init_image;  // the trellis-init image, for --capture init
  std::string cp_address = "trellis-cp:15010";
  bool cp_address_given = false;  // --cp-address: also replaces an existing TRELLIS_CP_ADDRESS
  std::string node;               // --node: mesh/M/virtualNode/N or the node's ARN
  Capture capture = Capture::kDefault;
};

struct Edit {
  enum class Kind {
    kSetImage,               // containers[container].image = text
    kSetEnvName,             // containers[container].environment[env].name = text
    kSetEnvValue,            // containers[container].environment[env].value = text
    kRemoveEnv,              // erase containers[container].environment[env]
    kAppendEnv,              // containers[container].environment += {text, value} (list made if absent)
    kAppendDependsOn,        // containers[container].dependsOn += object (list made if absent)
    kAppendContainer,        // containerDefinitions += object
    kSetProxyConfiguration,  // proxyConfiguration = object
  };
  explicit Edit(Kind k) : kind(k) {}
  Kind kind;
  size_t container = 0;
  size_t env = 0;
  std::string text;
  std::string value;
  Json object;  // already in the document's FieldCase
};

// The edits in an order that applies as listed (removals last and from the highest index, so the
// indices of the others stay valid; appended containers after every existing one), and one line
// per change for the report ("containerDefinitions[1] (envoy): image A -> B").
struct Plan {
  std::vector<Edit> edits;
  std::vector<std::string> changes;
  std::vector<std::string> notes;  // things kept that the user should know about
};

// `task_definition` is the register-task-definition object (or a CloudFormation resource's
// Properties, with intrinsics as {"Ref": ...} / {"Fn::Sub": ...}). `may_add_sidecar`: a task
// definition without App Mesh gets the Trellis sidecar (needs options.node); when false such a
// task definition gets an empty plan. Errors name the field path and the value.
absl::StatusOr<Plan> planTaskDefinition(const Json& task_definition, FieldCase field_case,
                                        const EcsOptions& options, bool may_add_sidecar);

// The JSON edits applied in place (register input, describe output's taskDefinition, or a
// CloudFormation JSON resource's Properties).
void applyEdits(Json& task_definition, const std::vector<Edit>& edits, FieldCase field_case);

}  // namespace trellis::deploy::inject
