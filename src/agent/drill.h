// `kura drill JOB`: proof that backups can actually be restored (seed 002 §3.3(6)).
// Restores the job's latest snapshot from its first target into a scratch database on the
// job's own server (kura_drill_<job>_<YYYYmmddHHMMSS>), or a scratch directory for files,
// command and SQLite jobs, checks it (row counts, integrity check, SHA-256 of every file),
// drops it, and records the result as last_drill in the status file and in the log.
//
// A failed drill raises a warning like a failed backup (last_drill.warning in the status
// file: `kura status` exits 10, warning_active is true) and fires the on_failure hooks with
// action "drill"; the next successful drill clears it and fires on_clear. When the restore
// failed, the snapshot's data is read and checked as `kura verify --read-data` does
// (agent/verify.h): damaged blobs are excluded from dedup in the local cache, so the next
// backup stores that data again, and the report says whether the repository's data or the
// backed-up source itself is the broken part. `kura drill` exits non-zero.
#pragma once

#include <string>
#include <vector>

#include "agent/job_config.h"
#include "agent/job_runner.h"
#include "agent/post_queue.h"
#include "engine/db_restore.h"
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
  // When the drill failed: "repository" (blobs of the snapshot are damaged; they were
  // excluded from dedup), "source" (the repository's data is intact, the restored database
  // itself failed its check: it was already broken when it was backed up), or "".
  std::string damaged_part;
  uint64_t damaged_blobs = 0;
};

// Errors (no drill happened): kLocked. Everything else is in the report.
// `keep`: leave the scratch database or directory in place for inspection.
Result<DrillReport> RunDrill(const RunContext& ctx, const JobConfig& job, bool keep);

// Writes the drill into the status file (last_drill, and the drill warning: raised on
// failure, cleared by success) and the log; returns the hooks it calls for ("failure", or
// "clear" when a success ended the warning). Called by RunDrill; exposed for tests.
std::vector<FiredHook> RecordDrillOutcome(const RunContext& ctx, const JobConfig& job, const DrillReport& r);

// "kura_drill_<job>_<YYYYmmddHHMMSS>", lowercase, only [a-z0-9_]. Exposed for tests.
std::string DrillDatabaseName(const std::string& prefix, const std::string& job, int64_t now);

}  // namespace kura
