// Service definitions for `kura schedule install`: systemd units for Linux hosts and a
// Task Scheduler task (XML) for Windows hosts. Templates are in packaging/ too.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "agent/job_config.h"

namespace kura {

// kura-agent.service: the long-running agent (Restart=on-failure; SIGTERM stops it after
// the current action).
std::string SystemdAgentService(const std::string& kura_path, const std::string& config_path);
// kura-agent-tick.service + .timer: `kura agent --once` at boot and every 15 minutes, for
// hosts that prefer timers to a resident service (Persistent=true catches up after a
// power-off).
std::string SystemdTickService(const std::string& kura_path, const std::string& config_path);
std::string SystemdTickTimer();

// A Task Scheduler task (XML, UTF-16 declared; save with schtasks /Create /XML) running
// `kura agent --once` daily at the first job's daily time and at logon/boot, so a
// standalone PC that was off at night backs up when it starts.
std::string WindowsTaskXml(const std::string& kura_path, const std::string& config_path,
                           const AgentConfig& config);

}  // namespace kura
