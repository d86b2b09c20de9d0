// Parsing and matching the virtual node map (see virtual_node_map.h for the format).
#include "deploy/inject/virtual_node_map.h"

#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"

namespace trellis::deploy {
namespace {

// App Mesh names: 1-255 letters, digits, '-', '_' and '.' (the API's pattern for resource names).
bool validAppMeshName(const std::string& name) {
  if (name.empty() || name.size() > 255) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

const VirtualNodeMapEntry* VirtualNodeMap::match(const std::map<std::string, std::string>& labels) const {
  for (const auto& entry : entries) {
    bool all = true;
    for (const auto& [key, value] : entry.selector) {
      auto it = labels.find(key);
      if (it == labels.end() || it->second != value) {
        all = false;
        break;
      }
    }
    if (all) return &entry;
  }
  return nullptr;
}

absl::StatusOr<VirtualNodeMap> parseVirtualNodeMap(const std::string& text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not YAML: ", e.what()));
  }
  VirtualNodeMap map;
  if (root.IsNull()) return map;
  if (!root.IsSequence()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": must be a list of {selector: {LABEL: VALUE, ...}, virtualNode: NAME, mesh: NAME}"));
  }
  for (size_t i = 0; i < root.size(); ++i) {
    const YAML::Node& item = root[i];
    std::string where = absl::StrCat(source, ": [", i, "]");
    if (!item.IsMap()) return absl::InvalidArgumentError(absl::StrCat(where, ": must be a map"));
    VirtualNodeMapEntry entry;
    for (const auto& field : item) {
      std::string key = field.first.as<std::string>();
      if (key == "selector") {
        if (field.second.IsNull()) continue;
        if (!field.second.IsMap()) {
          return absl::InvalidArgumentError(absl::StrCat(where, ".selector: must be a map of label: value"));
        }
        for (const auto& label : field.second) {
          if (!label.second.IsScalar()) {
            return absl::InvalidArgumentError(
                absl::StrCat(where, ".selector.", label.first.as<std::string>(), ": must be a string"));
          }
          entry.selector[label.first.as<std::string>()] = label.second.as<std::string>();
        }
      } else if (key == "virtualNode" || key == "mesh") {
        if (!field.second.IsScalar() || !validAppMeshName(field.second.as<std::string>())) {
          return absl::InvalidArgumentError(absl::StrCat(
              where, ".", key, ": must be an App Mesh name (1-255 letters, digits, '-', '_', '.')"));
        }
        (key == "mesh" ? entry.mesh : entry.virtual_node) = field.second.as<std::string>();
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ".", key, ": unknown field (allowed: selector, virtualNode, mesh)"));
      }
    }
    if (entry.virtual_node.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".virtualNode: required"));
    }
    map.entries.push_back(std::move(entry));
  }
  return map;
}

absl::StatusOr<VirtualNodeMap> loadVirtualNodeMap(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
  std::stringstream text;
  text << in.rdbuf();
  return parseVirtualNodeMap(text.str(), path);
}

}  // namespace trellis::deploy
