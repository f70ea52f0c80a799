// The kura-vault subcommands; each Add* registers one group on the app. A command's
// callback stores its exit code in *exit_code.
#pragma once

#include <CLI/CLI.hpp>

#include "vault_cli/context.h"

namespace kura::vault_cli {

void AddInitCommand(CLI::App& app, Context& ctx, int* exit_code);
void AddTenantCommands(CLI::App& app, Context& ctx, int* exit_code);
void AddAuditCommands(CLI::App& app, Context& ctx, int* exit_code);
void AddServeCommand(CLI::App& app, Context& ctx, int* exit_code);
void AddGrantCommands(CLI::App& app, Context& ctx, int* exit_code);
void AddOperatorCommands(CLI::App& app, Context& ctx, int* exit_code);  // operator add|list|passwd
void AddGcCommand(CLI::App& app, Context& ctx, int* exit_code);         // gc
void AddScrubCommand(CLI::App& app, Context& ctx, int* exit_code);      // scrub
// After AddTenantCommands: adds `tenant set-recovery-key` to its group.
void AddSiteCommands(CLI::App& app, Context& ctx, int* exit_code);
// After AddTenantCommands and AddSiteCommands: tenant set-grace and site set-grace.
void AddOverdueGraceCommands(CLI::App& app, Context& ctx, int* exit_code);
void AddStatusCommand(CLI::App& app, Context& ctx, int* exit_code);
// retention show, and clock acknowledge.
void AddRetentionCommands(CLI::App& app, Context& ctx, int* exit_code);
void AddHoldCommands(CLI::App& app, Context& ctx, int* exit_code);

}  // namespace kura::vault_cli
