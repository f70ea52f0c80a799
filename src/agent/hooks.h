// Hooks tell the host application what happened: on_failure after a failed run, send or drill,
// on_success after a successful one, on_clear when a success ends an active warning.
// A hook runs a command (details in KURA_* environment variables; kura's own secrets such as
// KURA_PASSWORD are never inherited, util/process.h) and/or one SQL statement
// against the host application's database, for example to post to (or clear) its
// bulletin board. SQL values are always bound as parameters through the client library's
// prepared statements (libpq PQexecParams, MariaDB mysql_stmt_bind_param,
// sqlite3_bind_text) — never spliced into the statement text. Parameters: docs/agent.md.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "agent/job_config.h"
#include "kura/status.h"

namespace kura {

struct HookEvent {
  std::string event;  // "failure" | "success" | "clear"
  std::string job;
  std::string job_label;
  std::string target;
  std::string target_label;
  std::string kind;    // "daily" | "monthly" | "manual" | "" (a drill)
  std::string action;  // "backup" | "send" | "drill"
  std::string result;  // "ok" | "failed"
  std::string error;   // message of the failure ("" on success)
  std::string error_code;
  std::string snapshot;
  int64_t since = 0;  // start of the warning (failure, clear); 0 otherwise
  int64_t time = 0;
  std::string message_ja;  // the warning text (failure) or a "resolved" text (clear)
  std::string message_en;
  std::string guidance_ja;
  std::string host;
};

// Named parameters in a fixed order: event, job, job_label, target, target_label, kind,
// action, result, error, error_code, snapshot, since, since_local, time, time_local,
// message, message_ja, message_en, guidance, host. Times are "YYYY-MM-DDTHH:MM:SSZ" (UTC)
// and "YYYY-MM-DD HH:MM:SS" (local); absent ones are "".
std::vector<std::pair<std::string, std::string>> HookParameters(const HookEvent& e);

// Runs the command (if any), then the SQL statement (if any). Returns the first failure;
// the caller logs it (a failing hook never changes the run's result).
Status RunHook(const HookAction& action, const HookEvent& event);

enum class PlaceholderStyle {
  kDollar,    // $1, $2 (PostgreSQL); a name used twice gets one number
  kQuestion,  // ? per occurrence (MariaDB, SQLite)
};
struct BoundStatement {
  std::string sql;
  std::vector<std::string> values;  // in placeholder order
};
// Replaces :name outside string literals, quoted identifiers and comments with
// placeholders and collects the values. "::" (a PostgreSQL cast) is left alone.
// Errors: kInvalidArgument for an unknown :name. Exposed for tests.
Result<BoundStatement> BindNamedParameters(const std::string& statement, PlaceholderStyle style,
                                           const std::vector<std::pair<std::string, std::string>>& params);

// Executes `sql` with its parameters bound. Exposed for tests.
Status RunSqlHook(const SqlHookConfig& sql, const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace kura
