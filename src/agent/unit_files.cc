#include "agent/unit_files.h"

#include <fmt/format.h>

namespace kura {

namespace {

std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// systemd's Exec lines split on spaces; quote paths that contain them.
std::string Quote(const std::string& s) {
  if (s.find_first_of(" \t\"\\") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string SystemdAgentService(const std::string& kura_path, const std::string& config_path) {
  return fmt::format(R"([Unit]
Description=kura backup agent (scheduled backups, catch-up, deferred sends)
Documentation=file:///usr/share/doc/kura/agent.md
Wants=network-online.target
After=network-online.target postgresql.service mariadb.service

[Service]
Type=simple
ExecStart={} agent --agent-config {}
# SIGTERM stops the agent after the current backup or send; a snapshot is never half
# written (an interrupted backup leaves no snapshot, the send queue survives).
KillMode=mixed
TimeoutStopSec=10min
Restart=on-failure
RestartSec=30
Environment=LANG=ja_JP.UTF-8
StandardOutput=journal
StandardError=journal

[Install]
WantedBy=multi-user.target
)",
                     Quote(kura_path), Quote(config_path));
}

std::string SystemdTickService(const std::string& kura_path, const std::string& config_path) {
  return fmt::format(R"([Unit]
Description=kura backup agent, one tick (runs what is due, then exits)
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart={} agent --once --agent-config {}
Environment=LANG=ja_JP.UTF-8
)",
                     Quote(kura_path), Quote(config_path));
}

std::string SystemdTickTimer() {
  return R"([Unit]
Description=kura backup agent tick: at boot and every 15 minutes

[Timer]
OnBootSec=2min
OnCalendar=*:0/15
Persistent=true

[Install]
WantedBy=timers.target
)";
}

std::string WindowsTaskXml(const std::string& kura_path, const std::string& config_path,
                           const AgentConfig& config) {
  TimeOfDay daily{2, 0};
  for (const JobConfig& j : config.jobs) {
    if (j.schedule.daily) {
      daily = *j.schedule.daily;
      break;
    }
  }
  return fmt::format(R"(<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>kura backup agent: nightly backup, catch-up at start-up, deferred sends</Description>
  </RegistrationInfo>
  <Triggers>
    <CalendarTrigger>
      <StartBoundary>2026-01-01T{:02d}:{:02d}:00</StartBoundary>
      <Enabled>true</Enabled>
      <ScheduleByDay><DaysInterval>1</DaysInterval></ScheduleByDay>
      <Repetition><Interval>PT15M</Interval><Duration>P1D</Duration><StopAtDurationEnd>false</StopAtDurationEnd></Repetition>
    </CalendarTrigger>
    <BootTrigger>
      <Enabled>true</Enabled>
      <Delay>PT2M</Delay>
    </BootTrigger>
    <LogonTrigger>
      <Enabled>true</Enabled>
      <Delay>PT2M</Delay>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>S-1-5-18</UserId>
      <RunLevel>HighestAvailable</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <StartWhenAvailable>true</StartWhenAvailable>
    <WakeToRun>false</WakeToRun>
    <ExecutionTimeLimit>PT12H</ExecutionTimeLimit>
    <Enabled>true</Enabled>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{}</Command>
      <Arguments>agent --once --agent-config "{}"</Arguments>
    </Exec>
  </Actions>
</Task>
)",
                     daily.hour, daily.minute, XmlEscape(kura_path), XmlEscape(config_path));
}

}  // namespace kura
