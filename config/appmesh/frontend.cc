// The front-end registry: each front-end in turn is asked whether a file is its format. A new
// front-end adds its test to readWithFrontend and, if it reads non-YAML text, to isRawTextFile.
#include "config/appmesh/frontend.h"

#include "config/appmesh/cloudformation.h"
#include "config/appmesh/terraform.h"

namespace trellis::config::appmesh {

std::optional<FrontendResult> readWithFrontend(const InputFile& file,
                                               const std::vector<YAML::Node>* documents,
                                               const LoadOptions& options) {
  if (auto read = readCloudFormation(file, documents, options)) return read;
  if (auto read = terraform::readTerraform(file, documents, options)) return read;
  return std::nullopt;
}

bool isRawTextFile(const std::string& name) {
  return terraform::isTerraformTextFile(name);
}

}  // namespace trellis::config::appmesh
