// MySQL / MariaDB source: mariadb-dump (or mysqldump when mariadb-dump is not installed) of
// one database as plain SQL, consistent through --single-transaction (InnoDB), with
// routines, events and triggers, binary columns as hex and utf8mb4 text. Restore: the
// `mariadb` (or `mysql`) client reads the stream on stdin into a named database, then a
// table and row count check. The password reaches the tools only through a temporary
// option file (0600, --defaults-extra-file, removed afterwards), never argv.
// See docs/sources.md.
#pragma once

#include <memory>
#include <string>

#include "sources/db_common.h"
#include "sources/source.h"

namespace kura {

struct MysqlSourceOptions {
  DbConnection conn;     // host/port (TCP) or socket; user; password or password_file
  std::string database;  // REQUIRES: non-empty
  // Private directory for the temporary option file. Default: $TMPDIR or /tmp.
  std::string temp_dir;
};

// Stream: "<database>.sql". Thread-compatible.
std::unique_ptr<Source> NewMysqlSource(MysqlSourceOptions options);

std::string MysqlStreamName(const std::string& database);

struct MysqlRestoreTarget {
  DbConnection conn;
  std::string database;  // REQUIRES: non-empty. Created (utf8mb4) when missing.
  // Default: the only "*.sql" stream of the snapshot.
  std::string stream;
  // An existing database with tables is refused unless clean is set; then it is dropped
  // and created again.
  bool clean = false;
  std::string temp_dir;  // as in MysqlSourceOptions
};

// Restores a "*.sql" stream into target.database and counts the rows of every table into
// *report. A database this call created is dropped again when the client fails.
// Errors: kAlreadyExists, kUnauthorized, kNotFound, kRetryable (unreachable), kSourceFailed.
Status RestoreMysql(SnapshotReader& in, const MysqlRestoreTarget& target, RestoreReport* report);

// Classifies mariadb-dump / mariadb / libmariadb error text. Exposed for tests.
FailureCause ExplainMysqlError(const std::string& text, const DbConnection& conn,
                               const std::string& database);

// The contents of a client option file holding `password` ([client] group, quoted and
// escaped so any character survives). Exposed for tests.
std::string MysqlOptionFile(const std::string& password);

}  // namespace kura
