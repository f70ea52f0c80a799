#include "vault/sql.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>

#include "util/fs.h"
#include "util/i18n.h"

namespace kura::vault {

Status SqlDb::LastError(int rc) const {
  const char* detail = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Locked(Tr("カタログ {} は他のプロセスが使用中です。しばらく待ってからやり直してください",
                               "the catalog {} is busy in another process; wait and try again", path_));
    case SQLITE_FULL:
      return Status::NoSpace(Tr("カタログ {} のディスクがいっぱいです。空きを作ってからやり直してください",
                                "the disk of the catalog {} is full; free space and try again", path_));
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Status::AlreadyExists(Tr("カタログ {} に同じものがすでにあります ({})",
                                        "the catalog {} already holds that ({})", path_, detail));
      }
      return Status::InvalidArgument(Tr("カタログ {} の整合性の条件に反します ({})",
                                        "the change breaks a rule of the catalog {} ({})", path_, detail));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(Tr("カタログ {} が壊れています ({})。バックアップから戻してください",
                                   "the catalog {} is damaged ({}); restore it from a backup", path_,
                                   detail));
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      return Status::PermissionDenied(Tr("カタログ {} を開けません ({})。権限と場所を確認してください",
                                         "cannot open the catalog {} ({}); check its permissions and path",
                                         path_, detail));
    default:
      return Status::IOError(
          Tr("カタログ {} の操作に失敗しました ({})", "the catalog {} failed ({})", path_, detail));
  }
}

Result<std::unique_ptr<SqlDb>> SqlDb::OpenSqlite(const std::string& path, int busy_timeout_ms) {
  // SQLite creates its -wal and -shm files with the main file's mode: make that 0600 first.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return ErrnoStatus(errno, L("カタログを開く", "open the catalog"), path);
  ::close(fd);
  std::unique_ptr<SqlDb> db(new SqlDb());
  db->path_ = path;
  int rc = sqlite3_open_v2(path.c_str(), &db->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, nullptr);
  if (rc != SQLITE_OK) return db->LastError(rc);
  sqlite3_extended_result_codes(db->db_, 1);
  sqlite3_busy_timeout(db->db_, busy_timeout_ms);
  // journal_mode answers with a row; check it really is WAL (a read-only or odd file
  // system can refuse it, and several processes need it).
  KURA_ASSIGN_OR_RETURN(SqlStmt wal, db->Prepare("PRAGMA journal_mode=WAL"));
  KURA_ASSIGN_OR_RETURN(bool row, wal.Step());
  if (!row || wal.Text(0) != "wal") {
    return Status::IOError(Tr("カタログ {} を WAL モードにできません。ローカルのディスクに置いてください",
                              "the catalog {} cannot use WAL mode; keep it on a local disk", path));
  }
  KURA_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous=FULL"));
  KURA_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  return db;
}

SqlDb::~SqlDb() {
  if (db_) sqlite3_close_v2(db_);
}

Result<SqlStmt> SqlDb::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return LastError(rc);
  return SqlStmt(this, stmt);
}

Status SqlDb::Exec(std::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? Status::Ok() : LastError(rc);
}

Result<bool> SqlDb::TableExists(std::string_view name) {
  KURA_ASSIGN_OR_RETURN(SqlStmt q, Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1"));
  q.Bind(1, name);
  return q.Step();
}

int64_t SqlDb::Changes() const {
  return sqlite3_changes64(db_);
}

SqlStmt::SqlStmt(SqlStmt&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), bind_error_(std::move(other.bind_error_)) {
  other.stmt_ = nullptr;
}

SqlStmt::~SqlStmt() {
  if (stmt_) sqlite3_finalize(stmt_);
}

static void Keep(Status& first, const SqlDb& db, int rc) {
  if (rc != SQLITE_OK && first.ok()) first = db.LastError(rc);
}

SqlStmt& SqlStmt::Bind(int index, int64_t value) {
  Keep(bind_error_, *db_, sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

SqlStmt& SqlStmt::Bind(int index, std::string_view text) {
  Keep(bind_error_, *db_,
       sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

SqlStmt& SqlStmt::BindBlob(int index, ByteView blob) {
  // A zero-length blob must still be a blob, not NULL.
  static const uint8_t kEmpty = 0;
  Keep(
      bind_error_, *db_,
      sqlite3_bind_blob64(stmt_, index, blob.empty() ? &kEmpty : blob.data(), blob.size(), SQLITE_TRANSIENT));
  return *this;
}

SqlStmt& SqlStmt::BindNull(int index) {
  Keep(bind_error_, *db_, sqlite3_bind_null(stmt_, index));
  return *this;
}

Result<bool> SqlStmt::Step() {
  if (!bind_error_.ok()) return bind_error_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->LastError(rc);
}

Status SqlStmt::Run() {
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

void SqlStmt::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = Status::Ok();
}

bool SqlStmt::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t SqlStmt::Int(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string SqlStmt::Text(int column) const {
  const unsigned char* p = sqlite3_column_text(stmt_, column);
  if (!p) return {};
  return {reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, column))};
}

Bytes SqlStmt::Blob(int column) const {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, column));
  if (!p) return {};
  return {p, p + sqlite3_column_bytes(stmt_, column)};
}

std::optional<int64_t> SqlStmt::OptInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

std::optional<std::string> SqlStmt::OptText(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Text(column);
}

Result<SqlTxn> SqlTxn::Begin(SqlDb& db, Mode mode) {
  KURA_RETURN_IF_ERROR(db.Exec(mode == Mode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN"));
  return SqlTxn(&db);
}

SqlTxn::~SqlTxn() {
  if (db_) (void)db_->Exec("ROLLBACK");
}

Status SqlTxn::Commit() {
  SqlDb* db = db_;
  db_ = nullptr;
  Status st = db->Exec("COMMIT");
  if (!st.ok()) (void)db->Exec("ROLLBACK");
  return st;
}

}  // namespace kura::vault
