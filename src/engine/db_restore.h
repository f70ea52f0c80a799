// Restoring a stored snapshot into a database (kura restore --to-database, kura drill),
// with the check each kind's restore makes (table and row counts, SQLite integrity_check).
//
#pragma once

#include <cstdint>
#include <string>

#include "kura/status.h"
#include "repo/repository.h"
#include "sources/db_common.h"
#include "sources/source.h"

namespace kura {

struct DbRestoreTarget {
  std::string kind;  // "postgresql" | "mysql" (alias "mariadb") | "sqlite" | "sqlserver"
  DbConnection conn;
  std::string database;                   // postgresql, mysql, sqlserver: the database to restore into
  std::string path;                       // sqlite: the file to create
  std::string stream;                     // Default: the snapshot's only stream of the kind
  bool replace = false;                   // replace an existing database / file. Default: refuse
  bool no_owner = false;                  // postgresql: pg_restore --no-owner
  std::string maintenance_db;             // postgresql: where CREATE/DROP DATABASE run. Default: postgres
  std::string temp_dir;                   // mysql: private option file directory
  std::string server_backup_dir;          // sqlserver
  std::string local_backup_dir;           // sqlserver
  bool trust_server_certificate = false;  // sqlserver
  std::string data_dir;                   // sqlserver
  std::string log_dir;                    // sqlserver
};

// Restores `snapshot` of `repo` into `target` and fills *report.
// Errors: kInvalidArgument (unknown kind, missing database/path), else the Restore*
// errors of the kind (sources/*.h).
Status RestoreSnapshotToDatabase(Repository& repo, const Snapshot& snapshot, const DbRestoreTarget& target,
                                 RestoreReport* report);

// Drops the database (or removes the file) a drill restored into. Errors name the target.
Status DropRestoredDatabase(const DbRestoreTarget& target);

// Restores every entry of `snapshot` under `dir` (which must not exist yet), each file
// checked against its SHA-256. Returns the number of files and bytes.
struct DirRestoreCounts {
  uint64_t files = 0;
  uint64_t bytes = 0;
};
Result<DirRestoreCounts> RestoreSnapshotToDirectory(Repository& repo, const Snapshot& snapshot,
                                                    const std::string& dir);

}  // namespace kura
