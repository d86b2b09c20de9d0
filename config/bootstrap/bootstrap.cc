// Reads a bootstrap document with yamlToProto and checks its bootstrap-level shape; see
// bootstrap.h.
#include "config/bootstrap/bootstrap.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "config/protoyaml/yaml_to_proto.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "xds/api/known_types.h"
#include "yaml-cpp/yaml.h"

namespace trellis::config {
namespace {

using envoy::config::bootstrap::v3::Bootstrap;

// A bootstrap is a few kilobytes; anything this large is a mistake (wrong file).
constexpr size_t kMaxFileBytes = 16 * 1024 * 1024;

std::string describeKind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return absl::StrCat("the scalar \"", node.Scalar().substr(0, 40), "\"");
    default:
      return "nothing";
  }
}

// The sections every Trellis bootstrap needs; everything finer is the snapshot compiler's job.
absl::Status checkShape(const Bootstrap& bootstrap) {
  // `node` is optional here, as in Envoy: a static config does not need an identity, and a
  // sidecar may take its node id from APPMESH_RESOURCE_ARN; the xDS start-up checks it.
  if (!bootstrap.has_admin() || !bootstrap.admin().has_address()) {
    return absl::InvalidArgumentError(
        absl::StrCat(bootstrap.has_admin() ? "admin.address" : "admin",
                     ": required (the admin endpoint, e.g. admin: {address: {socket_address: "
                     "{address: 127.0.0.1, port_value: 9901}}})"));
  }
  const auto& address = bootstrap.admin().address();
  if (!address.has_socket_address()) {
    return absl::InvalidArgumentError(
        absl::StrCat("admin.address: must be a socket_address (the admin endpoint listens on TCP), "
                     "got ",
                     address.has_pipe() ? "a pipe" : "no address"));
  }
  if (address.socket_address().address().empty()) {
    return absl::InvalidArgumentError(
        "admin.address.socket_address.address: required (an IP address such as 127.0.0.1)");
  }
  if (!address.socket_address().has_port_value()) {
    return absl::InvalidArgumentError(
        "admin.address.socket_address: port_value required (named ports cannot be bound)");
  }
  if (!bootstrap.has_static_resources() && !bootstrap.has_dynamic_resources()) {
    return absl::InvalidArgumentError(
        "neither static_resources nor dynamic_resources is set, so the proxy would have nothing "
        "to serve");
  }
  if (bootstrap.has_dynamic_resources()) {
    const auto& dynamic = bootstrap.dynamic_resources();
    const std::pair<const char*, const envoy::config::core::v3::ConfigSource*> sources[] = {
        {"dynamic_resources.lds_config",
         dynamic.has_lds_config() ? &dynamic.lds_config() : nullptr},
        {"dynamic_resources.cds_config",
         dynamic.has_cds_config() ? &dynamic.cds_config() : nullptr},
    };
    for (const auto& [path, source] : sources) {
      if (source != nullptr && source->has_ads() && !dynamic.has_ads_config()) {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ": uses ads, but dynamic_resources.ads_config (the ADS server) is not set"));
      }
    }
  }
  return absl::OkStatus();
}

constexpr char kHttpProtocolOptionsKey[] = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

// Every Envoy xDS bootstrap declares HTTP/2 on its control-plane cluster (the ADS stream is
// gRPC). Trellis's gRPC client speaks HTTP/2 whatever the cluster says, so on that one cluster
// the declaration is accepted and consumed here; the snapshot compiler, which sees only data
// clusters' needs, never meets it. Anything there that is not HTTP/2 is an error.
absl::Status consumeAdsClusterHttp2(Bootstrap& bootstrap) {
  if (!bootstrap.has_dynamic_resources() || !bootstrap.dynamic_resources().has_ads_config()) return absl::OkStatus();
  const auto& ads = bootstrap.dynamic_resources().ads_config();
  if (ads.grpc_services_size() != 1 || !ads.grpc_services(0).has_envoy_grpc()) return absl::OkStatus();
  const std::string& name = ads.grpc_services(0).envoy_grpc().cluster_name();
  auto* resources = bootstrap.mutable_static_resources();
  for (int i = 0; i < resources->clusters_size(); ++i) {
    auto* cluster = resources->mutable_clusters(i);
    if (cluster->name() != name) continue;
    const std::string path = absl::StrCat("static_resources.clusters[", i, "]");
    cluster->clear_http2_protocol_options();  // the older spelling: gRPC's own settings apply
    auto& options = *cluster->mutable_typed_extension_protocol_options();
    auto it = options.find(kHttpProtocolOptionsKey);
    if (it == options.end()) return absl::OkStatus();
    const std::string op = absl::StrCat(path, ".typed_extension_protocol_options[\"", kHttpProtocolOptionsKey, "\"]");
    envoy::extensions::upstreams::http::v3::HttpProtocolOptions http;
    if (!it->second.UnpackTo(&http)) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": expected type.googleapis.com/", kHttpProtocolOptionsKey));
    }
    if (!http.has_explicit_http_config() || !http.explicit_http_config().has_http2_protocol_options()) {
      return absl::InvalidArgumentError(absl::StrCat(
          op, ": cluster '", name,
          "' carries the ADS stream, which is gRPC over HTTP/2: only explicit_http_config.http2_protocol_options "
          "applies to it"));
    }
    if (http.has_common_http_protocol_options()) {
      return absl::InvalidArgumentError(absl::StrCat(
          op, ".common_http_protocol_options: is not supported on the xDS cluster (the gRPC client manages its "
              "connection)"));
    }
    options.erase(it);
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status withSource(std::string_view source, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(std::string(source), ": ", status.message()));
}

}  // namespace

absl::StatusOr<Bootstrap> parseBootstrap(std::string_view text, std::string_view source_name) {
  const std::string source(source_name);
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::ParserException& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": invalid YAML at line ",
                                                   e.mark.line + 1, ", column ", e.mark.column + 1,
                                                   ": ", e.msg));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": invalid YAML: ", e.what()));
  }
  if (documents.size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": holds ", documents.size(), " YAML documents; a bootstrap is a single document"));
  }
  if (documents.empty() || documents[0].IsNull()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source,
                     ": the document is empty (expected an Envoy bootstrap with node, "
                     "admin and static_resources or dynamic_resources)"));
  }
  if (!documents[0].IsMap()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": the document must be a mapping (an Envoy bootstrap), got ",
                     describeKind(documents[0])));
  }
  Bootstrap bootstrap;
  YamlToProtoOptions options;
  options.any_types = xds::api::extensionTypes();
  if (absl::Status status = yamlToProto(documents[0], bootstrap, "", options); !status.ok()) {
    return withSource(source, status);
  }
  if (absl::Status status = checkShape(bootstrap); !status.ok()) {
    return withSource(source, status);
  }
  if (absl::Status status = consumeAdsClusterHttp2(bootstrap); !status.ok()) {
    return withSource(source, status);
  }
  return bootstrap;
}

absl::StatusOr<Bootstrap> loadBootstrapFile(const std::string& path) {
  auto fileError = [&](int error_number) {
    const std::string what = absl::StrCat(path, ": cannot read: ", std::strerror(error_number));
    if (error_number == ENOENT) return absl::NotFoundError(what);
    if (error_number == EACCES) return absl::PermissionDeniedError(what);
    return absl::InvalidArgumentError(what);
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fileError(errno);
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    const int error_number = S_ISDIR(info.st_mode) ? EISDIR : errno;
    ::close(fd);
    return fileError(error_number == 0 ? EINVAL : error_number);
  }
  std::string text;
  char chunk[16 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error_number = errno;
      ::close(fd);
      return fileError(error_number);
    }
    if (n == 0) break;
    text.append(chunk, static_cast<size_t>(n));
    if (text.size() > kMaxFileBytes) {
      ::close(fd);
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": larger than ", kMaxFileBytes / (1024 * 1024), " MiB, which is not a bootstrap"));
    }
  }
  ::close(fd);
  return parseBootstrap(text, path);
}

}  // namespace trellis::config
