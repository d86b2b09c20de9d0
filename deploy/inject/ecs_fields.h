// ECS field names in the two spellings users have: the API's camelCase (register-task-definition
// input, describe-task-definition output) and CloudFormation's PascalCase.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

#include "deploy/inject/ecs_plan.h"

namespace trellis::deploy::inject {

// `camel` is the API's name ("containerDefinitions"); CloudFormation capitalises it, except
// proxyConfiguration.properties, which CloudFormation calls ProxyConfigurationProperties.
inline std::string fieldName(FieldCase field_case, std::string_view camel) {
  std::string name(camel);
  if (field_case == FieldCase::kCamel || name.empty()) return name;
  if (name == "properties") return "ProxyConfigurationProperties";
  name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
  return name;
}

}  // namespace trellis::deploy::inject
