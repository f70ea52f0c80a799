// Command source: runs a command and stores its stdout as one stream, for anything that can
// write a backup to stdout (a vendor's export tool, `tar -c`, a custom dump script).
// See docs/sources.md.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sources/source.h"

namespace kura {

struct CommandSourceOptions {
  // The command as an argv list, run without a shell (argv[0] looked up in PATH).
  std::vector<std::string> argv;
  // Or a shell command line, run as `sh -c <shell>`. Exactly one of argv and shell is set.
  std::string shell;
  std::string stream = "stdout";  // the snapshot stream's name. Default: "stdout"
  // Added to the command's environment. Values (which may be secrets) never appear in
  // messages or argv.
  std::vector<std::pair<std::string, std::string>> env;
  std::string cwd;  // Default: kura's working directory
};

// A command that exits non-zero or is killed fails the backup with kSourceFailed and the
// last lines of its stderr; no snapshot is made. Thread-compatible.
std::unique_ptr<Source> NewCommandSource(CommandSourceOptions options);

}  // namespace kura
