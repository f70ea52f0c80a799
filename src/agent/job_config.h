// The agent's configuration: /etc/kura/agent.toml (path overridable) declares jobs, their
// targets, schedules, retention, hooks, the status file and the run log. The format is
// described for operators in docs/agent.md.
//
// Secrets never appear in this file: a literal `password` anywhere is refused; repository
// and database passwords come from password_file / key_file (or the database tools' own
// .pgpass / option files).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kura/status.h"
#include "repo/retention.h"
#include "repo/snapshot_kind.h"
#include "sources/db_common.h"
#include "sources/source_factory.h"

namespace kura {

// A time of day in local time, "HH:MM".
struct TimeOfDay {
  int hour = 0;
  int minute = 0;
  int Minutes() const { return hour * 60 + minute; }
};
bool ParseTimeOfDay(const std::string& text, TimeOfDay* out);
std::string FormatTimeOfDay(const TimeOfDay& t);

struct JobSchedule {
  std::optional<TimeOfDay> daily;  // run a daily generation at this time (and catch up)
  // Day of the month for the monthly generation: 1..28, or 0 for the last day. nullopt:
  // no monthly schedule.
  std::optional<int> monthly_day;
  TimeOfDay monthly_time{2, 0};  // Default: the daily time, else 02:00
  // How late a scheduled backup may be before `kura status` warns that it is overdue
  // (agent/overdue.h): daily 24 h + grace after the last success, monthly grace after the
  // closing slot. Default: 6 hours.
  int grace_hours = 6;
};

enum class SendMode { kImmediate, kNight };

struct TargetConfig {
  std::string name;        // REQUIRED, unique within the job
  std::string label;       // for people. Default: name
  std::string repository;  // REQUIRED unless `vault`: a local path or file:// URL
  // A kura-vault ("https://host:port"): the snapshot is sent with its packs unchanged
  // (engine/send_packs.h); credential and pin from enrolment (agent/vault_site.h). Never
  // the first target; takes no repository, password_file or key_file.
  std::string vault;
  std::string password_file;
  std::string key_file;
  SendMode send = SendMode::kImmediate;  // ignored for the first target (it is written directly)
  RetentionPolicy retention = RetentionPolicy::LocalDefaults();
  bool apply_retention = true;  // false for a vault (its retention is the vault's)
  bool is_vault() const { return !vault.empty(); }
};

// Where a SQL hook posts: connection settings and one statement with :named parameters.
struct SqlHookConfig {
  std::string kind;  // "postgresql" | "mysql" | "sqlite"
  // host, port, user, password_file, pgpassfile (postgresql), socket (mysql),
  // connect_timeout_seconds; never `password` (secrets only through files).
  DbConnection conn;
  std::string database;   // postgresql, mysql
  std::string path;       // sqlite: the database file
  std::string statement;  // REQUIRED; parameters are :job, :message_ja, ... (docs/agent.md)
};

struct HookAction {
  std::vector<std::string> command;  // argv, run without a shell; details in KURA_* env vars
  std::optional<SqlHookConfig> sql;
  int timeout_seconds = 60;
  bool empty() const { return command.empty() && !sql; }
};

// on_failure: every failed run or send. on_success: every success. on_clear: a success
// that ends an active warning (post the "resolved" message / delete the bulletin entry).
struct HookSet {
  HookAction on_failure;
  HookAction on_success;
  HookAction on_clear;
};

// Settings for `kura drill`.
struct DrillConfig {
  std::string scratch_dir;  // files/sqlite restores go under it. Default: <state_dir>/drill
  std::string database_prefix = "kura_drill_";
};

struct JobConfig {
  std::string name;   // REQUIRED: [A-Za-z0-9_.-]+, unique
  std::string label;  // for people ("ケアレンツ データベース"). Default: name
  SourceConfig source;
  std::vector<SnapshotKind> kinds = {SnapshotKind::kDaily, SnapshotKind::kMonthly, SnapshotKind::kManual};
  JobSchedule schedule;
  std::vector<TargetConfig> targets;  // REQUIRED: at least one; the first is written directly
  HookSet hooks;                      // in addition to the global hooks
  int run_max_attempts = 3;           // a failed scheduled run is retried this often in total
  // Skip what the source cannot read (permission denied), recording warnings, instead of
  // failing the backup; as `kura backup --skip-unreadable`. Default: false.
  bool skip_unreadable = false;
  bool AllowsKind(SnapshotKind kind) const;
  const TargetConfig* FindTarget(const std::string& name) const;
  const std::string& Label() const { return label.empty() ? name : label; }
};

// When deferred ("night") sends may run: [start, end) in local time, may cross midnight.
struct SendWindow {
  TimeOfDay start{22, 0};
  TimeOfDay end{6, 0};
};

struct RetryPolicy {
  int initial_seconds = 60;
  int max_seconds = 3600;
};

// Accepted ranges of log_max_bytes (bytes per log file) and log_keep (old files kept);
// values outside them are refused when the file is read.
inline constexpr int64_t kMinLogMaxBytes = 4096, kMaxLogMaxBytes = int64_t{1} << 30;
inline constexpr int64_t kMinLogKeep = 1, kMaxLogKeep = 100;

struct AgentConfig {
  std::string path;  // the file this was read from
  std::string state_dir = "/var/lib/kura";
  std::string status_file;                          // Default: <state_dir>/status.json
  std::string log_file = "/var/log/kura/kura.log";  // "" : no file (stderr / journald only)
  uint64_t log_max_bytes = 1 << 20;
  int log_keep = 5;
  SendWindow send_window;
  RetryPolicy retry;
  std::string guidance_ja = "弊社までご連絡下さい。";
  std::string guidance_en = "Please contact your vendor.";
  std::string host;  // recorded in snapshots. Default: this machine's hostname
  HookSet hooks;
  DrillConfig drill;
  std::vector<JobConfig> jobs;

  const JobConfig* FindJob(const std::string& name) const;
  std::string QueueDir() const { return state_dir + "/queue"; }
  std::string LockDir() const { return state_dir + "/locks"; }
  std::string ScheduleStateFile() const { return state_dir + "/schedule.json"; }
};

// The config path: `flag` if set, else $KURA_AGENT_CONFIG, else /etc/kura/agent.toml.
std::string AgentConfigPath(const std::string& flag);

// Errors: kNotFound (no file), kInvalidArgument naming the file, line and field.
Result<AgentConfig> LoadAgentConfig(const std::string& path);
// The same from text (`name` is used in messages). For tests.
Result<AgentConfig> ParseAgentConfig(const std::string& text, const std::string& name);

}  // namespace kura
