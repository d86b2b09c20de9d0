// The nat rules trellis-init installs and removes, as iptables-restore text.
//
// Everything here is pure text in, text out: the current state arrives as `iptables-save -t nat`
// output and the result is the input for `iptables-restore --noflush`, one transaction per address
// family. Install, clean and the undo of a half-finished install are the same operation — move the
// part of the nat table Trellis owns from what it is to what it should be — so they share one
// implementation (transition) and one set of tests.
//
// Trellis owns the chains named TRELLIS_* and the rules in other chains (the jumps from
// PREROUTING and OUTPUT) that carry `-m comment --comment trellis-init`. Nothing else is touched.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "deploy/init/capture_settings.h"

namespace trellis::deploy {

inline constexpr char kIngressChain[] = "TRELLIS_INGRESS";
inline constexpr char kEgressChain[] = "TRELLIS_EGRESS";
inline constexpr char kOwnedChainPrefix[] = "TRELLIS_";
inline constexpr char kJumpComment[] = "trellis-init";
// iptables' multiport match takes at most 15 ports per rule.
inline constexpr size_t kMaxMultiportPorts = 15;

enum class Family { kIpv4, kIpv6 };
const char* familyName(Family f);  // "IPv4", "IPv6"

// The part of one nat table Trellis owns, each rule spelled as iptables-save prints it ("-A ...").
struct OwnedRules {
  std::map<std::string, std::vector<std::string>> chains;  // chain -> its rules, in order
  std::vector<std::string> jumps;                         // rules carrying the trellis-init comment
  bool empty() const { return chains.empty() && jumps.empty(); }
  // Equal chains (rules in order) and the same jumps (in any order: each is appended to its own chain).
  bool operator==(const OwnedRules& other) const;
};

// What Trellis owns in `iptables_save` (the *nat table of iptables-save or ip6tables-save output).
OwnedRules ownedRulesIn(std::string_view iptables_save);

// What the settings call for in one family's nat table. IPv4 ignored networks go only to the IPv4
// rules, IPv6 ones only to the IPv6 rules.
OwnedRules desiredRules(const CaptureSettings& settings, Family family);

// The iptables-restore --noflush input that turns `current` into `target`: the target chains are
// declared (created, or flushed if they exist) and written, jumps missing from `current` appended,
// jumps not in `target` deleted, and chains not in `target` flushed and deleted. Empty when there is
// nothing to change.
std::string transition(const OwnedRules& current, const OwnedRules& target);

// The restore input to install `settings` over the state in `current_save` (empty: nothing to do).
std::string installInput(const CaptureSettings& settings, Family family, std::string_view current_save);

// The restore input that removes everything Trellis owns from `current_save` (empty: nothing to do).
std::string cleanInput(std::string_view current_save);

// Ports in comma-joined groups of at most `max_per_group`, in order.
std::vector<std::string> portGroups(const std::vector<uint16_t>& ports, size_t max_per_group = kMaxMultiportPorts);

}  // namespace trellis::deploy
