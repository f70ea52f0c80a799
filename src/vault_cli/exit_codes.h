// kura-vault's documented exit codes (docs/vault-exit-codes.md). Where a meaning is the
// same as one of kura's (docs/exit-codes.md) the number is too. Never renumber, only add.
#pragma once

#include "cli_common/exit_codes.h"
#include "kura/status.h"

namespace kura::vault_cli {

enum ExitCode : int {
  kExitOk = cli_common::kExitOk,
  kExitInternal = cli_common::kExitInternal,          // a bug or an unexpected failure
  kExitUsage = cli_common::kExitUsage,                // bad command line, config file or argument
  kExitNotFound = cli_common::kExitNotFound,          // no vault in the data directory, no such tenant
  kExitUnauthorized = cli_common::kExitUnauthorized,  // wrong login, password, code or token
  kExitIoError = cli_common::kExitIoError,            // reading or writing the data directory failed
  kExitNoSpace = cli_common::kExitNoSpace,            // the disk is full
  kExitDamaged = cli_common::kExitDamaged,            // audit verify found tampering; the catalog is damaged
  kExitLocked = cli_common::kExitLocked,              // the catalog stayed busy in another process
  kExitPermissionDenied = cli_common::kExitPermissionDenied,  // the OS refused access
  kExitUnsupported = cli_common::kExitUnsupported,  // the catalog or config is from a newer kura-vault
  kExitRetryable = cli_common::kExitRetryable,      // a temporary failure; retrying later may succeed
  kExitAlreadyExists = 15,  // the tenant (or the vault in that directory) already exists
};

int ExitCodeFor(const Status& status);

}  // namespace kura::vault_cli
