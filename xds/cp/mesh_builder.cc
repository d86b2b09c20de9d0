// trellis-cp's MeshBuilder: loads the folder with config/appmesh's loader and checks it with its
// validator. Translation of the validated mesh into per-node xDS resources is not linked yet, so a
// valid folder produces no nodes; the translation fills `nodes` here.
#include "config/appmesh/loader.h"
#include "config/appmesh/validate.h"
#include "xds/cp/mesh_source.h"

namespace trellis::cp {

MeshBuild buildMesh(const std::string& dir) {
  MeshBuild build;
  config::appmesh::LoadResult loaded = config::appmesh::loadMeshDirWithErrors(dir);
  build.errors = std::move(loaded.errors);
  for (const config::appmesh::ValidationError& error : config::appmesh::validate(loaded.mesh)) {
    build.errors.push_back(error.toString());
  }
  return build;
}

}  // namespace trellis::cp
