// kura-vault's documented exit codes (docs/vault-exit-codes.md). Where a meaning is the
// same as one of kura's (docs/exit-codes.md) the number is too. Never renumber, only add.
#pragma once

#include "kura/status.h"

namespace kura::vault_cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,           // a bug or an unexpected failure
  kExitUsage = 2,              // bad command line, config file or argument
  kExitNotFound = 3,           // no vault in the data directory, no such tenant
  kExitUnauthorized = 4,       // wrong login, password, code or token
  kExitIoError = 6,            // reading or writing the data directory failed
  kExitNoSpace = 7,            // the disk is full
  kExitDamaged = 8,            // audit verify found tampering; the catalog is damaged
  kExitLocked = 9,             // the catalog stayed busy in another process
  kExitPermissionDenied = 12,  // the OS refused access
  kExitUnsupported = 13,       // the catalog or config is from a newer kura-vault
  kExitRetryable = 14,         // a temporary failure; retrying later may succeed
  kExitAlreadyExists = 15,     // the tenant (or the vault in that directory) already exists
};

int ExitCodeFor(const Status& status);

}  // namespace kura::vault_cli
