// `trellis-cp import-cli`'s core: turns shell scripts of `aws appmesh create-*/update-*/delete-*`
// commands (what App Mesh's walkthroughs are written in) into the mesh folder's documents, one
// `--cli-input-json` file per resource. Pure: the scripts' text, a way to read the files they
// reference (file://) and the variables are the input; files, errors and a summary the output.
// Writing the folder and checking it with the loader is import_cli_command.cc's job.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace trellis::cp {

struct CliScript {
  std::string name;    // as given on the command line; used in messages ("colorapp.sh:12: ...")
  std::string folder;  // file://PATH relative paths are taken from here ("" = current folder)
  std::string text;
};

// Reads PATH for file:// (and fileb://) values; nullopt with `error` set if it cannot.
using CliFileReader = std::function<std::optional<std::string>(const std::string& path, std::string& error)>;

struct CliImportInput {
  std::vector<CliScript> scripts;  // applied in this order
  // The environment the scripts start with (--from-env, then --set on top); assignments in the
  // scripts (`export X=...`, `X=...`) change it as a shell would.
  std::map<std::string, std::string> variables;
  CliFileReader readFile;
};

struct CliImportedFile {
  std::string name;     // "virtualNode-color-mesh-front.json"
  std::string content;  // CLI input JSON: {"meshName": ..., "virtualNodeName": ..., "spec": {...}}
  std::string origin;   // where its current spec comes from: "colorapp.sh:14"
};

struct CliImportResult {
  std::vector<CliImportedFile> files;  // in creation order
  // "colorapp.sh:12: aws appmesh create-virtual-node: --spec: ..." (script, line, command, flag).
  std::vector<std::string> errors;
  size_t creates = 0, updates = 0, deletes = 0;
  size_t readOnly = 0;  // aws appmesh describe-*/list-* commands (nothing to apply)
  // Commands that are not aws appmesh create/update/delete, by command name ("aws ecs", "echo").
  std::map<std::string, size_t> skipped;
  size_t assignments = 0;  // `export X=...` / `X=...` lines
};

CliImportResult importCliScripts(const CliImportInput& input);

// Parses NAME=VALUE (for --set); false if there is no '=' or NAME is not a shell name.
bool parseShellAssignment(const std::string& text, std::string& name, std::string& value);

}  // namespace trellis::cp
