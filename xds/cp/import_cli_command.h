// `trellis-cp import-cli SCRIPT... --out DIR [--set NAME=VALUE] [--from-env] [--force]`: reads
// the scripts, imports them (import_cli.h), checks the result as `trellis-cp validate` would and
// only then puts the folder in place (a temporary folder renamed to DIR).
#pragma once

namespace trellis::cp {

// argv holds the arguments after "import-cli". Returns the process exit code (0 ok, 1 the
// import or the check failed, 2 usage).
int runImportCli(int argc, char** argv);

}  // namespace trellis::cp
