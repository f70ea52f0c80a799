// Restoring snapshots: to a directory, to a stream, or through SnapshotReader to a database
// source's restore. Every file's bytes are checked against the SHA-256 recorded at backup;
// a file that does not match is not left in place under its name.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/progress.h"
#include "kura/status.h"
#include "repo/repository.h"
#include "sources/source.h"
#include "util/io.h"
#include "util/thread_pool.h"

namespace kura {

struct RestoreOptions {
  std::string target_dir;
  // Restore only these paths (and what is under them; their parent directories too). Each
  // must name an entry of the snapshot, or the restore fails before writing anything.
  // Empty: all.
  std::vector<std::string> include;
  // Replace existing files and symbolic links (and a link or file where the snapshot has a
  // directory), and give existing directories the snapshot's mode and times. A directory
  // is never replaced. Default: nothing in the target is changed; what is in the way is
  // reported as a conflict and the rest is restored.
  bool overwrite = false;
  // fsync every restored file before it is renamed into place. Default: false, as restic,
  // borg and tar do: the restore is checked against the backup's SHA-256 either way, and a
  // restore interrupted by a power cut is simply run again.
  bool sync = false;
  size_t threads = 0;
  ProgressSink* progress = nullptr;
  // Called with each file's path once its bytes matched the backup's SHA-256 (the count is
  // RestoreResult::files; a list of a million paths is the caller's to keep or not).
  std::function<void(const std::string& path)> on_verified;
};

// One path that could not be restored. The restore goes on with the others.
struct RestoreProblem {
  enum class Kind {
    kDamaged,   // the repository's data for it is damaged, missing or unreadable
    kConflict,  // something in the target is in the way (kAlreadyExists)
    kFailed,    // writing it into the target failed
  };
  std::string path;  // entry path, or the directory component that blocked it
  Kind kind = Kind::kFailed;
  Status status;
  uint64_t skipped_beneath = 0;  // entries under a blocked directory, not restored either
};

struct RestoreResult {
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t other_entries = 0;
  std::vector<RestoreProblem> problems;

  // Ok when every selected entry was restored. Otherwise the code callers act on: kCorruption
  // when a file was damaged, else the first problem's code (kAlreadyExists for conflicts);
  // the message counts the problems and names the first.
  Status Outcome() const;
};

// Restores the selected entries under options.target_dir. `meta` is the snapshot's head
// (Repository::LoadHead): a version 3 snapshot's entries are streamed from its pages, so
// memory grows with the directories and links restored, not with the files. Paths are resolved beneath
// the target without following any symbolic link (restore_target.h). A damaged file, a
// conflict or a failed write of one path does not stop the others: they are listed in
// RestoreResult::problems. Errors (nothing or only part restored): kNotFound for an include
// that matches nothing, kNoSpace when the target's disk is full, the cache's or the
// target's own errors.
Result<RestoreResult> RestoreToDirectory(Repository& repo, const Snapshot& snapshot, const SnapshotMeta& meta,
                                         const RestoreOptions& options);

// Writes one file entry's bytes to `out` and checks its SHA-256 at the end (kCorruption on
// mismatch: the caller must treat what was written as bad).
Status RestoreEntry(Repository& repo, const SnapshotEntry& entry, ByteWriter& out,
                    ProgressSink* progress = nullptr, uint64_t* bytes_done = nullptr);

// A file entry's bytes as a stream (checked against its SHA-256 at the end), reading ahead
// on `pool`, which must outlive the reader. REQUIRES: the repository's cache is open.
std::unique_ptr<ByteReader> OpenEntryContent(Repository& repo, const SnapshotEntry& entry, ThreadPool& pool);

// A SnapshotReader over a stored snapshot, for database restores: its entries are held in
// memory (a dump has a handful). Errors: the entry pages' (kCorruption).
Result<std::unique_ptr<SnapshotReader>> MakeSnapshotReader(Repository& repo, const Snapshot& snapshot,
                                                           const SnapshotMeta& meta);

}  // namespace kura
