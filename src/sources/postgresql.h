// PostgreSQL source: pg_dump of one database in the custom format, uncompressed (kura
// compresses after deduplication; a compressed dump would defeat deduplication), or
// pg_dumpall of the whole cluster as SQL. Restore: pg_restore into a named database, then a
// table and row count check. The password reaches the tools only through PGPASSWORD or a
// passfile (PGPASSFILE), never argv. See docs/sources.md.
#pragma once

#include <memory>
#include <string>

#include "sources/db_common.h"
#include "sources/source.h"

namespace kura {

struct PostgresSourceOptions {
  DbConnection conn;
  std::string database;  // REQUIRES: set unless `cluster`
  // Dump every database, roles and tablespaces with pg_dumpall into stream "cluster.sql".
  bool cluster = false;
  // The database pg_dumpall connects to first. Default: pg_dumpall's ("postgres").
  std::string maintenance_db;
};

// Streams: "<database>.pgdump" (pg_dump --format=custom --compress=0), or "cluster.sql".
// Thread-compatible; Backup() runs one pg_dump at a time.
std::unique_ptr<Source> NewPostgresSource(PostgresSourceOptions options);

// The stream name a database's dump is stored under ("/" replaced by "_").
std::string PostgresStreamName(const std::string& database);

struct PgRestoreTarget {
  DbConnection conn;
  std::string database;  // REQUIRES: non-empty. Created when missing.
  // The snapshot stream to restore. Default: the only "*.pgdump" stream of the snapshot.
  std::string stream;
  // An existing non-empty database is refused unless clean is set; then it is dropped
  // (WITH (FORCE): connected sessions are ended) and created again.
  bool clean = false;
  // pg_restore --no-owner: objects are owned by conn.user instead of their original
  // owners (for a server where those roles do not exist).
  bool no_owner = false;
  // Encoding for CREATE DATABASE. Default: the cluster's default (template0).
  std::string encoding;
  std::string maintenance_db = "postgres";  // where CREATE/DROP DATABASE is issued
};

// Restores a "*.pgdump" stream with pg_restore (reading stdin, --single-transaction,
// --exit-on-error) into target.database, then counts the rows of every table into
// *report. A failed pg_restore leaves no half-restored database: a database this call
// created is dropped again. Errors: kAlreadyExists (non-empty target without clean),
// kUnauthorized, kNotFound, kRetryable (server unreachable), kSourceFailed (pg_restore).
Status RestorePostgres(SnapshotReader& in, const PgRestoreTarget& target, RestoreReport* report);

// Classifies pg_dump / pg_restore / libpq error text (English or Japanese server messages).
// Exposed for tests.
FailureCause ExplainPostgresError(const std::string& text, const DbConnection& conn,
                                  const std::string& database);

}  // namespace kura
