// Building the JSON Patch (see json_patch.h).
#include "deploy/webhook/json_patch.h"

#include <algorithm>

namespace trellis::deploy {
namespace {

using Json = nlohmann::ordered_json;

Json operation(const char* op, const std::string& path, const Json* value) {
  Json out;
  out["op"] = op;
  out["path"] = path;
  if (value != nullptr) out["value"] = *value;
  return out;
}

void diffInto(const Json& before, const Json& after, const std::string& path, Json& ops);

void diffArrays(const Json& before, const Json& after, const std::string& path, Json& ops) {
  size_t prefix = 0;
  while (prefix < before.size() && prefix < after.size() && before[prefix] == after[prefix]) ++prefix;
  size_t suffix = 0;
  while (suffix < before.size() - prefix && suffix < after.size() - prefix &&
         before[before.size() - 1 - suffix] == after[after.size() - 1 - suffix]) {
    ++suffix;
  }
  if (prefix + suffix == before.size()) {
    // Only insertions, between the common prefix and the common suffix.
    for (size_t i = prefix; i < after.size() - suffix; ++i) {
      ops.push_back(operation("add", path + "/" + std::to_string(i), &after[i]));
    }
    return;
  }
  if (before.size() == after.size()) {
    // Same length: element by element (a changed container keeps its siblings untouched).
    for (size_t i = prefix; i < after.size() - suffix; ++i) {
      diffInto(before[i], after[i], path + "/" + std::to_string(i), ops);
    }
    return;
  }
  ops.push_back(operation("replace", path, &after));
}

void diffInto(const Json& before, const Json& after, const std::string& path, Json& ops) {
  if (before == after) return;
  if (before.is_object() && after.is_object()) {
    for (const auto& [key, value] : before.items()) {
      if (!after.contains(key)) ops.push_back(operation("remove", path + "/" + escapeJsonPointerToken(key), nullptr));
    }
    for (const auto& [key, value] : after.items()) {
      std::string child = path + "/" + escapeJsonPointerToken(key);
      auto it = before.find(key);
      if (it == before.end()) {
        ops.push_back(operation("add", child, &value));
      } else {
        diffInto(*it, value, child, ops);
      }
    }
    return;
  }
  if (before.is_array() && after.is_array()) {
    diffArrays(before, after, path, ops);
    return;
  }
  ops.push_back(operation("replace", path, &after));
}

}  // namespace

std::string escapeJsonPointerToken(const std::string& token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

Json jsonPatchDiff(const Json& before, const Json& after) {
  Json ops = Json::array();
  diffInto(before, after, "", ops);
  return ops;
}

}  // namespace trellis::deploy
