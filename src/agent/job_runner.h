// Running a job once, and sending queued snapshots.
//
// A run: take the job's lock (kLocked when the job is already running) → back up the
// source into the first target (the local repository) → queue the snapshot for every
// other target, and send it at once unless that target sends at night or the run was
// told to defer → apply the first target's retention to the job's snapshots (never to
// snapshots still queued) → update the status file → fire hooks → write the run log.
// A failed backup makes no snapshot and sets the warning on every target of the job.
//
// A send: copy the snapshot from the first target into the target (snapshot_copy.h),
// then remove the queue item; on failure the item stays with a backoff and the target's
// warning is set. A success clears the target's warning and fires the clear hook.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/job_config.h"
#include "agent/run_log.h"
#include "agent/send_queue.h"
#include "engine/progress.h"
#include "kura/status.h"
#include "repo/repository.h"
#include "util/clock.h"

namespace kura {

// What a run or send needs from its caller. Not owned.
struct RunContext {
  const AgentConfig* config = nullptr;  // REQUIRED
  const Clock* clock = nullptr;         // Default: SystemClock()
  RunLog* log = nullptr;                // Default: no log
  ProgressSink* progress = nullptr;
  // Makes the job's source. Default: MakeSource (sources/source_factory.h); tests inject
  // faulty sources here.
  std::function<Result<std::unique_ptr<Source>>(const SourceConfig&)> make_source;
  const Clock& clk() const;
};

struct TargetOutcome {
  std::string target;
  std::string state;     // "written" (first target), "sent", "queued", "failed", "warning"
                         // (first target: saved, but retention failed)
  std::string snapshot;  // ID in that target when written or sent
  Status status;         // the failure, for "failed"
};

struct JobRunReport {
  std::string job;
  SnapshotKind kind = SnapshotKind::kManual;
  Status status;         // the backup's result
  std::string snapshot;  // in the first target; "" when the backup failed
  uint64_t files = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_stored = 0;
  double seconds = 0;
  std::vector<TargetOutcome> targets;
  std::vector<std::string> notes;  // retention results, hook failures, for people
  // What the backup skipped or stored with doubt (vanished, special or changing files,
  // unreadable ones with skip_unreadable): the snapshot was made; `kura run` exits 11.
  std::vector<SnapshotWarning> warnings;
  bool ok() const;  // the backup and every immediate send succeeded
};

// Errors (no run happened): kLocked, kInvalidArgument (the job does not allow `kind`).
// Everything else is in the report (and in the status file). Never throws: an exception
// from anything the run calls becomes a failed run (kInternal) that is logged, written to
// the status file (raising the warning) and fires the failure hooks, like any failure —
// the one place kura catches std::exception (CONTRIBUTING.md, "Error model").
Result<JobRunReport> RunJob(const RunContext& ctx, const JobConfig& job, SnapshotKind kind, bool defer_send);

struct SendReport {
  SendItem item;
  Status status;
  std::string target_snapshot;
  bool already_present = false;
  bool dropped = false;  // removed without sending: the snapshot no longer exists
};

// Sends one queue item now (whatever its next_attempt). Errors (nothing attempted):
// kLocked (the job is running), kNotFound (no such item, or its job/target is no longer
// configured). Never throws (an exception becomes a kInternal error, logged).
Result<SendReport> SendQueued(const RunContext& ctx, const std::string& item_id);

// Opens a target's repository with its password_file or key_file.
Result<std::unique_ptr<Repository>> OpenTarget(const TargetConfig& target);

}  // namespace kura
