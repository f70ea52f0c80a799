// SQLite source: a consistent copy of a database that may be in use, made with the online
// backup API (sqlite3_backup_*) into a private temporary file (0600), streamed as
// "<basename>" and removed. Restore: the stream is written next to the target file,
// checked with PRAGMA integrity_check, its tables counted, and only then renamed into place.
// See docs/sources.md.
#pragma once

#include <memory>
#include <string>

#include "sources/source.h"

namespace kura {

struct SqliteSourceOptions {
  std::string path;      // REQUIRES: an existing SQLite database file
  std::string temp_dir;  // where the private copy is made. Default: $TMPDIR or /tmp
  // Pages copied per sqlite3_backup_step(). Writers in other connections are only blocked
  // for one step at a time. Default: 256 (1 MiB with 4 KiB pages).
  int pages_per_step = 256;
  // When other connections keep writing, an incremental copy restarts after every write;
  // after this many restarts the rest is copied in one step (which holds a read lock:
  // writers wait in rollback-journal mode and carry on in WAL mode). Default: 3.
  int max_restarts = 3;
  // How long to keep retrying while the database is locked (SQLITE_BUSY / SQLITE_LOCKED)
  // before failing with kSourceFailed. Default: 60 s.
  int busy_timeout_ms = 60000;
};

// Stream: the database file's base name ("care.db"). Thread-compatible.
std::unique_ptr<Source> NewSqliteSource(SqliteSourceOptions options);

struct SqliteRestoreTarget {
  std::string path;    // REQUIRES: the file to create
  std::string stream;  // Default: the snapshot's only file entry
  bool force = false;  // replace an existing file (its -wal and -shm files are removed)
  int mode = 0600;     // permission bits of the restored file
};

// Writes the stream to target.path atomically (temporary file, fsync, rename) after
// PRAGMA integrity_check passed; fills *report with row counts and integrity_checked.
// Errors: kAlreadyExists (target exists, no force), kCorruption (integrity check failed or
// the stream's checksum did not match; the target is then left untouched).
Status RestoreSqlite(SnapshotReader& in, const SqliteRestoreTarget& target, RestoreReport* report);

}  // namespace kura
