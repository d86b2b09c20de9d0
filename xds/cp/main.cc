// trellis-cp: the control plane's composition root. Serves ADS for the mesh folder it watches and
// an admin endpoint; `trellis-cp validate DIR` checks a folder and exits.
//
//   trellis-cp --mesh-dir DIR [--listen 127.0.0.1:15010] [--admin 127.0.0.1:15011] [--dns-refresh-s 30]
//                                [--no-default-retry-policy] [--egress-allowed-hosts=LIST] [--log-level L]
//   trellis-cp validate DIR [load options: --parameter, --import-value, --var, --strict]
//   trellis-cp --version | --help
//   trellis-cp explain NODE [--mesh-dir DIR | DIR]
//   trellis-cp import-cli SCRIPT... --out DIR [--set NAME=VALUE] [--from-env] [--force]
//
// Threads: the main thread runs one io_context (folder watcher and its debounce timer, admin
// HTTP, signals, and every rebuild); gRPC runs the ADS streams on its own threads and reads the
// SnapshotCache, which the rebuilds write.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "config/appmesh/translate.h"
#include "xds/admin/http_server.h"
#include "xds/cp/control_plane.h"
#include "xds/cp/dir_watcher.h"
#include "xds/cp/explain.h"
#include "xds/cp/import_cli_command.h"
#include "xds/cp/mesh_source.h"
#include "xds/cp/status_page.h"
#include "xds/server/ads_server.h"
#include "xds/server/snapshot_cache.h"
#include "version/trellis_version.h"

namespace {

using trellis::xds::admin::AdminRequest;
using trellis::xds::admin::AdminResponse;
using trellis::xds::admin::AdminServer;

constexpr auto kDebounce = std::chrono::milliseconds(100);

int usage(const std::string& error) {
  std::cerr << "trellis-cp: " << error << "\n"
            << "usage: trellis-cp --mesh-dir DIR [--listen HOST:PORT] [--admin HOST:PORT] [--dns-refresh-s S]\n"
               "                  [--no-default-retry-policy] [--egress-allowed-hosts=LIST] [--log-level LEVEL]\n"
               "                  [--parameter NAME=VALUE] [--import-value NAME=VALUE] [--var NAME=VALUE] [--strict]\n"
               "       trellis-cp validate DIR [--parameter ...] [--import-value ...] [--var ...] [--strict]\n"
               "       trellis-cp explain NODE [--mesh-dir DIR | DIR]\n"
               "       trellis-cp import-cli SCRIPT... --out DIR [--set NAME=VALUE] [--from-env] [--force]\n"
               "       trellis-cp --version | --help\n";
  return 2;
}

// Man-page text (scripts/help-to-man makes the .deb's man page from it).
void printHelp() {
  std::cout << "NAME\n"
               "    trellis-cp - the Trellis control plane: App Mesh specs in a folder, served to proxies over ADS\n"
               "\n"
               "SYNOPSIS\n"
               "    trellis-cp --mesh-dir DIR [--listen HOST:PORT] [--admin HOST:PORT] [--dns-refresh-s S]\n"
               "               [--no-default-retry-policy] [--egress-allowed-hosts=LIST] [--log-level LEVEL]\n"
               "               [LOAD OPTIONS]\n"
               "    trellis-cp validate DIR [LOAD OPTIONS]\n"
               "    trellis-cp explain NODE [--mesh-dir DIR | DIR]\n"
               "    trellis-cp import-cli SCRIPT... --out DIR [--set NAME=VALUE] [--from-env] [--force]\n"
               "    trellis-cp --version | --help\n"
               "\n"
               "DESCRIPTION\n"
               "    Reads the App Mesh resources (Mesh, VirtualNode, VirtualService, VirtualRouter, Route,\n"
               "    VirtualGateway, GatewayRoute; JSON or YAML) in DIR, checks them against App Mesh's rules and\n"
               "    limits, translates them per proxy into xDS and streams them to every trellis-proxy over ADS\n"
               "    (gRPC). DIR is watched: a change is rebuilt and pushed within a fraction of a second; a build\n"
               "    with errors is reported on the admin endpoint and the last good one keeps being served.\n"
               "    \"validate DIR\" checks a folder, prints its errors and exits. \"explain NODE\" prints what one\n"
               "    proxy receives and which App Mesh resource each piece came from. \"import-cli\" applies the\n"
               "    aws appmesh commands of shell scripts in order and writes the resulting mesh folder.\n"
               "\n"
               "OPTIONS\n"
               "    --mesh-dir DIR\n"
               "        The folder of App Mesh specs to serve (required).\n"
               "    --listen HOST:PORT\n"
               "        The ADS (gRPC) address (default 127.0.0.1:15010; 0.0.0.0:15010 to serve other hosts).\n"
               "    --admin HOST:PORT\n"
               "        The admin endpoint: /ready, /status, /stats (default 127.0.0.1:15011).\n"
               "    --dns-refresh-s S\n"
               "        Rebuild every S seconds so serviceDiscovery.dns names are resolved again (default 30; 0\n"
               "        disables).\n"
               "    --no-default-retry-policy\n"
               "        Do not give routes without a retryPolicy App Mesh's default retry policy.\n"
               "    --egress-allowed-hosts=LIST\n"
               "        Under egressFilter DROP_ALL, the hosts outside the mesh a node may still reach (HTTP Host or\n"
               "        TLS SNI): comma-separated names or *. suffix patterns (default *.amazonaws.com; empty\n"
               "        allows nothing).\n"
               "    --log-level LEVEL\n"
               "        trace, debug, info, warning, error, critical or off (default info).\n"
               "    --version\n"
               "        Print the version and exit.\n"
               "    -h, --help\n"
               "        This text.\n"
               "\n"
               "LOAD OPTIONS\n"
               "    Values the folder's CloudFormation templates and Terraform files leave open:\n"
               "    --parameter NAME=VALUE\n"
               "        A CloudFormation template parameter or pseudo parameter (AWS::Region=us-west-2); overrides\n"
               "        the parameter's Default.\n"
               "    --import-value NAME=VALUE\n"
               "        A CloudFormation export, for Fn::ImportValue.\n"
               "    --var NAME=VALUE\n"
               "        A Terraform input variable; overrides its default and terraform.tfvars.\n"
               "    --strict\n"
               "        Kubernetes fields an App Mesh CRD does not define are errors (by default warnings: the API\n"
               "        server pruned them).\n"
               "\n"
               "ENVIRONMENT\n"
               "    TRELLIS_HCL2JSON\n"
               "        The trellis-hcl2json converter that reads Terraform .tf files (default: beside trellis-cp).\n"
               "\n"
               "EXIT STATUS\n"
               "    0  stopped by SIGTERM or SIGINT; validate: the folder is valid; --help, --version\n"
               "    1  could not start (an address in use, DIR unreadable); validate: the folder has errors\n"
               "    2  bad usage\n";
}

int validate(const std::string& dir, const trellis::cp::BuildOptions& options) {
  trellis::cp::MeshBuild build = trellis::cp::buildMesh(dir, options);
  for (const std::string& warning : build.warnings) std::cout << "warning: " << warning << "\n";
  for (const std::string& note : build.notes) std::cout << note << "\n";
  if (!build.errors.empty()) {
    for (const std::string& error : build.errors) std::cout << error << "\n";
    std::cout << dir << ": " << build.errors.size() << " error(s)\n";
    return 1;
  }
  size_t resources = 0;
  for (const auto& [node, node_resources] : build.nodes) {
    for (const auto& [type, by_name] : node_resources.by_type) resources += by_name.size();
  }
  std::cout << dir << ": valid; " << build.nodes.size() << " node(s), " << resources << " xDS resource(s)\n";
  return 0;
}

// NAME=VALUE into `into`; false (with the reason in `error`) if malformed or given twice.
bool parseAssignment(const std::string& flag, const std::string& text, std::map<std::string, std::string>& into,
                     std::string& error) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    error = flag + " takes NAME=VALUE, got '" + text + "'";
    return false;
  }
  if (!into.emplace(text.substr(0, eq), text.substr(eq + 1)).second) {
    error = flag + " " + text.substr(0, eq) + " is given twice";
    return false;
  }
  return true;
}

int serve(const std::string& dir, const std::string& listen, const std::string& admin_listen,
          std::chrono::seconds dns_refresh_interval, const trellis::cp::BuildOptions& build_options) {
  boost::asio::io_context io;
  trellis::xds::server::SnapshotCache cache;
  cache.setNodeKeyFunction(trellis::cp::nodeKeyForId);
  trellis::cp::ControlPlane control_plane(cache, trellis::cp::cachingMeshBuilder(build_options), dir);

  auto ads = trellis::xds::server::AdsServer::start(cache, listen);
  if (!ads.ok()) {
    spdlog::critical("{}", ads.status().ToString());
    return 1;
  }
  auto admin_address = AdminServer::parseAddress(admin_listen);
  absl::StatusOr<std::unique_ptr<AdminServer>> admin =
      admin_address.ok() ? AdminServer::create(io, *admin_address) : admin_address.status();
  if (!admin.ok()) {
    spdlog::critical("{}", admin.status().ToString());
    (*ads)->shutdown();
    return 1;
  }
  (*admin)->addHandler("/ready", "GET", "200 once a mesh build is served", [&control_plane](const AdminRequest&) {
    if (control_plane.lastGoodBuild()) return AdminResponse{200, "text/plain; charset=utf-8", "LIVE\n"};
    return AdminResponse{503, "text/plain; charset=utf-8", "no valid mesh build yet (see /status)\n"};
  });
  (*admin)->addHandler("/status", "GET", "builds, their errors and every node's xDS state (JSON)",
                       [&control_plane](const AdminRequest&) {
                         return AdminResponse{200, "application/json", trellis::cp::statusJson(control_plane)};
                       });
  (*admin)->addHandler("/stats", "GET", "cp.* and xds.* counters", [&control_plane](const AdminRequest&) {
    return AdminResponse{200, "text/plain; charset=utf-8", trellis::cp::statsText(control_plane)};
  });
  (*admin)->start();
  spdlog::info("ADS listening on {} (port {})", listen, (*ads)->port());
  spdlog::info("admin listening on {} (port {})", admin_listen, (*admin)->port());

  trellis::cp::DirWatcher watcher(io, dir, kDebounce, [&control_plane] { control_plane.rebuild(); });
  if (absl::Status watching = watcher.start(); !watching.ok()) {
    spdlog::critical("{}", watching.ToString());
    (*admin)->stop();
    (*ads)->shutdown();
    return 1;
  }
  // The watch is in place before the first build, so no change can fall between the two.
  control_plane.rebuild();

  // serviceDiscovery.dns hostnames are resolved by each build: rebuild on a timer too. Versions
  // are content hashes, so a proxy only hears of it when an address really changed.
  boost::asio::steady_timer dns_refresh(io);
  std::function<void()> schedule_refresh = [&] {
    dns_refresh.expires_after(dns_refresh_interval);
    dns_refresh.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      control_plane.rebuild();
      schedule_refresh();
    });
  };
  if (dns_refresh_interval.count() > 0) schedule_refresh();

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: stopping", signal);
    watcher.stop();
    dns_refresh.cancel();
    (*admin)->stop();
    io.stop();
  });
  io.run();
  (*ads)->shutdown();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  // Debian builds Abseil without NDEBUG, which leaves absl::Mutex's lock-order (deadlock) checking
  // on: gRPC takes such a mutex for every read and write of every stream, and with 1,000 proxies
  // the checking (a lock graph update and a stack trace) cost about 4% of the cp's CPU. A release
  // build of Abseil does not check either.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::string dir;
  std::string listen = "127.0.0.1:15010";
  std::string admin = "127.0.0.1:15011";
  std::chrono::seconds dns_refresh{30};
  trellis::cp::BuildOptions build_options;
  if (argc >= 2 && std::string(argv[1]) == "explain") return trellis::cp::explainMain(argc - 1, argv + 1);
  if (argc >= 2 && std::string(argv[1]) == "import-cli") return trellis::cp::runImportCli(argc - 2, argv + 2);
  const bool validating = argc >= 2 && std::string(argv[1]) == "validate";
  if (validating) {
    if (argc < 3 || argv[2][0] == '-') return usage("validate takes a folder");
    dir = argv[2];
  }
  for (int i = validating ? 3 : 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    if (arg == "--parameter" || arg == "--import-value" || arg == "--var") {
      std::string text;
      std::string error;
      if (!value(text)) return usage(arg + " needs NAME=VALUE");
      auto& into = arg == "--parameter"      ? build_options.load.parameters
                   : arg == "--import-value" ? build_options.load.importValues
                                             : build_options.load.variables;
      if (!parseAssignment(arg, text, into, error)) return usage(error);
    } else if (arg == "--strict") {
      build_options.load.strict = true;
    } else if (validating) {
      return usage("validate takes only load options, not '" + arg + "'");
    } else if (arg == "--mesh-dir") {
      if (!value(dir)) return usage("--mesh-dir needs a folder");
    } else if (arg == "--listen") {
      if (!value(listen)) return usage("--listen needs host:port");
    } else if (arg == "--admin") {
      if (!value(admin)) return usage("--admin needs host:port");
    } else if (arg == "--dns-refresh-s") {
      std::string v;
      if (!value(v) || v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 6) {
        return usage("--dns-refresh-s takes seconds (0 disables)");
      }
      dns_refresh = std::chrono::seconds(std::stol(v));
    } else if (arg == "--no-default-retry-policy") {
      build_options.default_retry_policy = false;
    } else if (arg == "--egress-allowed-hosts" || arg.rfind("--egress-allowed-hosts=", 0) == 0) {
      std::string list;
      if (arg == "--egress-allowed-hosts") {
        if (!value(list)) return usage("--egress-allowed-hosts needs a list (empty allows nothing)");
      } else {
        list = arg.substr(std::string("--egress-allowed-hosts=").size());
      }
      auto hosts = trellis::config::appmesh::parseEgressAllowedHosts(list);
      if (!hosts.ok()) {
        return usage("--egress-allowed-hosts='" + list + "': " + std::string(hosts.status().message()));
      }
      build_options.egress_allowed_hosts = *std::move(hosts);
    } else if (arg == "--log-level") {
      std::string level;
      if (!value(level)) return usage("--log-level needs a level");
      const auto parsed = spdlog::level::from_str(level);
      if (parsed == spdlog::level::off && level != "off") return usage("unknown log level '" + level + "'");
      spdlog::set_level(parsed);
    } else if (arg == "--version") {
      std::cout << "trellis-cp " << trellis::kVersion << "\n";
      return 0;
    } else if (arg == "-h" || arg == "--help") {
      printHelp();
      return 0;
    } else {
      return usage("unknown argument '" + arg + "'");
    }
  }
  if (validating) return validate(dir, build_options);
  if (dir.empty()) return usage("--mesh-dir DIR is required");
  return serve(dir, listen, admin, dns_refresh, build_options);
}
