// A source produces what a snapshot holds: a tree of files (the files source) or one or more
// named streams (database dumps, a command's stdout). The backup engine passes a
// SnapshotWriter; the source writes into it. If Backup() returns a non-OK Status the engine
// discards everything written and no snapshot is made (a failed or truncated dump never
// becomes a snapshot). Sources are described in docs/sources.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kura/entry.h"
#include "kura/status.h"
#include "util/io.h"

namespace kura {

// A directory kura itself writes (the repository, the cache), named by identity so a walk
// recognises it under any path (a bind mount, a symlinked parent, another spelling).
struct OwnDirectory {
  uint64_t dev = 0;
  uint64_t ino = 0;
  std::string path;  // for the note
  std::string what;  // "repository" | "cache"
};

// Provided by the backup engine. Not thread-safe: one source writes at a time.
class SnapshotWriter {
 public:
  virtual ~SnapshotWriter() = default;
  // Reads `content` to EOF, chunks, dedups, stores it and records the entry with its size
  // and SHA-256. An error from `content` aborts the snapshot.
  virtual Status AddFile(const EntryMeta& meta, ByteReader& content) = 0;
  // Directories and symlinks carry no content.
  virtual Status AddEntry(const EntryMeta& meta) = 0;
  // A path that could not be read is recorded as a warning; the caller decides whether
  // it is fatal. Returns the Status to propagate (OK to continue).
  virtual Status Warn(const std::string& path, const Status& problem) = 0;
  // What every office tree has and a backup must survive: a file that vanished during the
  // walk, a FIFO, socket or device, a file that kept changing while it was read, kura's own
  // repository inside the tree. Always recorded as a warning (the run ends "done with
  // warnings", exit 11), never fatal, whatever skip_unreadable says.
  virtual Status Note(const std::string& path, const Status& problem) { return Warn(path, problem); }
  // Directories a walk must not descend into (kura's repository and cache). Default: none.
  virtual std::vector<OwnDirectory> OwnDirectories() const { return {}; }
};

// Provided by the restore engine: reads one stream of a snapshot back.
class SnapshotReader {
 public:
  virtual ~SnapshotReader() = default;
  virtual std::vector<EntryMeta> Entries() const = 0;
  // Opens a file entry's content. The SHA-256 recorded at backup is checked at EOF: a
  // mismatch makes the final Read() fail with kCorruption.
  virtual Result<std::unique_ptr<ByteReader>> Open(const std::string& path) = 0;
};

// What a database restore did and what the check after it found. Filled by the Restore*
// functions of each database kind (postgresql.h, mysql.h, sqlite.h, sqlserver.h); the CLI
// prints it for the operator, who compares it with the customer's expectations.
struct TableCount {
  std::string table;  // "schema.table" for PostgreSQL and SQL Server, "table" otherwise
  int64_t rows = 0;
};
struct RestoreReport {
  std::string target;              // the database (or file) restored into
  std::string stream;              // the snapshot entry it was restored from
  std::vector<TableCount> tables;  // every ordinary table, sorted by name
  bool integrity_checked = false;  // a consistency check ran (SQLite integrity_check, ...)
  std::vector<std::string> notes;  // other findings for the operator, in the user's language
  int64_t TotalRows() const {
    int64_t n = 0;
    for (const auto& t : tables) n += t.rows;
    return n;
  }
};

class Source {
 public:
  virtual ~Source() = default;
  virtual std::string Kind() const = 0;  // "files", "command", "postgresql", "mysql", "sqlite", "sqlserver"
  virtual std::string Name() const = 0;  // what is backed up: a database name, a path list, ...
  virtual Status Backup(SnapshotWriter& out) = 0;
};

}  // namespace kura
