// Building sources from configuration. The agent's TOML loader fills a SourceConfig per
// [[source]] table (keys are the field names below); MakeSource checks it and returns the
// Source. RestoreFromConfig restores a database snapshot using the same connection settings.
// Every kind and field is described for operators in docs/sources.md.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kura/status.h"
#include "sources/db_common.h"
#include "sources/source.h"

namespace kura {

struct SourceConfig {
  // REQUIRED. "files", "command", "postgresql", "mysql" (alias "mariadb"), "sqlite",
  // "sqlserver".
  std::string kind;
  // A label for logs and status output. Default: Source::Name().
  std::string name;

  // --- files ---
  std::vector<std::string> paths;    // REQUIRED for files: absolute paths to back up
  std::vector<std::string> exclude;  // fnmatch globs; with '/' against the full path, else the name
  bool one_file_system = false;      // do not cross into other mounted file systems

  // --- command ---
  std::vector<std::string> command;                      // argv, run without a shell; or:
  std::string shell;                                     // a line run with `sh -c` (exactly one of the two)
  std::string stream;                                    // the stream's name. Default: "stdout"
  std::vector<std::pair<std::string, std::string>> env;  // extra environment (may hold secrets)
  std::string cwd;                                       // working directory. Default: kura's
  bool allow_empty = false;                              // accept an empty stdout (else the backup fails)

  // --- postgresql, mysql, sqlserver: connection (sources/db_common.h) ---
  // host: Default local socket (postgresql, mysql) / "localhost" (sqlserver); port: Default
  // the client's (5432 / 3306 / 1433); user: Default the client's, sqlserver empty = Windows
  // authentication (-E); password: prefer password_file, never passed on a command line;
  // pgpassfile, sslmode: postgresql; socket: mysql; client_dir: where pg_dump, mariadb-dump
  // or sqlcmd are (Default: PATH).
  DbConnection conn;

  // --- postgresql, mysql, sqlserver: what to dump ---
  std::string database;        // REQUIRED (postgresql unless cluster)
  bool cluster = false;        // postgresql: pg_dumpall of the whole cluster
  std::string maintenance_db;  // postgresql: database pg_dumpall connects to (Default: postgres)

  // --- sqlite ---
  std::string path;          // REQUIRED for sqlite: the database file
  int pages_per_step = 256;  // pages per sqlite3_backup_step
  int busy_timeout_ms = 60000;

  // --- sqlserver ---
  std::string server_backup_dir;          // where SQL Server writes the .bak (its view of the path)
  std::string local_backup_dir;           // the same directory as kura sees it. Default: server_backup_dir
  bool trust_server_certificate = false;  // sqlcmd -C
  int query_timeout_seconds = 0;          // sqlcmd -t; 0 = no limit

  // --- mysql, sqlite: private temporary files (option file, database copy) ---
  std::string temp_dir;  // Default: $TMPDIR or /tmp
};

// Checks the fields the kind needs and builds the source. Errors: kInvalidArgument naming
// the missing or contradictory field (or the unknown kind).
Result<std::unique_ptr<Source>> MakeSource(const SourceConfig& config);

// How to restore a database snapshot made by a source of `config.kind`.
struct DbRestoreOptions {
  // The database to restore into (postgresql, mysql, sqlserver), or the file to write
  // (sqlite). REQUIRED. Restoring into a new name and comparing is the safe default.
  std::string target;
  std::string stream;  // the snapshot stream. Default: the only one of the kind's suffix
  // Replace an existing non-empty database (postgresql, mysql, sqlserver) or an existing
  // file (sqlite). Default: refuse.
  bool replace = false;
  bool no_owner = false;  // postgresql: pg_restore --no-owner
  std::string data_dir;   // sqlserver: server-side data directory (Default: instance default)
  std::string log_dir;    // sqlserver: server-side log directory (Default: instance default)
};

// Restores with the kind's Restore* function using config's connection settings, and fills
// *report with the checks made. Errors: kUnsupported for files and command sources (their
// restore is a file extraction, done by the restore engine), else the Restore* errors.
Status RestoreFromConfig(SnapshotReader& in, const SourceConfig& config, const DbRestoreOptions& options,
                         RestoreReport* report);

}  // namespace kura
