// `trellis-cp explain NODE [--mesh-dir DIR | DIR]`: what one proxy receives, written for a
// person: its listeners (address, filter chains and what each matches), route configurations
// (virtual hosts, each route's match, targets with weights, rewrites), clusters with their
// endpoints, and for every one the App Mesh resource and file it came from (the translation's
// origins), followed by the translation's errors and warnings about those resources.
#pragma once

#include <string>

#include "config/appmesh/translate.h"

namespace trellis::cp {

// The text for the proxy whose node.id is `node_id` (any spelling config/identity accepts).
// An id that does not parse, or names no translated node or gateway, gives text saying so
// and listing the known keys; `found` tells the caller which case it was.
std::string explainProxy(const std::string& node_id, const config::appmesh::TranslateResult& result,
                         bool* found = nullptr);

// The subcommand: argv[0] is "explain". Loads, validates and translates the folder (DNS
// hostnames resolved as trellis-cp does), prints explainProxy to stdout. Returns the exit code:
// 0 shown, 1 invalid folder or unknown node, 2 usage.
int explainMain(int argc, char** argv);

}  // namespace trellis::cp
