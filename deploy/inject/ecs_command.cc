// The ecs subcommand: flags in, reports on stderr, outputs written atomically.
#include "deploy/inject/ecs_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "deploy/inject/ecs_file.h"
#include "version/trellis_version.h"

namespace trellis::deploy::inject {

namespace {

const std::string kUsage = std::string() +
    "usage: trellis-inject ecs FILE... [--image IMG] [--cp-address HOST:PORT]\n"
    "                          [--node mesh/MESH/virtualNode/NODE] [--capture proxy-configuration|init]\n"
    "                          [--init-image IMG] [-o OUT | --in-place]\n"
    "  FILE        register-task-definition input, describe-task-definition output, or a CloudFormation\n"
    "              template (JSON or YAML)\n"
    "  --image     the sidecar image (default trellis/trellis-proxy:" + kVersion + ")\n"
    "  --cp-address  trellis-cp's ADS address for TRELLIS_CP_ADDRESS (default trellis-cp:15010)\n"
    "  --node      the virtual node, for a task definition without App Mesh (adds the sidecar)\n"
    "  --capture   how an added sidecar gets its traffic: proxy-configuration (default; EC2 and Fargate)\n"
    "              or init (a trellis-init container with NET_ADMIN; EC2 only)\n"
    "  --init-image  the image trellis-init runs from (default: the sidecar image, trellis/trellis-proxy:" +
    kVersion + ", which carries it)\n"
    "  -o OUT      write the one input's result to OUT (default: stdout)\n"
    "  --in-place  rewrite each changed input\n";

int usage(std::ostream& err, const std::string& problem) {
  err << "trellis-inject ecs: " << problem << "\n" << kUsage;
  return 2;
}

bool readFile(const std::string& path, std::string& content, std::string& problem) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    problem = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  content = buffer.str();
  return true;
}

// A temporary file beside `target` holding `content`, flushed to disk; "" on failure.
std::string writeTemporary(const std::string& target, const std::string& content, std::string& problem) {
  std::string tmp = target + ".trellis-inject.XXXXXX";
  int fd = mkstemp(tmp.data());
  if (fd < 0) {
    problem = target + ": cannot create a temporary file beside it: " + std::strerror(errno);
    return "";
  }
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      problem = tmp + ": write failed: " + std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return "";
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  // Keep the original file's permissions when rewriting it in place.
  struct stat st;
  if (::stat(target.c_str(), &st) == 0) ::fchmod(fd, st.st_mode & 07777);
  else ::fchmod(fd, 0644);
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    problem = tmp + ": write failed: " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return "";
  }
  return tmp;
}

}  // namespace

int runEcsCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  EcsOptions options;
  options.image = std::string("trellis/trellis-proxy:") + kVersion;
  // Empty until the flags are read: then the sidecar image, which carries trellis-init.
  std::vector<std::string> files;
  std::string output;
  bool in_place = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&](std::string& into) {
      if (i + 1 >= args.size() || args[i + 1].empty()) return false;
      into = args[++i];
      return true;
    };
    if (arg == "--image") {
      if (!value(options.image)) return usage(err, "--image needs an image reference");
    } else if (arg == "--init-image") {
      if (!value(options.init_image)) return usage(err, "--init-image needs an image reference");
    } else if (arg == "--cp-address") {
      if (!value(options.cp_address)) return usage(err, "--cp-address needs HOST:PORT");
      size_t colon = options.cp_address.rfind(':');
      const std::string port = colon == std::string::npos ? "" : options.cp_address.substr(colon + 1);
      bool digits = !port.empty() && port.find_first_not_of("0123456789") == std::string::npos;
      if (colon == 0 || !digits || port.size() > 5 || std::stol(port) < 1 || std::stol(port) > 65535) {
        return usage(err, "--cp-address " + options.cp_address + ": expected HOST:PORT with a port 1-65535");
      }
      options.cp_address_given = true;
    } else if (arg == "--node") {
      if (!value(options.node)) return usage(err, "--node needs mesh/MESH/virtualNode/NODE");
    } else if (arg == "--capture") {
      std::string mode;
      if (!value(mode)) return usage(err, "--capture needs proxy-configuration or init");
      if (mode == "proxy-configuration") options.capture = Capture::kProxyConfiguration;
      else if (mode == "init") options.capture = Capture::kInit;
      else return usage(err, "--capture " + mode + ": expected proxy-configuration or init");
    } else if (arg == "-o") {
      if (!value(output)) return usage(err, "-o needs a file");
    } else if (arg == "--in-place") {
      in_place = true;
    } else if (arg == "-h" || arg == "--help") {
      out << kUsage;
      return 0;
    } else if (!arg.empty() && arg[0] == '-' && arg != "-") {
      return usage(err, "unknown flag " + arg);
    } else {
      files.push_back(arg);
    }
  }
  if (files.empty()) return usage(err, "no input file");
  if (options.init_image.empty()) options.init_image = options.image;
  if (in_place && !output.empty()) return usage(err, "-o and --in-place exclude each other");
  if (!in_place && files.size() > 1) {
    return usage(err, "several inputs need --in-place (-o and stdout take one)");
  }

  // Convert everything first: one bad input means nothing is written.
  std::vector<ConvertedFile> converted;
  bool failed = false;
  for (const auto& path : files) {
    std::string content, problem;
    if (!readFile(path, content, problem)) {
      err << "trellis-inject ecs: " << problem << "\n";
      failed = true;
      continue;
    }
    auto file = convertEcsFile(path, content, options);
    if (!file.ok()) {
      err << "trellis-inject ecs: " << file.status().message() << "\n";
      failed = true;
      continue;
    }
    converted.push_back(*std::move(file));
  }
  if (failed) {
    err << "trellis-inject ecs: nothing written\n";
    return 2;
  }
  for (size_t i = 0; i < converted.size(); ++i) {
    for (const auto& c : converted[i].changes) err << "  " << c << "\n";
    for (const auto& n : converted[i].notes) err << "  note: " << n << "\n";
    if (!converted[i].changed) err << "  " << files[i] << ": nothing to change\n";
  }

  if (!in_place && output.empty()) {
    out << converted[0].output;
    return 0;
  }
  // Every temporary first, then the renames: a failed write leaves every target as it was.
  std::vector<std::pair<std::string, std::string>> renames;  // temporary -> target
  for (size_t i = 0; i < converted.size(); ++i) {
    const std::string target = in_place ? files[i] : output;
    if (in_place && !converted[i].changed) continue;
    std::string problem;
    std::string tmp = writeTemporary(target, converted[i].output, problem);
    if (tmp.empty()) {
      err << "trellis-inject ecs: " << problem << "\n";
      for (const auto& [t, _] : renames) ::unlink(t.c_str());
      err << "trellis-inject ecs: nothing written\n";
      return 1;
    }
    renames.emplace_back(tmp, target);
  }
  for (const auto& [tmp, target] : renames) {
    if (std::rename(tmp.c_str(), target.c_str()) != 0) {
      err << "trellis-inject ecs: " << target << ": rename failed: " << std::strerror(errno) << "\n";
      ::unlink(tmp.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace trellis::deploy::inject
