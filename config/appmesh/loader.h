// Loads a folder of App Mesh specs into a MeshSet. trellis-cp points this at the folder users
// keep their mesh in: `aws appmesh` CLI input and describe output (JSON or YAML) and
// appmesh.k8s.aws/v1beta2 Kubernetes objects, mixed freely, plus trellis.dev/v1 Endpoints
// documents. Loading checks shapes (unknown fields, types, required fields, enum values,
// unions, Kubernetes references); validate.h checks App Mesh's limits and cross-references.
// The formats and rules are described in config/appmesh/README.md.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "yaml-cpp/yaml.h"
#include "config/appmesh/frontend.h"
#include "config/appmesh/model.h"

namespace trellis::config::appmesh {

struct LoadResult {
  MeshSet mesh;                       // the resources of every document that had no error
  std::vector<std::string> errors;    // "file.yaml (document 2): spec.x: what is wrong"
  std::vector<std::string> warnings;  // accepted, but the user should know (same form)
  std::vector<std::string> notes;     // for the summary, e.g. what a front-end skipped
};

// Parsed YAML documents by file, kept between loads of the same folder: a control plane that
// reloads the whole folder on every change re-parses only the files whose content changed
// (YAML parsing is most of a load). Not thread-safe; one cache per folder and caller.
class ParseCache {
 public:
  struct Entry {
    std::string content;
    std::vector<YAML::Node> documents;  // empty with `error` set on a syntax error
    std::string error;
    // What the front-ends made of `documents` (nullopt: no front-end claims the file) and the
    // options they were given; set once asked.
    std::optional<std::optional<FrontendResult>> frontend;
    LoadOptions frontendOptions;
  };
  // The parse of `name` with this content: reused when the content is unchanged.
  const Entry& parse(const std::string& name, const std::string& content);
  // readWithFrontend for a file parse() has just read, reused while its content and the options
  // are unchanged (evaluating a large CloudFormation template costs more than parsing it).
  const std::optional<FrontendResult>& frontend(const InputFile& file, const LoadOptions& options);
  // Forgets files that are no longer in the folder.
  void retainOnly(const std::vector<std::string>& names);
  size_t hits() const { return hits_; }
  size_t misses() const { return misses_; }

 private:
  std::map<std::string, Entry> entries_;
  size_t hits_ = 0;
  size_t misses_ = 0;
};

// Reads every *.json, *.yaml and *.yml file of `dir`, and the files a front-end reads as text
// (frontend.h), not its subfolders; names starting with '.' are skipped. Files are read in name
// order and all errors are collected. With a cache, unchanged files are not parsed again.
LoadResult loadMeshDirWithErrors(const std::string& dir, ParseCache* cache = nullptr,
                                 const LoadOptions& options = {});

// The same, failing with InvalidArgument (every error, one per line) if anything was wrong, or
// NotFound if `dir` cannot be read.
absl::StatusOr<MeshSet> loadMeshDir(const std::string& dir, const LoadOptions& options = {});

// Loads in-memory files as one folder (references may cross files). Used by the above and by
// tests; files are read in the order given.
LoadResult loadMeshFiles(const std::vector<InputFile>& files, ParseCache* cache = nullptr,
                         const LoadOptions& options = {});

}  // namespace trellis::config::appmesh
