// Rendering of /status and /stats; see status_page.h.
#include "xds/cp/status_page.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/str_cat.h"

namespace trellis::cp {
namespace {

google::protobuf::Timestamp timestampOf(std::chrono::system_clock::time_point time) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  return google::protobuf::util::TimeUtil::MillisecondsToTimestamp(ms);
}

void fillBuild(v1::Status::Build& out, const ControlPlane::BuildRecord& build) {
  out.set_number(static_cast<uint32_t>(build.number));
  *out.mutable_time() = timestampOf(build.time);
  out.set_duration_ms(static_cast<uint32_t>(build.duration.count()));
  out.set_ok(build.errors.empty());
  out.set_nodes(static_cast<uint32_t>(build.nodes));
  for (const auto& error : build.errors) out.add_errors(error);
}

}  // namespace

v1::Status statusOf(const ControlPlane& control_plane) {
  v1::Status status;
  status.set_mesh_dir(control_plane.meshDir());
  status.set_ready(control_plane.lastGoodBuild().has_value());
  if (control_plane.lastBuild()) fillBuild(*status.mutable_last_build(), *control_plane.lastBuild());
  if (control_plane.lastGoodBuild()) fillBuild(*status.mutable_last_good_build(), *control_plane.lastGoodBuild());
  status.mutable_builds()->set_ok(control_plane.buildsOk());
  status.mutable_builds()->set_failed(control_plane.buildsFailed());

  const xds::server::SnapshotCache::Totals totals = control_plane.cache().totals();
  auto& t = *status.mutable_totals();
  t.set_streams_connected(static_cast<uint32_t>(totals.streams_connected));
  t.set_streams_opened(totals.streams_opened);
  t.set_nodes_with_resources(static_cast<uint32_t>(totals.nodes_with_resources));
  t.set_responses_sent(totals.responses_sent);
  t.set_acks(totals.acks);
  t.set_nacks(totals.nacks);
  t.set_stale_requests(totals.stale_requests);

  for (const auto& node : control_plane.cache().status()) {
    auto& n = *status.add_nodes();
    n.set_node_id(node.node_id);
    n.set_has_resources(node.has_resources);
    n.set_connected_streams(static_cast<uint32_t>(node.connected_streams));
    n.set_responses_sent(node.responses_sent);
    n.set_acks(node.acks);
    n.set_nacks(node.nacks);
    for (const auto& type : node.types) {
      auto& out = *n.add_types();
      out.set_type_url(type.type_url);
      out.set_version(type.version);
      out.set_resources(static_cast<uint32_t>(type.resources));
      out.set_version_sent(type.version_sent);
      out.set_version_acked(type.version_acked);
      out.set_responses_sent(type.responses_sent);
      out.set_acks(type.acks);
      out.set_nacks(type.nacks);
      if (type.last_nack) {
        out.mutable_last_nack()->set_version(type.last_nack->version);
        out.mutable_last_nack()->set_message(type.last_nack->message);
        *out.mutable_last_nack()->mutable_time() = timestampOf(type.last_nack->time);
      }
    }
  }
  return status;
}

std::string statusJson(const ControlPlane& control_plane) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  // Printing a generated message with no Any inside cannot fail.
  (void)google::protobuf::util::MessageToJsonString(statusOf(control_plane), &out, options);
  return out;
}

std::string statsText(const ControlPlane& control_plane) {
  const xds::server::SnapshotCache::Totals totals = control_plane.cache().totals();
  const auto& last = control_plane.lastBuild();
  const auto& good = control_plane.lastGoodBuild();
  std::string out;
  absl::StrAppend(&out, "cp.build_errors: ", last ? last->errors.size() : 0, "\n");
  absl::StrAppend(&out, "cp.builds_failed: ", control_plane.buildsFailed(), "\n");
  absl::StrAppend(&out, "cp.builds_ok: ", control_plane.buildsOk(), "\n");
  absl::StrAppend(&out, "cp.nodes: ", good ? good->nodes : 0, "\n");
  absl::StrAppend(&out, "xds.acks: ", totals.acks, "\n");
  absl::StrAppend(&out, "xds.nacks: ", totals.nacks, "\n");
  absl::StrAppend(&out, "xds.nodes_with_resources: ", totals.nodes_with_resources, "\n");
  absl::StrAppend(&out, "xds.responses_sent: ", totals.responses_sent, "\n");
  absl::StrAppend(&out, "xds.stale_requests: ", totals.stale_requests, "\n");
  absl::StrAppend(&out, "xds.streams_connected: ", totals.streams_connected, "\n");
  absl::StrAppend(&out, "xds.streams_opened: ", totals.streams_opened, "\n");
  return out;
}

}  // namespace trellis::cp
