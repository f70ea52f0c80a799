#include "cli/commands.h"

namespace kura::cli {

// run, status, drill, agent, schedule: see issue "Database sources, the nightly job, and the
// warning in the host application".
void AddJobCommands(CLI::App& app, Context& ctx, int* exit_code) {
  (void)app;
  (void)ctx;
  (void)exit_code;
}

}  // namespace kura::cli
