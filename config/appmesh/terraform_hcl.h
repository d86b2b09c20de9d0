// Runs trellis-hcl2json (config/appmesh/terraform/hcl2json), HashiCorp's HCL parser behind a
// small Go program, to turn a .tf file into Terraform's JSON syntax. A subprocess because HCL's
// only maintained implementation is Go; its output is cached by file content, so a rebuild after
// an edit elsewhere in the folder does not run it again.
//
// Where the converter is looked for, first found wins:
//   1. $TRELLIS_HCL2JSON (a path to the binary);
//   2. trellis-hcl2json in the folder of the running binary (the install layout: trellis-cp and
//      trellis-hcl2json side by side, e.g. /usr/lib/trellis/ or /usr/local/bin/);
//   3. Bazel runfiles: <binary>.runfiles/trellis/config/appmesh/terraform/hcl2json/trellis-hcl2json,
//      $RUNFILES_DIR or $TEST_SRCDIR/trellis/... (bazel run and tests).
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace trellis::config::appmesh::terraform {

// The .tf file `content` (named `name` in diagnostics) as Terraform JSON syntax. Errors:
// InvalidArgument with HCL's diagnostics ("main.tf:3,9: Invalid expression; ...") for a syntax
// error; Unavailable when the converter cannot be found or run, or takes longer than the timeout.
absl::StatusOr<std::string> convertHclToJson(const std::string& name, const std::string& content);

// How many times the converter process was started (a test checks the cache with it).
size_t hclConverterRuns();

// The path convertHclToJson would run, or an error listing where it looked.
absl::StatusOr<std::string> findHclConverter();

}  // namespace trellis::config::appmesh::terraform
