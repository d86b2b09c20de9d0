// The ECS RegisterTaskDefinition rules that a Trellis task definition can break: what the ECS API
// would refuse (or accept and then fail to run) for the fields Trellis writes and reads. Used to
// check the shipped task definitions in deploy/ecs/ and every output of `trellis-inject ecs`.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace trellis::deploy::ecs {

// Each violation as "PATH: what is wrong (what is allowed)", e.g.
// "containerDefinitions[1] (envoy).healthCheck.interval: 3 is outside 5-300 seconds".
// Empty when the task definition (register-task-definition input, camelCase) passes.
std::vector<std::string> checkTaskDefinition(const nlohmann::ordered_json& task_definition);

// The create-service input fields this repository's service definition uses: serviceName,
// taskDefinition, launchType, awsvpc network configuration, serviceConnectConfiguration.
std::vector<std::string> checkServiceDefinition(const nlohmann::ordered_json& service);

}  // namespace trellis::deploy::ecs
