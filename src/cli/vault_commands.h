// `kura init --vault URL --enroll FILE|-`: enrolment of this site with a kura-vault
// (docs/vault-api.md §3, docs/agent.md "Vault").
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "cli/context.h"
#include "repo/snapshot_kind.h"

namespace kura::cli {

struct VaultInitFlags {
  std::string url;              // --vault
  std::string enroll;           // --enroll: a file holding the code, or "-" for standard input
  std::string job = "default";  // --job: the agent.toml job whose repository this is
  std::string state_dir;        // --state-dir, else KURA_STATE_DIR, else agent.toml's, else /var/lib/kura
  std::string agent_config;
};

// Adds --vault, --enroll, --job, --state-dir to `init`. Keep the result alive as long as
// the app (capture it in the callback).
std::shared_ptr<VaultInitFlags> AddVaultInitOptions(CLI::App* init);

// Runs init with enrolment: opens the repository (creating it when there is none), enrols,
// adds the recovery key slot and registers the repository with the vault.
int VaultInit(Context& ctx, const VaultInitFlags& flags);

// `kura backup --vault URL [--job NAME] [--state-dir DIR]`: after the local snapshot is
// saved, send it to the vault this site is enrolled with and report the run.
struct BackupVaultFlags {
  std::string url;
  std::string job = "default";
  std::string state_dir;
};
void AddBackupVaultOptions(CLI::App* backup, BackupVaultFlags* flags);
// Sends `snapshot_id` of `repo`; adds {"vault": {...}} to `json_out`. The local snapshot is
// kept whatever happens; the error is the send's.
Status SendBackupToVault(const Context& ctx, Repository& repo, const std::string& snapshot_id,
                         SnapshotKind kind, const BackupVaultFlags& flags, nlohmann::json* json_out);

// The state directory as `kura init --vault` and the agent see it.
std::string ResolveStateDir(const std::string& flag, const std::string& agent_config_flag);

}  // namespace kura::cli
