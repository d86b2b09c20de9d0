// trellis-proxy: the command line, in Envoy's spirit. Everything else is in proxy/server.
//
//   trellis-proxy -c FILE [--concurrency N] [--log-level LEVEL] [--drain-time-s S]
//                 [--admin-address-path FILE]
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include "config/bootstrap/bootstrap.h"
#include "proxy/server/descriptor_limit.h"
#include "proxy/server/server.h"

namespace {

int usage(const std::string& error) {
  if (!error.empty()) std::cerr << "trellis-proxy: " << error << "\n";
  std::cerr << "usage: trellis-proxy -c FILE [--concurrency N] [--log-level trace|debug|info|warning|error|critical|off]\n"
               "                     [--drain-time-s S] [--admin-address-path FILE]\n";
  return 2;
}

bool parseUint(const std::string& s, unsigned long max, unsigned long& out) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return false;
  out = std::stoul(s);
  return out <= max;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
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
    } else if (arg == "--drain-time-s") {
      unsigned long n;
      if (!value(v) || !parseUint(v, 86400, n)) return usage("--drain-time-s takes seconds (0-86400)");
      options.drain_time = std::chrono::seconds(n);
    } else if (arg == "-l" || arg == "--log-level") {
      if (!value(v)) return usage("--log-level needs a level");
      auto level = spdlog::level::from_str(v);
      if (level == spdlog::level::off && v != "off") return usage("unknown log level '" + v + "'");
      spdlog::set_level(level);
    } else if (arg == "--admin-address-path") {
      if (!value(options.admin_address_path)) return usage("--admin-address-path needs a file");
    } else if (arg == "-h" || arg == "--help") {
      usage("");
      return 0;
    } else {
      return usage("unknown argument '" + arg + "'");
    }
  }
  if (config_path.empty()) return usage("-c FILE is required");

  auto bootstrap = trellis::config::loadBootstrapFile(config_path);
  if (!bootstrap.ok()) {
    std::cerr << "trellis-proxy: " << bootstrap.status().message() << "\n";
    return 1;
  }
  options.bootstrap_source = config_path;
  // Two descriptors per proxied connection: take all the hard limit allows.
  const auto fds = trellis::proxy::raiseDescriptorLimit();
  if (fds.error != 0) {
    spdlog::warn("RLIMIT_NOFILE: soft {} hard {}: cannot raise: {}", fds.soft_before, fds.hard, std::strerror(fds.error));
  } else {
    spdlog::info("RLIMIT_NOFILE: soft {} -> {} (hard {})", fds.soft_before, fds.soft_after, fds.hard);
  }
  auto server = trellis::proxy::Server::create(*bootstrap, options);
  if (!server.ok()) {
    std::cerr << "trellis-proxy: " << config_path << ": " << server.status().message() << "\n";
    return 1;
  }
  if (auto st = (*server)->start(); !st.ok()) {
    std::cerr << "trellis-proxy: " << st.message() << "\n";
    return 1;
  }
  (*server)->run();
  spdlog::info("stopped");
  return 0;
}
