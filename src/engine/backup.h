// The backup pipeline: a source's streams are chunked on the calling thread, then IDs,
// dedup lookups, compression and encryption run on worker threads, which also seal packs
// and store them; the snapshot is written last. Queues are bounded, so memory does not grow
// with the size of the backup.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/progress.h"
#include "kura/status.h"
#include "repo/repository.h"
#include "sources/source.h"
#include "util/clock.h"

namespace kura {

struct BackupOptions {
  SnapshotKind kind = SnapshotKind::kManual;
  std::vector<std::string> tags;
  std::string host;  // Default: this machine's hostname
  // zstd level; 0 disables compression. Default: 1 (docs/adr/0003: as small as level 3 on
  // dumps, 1.7x faster on high-entropy ones).
  int zstd_level = 1;
  size_t threads = 0;  // 0: one per core
  ProgressSink* progress = nullptr;
  const Clock* clock = nullptr;  // Default: SystemClock()
  int lock_timeout_ms = 60000;
  // A path the source cannot read fails the backup (no snapshot) unless this is set; then
  // it is skipped and recorded as a warning in the snapshot. Default: false.
  bool skip_unreadable = false;
  // Reuse the data of files whose change key is unchanged since the parent snapshot: the
  // newest snapshot from the same host and source. Default: true.
  bool use_parent = true;
};

struct BackupStats {
  uint64_t files = 0;
  uint64_t other_entries = 0;
  uint64_t bytes_read = 0;
  uint64_t chunks = 0;
  uint64_t chunks_new = 0;
  uint64_t bytes_new = 0;     // plaintext bytes of new chunks
  uint64_t bytes_stored = 0;  // bytes of new packs
  uint64_t packs_written = 0;
  uint64_t files_unchanged = 0;  // reused from the parent snapshot without reading
};

struct BackupResult {
  std::string snapshot_id;
  SnapshotPlain plain;
  BackupStats stats;
  std::vector<SnapshotWarning> warnings;
  std::string parent_id;  // empty when there was none
  double seconds = 0;
};

// Runs `source` into `repo` and writes a snapshot. On any error nothing is recorded as a
// snapshot: packs already stored stay unreferenced until `prune` (and are reused by the next
// backup), older snapshots are untouched. The source is told (SnapshotWriter::OwnDirectories)
// about the repository directory and the cache root, so a files walk skips them with a note.
Result<BackupResult> RunBackup(Repository& repo, Source& source, const BackupOptions& options);

// A source that stores one stream read from a file descriptor (kura backup --stdin).
// `name` is checked with ValidateStreamName before anything is read; an empty stream fails
// with kSourceFailed (no snapshot) unless `allow_empty` (docs/sources.md).
std::unique_ptr<Source> MakeStreamSource(int fd, std::string name, std::string kind = "stdin",
                                         bool allow_empty = false);

std::string LocalHostname();

}  // namespace kura
