// The App Mesh node id parser (see node_identity.h): the two resource spellings, the ARN
// wrapper and App Mesh's name rule, each error naming the value and what is allowed.
#include "config/identity/node_identity.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace trellis::config::identity {

namespace {

constexpr char kAccepted[] =
    "accepted: mesh/MESH/virtualNode/NODE, mesh/MESH/virtualGateway/GATEWAY, or their ARN "
    "arn:PARTITION:appmesh:REGION:ACCOUNT:mesh/MESH/virtualNode/NODE";
constexpr size_t kMaxName = 255;

absl::Status invalid(std::string_view id, const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat("\"", std::string(id), "\": ", what, " (", kAccepted, ")"));
}

bool isDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// An AWS region name: lower-case words joined by '-', ending in a number (us-west-2,
// cn-north-1, us-gov-west-1, ap-southeast-3).
bool isRegion(const std::string& region) {
  std::vector<std::string> parts = absl::StrSplit(region, '-');
  if (parts.size() < 3) return false;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i].empty()) return false;
    for (char c : parts[i]) {
      if (c < 'a' || c > 'z') return false;
    }
  }
  return isDigits(parts.back());
}

}  // namespace

const char* toString(ResourceKind kind) {
  return kind == ResourceKind::kVirtualGateway ? "virtualGateway" : "virtualNode";
}

std::string NodeIdentity::key() const {
  return absl::StrCat("mesh/", mesh, "/", toString(kind), "/", name);
}

std::optional<std::string> nameProblem(std::string_view name) {
  if (name.empty()) return std::string("empty (allowed: 1-255 letters, digits, '-', '_')");
  if (name.size() > kMaxName) {
    return absl::StrCat(name.size(), " characters (allowed: 1-255)");
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return absl::StrCat("'", std::string(1, c),
                          "' is not allowed (allowed: letters, digits, '-', '_')");
    }
  }
  return std::nullopt;
}

bool looksLikeAppMeshId(std::string_view id) {
  return id.substr(0, 5) == "mesh/" || id.substr(0, 4) == "arn:";
}

absl::StatusOr<NodeIdentity> parseNodeId(std::string_view id) {
  if (id.empty()) return invalid(id, "empty");
  NodeIdentity out;
  const std::string text(id);
  std::string resource = text;
  if (id.substr(0, 4) == "arn:") {
    // arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE
    std::vector<std::string> parts = absl::StrSplit(text, absl::MaxSplits(':', 5));
    if (parts.size() != 6) return invalid(id, "an ARN has six ':'-separated fields");
    ArnFields arn{parts[1], parts[3], std::string(parts[4])};
    if (arn.partition != "aws" && arn.partition != "aws-cn" && arn.partition != "aws-us-gov") {
      return invalid(id, absl::StrCat("partition \"", arn.partition,
                                      "\" (allowed: aws, aws-cn, aws-us-gov)"));
    }
    if (parts[2] != "appmesh") {
      return invalid(id, absl::StrCat("service \"", parts[2],
                                      "\" (allowed: appmesh)"));
    }
    if (!isRegion(arn.region)) {
      return invalid(id, absl::StrCat("region \"", arn.region,
                                      "\" is not a region name (e.g. us-west-2)"));
    }
    if (arn.account.size() != 12 || !isDigits(arn.account)) {
      return invalid(id, absl::StrCat("account \"", arn.account, "\" (allowed: 12 digits)"));
    }
    out.arn = std::move(arn);
    resource = parts[5];
  }
  std::vector<std::string> parts = absl::StrSplit(resource, '/');
  if (parts.size() != 4 || parts[0] != "mesh") {
    return invalid(id, absl::StrCat("resource \"", resource,
                                    "\" is not mesh/MESH/TYPE/NAME"));
  }
  if (parts[2] == "virtualNode") {
    out.kind = ResourceKind::kVirtualNode;
  } else if (parts[2] == "virtualGateway") {
    out.kind = ResourceKind::kVirtualGateway;
  } else {
    return invalid(id, absl::StrCat("the resource type is \"", parts[2],
                                    "\" (allowed: virtualNode, virtualGateway)"));
  }
  if (std::optional<std::string> why = nameProblem(parts[1])) {
    return invalid(id, absl::StrCat("mesh name \"", parts[1], "\": ", *why));
  }
  if (std::optional<std::string> why = nameProblem(parts[3])) {
    return invalid(id, absl::StrCat(toString(out.kind), " name \"", parts[3],
                                    "\": ", *why));
  }
  out.mesh = parts[1];
  out.name = parts[3];
  return out;
}

}  // namespace trellis::config::identity
