// trellis-webhook: the Kubernetes mutating admission webhook that injects trellis-init and the
// trellis-proxy sidecar into pods, in place of the App Mesh controller's injector. It needs no
// access to the Kubernetes API (no RBAC): the API server sends the pod, the namespaceSelector of
// the MutatingWebhookConfiguration picks the namespaces. See deploy/kubernetes/README.md.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <optional>
#include <iostream>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "deploy/inject/pod_injection.h"
#include "version/trellis_version.h"
#include "deploy/webhook/admission_review.h"
#include "deploy/webhook/tls_server.h"

namespace {

using trellis::deploy::InjectionSettings;

constexpr char kUsage[] = R"(usage: trellis-webhook --tls-cert FILE --tls-key FILE [options]

Serves POST /mutate (and /mutate/MESH) with AdmissionReview v1, and GET /healthz, over HTTPS.

  --tls-cert FILE          PEM certificate chain (reloaded on SIGHUP)
  --tls-key FILE           PEM private key (reloaded on SIGHUP)
  --listen HOST:PORT       default 0.0.0.0:9443; port 0 picks one
  --port-file FILE         write the bound port there once listening
  --image IMAGE            the trellis-proxy image (default trellis/trellis-proxy:VERSION)
  --init-image IMAGE       the trellis-init image (default: the proxy image)
  --cp-address HOST:PORT   trellis-cp's ADS address (default trellis-cp.trellis-system:15010)
  --mode native|plain      native: sidecar as an init container with restartPolicy Always
                           (Kubernetes 1.29+, the default); plain: an ordinary container
  --default-mesh NAME      the mesh of pods whose mesh nothing else names
  --virtual-node-map FILE  label selectors -> virtual nodes (reloaded on SIGHUP)
  --log-level LEVEL        the sidecar's ENVOY_LOG_LEVEL (default info)
)";

struct Options {
  std::string cert;
  std::string key;
  std::string listen = "0.0.0.0:9443";
  std::string port_file;
  std::string node_map;
  InjectionSettings settings;
};

// "0.0.0.0:9443", "[::]:9443": an IP literal and a port.
std::optional<boost::asio::ip::tcp::endpoint> parseListen(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  if (!absl::SimpleAtoi(text.substr(colon + 1), &port) || port < 0 || port > 65535) return std::nullopt;
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  if (ec) return std::nullopt;
  return boost::asio::ip::tcp::endpoint(address, static_cast<uint16_t>(port));
}

int usageError(const std::string& message) {
  std::cerr << "trellis-webhook: " << message << "\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  options.settings.proxy_image = absl::StrCat("trellis/trellis-proxy:", trellis::kVersion);
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::string value;
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (auto eq = flag.find('='); eq != std::string::npos && absl::StartsWith(flag, "--")) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return usageError(absl::StrCat(flag, ": needs a value"));
    }
    if (flag == "--tls-cert") {
      options.cert = value;
    } else if (flag == "--tls-key") {
      options.key = value;
    } else if (flag == "--listen") {
      options.listen = value;
    } else if (flag == "--port-file") {
      options.port_file = value;
    } else if (flag == "--image") {
      options.settings.proxy_image = value;
    } else if (flag == "--init-image") {
      options.settings.init_image = value;
    } else if (flag == "--cp-address") {
      options.settings.cp_address = value;
    } else if (flag == "--mode") {
      if (value != "native" && value != "plain") return usageError(absl::StrCat("--mode ", value, ": native or plain"));
      options.settings.mode = value == "native" ? trellis::deploy::SidecarMode::kNative
                                                : trellis::deploy::SidecarMode::kPlain;
    } else if (flag == "--default-mesh") {
      options.settings.default_mesh = value;
    } else if (flag == "--virtual-node-map") {
      options.node_map = value;
    } else if (flag == "--log-level") {
      options.settings.log_level = value;
    } else {
      return usageError(absl::StrCat("unknown flag ", flag));
    }
  }
  if (options.cert.empty() || options.key.empty()) return usageError("--tls-cert and --tls-key are required");
  if (!options.node_map.empty()) {
    auto map = trellis::deploy::loadVirtualNodeMap(options.node_map);
    if (!map.ok()) return usageError(absl::StrCat("--virtual-node-map ", map.status().message()));
    options.settings.virtual_node_map = *map;
  }
  auto address = parseListen(options.listen);
  if (!address) return usageError(absl::StrCat("--listen ", options.listen, ": must be IP:PORT (port 0-65535)"));

  boost::asio::io_context io;
  const InjectionSettings& settings = options.settings;
  auto handler = [&settings](const trellis::deploy::TlsRequest& request) -> trellis::deploy::TlsResponse {
    std::string path = request.target.substr(0, request.target.find('?'));
    if (path == "/healthz") {
      if (request.method != "GET" && request.method != "HEAD") return {405, "text/plain; charset=utf-8", "GET only\n"};
      return {200, "text/plain; charset=utf-8", "ok\n"};
    }
    std::string mesh;
    if (path == "/mutate" || absl::StartsWith(path, "/mutate/")) {
      if (request.method != "POST") return {405, "text/plain; charset=utf-8", "POST an AdmissionReview v1\n"};
      if (path != "/mutate") mesh = path.substr(std::string("/mutate/").size());
      auto answer = trellis::deploy::reviewAdmission(request.body, mesh, settings);
      return {answer.http_status, answer.content_type, answer.body};
    }
    return {404, "text/plain; charset=utf-8", absl::StrCat("unknown path ", path, " (/mutate, /healthz)\n")};
  };
  auto server = trellis::deploy::TlsHttpServer::create(io, *address, options.cert, options.key, handler);
  if (!server.ok()) {
    std::cerr << "trellis-webhook: " << server.status().message() << "\n";
    return 1;
  }
  (*server)->start();
  uint16_t port = (*server)->port();
  if (!options.port_file.empty()) {
    std::string temp = options.port_file + ".tmp";
    std::ofstream(temp) << port << "\n";
    if (std::rename(temp.c_str(), options.port_file.c_str()) != 0) {
      std::cerr << "trellis-webhook: --port-file " << options.port_file << ": cannot be written\n";
      return 1;
    }
  }
  std::cout << "trellis-webhook: listening on " << address->address().to_string() << ":" << port << std::endl;
  spdlog::info("trellis-webhook: image {}, cp {}, mode {}", settings.proxy_image, settings.cp_address,
               settings.mode == trellis::deploy::SidecarMode::kNative ? "native" : "plain");

  boost::asio::signal_set signals(io, SIGHUP, SIGTERM, SIGINT);
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec,
                                                                            int signal) {
    if (ec) return;
    if (signal != SIGHUP) {
      spdlog::info("trellis-webhook: signal {}, stopping", signal);
      (*server)->stop();
      io.stop();
      return;
    }
    if (auto status = (*server)->reloadCertificate(); !status.ok()) {
      spdlog::error("trellis-webhook: SIGHUP: keeping the old certificate: {}", std::string(status.message()));
    } else {
      spdlog::info("trellis-webhook: SIGHUP: certificate reloaded");
    }
    if (!options.node_map.empty()) {
      auto map = trellis::deploy::loadVirtualNodeMap(options.node_map);
      if (!map.ok()) {
        spdlog::error("trellis-webhook: SIGHUP: keeping the old virtual node map: {}", std::string(map.status().message()));
      } else {
        options.settings.virtual_node_map = *map;
        spdlog::info("trellis-webhook: SIGHUP: virtual node map reloaded ({} entries)", map->entries.size());
      }
    }
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  io.run();
  return 0;
}
