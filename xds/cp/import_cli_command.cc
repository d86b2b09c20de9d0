// trellis-cp import-cli: see import_cli_command.h. File system and process edges only; the
// import itself is import_cli.cc.
#include "xds/cp/import_cli_command.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <system_error>

#include "xds/cp/import_cli.h"
#include "xds/cp/mesh_source.h"

extern char** environ;

namespace trellis::cp {

namespace {

namespace fs = std::filesystem;

int usage(const std::string& error) {
  if (!error.empty()) std::cerr << "trellis-cp import-cli: " << error << "\n";
  std::cerr << "usage: trellis-cp import-cli SCRIPT... --out DIR [--set NAME=VALUE]... [--from-env] [--force]\n"
               "  Applies the scripts' aws appmesh create-*/update-*/delete-* commands in order and writes one\n"
               "  CLI input JSON file per resource into DIR, after checking it as trellis-cp validate does.\n"
               "  --set NAME=VALUE  a shell variable the scripts use ($NAME, ${NAME}); wins over the environment\n"
               "  --from-env        start from this process's environment (otherwise only --set and the\n"
               "                    scripts' own assignments are known)\n"
               "  --force           replace a DIR that is not empty\n";
  return 2;
}

std::optional<std::string> readText(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

bool isEmptyFolder(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir, ec) && fs::directory_iterator(dir, ec) == fs::directory_iterator();
}

// A new, empty folder next to `dir` (same file system, so the final rename is atomic).
std::optional<fs::path> siblingTemp(const fs::path& dir, const std::string& tag) {
  fs::path parent = dir.parent_path();
  if (parent.empty()) parent = ".";
  std::string pattern = (parent / ("." + dir.filename().string() + "." + tag + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) return std::nullopt;
  return fs::path(pattern);
}

}  // namespace

int runImportCli(int argc, char** argv) {
  std::vector<std::string> scripts;
  std::string out;
  std::map<std::string, std::string> sets;
  bool fromEnv = false;
  bool force = false;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--out") {
      if (i + 1 >= argc) return usage("--out needs a folder");
      out = argv[++i];
    } else if (arg == "--set") {
      if (i + 1 >= argc) return usage("--set needs NAME=VALUE");
      std::string name, value;
      if (!parseShellAssignment(argv[++i], name, value)) {
        return usage(std::string("--set takes NAME=VALUE (NAME a shell variable name), got '") + argv[i] + "'");
      }
      if (!sets.emplace(name, value).second) return usage("--set " + name + " is given twice");
    } else if (arg == "--from-env") {
      fromEnv = true;
    } else if (arg == "--force") {
      force = true;
    } else if (arg == "-h" || arg == "--help") {
      usage("");
      return 0;
    } else if (arg.rfind("--", 0) == 0) {
      return usage("unknown option '" + arg + "'");
    } else {
      scripts.push_back(arg);
    }
  }
  if (scripts.empty()) return usage("give at least one script");
  if (out.empty()) return usage("--out DIR is required");

  CliImportInput input;
  for (const std::string& path : scripts) {
    std::string error;
    std::optional<std::string> text = readText(path, error);
    if (!text) {
      std::cerr << path << ": cannot read script: " << error << "\n";
      return 1;
    }
    input.scripts.push_back({path, fs::path(path).parent_path().string(), *text});
  }
  if (fromEnv) {
    for (char** env = environ; *env != nullptr; ++env) {
      std::string name, value;
      if (parseShellAssignment(*env, name, value)) input.variables[name] = value;
    }
  }
  for (const auto& [name, value] : sets) input.variables[name] = value;
  input.readFile = readText;

  const CliImportResult result = importCliScripts(input);
  if (!result.errors.empty()) {
    for (const std::string& error : result.errors) std::cout << error << "\n";
    std::cout << "import-cli: " << result.errors.size() << " error(s); nothing written\n";
    return 1;
  }

  const fs::path dir(out);
  std::error_code ec;
  const bool exists = fs::exists(dir, ec);
  if (exists && !fs::is_directory(dir, ec)) {
    std::cout << out << ": exists and is not a folder; nothing written\n";
    return 1;
  }
  if (exists && !isEmptyFolder(dir) && !force) {
    std::cout << out << ": folder is not empty; give --force to replace it (nothing written)\n";
    return 1;
  }
  std::optional<fs::path> temp = siblingTemp(dir, "import");
  if (!temp) {
    std::cout << out << ": cannot create a temporary folder next to it: " << std::strerror(errno) << "\n";
    return 1;
  }
  auto discard = [&] { fs::remove_all(*temp, ec); };
  for (const CliImportedFile& file : result.files) {
    std::ofstream stream(*temp / file.name, std::ios::binary);
    stream << file.content;
    stream.close();
    if (!stream) {
      std::cout << (*temp / file.name).string() << ": cannot write\n";
      discard();
      return 1;
    }
  }

  // The folder as trellis-cp would read it: nothing is put in place that it would reject.
  const MeshBuild build = buildMesh(temp->string());
  for (const std::string& warning : build.warnings) std::cout << "warning: " << warning << "\n";
  if (!build.errors.empty()) {
    for (const std::string& error : build.errors) {
      std::string origin;
      for (const CliImportedFile& file : result.files) {
        if (error.rfind(file.name, 0) == 0) origin = " [from " + file.origin + "]";
      }
      std::cout << error << origin << "\n";
    }
    std::cout << "import-cli: the imported folder has " << build.errors.size()
              << " error(s) trellis-cp would reject; nothing written\n";
    discard();
    return 1;
  }

  std::optional<fs::path> old;
  if (exists) {
    if (isEmptyFolder(dir)) {
      fs::remove(dir, ec);
    } else {
      old = siblingTemp(dir, "replaced");
      if (!old || !fs::remove(*old, ec) || (fs::rename(dir, *old, ec), ec)) {
        std::cout << out << ": cannot move the old folder aside: " << ec.message() << "\n";
        discard();
        return 1;
      }
    }
  }
  fs::rename(*temp, dir, ec);
  if (ec) {
    std::cout << out << ": cannot rename " << temp->string() << " into place: " << ec.message() << "\n";
    if (old) fs::rename(*old, dir, ec);
    discard();
    return 1;
  }
  if (old) fs::remove_all(*old, ec);

  std::map<std::string, size_t> kinds;
  for (const CliImportedFile& file : result.files) ++kinds[file.name.substr(0, file.name.find('-'))];
  std::cout << "import-cli: " << scripts.size() << " script(s): applied " << result.creates << " create, "
            << result.updates << " update, " << result.deletes << " delete; " << result.readOnly
            << " describe/list skipped; " << result.assignments << " variable assignment(s)\n";
  size_t skipped = 0;
  std::string skippedList;
  for (const auto& [command, count] : result.skipped) {
    skipped += count;
    skippedList += (skippedList.empty() ? "" : ", ") + command + " " + std::to_string(count);
  }
  if (skipped > 0) std::cout << "import-cli: " << skipped << " other command(s) skipped (" << skippedList << ")\n";
  std::cout << "import-cli: wrote " << result.files.size() << " file(s) to " << out << " (";
  bool first = true;
  for (const auto& [kind, count] : kinds) {
    std::cout << (first ? "" : ", ") << kind << " " << count;
    first = false;
  }
  std::cout << "); valid; " << build.nodes.size() << " node(s)\n";
  return 0;
}

}  // namespace trellis::cp
