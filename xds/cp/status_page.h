// What trellis-cp's admin endpoints print: /status as JSON (builds, their errors, and every node's
// xDS state from the cache), printed from a trellis.cp.v1.Status message, and /stats as
// "name: value" lines.
#pragma once

#include <string>

#include "trellis/cp/v1/status.pb.h"
#include "xds/cp/control_plane.h"

namespace trellis::cp {

// The /status document of `control_plane` now.
trellis::cp::v1::Status statusOf(const ControlPlane& control_plane);

// statusOf() through protobuf's JSON printer (field names as in the proto, indented).
std::string statusJson(const ControlPlane& control_plane);

// cp.* and xds.* counters, one per line, sorted.
std::string statsText(const ControlPlane& control_plane);

}  // namespace trellis::cp
