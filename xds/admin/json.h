// Admin documents are protobuf messages (Envoy's envoy.admin.v3 shapes, Trellis's own status
// messages) printed by protobuf's JSON printer, so every name and version is escaped by a library
// and a reader can parse the output back into the same message.
#pragma once

#include <string>

#include <google/protobuf/message.h>

namespace trellis::xds::admin {

// Indented JSON with the proto field names (snake_case, as Envoy's admin prints them).
// `print_defaults` also prints fields at their default value (Envoy's /server_info shows
// "state": "LIVE", which is the enum's 0). An Any is resolved in the generated pool: the
// program must link the message it holds. On a printer error, a JSON object naming the error.
std::string toJson(const google::protobuf::Message& message, bool print_defaults = false);

}  // namespace trellis::xds::admin
