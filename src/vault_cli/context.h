// What every kura-vault command shares: the global options, opening the vault named by
// --data-dir, the audit actor of the person at the console, and printing results.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_common/format.h"
#include "kura/status.h"
#include "util/clock.h"
#include "vault/audit.h"
#include "vault/catalog.h"
#include "vault/config.h"

namespace kura::vault_cli {

// Default: $KURA_VAULT_DATA_DIR, else this.
inline constexpr const char* kDefaultDataDir = "/var/lib/kura-vault";

struct Options {
  std::string data_dir;
  std::string lang;
  bool json = false;
};

struct Context {
  Options opts;
  const Clock* clock = &SystemClock();
};

struct OpenVault {
  vault::VaultConfig config;
  std::unique_ptr<vault::Catalog> catalog;
};

// The data directory from --data-dir, $KURA_VAULT_DATA_DIR or kDefaultDataDir.
std::string DataDir(const Context& ctx);
// Argon2id cost of new operator passwords: 3 passes, 64 MiB, unless KURA_ARGON2_MEM_KIB
// and KURA_ARGON2_OPS say otherwise (as for kura's key slots; for tests and tiny machines).
crypto::Argon2Params PasswordCost();
// Loads vault.toml from the data directory and opens its catalog.
Result<OpenVault> Open(const Context& ctx);

// The person at this console: the OS user (name and uid), "local", the terminal of stdin.
vault::AuditActor ConsoleActor();

// Prints the error (and, with --json, {"ok": false, "error": ..., "exit_code": N} on
// stdout) and returns the exit code for it.
int Fail(const Context& ctx, const Status& status);
using cli_common::PrintJson;
void PrintLine(const std::string& text);
void PrintWarning(const std::string& text);

}  // namespace kura::vault_cli
