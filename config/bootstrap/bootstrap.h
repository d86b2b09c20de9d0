// The proxy's bootstrap: an Envoy v3 Bootstrap document (YAML or JSON) restricted to Trellis's xDS
// subset. This loader checks the document's shape (fields, types, "@type"s, and the bootstrap-level
// sections: node, admin.address, static/dynamic resources); which features the proxy supports is
// checked later by the snapshot compiler, the same code that checks xDS resources.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"

namespace trellis::config {

// Parses `text` (YAML, or JSON which is read as YAML). Errors are INVALID_ARGUMENT with a message
// "<source_name>: <path>: <what is wrong>", e.g.
//   bootstrap.yaml: static_resources.clusters[1].circuit_breakrs: unknown field (...)
absl::StatusOr<envoy::config::bootstrap::v3::Bootstrap> parseBootstrap(
    std::string_view text, std::string_view source_name);

// Reads and parses the file at `path` (named by `path` in errors). An unreadable file is NOT_FOUND
// or PERMISSION_DENIED; a bad document is INVALID_ARGUMENT as above.
absl::StatusOr<envoy::config::bootstrap::v3::Bootstrap> loadBootstrapFile(const std::string& path);

}  // namespace trellis::config
