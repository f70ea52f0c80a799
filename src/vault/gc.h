// Garbage collection in kura-vault (docs/vault-gc-scrub.md §1): mark and sweep
// by reference, never by file times, so the same code works on an object store without
// them (S3 next).
//
// Mark: every blob a snapshot lists that is not quarantined (the snapshots' plaintext blob
// lists, read without a key). Sweep: a stored pack none of whose blobs is marked is
// quarantined (blobs/missing then answers its blobs missing, so an agent uploads it again,
// which revives it); a quarantined pack that is marked again is revived. Quarantined packs
// and snapshots older than the grace are deleted: an intent row, the file, the rows.
//
// Never touched: a repository whose upload lease is live (an upload or commit in the last
// lease seconds) and one for which `deletion_blocked` says so (a hold, a frozen clock).
// A repository whose marking is incomplete (a live snapshot that cannot be read) is left
// alone too: an unread reference must not look like no reference.
//
// Thread-safety: one run at a time per vault is the caller's rule (two runs are safe, the
// catalog's transactions decide, but do double work).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kura/status.h"
#include "util/clock.h"
#include "vault/audit.h"
#include "vault/catalog.h"

namespace kura::vault {

struct GcOptions {
  // Quarantined objects older than this are deleted. Default: 7 days ([gc] grace_days).
  int64_t grace_days = 7;
  // An upload or commit protects its repository this long. Default: 6 h
  // ([gc] upload_lease_seconds).
  int64_t upload_lease_seconds = 21600;
  // Report what would happen; change nothing.
  bool dry_run = false;
  // True: change nothing of this repository (site on hold, clock frozen). May be empty.
  std::function<bool(int64_t repository)> deletion_blocked;
  // True: stop before the next repository (kura-vault serve stopping). May be empty.
  std::function<bool()> stop;
};

// The guards of docs/retention.md for GcOptions::deletion_blocked: a site on hold and a
// frozen clock (Catalog::DeletionBlocked). When the catalog cannot say, the repository is
// blocked: deleting nothing is the safe answer.
std::function<bool(int64_t repository)> HoldsAndClockGuard(Catalog& catalog);

struct GcTenantReclaim {
  int64_t tenant_id = 0;
  std::string tenant;
  uint64_t pending_reclaim_bytes = 0;  // quarantined, not yet deleted
};

struct GcReport {
  uint64_t repositories = 0;
  uint64_t repositories_leased = 0;      // skipped: upload in progress
  uint64_t repositories_blocked = 0;     // skipped: deletion_blocked
  uint64_t repositories_unreadable = 0;  // skipped: a live snapshot could not be read
  uint64_t packs_quarantined = 0;
  uint64_t packs_revived = 0;
  uint64_t packs_deleted = 0;
  uint64_t snapshots_deleted = 0;
  uint64_t bytes_reclaimed = 0;
  uint64_t interrupted_deletions_finished = 0;  // intents a killed run left
  std::vector<GcTenantReclaim> pending;         // after this run (dry run: as it is now)
  std::vector<std::string> problems;            // one line each, for the operator
};

// One full run over every bound repository of the vault. `objects_dir` holds each
// repository's area objects/<repo_id>/; `clock` is the catalog's (the grace is counted on
// it). Interrupted deletions of an earlier run are finished first. Errors: the catalog's;
// a problem with one repository's objects is reported in `problems` and the run goes on.
Result<GcReport> RunGc(Catalog& catalog, const std::string& objects_dir, const Clock& clock,
                       const GcOptions& options, const AuditActor& actor);

}  // namespace kura::vault
