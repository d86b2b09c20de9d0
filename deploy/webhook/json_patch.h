// An RFC 6902 JSON Patch from two versions of a document: what the admission webhook returns to
// the API server, which applies it to the pod it is creating.
//
// Objects are compared key by key; an array whose new version only inserts elements somewhere
// (the sidecar and trellis-init added to a pod's lists) becomes one `add` per inserted element,
// any other changed array one `replace` of the whole array. Paths are JSON Pointers (RFC 6901)
// with `~` and `/` in keys escaped as `~0` and `~1`.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace trellis::deploy {

// One reference token of a JSON Pointer: "a/b~c" -> "a~1b~0c".
std::string escapeJsonPointerToken(const std::string& token);

// The operations that turn `before` into `after` (an empty array when they are equal).
nlohmann::ordered_json jsonPatchDiff(const nlohmann::ordered_json& before, const nlohmann::ordered_json& after);

}  // namespace trellis::deploy
