// Reads overload_manager and layered_runtime; see overload_settings.h.
#include "proxy/server/overload_settings.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "envoy/extensions/resource_monitors/downstream_connections/v3/downstream_connections.pb.h"
#include "google/protobuf/struct.pb.h"

namespace trellis::proxy {
namespace {

constexpr char kGlobalMonitor[] = "envoy.resource_monitors.global_downstream_max_connections";
constexpr char kGlobalRuntimeKey[] = "overload.global_downstream_max_connections";
constexpr char kListenerKeyPrefix[] = "envoy.resource_limits.listener.";
constexpr char kListenerKeySuffix[] = ".connection_limit";

absl::Status invalid(const std::string& path, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

// Envoy reads a static layer's nested objects as dotted keys: {a: {b: 1}} is "a.b".
void flatten(const google::protobuf::Struct& layer, const std::string& prefix,
             std::map<std::string, google::protobuf::Value>& out) {
  for (const auto& [key, value] : layer.fields()) {
    const std::string name = prefix.empty() ? key : absl::StrCat(prefix, ".", key);
    if (value.has_struct_value()) {
      flatten(value.struct_value(), name, out);
    } else {
      out[name] = value;
    }
  }
}

// A connection count: a whole number from 0 (0 leaves the connections unlimited).
absl::StatusOr<int64_t> connectionCount(const std::string& path, const google::protobuf::Value& value) {
  double n = 0;
  if (value.has_number_value()) {
    n = value.number_value();
  } else if (value.has_string_value()) {
    // Envoy's runtime also takes numbers written as strings.
    char* end = nullptr;
    n = std::strtod(value.string_value().c_str(), &end);
    if (value.string_value().empty() || *end != '\0') {
      return invalid(path, absl::StrCat("expected a number of connections, got \"", value.string_value(), "\""));
    }
  } else {
    return invalid(path, "expected a number of connections");
  }
  if (n < 0 || n != std::floor(n) || n > 1e15) {
    return invalid(path, absl::StrCat("expected a whole number of connections from 0, got ", n));
  }
  return static_cast<int64_t>(n);
}

}  // namespace

absl::StatusOr<OverloadSettings> readOverloadSettings(const envoy::config::bootstrap::v3::Bootstrap& bootstrap) {
  using envoy::extensions::resource_monitors::downstream_connections::v3::DownstreamConnectionsConfig;
  OverloadSettings settings;
  const auto& om = bootstrap.overload_manager();
  bool monitor_set = false;
  for (int i = 0; i < om.resource_monitors_size(); ++i) {
    const auto& monitor = om.resource_monitors(i);
    const std::string path = absl::StrCat("overload_manager.resource_monitors[", i, "]");
    if (monitor.name() != kGlobalMonitor) {
      return invalid(path + ".name", absl::StrCat("resource monitor \"", monitor.name(), "\" is not supported (Trellis has ",
                                                  kGlobalMonitor, ")"));
    }
    if (monitor_set) return invalid(path + ".name", absl::StrCat(kGlobalMonitor, " is configured twice"));
    DownstreamConnectionsConfig config;
    if (!monitor.has_typed_config() || !monitor.typed_config().UnpackTo(&config)) {
      return invalid(path + ".typed_config",
                     absl::StrCat("expected an envoy.extensions.resource_monitors.downstream_connections.v3."
                                  "DownstreamConnectionsConfig"));
    }
    if (config.max_active_downstream_connections() <= 0) {
      return invalid(path + ".typed_config.max_active_downstream_connections",
                     absl::StrCat("must be greater than 0, got ", config.max_active_downstream_connections()));
    }
    settings.global_max_connections = config.max_active_downstream_connections();
    monitor_set = true;
  }
  if (om.actions_size() > 0) {
    return invalid("overload_manager.actions[0]",
                   absl::StrCat("overload action \"", om.actions(0).name(),
                                "\" is not supported (Trellis has no overload actions; the global connection limit "
                                "needs none)"));
  }

  // Later layers override earlier ones.
  std::map<std::string, google::protobuf::Value> runtime;
  std::map<std::string, std::string> where;
  for (int i = 0; i < bootstrap.layered_runtime().layers_size(); ++i) {
    const auto& layer = bootstrap.layered_runtime().layers(i);
    std::map<std::string, google::protobuf::Value> flat;
    flatten(layer.static_layer(), "", flat);
    for (auto& [key, value] : flat) {
      runtime[key] = value;
      where[key] = absl::StrCat("layered_runtime.layers[", i, "].static_layer[\"", key, "\"]");
    }
  }
  for (const auto& [key, value] : runtime) {
    const std::string& path = where[key];
    if (key == kGlobalRuntimeKey) {
      auto n = connectionCount(path, value);
      if (!n.ok()) return n.status();
      if (monitor_set) {
        settings.warnings.push_back(absl::StrCat(path, ": ignored: the ", kGlobalMonitor, " resource monitor sets the limit"));
      } else {
        settings.global_max_connections = *n;
      }
      continue;
    }
    if (absl::StartsWith(key, kListenerKeyPrefix) && absl::EndsWith(key, kListenerKeySuffix) &&
        key.size() > sizeof(kListenerKeyPrefix) - 1 + sizeof(kListenerKeySuffix) - 1) {
      auto n = connectionCount(path, value);
      if (!n.ok()) return n.status();
      const std::string listener = key.substr(sizeof(kListenerKeyPrefix) - 1,
                                              key.size() - (sizeof(kListenerKeyPrefix) - 1) - (sizeof(kListenerKeySuffix) - 1));
      settings.listener_connection_limits[listener] = *n;
      continue;
    }
    settings.warnings.push_back(absl::StrCat(path, ": runtime key not used by Trellis (ignored)"));
  }
  return settings;
}

}  // namespace trellis::proxy
