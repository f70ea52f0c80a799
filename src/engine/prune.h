// Removing old generations from a repository this client owns (a local repository; on the
// vault, retention and garbage collection are the server's, decision 5).
//
// Forget deletes snapshot objects that the retention policy does not keep. Prune deletes
// packs no remaining snapshot references and repacks packs that are mostly unreferenced.
// Both hold the repository's exclusive lock, so no backup runs meanwhile; a prune killed at
// any point leaves every kept snapshot restorable (new packs are stored before old ones are
// deleted).
//
// Prune does not rely on the lock alone (a lock file removed by hand, SMB where flock does
// not exclude): it never deletes or repacks a pack younger than its grace period, so a
// running backup's packs survive, and the backup checks its data is still stored before
// and after it commits (agent/backup.h). Before every deletion it re-reads the snapshot
// list (a snapshot committed meanwhile keeps its data) and checks through the index
// cache that every blob stored before is still stored afterwards; otherwise it deletes
// nothing. See docs/format.md, "Prune".
#pragma once

#include <map>
#include <string>
#include <vector>

#include "kura/status.h"
#include "repo/repository.h"
#include "repo/retention.h"
#include "util/clock.h"

namespace kura {

struct ForgetResult {
  std::vector<Snapshot> kept;
  std::vector<Snapshot> forgotten;
  std::map<std::string, std::string> reason;
  std::vector<std::string> moved_aside;  // damaged snapshot objects (full IDs)
};

Result<ForgetResult> Forget(Repository& repo, const RetentionPolicy& policy, bool dry_run,
                            int lock_timeout_ms = 60000);

// Forgets exactly these snapshots (IDs or unique prefixes). A damaged snapshot object
// (listed by ListSnapshots' `damaged`) is moved aside into the store's damaged area
// (docs/objstore.md), not deleted, and reported in `moved_aside`.
Result<ForgetResult> ForgetSnapshots(Repository& repo, const std::vector<std::string>& refs, bool dry_run,
                                     int lock_timeout_ms = 60000);

// Packs (and temporary files) younger than this are never deleted: a backup may still be
// writing them. Default: one hour.
inline constexpr int64_t kDefaultPruneGraceSeconds = 3600;

struct PruneOptions {
  bool dry_run = false;
  // Age, by the store's time of the object (ObjectInfo::mtime), below which a pack is
  // neither deleted nor repacked. 0 switches the protection off: only when no backup can
  // be running. Default: kDefaultPruneGraceSeconds.
  int64_t grace_seconds = kDefaultPruneGraceSeconds;
  const Clock* clock = nullptr;  // Default: SystemClock()
  int lock_timeout_ms = 60000;
};

struct PruneResult {
  uint64_t packs_deleted = 0;
  uint64_t packs_repacked = 0;
  uint64_t packs_written = 0;
  uint64_t bytes_freed = 0;
  uint64_t bytes_kept = 0;
  uint64_t packs_young = 0;      // would have been deleted or repacked, but within the grace
  uint64_t duplicate_blobs = 0;  // extra copies of a blob (two backups at once) reclaimed
  // Packs whose header could not be read: never deleted, reported (the data they hold
  // counts as missing for the snapshots that need it).
  std::vector<std::pair<std::string, std::string>> unreadable_packs;
  // Damaged snapshot objects prune went past (their data is kept where their blob list
  // can still be read). `kura forget ID` moves them aside.
  std::vector<std::string> damaged_snapshots;
  // Not OK when repacking stopped (a full disk): what was deleted before stays freed, the
  // packs not yet repacked are untouched, and the repository is intact.
  Status repack_status;
  // Not OK when stale temporary files could not all be removed (prune went on).
  Status temp_cleanup_status;
};

// Packs whose unreferenced bytes exceed this share are rewritten. Default: 25 %.
inline constexpr double kRepackThreshold = 0.25;

// Order: wholly unused packs are deleted first (so a full disk gets space back at once),
// then partly used packs are repacked, each old pack deleted as soon as its blobs are in a
// stored new pack. Extra copies of a blob count as unused. Stale temporary files older
// than the grace are removed.
//
// Errors (nothing deleted): a snapshot object or the index cache cannot be read (kIOError,
// ...), or the check before a deletion finds a blob that would no longer be stored
// (kInternal). Damaged packs (torn writes) are deleted only when every referenced blob is
// held by an intact pack.
Result<PruneResult> Prune(Repository& repo, const PruneOptions& options);

// Prune with the default grace and the system clock; a stopped repack is an error here.
Result<PruneResult> Prune(Repository& repo, bool dry_run, int lock_timeout_ms = 60000);

}  // namespace kura
