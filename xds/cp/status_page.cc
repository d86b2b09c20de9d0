// Rendering of /status and /stats; see status_page.h.
#include "xds/cp/status_page.h"

#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace trellis::cp {
namespace {

void appendBuild(std::string& out, const ControlPlane::BuildRecord& build) {
  absl::StrAppend(&out, "{\"number\": ", build.number, ", \"time\": ", jsonString(isoTime(build.time)),
                  ", \"duration_ms\": ", build.duration.count(), ", \"ok\": ", build.errors.empty() ? "true" : "false",
                  ", \"nodes\": ", build.nodes, ", \"errors\": [");
  for (size_t i = 0; i < build.errors.size(); ++i) {
    absl::StrAppend(&out, i ? ", " : "", jsonString(build.errors[i]));
  }
  out += "]}";
}

}  // namespace

std::string jsonString(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out += "\"";
  return out;
}

std::string isoTime(std::chrono::system_clock::time_point time) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return absl::StrFormat("%s.%03dZ", buf, static_cast<int>(ms % 1000));
}

std::string statusJson(const ControlPlane& control_plane) {
  std::string out = "{\n";
  absl::StrAppend(&out, "  \"mesh_dir\": ", jsonString(control_plane.meshDir()), ",\n");
  absl::StrAppend(&out, "  \"ready\": ", control_plane.lastGoodBuild() ? "true" : "false", ",\n");
  out += "  \"last_build\": ";
  if (control_plane.lastBuild()) {
    appendBuild(out, *control_plane.lastBuild());
  } else {
    out += "null";
  }
  out += ",\n  \"last_good_build\": ";
  if (control_plane.lastGoodBuild()) {
    appendBuild(out, *control_plane.lastGoodBuild());
  } else {
    out += "null";
  }
  absl::StrAppend(&out, ",\n  \"builds\": {\"ok\": ", control_plane.buildsOk(),
                  ", \"failed\": ", control_plane.buildsFailed(), "},\n");

  const xds::server::SnapshotCache::Totals totals = control_plane.cache().totals();
  absl::StrAppend(&out, "  \"totals\": {\"streams_connected\": ", totals.streams_connected,
                  ", \"streams_opened\": ", totals.streams_opened, ", \"nodes_with_resources\": ",
                  totals.nodes_with_resources, ", \"responses_sent\": ", totals.responses_sent,
                  ", \"acks\": ", totals.acks, ", \"nacks\": ", totals.nacks,
                  ", \"stale_requests\": ", totals.stale_requests, "},\n");

  out += "  \"nodes\": [";
  bool first_node = true;
  for (const auto& node : control_plane.cache().status()) {
    absl::StrAppend(&out, first_node ? "\n" : ",\n", "    {\"node_id\": ", jsonString(node.node_id),
                    ", \"has_resources\": ", node.has_resources ? "true" : "false",
                    ", \"connected_streams\": ", node.connected_streams, ", \"responses_sent\": ",
                    node.responses_sent, ", \"acks\": ", node.acks, ", \"nacks\": ", node.nacks, ", \"types\": [");
    first_node = false;
    bool first_type = true;
    for (const auto& type : node.types) {
      absl::StrAppend(&out, first_type ? "\n" : ",\n", "      {\"type_url\": ", jsonString(type.type_url),
                      ", \"version\": ", jsonString(type.version), ", \"resources\": ", type.resources,
                      ", \"version_sent\": ", jsonString(type.version_sent),
                      ", \"version_acked\": ", jsonString(type.version_acked),
                      ", \"responses_sent\": ", type.responses_sent, ", \"acks\": ", type.acks,
                      ", \"nacks\": ", type.nacks, ", \"last_nack\": ");
      first_type = false;
      if (type.last_nack) {
        absl::StrAppend(&out, "{\"version\": ", jsonString(type.last_nack->version),
                        ", \"message\": ", jsonString(type.last_nack->message),
                        ", \"time\": ", jsonString(isoTime(type.last_nack->time)), "}");
      } else {
        out += "null";
      }
      out += "}";
    }
    out += first_type ? "]}" : "\n    ]}";
  }
  out += first_node ? "]\n}\n" : "\n  ]\n}\n";
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
