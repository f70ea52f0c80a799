// Restoring snapshots: to a directory, to a stream, or through SnapshotReader to a database
// source's restore. Every file's bytes are checked against the SHA-256 recorded at backup;
// a file that does not match is not left in place under its name.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/progress.h"
#include "kura/status.h"
#include "repo/repository.h"
#include "sources/source.h"
#include "util/io.h"

namespace kura {

struct RestoreOptions {
  std::string target_dir;
  std::vector<std::string> include;  // restore only these paths (and what is under them); empty: all
  bool overwrite = false;            // replace existing files; Default: refuse
  // fsync every restored file before it is renamed into place. Default: false, as restic,
  // borg and tar do: the restore is checked against the backup's SHA-256 either way, and a
  // restore interrupted by a power cut is simply run again.
  bool sync = false;
  size_t threads = 0;
  ProgressSink* progress = nullptr;
};

struct RestoreResult {
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t other_entries = 0;
  std::vector<std::string> verified;  // paths whose SHA-256 matched the backup
};

Result<RestoreResult> RestoreToDirectory(Repository& repo, const Snapshot& snapshot, const SnapshotMeta& meta,
                                         const RestoreOptions& options);

// Writes one file entry's bytes to `out` and checks its SHA-256 at the end (kCorruption on
// mismatch: the caller must treat what was written as bad).
Status RestoreEntry(Repository& repo, const Snapshot& snapshot, const SnapshotEntry& entry, ByteWriter& out,
                    ProgressSink* progress = nullptr, uint64_t* bytes_done = nullptr);

// A SnapshotReader over a stored snapshot, for database restores.
std::unique_ptr<SnapshotReader> MakeSnapshotReader(Repository& repo, Snapshot snapshot, SnapshotMeta meta);

}  // namespace kura
