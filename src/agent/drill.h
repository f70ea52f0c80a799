// `kura drill JOB`: proof that backups can actually be restored (seed 002 §3.3(6)).
// Restores the job's latest snapshot from its first target into a scratch database on the
// job's own server (kura_drill_<job>_<YYYYmmddHHMMSS>), or a scratch directory for files,
// command and SQLite jobs, checks it (row counts, integrity check, SHA-256 of every file),
// drops it, and records the result as last_drill in the status file and in the log.
// A failed drill does not set the send warning; `kura drill` exits non-zero.
#pragma once

#include <string>

#include "agent/db_restore.h"
#include "agent/job_config.h"
#include "agent/job_runner.h"
#include "kura/status.h"

namespace kura {

struct DrillReport {
  std::string job;
  std::string target;
  std::string snapshot;
  std::string restored_into;  // database name or directory
  std::string method;         // "database" | "directory"
  RestoreReport restore;      // database restores
  DirRestoreCounts files;     // directory restores
  Status status;
  bool dropped = false;
  Status drop_status;
  double seconds = 0;
};

// Errors (no drill happened): kLocked. Everything else is in the report.
// `keep`: leave the scratch database or directory in place for inspection.
Result<DrillReport> RunDrill(const RunContext& ctx, const JobConfig& job, bool keep);

// "kura_drill_<job>_<YYYYmmddHHMMSS>", lowercase, only [a-z0-9_]. Exposed for tests.
std::string DrillDatabaseName(const std::string& prefix, const std::string& job, int64_t now);

}  // namespace kura
