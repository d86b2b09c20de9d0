// The Terraform front-end: App Mesh resources of the AWS provider (aws_appmesh_mesh,
// aws_appmesh_virtual_node, aws_appmesh_virtual_service, aws_appmesh_virtual_router,
// aws_appmesh_route, aws_appmesh_virtual_gateway, aws_appmesh_gateway_route) rewritten as
// `aws appmesh` CLI input documents (frontend.h). Three forms:
//   - *.tf (HCL native syntax), through trellis-hcl2json (terraform_hcl.h) into the JSON syntax;
//   - *.tf.json (Terraform's JSON syntax), read directly;
//   - `terraform show -json` output of a state (values.root_module) or a plan (planned_values).
// The folder is one Terraform module: variables (defaults, terraform.tfvars, *.auto.tfvars,
// --var), locals and resources of every .tf/.tf.json file are visible to every other. Mapping and
// supported expressions: config/appmesh/README.md, "Terraform".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "yaml-cpp/yaml.h"
#include "config/appmesh/frontend.h"
#include "config/appmesh/load_options.h"

namespace trellis::config::appmesh::terraform {

// The file as Terraform, or nullopt when it is not Terraform. `documents` is the file's YAML/JSON
// parse, or null for the files isTerraformTextFile names.
std::optional<FrontendResult> readTerraform(const InputFile& file,
                                            const std::vector<YAML::Node>* documents,
                                            const LoadOptions& options);

// *.tf and *.tfvars: HCL native syntax, not YAML.
bool isTerraformTextFile(const std::string& name);

}  // namespace trellis::config::appmesh::terraform
