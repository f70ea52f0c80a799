// The local record of what `kura verify` and `kura drill` found about each snapshot: intact
// (every byte read back and proved) or damaged. Retention reads it so that it never removes
// the last generation found intact while newer ones are known damaged (issue 6 §10).
//
// The record is one JSON file per repository in the client's cache directory:
// `<DefaultCacheRoot()>/<repository id>/integrity.json`, format version 1, specified in
// docs/integrity-record.md. Unlike the index cache it is not rebuilt from the repository:
// deleting it only drops the protection until the next verify --read-data or drill.
//
// Thread-safety: the functions may be called from several processes at once; each update
// is a read-modify-write under an flock on `integrity.lock` beside the file, and the file is
// replaced atomically.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kura/status.h"
#include "util/clock.h"

namespace kura {

class Repository;

inline constexpr int kIntegrityRecordVersion = 1;

enum class IntegrityState { kUnknown, kIntact, kDamaged };

std::string_view IntegrityStateName(IntegrityState state);  // "unknown" | "intact" | "damaged"

struct IntegrityMark {
  IntegrityState state = IntegrityState::kUnknown;
  int64_t checked = 0;  // Unix seconds of the check
  std::string by;       // "verify --read-data", "verify", "drill", ...
  std::string problem;  // for damaged marks: what was found
};

// Snapshot ID (full) -> its latest mark. A newer mark replaces an older one.
using IntegrityMarks = std::map<std::string, IntegrityMark>;

struct IntegrityResult {
  std::string snapshot_id;  // full ID
  IntegrityState state = IntegrityState::kIntact;
  std::string problem;
};

// `<cache root>/<repo_id>/integrity.json`.
std::string IntegrityRecordPath(const std::string& repo_id);

// Reads the record at `path`. A missing file is an empty record.
// Errors: kCorruption (not a valid record: the message names the file and says what to do),
// kUnsupported (written by a newer kura), kIOError/kPermissionDenied.
Result<IntegrityMarks> LoadIntegrityRecord(const std::string& path);
Result<IntegrityMarks> LoadIntegrityRecord(const Repository& repo);

// Adds the results to the record at `path` (creating it). `by` says which check found them.
// A damaged or unreadable-JSON record is replaced by one holding only the new results;
// a record of a newer version is left alone (kUnsupported).
Status RecordIntegrity(const std::string& path, const std::string& repo_id,
                       const std::vector<IntegrityResult>& results, std::string_view by, const Clock& clock);
Status RecordIntegrity(const Repository& repo, const std::vector<IntegrityResult>& results,
                       std::string_view by, const Clock& clock);

// The two calls drill and verify make: every byte of these snapshots was read back and
// proved (intact), or was found missing or corrupt (damaged).
Status RecordVerifiedIntact(const Repository& repo, const std::vector<std::string>& snapshot_ids,
                            std::string_view by, const Clock& clock);
Status RecordDamaged(const Repository& repo, const std::vector<std::string>& snapshot_ids,
                     std::string_view by, std::string_view problem, const Clock& clock);

// Drops marks of snapshots not in `existing` (called after forget, so the record stays small).
Status ForgetIntegrityMarks(const Repository& repo, const std::vector<std::string>& existing);

}  // namespace kura
