// Terraform expressions as the JSON syntax holds them: every string is a template
// ("${var.prefix}-node", "${aws_appmesh_mesh.main.id}"). The Terraform front-end (terraform.h)
// evaluates the small part of the language a mesh definition needs: references (var.x, local.x,
// count.index, TYPE.NAME.ATTR, TYPE.NAME[0].ATTR), string and number literals, templates, and
// the functions format, lower, upper and join. Anything else is an error that says what is
// supported; the caller adds the file, resource and attribute.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "yaml-cpp/yaml.h"

namespace trellis::config::appmesh::terraform {

// One step of a reference: an attribute or map key (`name`, `["web"]`) or an index (`[0]`,
// `[count.index]`: index >= 0).
struct TraversalStep {
  std::string name;
  int index = -1;
};

// A reference as written: var.prefix is {"var", "prefix"}; aws_appmesh_mesh.main.id is
// {"aws_appmesh_mesh", "main", "id"}. `text` is its source, for messages.
struct Reference {
  std::vector<TraversalStep> steps;
  std::string text;
};

// Gives a reference's value (a scalar, sequence or map node), or an error that says why it has
// none and what would supply it ("variable \"prefix\" has no default: give --var prefix=VALUE").
using ReferenceResolver = std::function<absl::StatusOr<YAML::Node>(const Reference&)>;

// Evaluates a JSON-syntax string. A string that is exactly one interpolation ("${var.port}")
// yields the expression's value of any type; otherwise the parts are joined as a string.
// "$${" and "%%{" are literal "${" and "%{". Errors name the failing expression.
absl::StatusOr<YAML::Node> evaluateTemplate(std::string_view text, const ReferenceResolver& resolve);

}  // namespace trellis::config::appmesh::terraform
