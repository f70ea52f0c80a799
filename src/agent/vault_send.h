// A job's send to a vault target: the snapshot goes up with SendSnapshot (packs unchanged,
// docs/adr/0006) and the run is reported (docs/vault-api.md §4.6) with the job's schedule,
// so the vault's missed-backup alarm knows when to expect the next one.
#pragma once

#include <string>

#include "agent/job_config.h"
#include "engine/progress.h"
#include "engine/snapshot_copy.h"
#include "kura/status.h"
#include "repo/repository.h"
#include "util/clock.h"

namespace kura {

// Sends `snapshot` of `source` (the job's first target) to the vault `target` and reports
// the result to it; a failed send is reported too (best effort, one try). CopyResult's
// snapshot_id is the same ID (the vault keeps the object unchanged); already_present
// when the vault had committed it before; bytes the pack bytes uploaded.
Result<CopyResult> SendToVault(const AgentConfig& config, const JobConfig& job, const TargetConfig& target,
                               Repository& source, const std::string& snapshot, SnapshotKind kind,
                               const Clock& clock, ProgressSink* progress = nullptr);

// Reports a failed run of `job` (its backup failed, nothing to send) to each vault target,
// best effort: one try each, errors ignored (the site's status file has the failure).
void ReportFailureToVaults(const AgentConfig& config, const JobConfig& job, Repository* source,
                           SnapshotKind kind, const std::string& message, int64_t started,
                           const Clock& clock);

}  // namespace kura
