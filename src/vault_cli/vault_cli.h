// The `kura-vault` command (docs/vault-exit-codes.md for what it returns).
#pragma once

namespace kura::vault_cli {

// Runs kura-vault with these arguments. Returns the process exit code.
int Main(int argc, char** argv);

}  // namespace kura::vault_cli
