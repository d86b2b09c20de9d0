// What the command line gives the App Mesh loader beyond the folder: values a template or a
// Terraform configuration leaves open, and how strict to be. Header-only and dependency-free so
// trellis-cp's build seam (xds/cp/mesh_source.h) can carry it without the loader.
#pragma once

#include <map>
#include <string>

namespace trellis::config::appmesh {

// What the command line gives the loader beyond the folder (trellis-cp --parameter, --var ...).
struct LoadOptions {
  // CloudFormation template parameters (--parameter NAME=VALUE): override a parameter's Default.
  std::map<std::string, std::string> parameters;
  // CloudFormation exports for Fn::ImportValue (--import-value NAME=VALUE).
  std::map<std::string, std::string> importValues;
  // Terraform input variables (--var NAME=VALUE): override a variable's default.
  std::map<std::string, std::string> variables;
  // Kubernetes fields an App Mesh CRD does not define are warnings (the API server pruned them);
  // --strict makes them errors.
  bool strict = false;
};

}  // namespace trellis::config::appmesh
