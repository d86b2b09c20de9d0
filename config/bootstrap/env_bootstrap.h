// The sidecar bootstrap made from the environment, as App Mesh's Envoy image made one: a task
// definition or pod spec written for App Mesh starts trellis-proxy without a bootstrap file.
//
// The result is an xDS bootstrap (node from APPMESH_RESOURCE_ARN / APPMESH_VIRTUAL_NODE_NAME,
// admin on ENVOY_ADMIN_ACCESS_PORT, one ADS stream to trellis-cp at TRELLIS_CP_ADDRESS or
// APPMESH_XDS_ENDPOINT) plus the two command-line settings App Mesh took from the environment
// (ENVOY_LOG_LEVEL, ENVOY_CONCURRENCY). App Mesh variables that mean nothing to Trellis are
// reported back to be logged as ignored; one that asks for a behaviour Trellis cannot give is an
// error. deploy/README.md ("Environment variables of the sidecar image") is the table for users;
// environmentVariables() is the same table for --help.
//
// Pure: the environment is a map and the control plane's host name is resolved by the caller's
// function, so every rule is unit-tested without a network.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"

namespace trellis::config {

using Environment = std::map<std::string, std::string>;

// Host name or IP literal -> one IP literal, or an error saying why it does not resolve.
using HostResolver = std::function<absl::StatusOr<std::string>(const std::string& host)>;

// The name of the static cluster that carries the ADS stream.
inline constexpr char kControlPlaneCluster[] = "trellis-cp";
// Where trellis-cp is when neither TRELLIS_CP_ADDRESS nor APPMESH_XDS_ENDPOINT is set: the
// service (Kubernetes) or container link (ECS) name, port 15010 (trellis-cp's ADS port).
inline constexpr char kDefaultControlPlaneAddress[] = "trellis-cp:15010";

struct EnvBootstrap {
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  // ENVOY_LOG_LEVEL as spdlog names it ("warn" becomes "warning"); "info" when unset.
  std::string log_level = "info";
  // ENVOY_CONCURRENCY; unset: the caller's default (the cores).
  std::optional<uint32_t> concurrency;
  // One line per variable that is set but has no effect, "NAME=VALUE: ignored: why", in the
  // order of environmentVariables() (then unknown names, sorted), for the caller to log once.
  std::vector<std::string> ignored;
};

// Errors are INVALID_ARGUMENT "NAME='VALUE': what is allowed" (or "NAME: ..." for a missing
// variable) and name the variable.
absl::StatusOr<EnvBootstrap> bootstrapFromEnvironment(const Environment& env, const HostResolver& resolve);

// What each variable does with Trellis, for --help.
enum class EnvHandling { kUsed, kIgnored, kRefused };
struct EnvVariable {
  const char* name;
  EnvHandling handling;
  const char* default_text;  // kUsed only
  const char* meaning;       // kUsed: what it sets; otherwise why it is ignored or refused
};
const std::vector<EnvVariable>& environmentVariables();

}  // namespace trellis::config
