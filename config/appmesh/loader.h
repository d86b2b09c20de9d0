// Loads a folder of App Mesh specs into a MeshSet. trellis-cp points this at the folder users
// keep their mesh in: `aws appmesh` CLI input and describe output (JSON or YAML) and
// appmesh.k8s.aws/v1beta2 Kubernetes objects, mixed freely, plus trellis.dev/v1 Endpoints
// documents. Loading checks shapes (unknown fields, types, required fields, enum values,
// unions, Kubernetes references); validate.h checks App Mesh's limits and cross-references.
// The formats and rules are described in config/appmesh/README.md.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "config/appmesh/model.h"

namespace trellis::config::appmesh {

struct LoadResult {
  MeshSet mesh;                     // the resources of every document that had no error
  std::vector<std::string> errors;  // "file.yaml (document 2): spec.x: what is wrong"
};

struct InputFile {
  std::string name;     // used in error messages, e.g. "colorteller.yaml"
  std::string content;  // JSON or YAML, possibly several YAML documents
};

// Reads every *.json, *.yaml and *.yml file of `dir` (not its subfolders; names starting with
// '.' are skipped), in name order, and collects all errors.
LoadResult loadMeshDirWithErrors(const std::string& dir);

// The same, failing with InvalidArgument (every error, one per line) if anything was wrong, or
// NotFound if `dir` cannot be read.
absl::StatusOr<MeshSet> loadMeshDir(const std::string& dir);

// Loads in-memory files as one folder (references may cross files). Used by the above and by
// tests; files are read in the order given.
LoadResult loadMeshFiles(const std::vector<InputFile>& files);

}  // namespace trellis::config::appmesh
