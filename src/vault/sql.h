// The vault catalog's one door to SQL (docs/vault-catalog.md). Only this file and sql.cc
// know the database engine: everything above speaks in prepared statements with numbered
// parameters (?1, ?2, ...), which SQLite and PostgreSQL (through libpq's $1) both accept,
// and never builds SQL text out of values.
//
// A SqlDb is one connection. It is not thread-safe: the Catalog above serialises its use
// with a mutex. Several connections, in one process or several, may use the same catalog
// file at once (WAL mode, a busy timeout).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kura/status.h"
#include "util/bytes.h"

struct sqlite3;
struct sqlite3_stmt;

namespace kura::vault {

class SqlDb;

// A prepared statement. Parameters are numbered from 1; columns from 0. Binds copy their
// value (SQLITE_TRANSIENT), so arguments may be temporaries.
class SqlStmt {
 public:
  SqlStmt(SqlStmt&& other) noexcept;
  SqlStmt& operator=(SqlStmt&&) = delete;
  SqlStmt(const SqlStmt&) = delete;
  SqlStmt& operator=(const SqlStmt&) = delete;
  ~SqlStmt();

  SqlStmt& Bind(int index, int64_t value);
  SqlStmt& Bind(int index, std::string_view text);
  SqlStmt& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  SqlStmt& Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }
  SqlStmt& BindBlob(int index, ByteView blob);
  SqlStmt& BindNull(int index);
  template <typename T>
  SqlStmt& Bind(int index, const std::optional<T>& value) {
    return value ? Bind(index, *value) : BindNull(index);
  }

  // Runs the statement one step: true when a row is ready, false when it is done.
  // Errors: kLocked when the catalog stayed busy past the timeout, kNoSpace on a full
  // disk, kAlreadyExists for a UNIQUE or PRIMARY KEY conflict, kInvalidArgument for
  // another constraint (CHECK, FOREIGN KEY, NOT NULL), kCorruption for a damaged file,
  // kIOError otherwise.
  Result<bool> Step();
  // Step() until done, for statements without rows.
  Status Run();
  // Makes the statement ready to run again with new bindings (loops over many rows).
  void Reset();

  bool IsNull(int column) const;
  int64_t Int(int column) const;
  std::string Text(int column) const;  // "" for NULL
  Bytes Blob(int column) const;        // empty for NULL
  std::optional<int64_t> OptInt(int column) const;
  std::optional<std::string> OptText(int column) const;

 private:
  friend class SqlDb;
  SqlStmt(SqlDb* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  SqlDb* db_;
  sqlite3_stmt* stmt_;
  Status bind_error_;  // the first failed Bind, reported by Step()
};

class SqlDb {
 public:
  // Opens (creating, with mode 0600) the SQLite file at `path`, in WAL mode with full
  // synchronous commits, foreign keys on and `busy_timeout_ms` of waiting for other
  // writers. Errors name the path.
  static Result<std::unique_ptr<SqlDb>> OpenSqlite(const std::string& path, int busy_timeout_ms);
  ~SqlDb();
  SqlDb(const SqlDb&) = delete;
  SqlDb& operator=(const SqlDb&) = delete;

  // REQUIRES: `sql` is a constant of the program, never text built from values.
  Result<SqlStmt> Prepare(std::string_view sql);
  // Runs constant SQL without parameters (DDL in migrations). Same REQUIRES.
  Status Exec(std::string_view sql);

  // Whether the catalog has a table of that name (the one dialect-specific query:
  // sqlite_master here, information_schema.tables on PostgreSQL).
  Result<bool> TableExists(std::string_view name);

  // Rows changed by the last INSERT/UPDATE/DELETE on this connection.
  int64_t Changes() const;
  const std::string& path() const { return path_; }

  // The Status for the connection's last error, naming the catalog file.
  Status LastError(int rc) const;

 private:
  SqlDb() = default;
  friend class SqlTxn;
  sqlite3* db_ = nullptr;
  std::string path_;
};

// An explicit transaction. Write transactions take the write lock at BEGIN (SQLite's
// BEGIN IMMEDIATE; on PostgreSQL the first statement of each write transaction locks the
// row it changes), so two writers never both read a state that only one may change.
// Destroying an uncommitted transaction rolls it back.
class SqlTxn {
 public:
  enum class Mode { kRead, kWrite };
  static Result<SqlTxn> Begin(SqlDb& db, Mode mode);
  SqlTxn(SqlTxn&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  SqlTxn& operator=(SqlTxn&&) = delete;
  SqlTxn(const SqlTxn&) = delete;
  SqlTxn& operator=(const SqlTxn&) = delete;
  ~SqlTxn();
  Status Commit();

 private:
  explicit SqlTxn(SqlDb* db) : db_(db) {}
  SqlDb* db_;
};

}  // namespace kura::vault
