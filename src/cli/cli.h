#pragma once

namespace kura::cli {

// The `kura` command. Returns the process exit code (docs/exit-codes.md).
int Main(int argc, char** argv);

}  // namespace kura::cli
