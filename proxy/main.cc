// trellis-proxy: the command line, in Envoy's spirit. Everything else is in proxy/server.
//
//   trellis-proxy [-c FILE] [--concurrency N] [--log-level LEVEL] [--drain-time-s S]
//                 [--admin-address-path FILE] [--print-bootstrap] [--version] [--help]
//
// Without -c the bootstrap is made from the environment as App Mesh's image made it
// (config/bootstrap/env_bootstrap). --help is man-page text (scripts/help-to-man makes the man
// page of the .deb from it).
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include <google/protobuf/util/json_util.h>
#include <spdlog/spdlog.h>

#include "config/bootstrap/bootstrap.h"
#include "config/bootstrap/env_bootstrap.h"
#include "proxy/server/descriptor_limit.h"
#include "proxy/server/server.h"
#include "version/trellis_version.h"

extern char** environ;

namespace {

constexpr int kExitConfig = 1;
constexpr int kExitUsage = 2;

int usage(const std::string& error) {
  std::cerr << "trellis-proxy: " << error << "\n"
            << "usage: trellis-proxy [-c FILE] [--concurrency N] [--log-level LEVEL] [--drain-time-s S]\n"
               "                     [--admin-address-path FILE] [--print-bootstrap] [--version] [--help]\n";
  return kExitUsage;
}

void printHelp() {
  std::cout << "NAME\n"
               "    trellis-proxy - the Trellis service-mesh sidecar proxy (Envoy bootstrap and xDS)\n"
               "\n"
               "SYNOPSIS\n"
               "    trellis-proxy -c FILE [--concurrency N] [--log-level LEVEL] [--drain-time-s S] [--admin-address-path FILE]\n"
               "    trellis-proxy [--concurrency N] [--log-level LEVEL] ...   (bootstrap from the environment)\n"
               "    trellis-proxy [-c FILE] --print-bootstrap\n"
               "    trellis-proxy --version | --help\n"
               "\n"
               "DESCRIPTION\n"
               "    Runs an HTTP/1.1 and TCP proxy configured by an Envoy v3 bootstrap (YAML or JSON) restricted to\n"
               "    Trellis's subset, with listeners, routes and clusters static or over one ADS stream from\n"
               "    trellis-cp. Without -c the bootstrap is made from the environment as App Mesh's Envoy image\n"
               "    made it: the node from APPMESH_RESOURCE_ARN, the admin endpoint on ENVOY_ADMIN_ACCESS_PORT, ADS\n"
               "    to trellis-cp at TRELLIS_CP_ADDRESS. SIGTERM or SIGINT drain the listeners for up to the drain\n"
               "    time, then the proxy exits 0.\n"
               "\n"
               "OPTIONS\n"
               "    -c FILE, --config-path FILE\n"
               "        The Envoy v3 bootstrap to run. Without it, the bootstrap comes from the environment.\n"
               "    --concurrency N\n"
               "        Workers, each with its own event loop and SO_REUSEPORT sockets, 1-1024 (default: the\n"
               "        cores, or ENVOY_CONCURRENCY).\n"
               "    -l LEVEL, --log-level LEVEL\n"
               "        trace, debug, info, warning (or warn), error, critical or off (default: info, or\n"
               "        ENVOY_LOG_LEVEL).\n"
               "    --drain-time-s S\n"
               "        The longest drain after SIGTERM or SIGINT, 0-86400 seconds (default 5).\n"
               "    --admin-address-path FILE\n"
               "        Write the admin endpoint's host:port to FILE once the proxy is up.\n"
               "    --print-bootstrap\n"
               "        Print the bootstrap the proxy would run (the file's, or the one made from the\n"
               "        environment) as JSON, which -c accepts, and exit.\n"
               "    --version\n"
               "        Print the version and exit.\n"
               "    -h, --help\n"
               "        This text.\n"
               "\n"
               "ENVIRONMENT\n"
               "    Read when -c is not given (APPMESH_RESOURCE_ARN and APPMESH_VIRTUAL_NODE_NAME also with -c, for\n"
               "    node.id). Empty values count as unset. Command-line options win over the variables.\n";
  using trellis::config::EnvHandling;
  for (const auto& v : trellis::config::environmentVariables()) {
    if (v.handling == EnvHandling::kUsed) {
      std::cout << "    " << v.name << "  (default: " << v.default_text << ")\n        " << v.meaning << "\n";
    } else {
      std::cout << "    " << v.name << "  (" << (v.handling == EnvHandling::kIgnored ? "ignored, logged once" : "refused")
                << ")\n        " << v.meaning << "\n";
    }
  }
  std::cout << "\n"
               "EXIT STATUS\n"
               "    0  stopped after a drain, or --help, --version, --print-bootstrap\n"
               "    1  the bootstrap (file or environment) is invalid, or the proxy could not start\n"
               "    2  bad usage\n";
}

trellis::config::Environment processEnvironment() {
  trellis::config::Environment env;
  for (char** e = environ; e && *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq) env[std::string(*e, static_cast<size_t>(eq - *e))] = eq + 1;
  }
  return env;
}

// The control plane's host name, once at start-up (its cluster is STATIC).
absl::StatusOr<std::string> resolveHost(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &result);
  if (rc != 0) return absl::NotFoundError(::gai_strerror(rc));
  char text[INET6_ADDRSTRLEN] = {};
  const addrinfo* first = result;
  const void* address = first->ai_family == AF_INET6
                            ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(first->ai_addr)->sin6_addr)
                            : static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(first->ai_addr)->sin_addr);
  const bool ok = ::inet_ntop(first->ai_family, address, text, sizeof(text)) != nullptr;
  ::freeaddrinfo(result);
  if (!ok) return absl::InternalError("inet_ntop failed");
  return std::string(text);
}

bool parseUint(const std::string& s, unsigned long max, unsigned long& out) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return false;
  out = std::stoul(s);
  return out <= max;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  bool print_bootstrap = false;
  bool concurrency_given = false;
  bool log_level_given = false;
  trellis::proxy::ServerOptions options;
  options.concurrency = std::max(1u, std::thread::hardware_concurrency());
  options.handle_signals = true;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "-c" || arg == "--config-path") {
      if (!value(config_path)) return usage(arg + " needs a file");
    } else if (arg == "--concurrency") {
      unsigned long n;
      if (!value(v) || !parseUint(v, 1024, n) || n == 0) return usage("--concurrency takes a number from 1 to 1024");
      options.concurrency = static_cast<uint32_t>(n);
      concurrency_given = true;
    } else if (arg == "--drain-time-s") {
      unsigned long n;
      if (!value(v) || !parseUint(v, 86400, n)) return usage("--drain-time-s takes seconds (0-86400)");
      options.drain_time = std::chrono::seconds(n);
    } else if (arg == "-l" || arg == "--log-level") {
      if (!value(v)) return usage("--log-level needs a level");
      auto level = spdlog::level::from_str(v == "warn" ? "warning" : v);
      if (level == spdlog::level::off && v != "off") return usage("unknown log level '" + v + "'");
      spdlog::set_level(level);
      log_level_given = true;
    } else if (arg == "--admin-address-path") {
      if (!value(options.admin_address_path)) return usage("--admin-address-path needs a file");
    } else if (arg == "--print-bootstrap") {
      print_bootstrap = true;
    } else if (arg == "--version") {
      std::cout << "trellis-proxy " << trellis::kVersion << "\n";
      return 0;
    } else if (arg == "-h" || arg == "--help") {
      printHelp();
      return 0;
    } else {
      return usage("unknown argument '" + arg + "'");
    }
  }

  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  if (!config_path.empty()) {
    auto loaded = trellis::config::loadBootstrapFile(config_path);
    if (!loaded.ok()) {
      std::cerr << "trellis-proxy: " << loaded.status().message() << "\n";
      return kExitConfig;
    }
    bootstrap = *std::move(loaded);
    options.bootstrap_source = config_path;
  } else {
    auto made = trellis::config::bootstrapFromEnvironment(processEnvironment(), resolveHost);
    if (!made.ok()) {
      std::cerr << "trellis-proxy: environment (no -c given): " << made.status().message() << "\n";
      return kExitConfig;
    }
    if (!log_level_given) spdlog::set_level(spdlog::level::from_str(made->log_level));
    if (!concurrency_given && made->concurrency) options.concurrency = *made->concurrency;
    // Logged once; with --print-bootstrap on stderr, so stdout stays the document alone.
    for (const std::string& line : made->ignored) {
      if (print_bootstrap) {
        std::cerr << "trellis-proxy: " << line << "\n";
      } else {
        spdlog::warn("{}", line);
      }
    }
    spdlog::default_logger()->flush();  // a container log shows them at once, not at the next flush
    bootstrap = std::move(made->bootstrap);
    options.bootstrap_source = "environment";
  }
  if (print_bootstrap) {
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.add_whitespace = true;
    print.preserve_proto_field_names = true;
    if (auto st = google::protobuf::util::MessageToJsonString(bootstrap, &json, print); !st.ok()) {
      std::cerr << "trellis-proxy: cannot print the bootstrap: " << st.message() << "\n";
      return kExitConfig;
    }
    std::cout << json;
    return 0;
  }
  // Two descriptors per proxied connection: take all the hard limit allows.
  const auto fds = trellis::proxy::raiseDescriptorLimit();
  if (fds.error != 0) {
    spdlog::warn("RLIMIT_NOFILE: soft {} hard {}: cannot raise: {}", fds.soft_before, fds.hard, std::strerror(fds.error));
  } else {
    spdlog::info("RLIMIT_NOFILE: soft {} -> {} (hard {})", fds.soft_before, fds.soft_after, fds.hard);
  }
  const std::string source = options.bootstrap_source;
  auto server = trellis::proxy::Server::create(bootstrap, options);
  if (!server.ok()) {
    std::cerr << "trellis-proxy: " << source << ": " << server.status().message() << "\n";
    return kExitConfig;
  }
  if (auto st = (*server)->start(); !st.ok()) {
    std::cerr << "trellis-proxy: " << st.message() << "\n";
    return kExitConfig;
  }
  (*server)->run();
  spdlog::info("stopped");
  return 0;
}
