// What trellis-cp's admin endpoints print: /status as JSON (builds, their errors, and every node's
// xDS state from the cache) and /stats as "name: value" lines.
#pragma once

#include <string>

#include "xds/cp/control_plane.h"

namespace trellis::cp {

// {"mesh_dir", "ready", "last_build": {...,"errors": [...]}, "last_good_build": {...} | null,
//  "builds": {"ok", "failed"}, "totals": {...}, "nodes": [{..., "types": [{..., "last_nack"}]}]}
std::string statusJson(const ControlPlane& control_plane);

// cp.* and xds.* counters, one per line, sorted.
std::string statsText(const ControlPlane& control_plane);

// JSON string literal (with quotes) for `text`.
std::string jsonString(std::string_view text);

// "2026-11-26T15:32:48.123Z"
std::string isoTime(std::chrono::system_clock::time_point time);

}  // namespace trellis::cp
