// Each file cmd_*.cc adds its subcommands to the CLI11 app. Callbacks store their exit code
// in *exit_code; they never throw.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/context.h"

namespace kura::cli {

void AddRepositoryCommands(CLI::App& app, Context& ctx, int* exit_code);  // init, snapshots, ls, key
void AddBackupCommand(CLI::App& app, Context& ctx, int* exit_code);
void AddRestoreCommand(CLI::App& app, Context& ctx, int* exit_code);
void AddMaintenanceCommands(CLI::App& app, Context& ctx, int* exit_code);  // verify, forget, prune
void AddJobCommands(CLI::App& app, Context& ctx, int* exit_code);  // run, status, drill, agent, schedule

// Prints the error (or its JSON form) and returns the exit code for it.
int Fail(const Context& ctx, const Status& status);

// Sets `sub`'s callback: load the config file, then run `fn` (which returns an exit code).
template <typename F>
void OnRun(CLI::App* sub, Context& ctx, int* exit_code, F fn) {
  sub->callback([&ctx, exit_code, fn] {
    Status st = ctx.LoadConfig();
    *exit_code = st.ok() ? fn() : Fail(ctx, st);
  });
}

}  // namespace kura::cli
