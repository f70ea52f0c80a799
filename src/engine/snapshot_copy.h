// Snapshots as a job sees them, and sending one to another target.
//
// Every snapshot a job makes carries the tag "kura-job:<job>", so several jobs may share a
// repository and retention, drills and sends only ever touch the job's own snapshots.
// A sent copy also carries "kura-copy-of:<source snapshot ID>", which makes a repeated
// send (after a crash between the target's commit and the queue update) a no-op.
#pragma once

#include <string>
#include <vector>

#include "engine/progress.h"
#include "kura/status.h"
#include "repo/repository.h"
#include "repo/retention.h"
#include "util/clock.h"

namespace kura {

std::string JobTag(const std::string& job);
std::string CopyOfTag(const std::string& snapshot_id);

// The job's snapshots in `repo`, oldest first (reads every snapshot's sealed metadata).
Result<std::vector<Snapshot>> JobSnapshots(Repository& repo, const std::string& job);

// The ID of a snapshot in `repo` tagged as a copy of `source_id`, or "" when none.
Result<std::string> FindCopy(Repository& repo, const std::string& source_id);

struct CopyResult {
  std::string snapshot_id;  // in the target
  bool already_present = false;
  uint64_t bytes = 0;         // bytes of the streams and files
  uint64_t bytes_stored = 0;  // new bytes the target stored
};

// Sends snapshot `snapshot_id` of `from` to `to`: reads every entry back (checking the
// SHA-256 recorded at backup) and backs it up into `to` with the same kind, host, source
// and tags plus CopyOfTag(). Dedup makes a re-send after an interrupted one cheap.
// A failure leaves no snapshot in `to`.
Result<CopyResult> CopySnapshot(Repository& from, const std::string& snapshot_id, Repository& to,
                                const Clock& clock, ProgressSink* progress = nullptr);

}  // namespace kura
