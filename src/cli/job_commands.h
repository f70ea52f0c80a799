// The job commands (run, status, drill, agent, schedule), split over cmd_jobs.cc,
// cmd_agent.cc and cmd_drill.cc; AddJobCommands (commands.h) adds them all.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "agent/job_config.h"
#include "agent/run_log.h"
#include "cli/context.h"

namespace kura::cli {

void AddAgentCommands(CLI::App& app, Context& ctx, int* exit_code);  // agent, schedule
void AddDrillCommand(CLI::App& app, Context& ctx, int* exit_code);

// Adds --agent-config to `sub`.
void AddAgentConfigOption(CLI::App* sub, std::string* path);
// Loads the agent config from --agent-config / KURA_AGENT_CONFIG / /etc/kura/agent.toml.
Result<AgentConfig> LoadAgentConfigFor(const std::string& flag);
// Finds a job by name; kInvalidArgument listing the configured jobs otherwise.
Result<const JobConfig*> FindJobOrFail(const AgentConfig& config, const std::string& name);
// The run log of `config`, echoing to stderr when `echo` (a terminal, not --json/--quiet).
std::unique_ptr<RunLog> OpenRunLog(const AgentConfig& config, bool echo);

}  // namespace kura::cli
