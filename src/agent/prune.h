// Removing old generations from a repository this client owns (a local repository; on the
// vault, retention and garbage collection are the server's, decision 5).
//
// Forget deletes snapshot objects that the retention policy does not keep. Prune deletes
// packs no remaining snapshot references and repacks packs that are mostly unreferenced.
// Both hold the repository's exclusive lock, so no backup runs meanwhile; a prune killed at
// any point leaves every kept snapshot restorable (new packs are stored before old ones are
// deleted).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "kura/status.h"
#include "repo/repository.h"
#include "repo/retention.h"

namespace kura {

struct ForgetResult {
  std::vector<Snapshot> kept;
  std::vector<Snapshot> forgotten;
  std::map<std::string, std::string> reason;
};

Result<ForgetResult> Forget(Repository& repo, const RetentionPolicy& policy, bool dry_run, int lock_timeout_ms = 60000);

// Forgets exactly these snapshots (IDs or unique prefixes).
Result<ForgetResult> ForgetSnapshots(Repository& repo, const std::vector<std::string>& refs, bool dry_run,
                                     int lock_timeout_ms = 60000);

struct PruneResult {
  uint64_t packs_deleted = 0;
  uint64_t packs_repacked = 0;
  uint64_t packs_written = 0;
  uint64_t bytes_freed = 0;
  uint64_t bytes_kept = 0;
};

// Packs whose unreferenced bytes exceed this share are rewritten. Default: 25 %.
inline constexpr double kRepackThreshold = 0.25;

// Refuses (kCorruption) when a snapshot cannot be read: its references would be unknown.
// Damaged packs (torn writes) are deleted only when every referenced blob is held by an
// intact pack.
Result<PruneResult> Prune(Repository& repo, bool dry_run, int lock_timeout_ms = 60000);

}  // namespace kura
