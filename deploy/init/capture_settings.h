// What trellis-init is asked to capture, read from the environment App Mesh's proxy route manager
// read (APPMESH_*), or from the Trellis spellings of the same settings (TRELLIS_*).
//
// Existing ECS task definitions and Kubernetes pod specs carry the APPMESH_* names; keeping them
// lets those move to Trellis unchanged. Parsing is pure (the environment comes in as a lookup), so
// every rule of validation is testable without root. A setting is either valid or refused with a
// message naming the variable, the value and what is allowed; nothing partial is returned.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace trellis::deploy {

using EnvLookup = std::function<const char*(const char*)>;

// Whether to install IPv6 rules through ip6tables.
enum class Ipv6Mode {
  kAuto,  // when the namespace has IPv6 addresses and ip6tables' nat table works
  kOn,    // required: failing to install them is an error
  kOff,
};

// One environment setting: its App Mesh and Trellis names (either may be empty when the setting
// has only one), its default as shown to users, and what it means. The table drives --help, the
// README's list and the "both names set" check, so they cannot drift apart.
struct SettingVariable {
  const char* appmesh_name;
  const char* trellis_name;
  const char* default_text;
  const char* meaning;
};
const std::vector<SettingVariable>& settingVariables();

// An IPv4 or IPv6 network, normalised to iptables-save's spelling: host bits cleared, prefix
// always present ("169.254.169.254/32", "fd00::/8").
struct Network {
  bool ipv6 = false;
  std::string cidr;
  bool operator==(const Network&) const = default;
};

struct CaptureSettings {
  bool enabled = true;
  uint32_t ignore_uid = 1337;
  std::optional<uint32_t> ignore_gid;
  std::vector<uint16_t> app_ports;  // empty: no ingress capture
  uint16_t ingress_port = 15000;
  uint16_t egress_port = 15001;
  std::vector<Network> egress_ignored_networks;
  std::vector<uint16_t> egress_ignored_ports;  // always starts with 22
  Ipv6Mode ipv6 = Ipv6Mode::kAuto;
};

// Reads and validates every setting. When capture is disabled ("0"), the other variables are not
// read, as App Mesh's route manager did not read them either.
absl::StatusOr<CaptureSettings> parseCaptureSettings(const EnvLookup& getenv);

// Parsers of single values, exposed for tests. `name` is the variable quoted in errors.
absl::StatusOr<uint16_t> parsePort(const std::string& name, const std::string& value);
absl::StatusOr<std::vector<uint16_t>> parsePortList(const std::string& name, const std::string& value);
absl::StatusOr<Network> parseNetwork(const std::string& name, const std::string& value);

// The settings as `NAME=value` lines, for --dry-run.
std::string describeSettings(const CaptureSettings& s);

}  // namespace trellis::deploy
