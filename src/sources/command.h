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
  // An empty stdout fails the backup (kSourceFailed, no snapshot) unless this is set: an
  // export that writes nothing has nearly always failed. Default: false.
  bool allow_empty = false;
  // How the user allows an empty stream, for the refusal's message. Default:
  // "allow_empty = true" (the job field); the CLI sets "--allow-empty".
  std::string empty_hint;
};

// A command that exits non-zero or is killed fails the backup with kSourceFailed and the
// last lines of its stderr; no snapshot is made. So does an empty stdout (see allow_empty)
// and a stream name ValidateStreamName refuses (kInvalidArgument, before the command
// runs). Thread-compatible.
std::unique_ptr<Source> NewCommandSource(CommandSourceOptions options);

}  // namespace kura
