// The JSON printer settings of every admin document; see json.h.
#include "xds/admin/json.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

namespace trellis::xds::admin {

std::string toJson(const google::protobuf::Message& message, bool print_defaults) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = print_defaults;
  std::string out;
  const auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (status.ok()) return out;
  // The error text through the printer too, so it is escaped like everything else.
  google::protobuf::Struct error;
  (*error.mutable_fields())["error"].set_string_value(std::string(status.message()));
  out.clear();
  (void)google::protobuf::util::MessageToJsonString(error, &out, options);
  return out;
}

}  // namespace trellis::xds::admin
