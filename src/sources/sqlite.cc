#include "sources/sqlite.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "sources/db_common.h"
#include "util/fs.h"
#include "util/i18n.h"

namespace kura {

namespace {

class Db {
 public:
  Db() = default;
  ~Db() { Close(); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  sqlite3** out() { return &db_; }
  sqlite3* get() const { return db_; }
  void Close() {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = nullptr;
  }

 private:
  sqlite3* db_ = nullptr;
};

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

Status SqliteError(int rc, sqlite3* db, const std::string& what, const std::string& path) {
  // An error of a backup step is not the source connection's last error: its errmsg then
  // says "not an error", which tells nobody anything.
  std::string detail =
      db != nullptr && sqlite3_errcode(db) != SQLITE_OK ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT) {
    return Status::Corruption(Tr("{} ({}): SQLite データベースではないか、壊れています: {}",
                                 "{} ({}): not an SQLite database, or a damaged one: {}", what, path,
                                 detail));
  }
  return Status::SourceFailed(Tr("{} ({}) に失敗しました: {}", "{} ({}) failed: {}", what, path, detail));
}

// "name" with embedded quotes doubled.
std::string QuoteIdent(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

Result<std::vector<std::string>> Column(sqlite3* db, const std::string& sql, const std::string& path) {
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
  if (rc != SQLITE_OK) return SqliteError(rc, db, "SQL", path);
  std::vector<std::string> out;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(st, 0);
    out.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "");
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return SqliteError(rc, db, "SQL", path);
  return out;
}

// A rollback journal left by a writer that crashed mid-transaction ("hot"): it exists, is
// not empty and starts with the journal magic. (SQLite also requires that no connection
// holds a RESERVED lock; a read-only connection reporting SQLITE_READONLY_ROLLBACK has
// checked that.) See https://www.sqlite.org/fileformat2.html#rollbackjournal.
bool HasJournalHeader(const std::string& db_path) {
  static const uint8_t kMagic[8] = {0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7};
  int fd = ::open((db_path + "-journal").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  uint8_t head[8] = {};
  ssize_t n = ::pread(fd, head, sizeof head, 0);
  ::close(fd);
  return n == static_cast<ssize_t>(sizeof head) && std::memcmp(head, kMagic, sizeof head) == 0;
}

struct FileStamp {
  bool exists = false;
  off_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp Stamp(const std::string& path) {
  struct stat st {};
  FileStamp f;
  if (::stat(path.c_str(), &st) != 0) return f;
  f.exists = true;
  f.size = st.st_size;
  f.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  f.ctime_ns = int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec;
  return f;
}

Status CopyRawFile(const std::string& from, const std::string& to) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return ErrnoStatus(errno, L("読み込み", "read"), from);
  FdReader reader(in, /*owns=*/true, from);
  int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) return ErrnoStatus(errno, L("書き込み", "write"), to);
  FdWriter writer(out, /*owns=*/true, to);
  std::vector<uint8_t> buf(1 << 16);
  for (;;) {
    KURA_ASSIGN_OR_RETURN(size_t n, reader.Read(buf.data(), buf.size()));
    if (n == 0) break;
    KURA_RETURN_IF_ERROR(writer.Write(buf.data(), n));
  }
  return Status::Ok();
}

class SqliteSource : public Source {
 public:
  explicit SqliteSource(SqliteSourceOptions o) : o_(std::move(o)) {}
  std::string Kind() const override { return "sqlite"; }
  std::string Name() const override { return o_.path; }

  // A missing or damaged database file is the source's failure (exit 5): "not found" or
  // "corruption" would point the user at the repository instead.
  Status Backup(SnapshotWriter& out) override {
    Status st = Copy(out);
    if (st.code() == Code::kNotFound || st.code() == Code::kCorruption)
      return Status::SourceFailed(st.message());
    return st;
  }

 private:
  Status Copy(SnapshotWriter& out) {
    struct stat st {};
    if (::stat(o_.path.c_str(), &st) != 0)
      return ErrnoStatus(errno, L("SQLite データベースのオープン", "opening SQLite database"), o_.path);
    KURA_ASSIGN_OR_RETURN(auto tmp, PrivateTempDir::Create(o_.temp_dir));
    std::string copy = tmp->path() + "/" + BaseName(o_.path);
    KURA_RETURN_IF_ERROR(WriteSecretFile(copy, ""));
    Status copied = Copy(copy);
    // SQLITE_READONLY(_ROLLBACK): SQLite found a journal that no connection holds a lock
    // for (a live writer gives SQLITE_BUSY instead) and may not roll it back read-only.
    if (!copied.ok() && (last_step_rc_ & 0xff) == SQLITE_READONLY && HasJournalHeader(o_.path)) {
      copied = CopyRollingBack(copy);
    }
    KURA_RETURN_IF_ERROR(copied);
    KURA_RETURN_IF_ERROR(QuickCheck(copy));
    int fd = ::open(copy.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, L("読み込み", "read"), copy);
    FdReader reader(fd, /*owns=*/true, copy);
    EntryMeta meta = StreamMeta(BaseName(o_.path));
    meta.mtime = st.st_mtime;
    return out.AddFile(meta, reader);
  }

 private:
  Status Copy(const std::string& dest_path) {
    Db src, dest;
    int rc = sqlite3_open_v2(o_.path.c_str(), src.out(), SQLITE_OPEN_READONLY, nullptr);
    if (rc != SQLITE_OK)
      return SqliteError(rc, src.get(), L("SQLite データベースのオープン", "opening SQLite database"),
                         o_.path);
    sqlite3_busy_timeout(src.get(), 1000);
    rc = sqlite3_open_v2(dest_path.c_str(), dest.out(), SQLITE_OPEN_READWRITE, nullptr);
    if (rc != SQLITE_OK) return SqliteError(rc, dest.get(), "sqlite3_open", dest_path);
    sqlite3_backup* b = sqlite3_backup_init(dest.get(), "main", src.get(), "main");
    if (b == nullptr)
      return SqliteError(sqlite3_errcode(dest.get()), dest.get(), "sqlite3_backup_init", o_.path);

    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(0, o_.busy_timeout_ms));
    int pages = std::max(1, o_.pages_per_step);
    int restarts = 0;
    int last_remaining = -1;
    for (;;) {
      rc = sqlite3_backup_step(b, pages);
      if (rc == SQLITE_DONE) break;
      if (rc == SQLITE_OK) {
        int remaining = sqlite3_backup_remaining(b);
        // A write through another connection restarts the copy from page 1.
        if (last_remaining >= 0 && remaining > last_remaining && ++restarts >= o_.max_restarts) pages = -1;
        last_remaining = remaining;
        continue;
      }
      if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      break;
    }
    sqlite3_backup_finish(b);
    last_step_rc_ = rc;
    if (rc != SQLITE_DONE) {
      if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        return Status::SourceFailed(
            Tr("SQLite データベース {} が {} ミリ秒以上ロックされたままのため、コピーできませんでした",
               "SQLite database {} stayed locked for more than {} ms; no copy was made", o_.path,
               o_.busy_timeout_ms));
      }
      return SqliteError(rc, src.get(), L("SQLite データベースのコピー", "copying SQLite database"), o_.path);
    }
    dest.Close();
    return Status::Ok();
  }

  // The source has a hot rollback journal (a writer crashed mid-transaction), which a
  // read-only connection may not roll back (SQLITE_READONLY_ROLLBACK: every backup failed).
  // Rolling it back in the source itself (opening it read-write) is what the application
  // does on its next open, but kura must never write to the database it backs up: another
  // host's writer on a network share may still be mid-transaction (its lock invisible
  // here), and kura may run as another user. So the database file and its journal are
  // copied as they are into the private directory and SQLite rolls the journal back in the
  // copy: the copy is the last committed state, exactly what the application will find.
  // The source is left untouched. An application that starts meanwhile rolls the source
  // back itself: when either file changes (size, mtime, ctime) or the journal disappears
  // while they are copied, the ordinary copy runs again (the source is no longer hot, and
  // the backup API waits for the recovering writer's lock).
  Status CopyRollingBack(const std::string& dest_path) {
    std::string journal = o_.path + "-journal";
    FileStamp db_before = Stamp(o_.path), journal_before = Stamp(journal);
    ::unlink(dest_path.c_str());
    KURA_RETURN_IF_ERROR(CopyRawFile(o_.path, dest_path));
    Status st = CopyRawFile(journal, dest_path + "-journal");
    if (Stamp(o_.path) != db_before || Stamp(journal) != journal_before) {
      ::unlink((dest_path + "-journal").c_str());
      return Copy(dest_path);
    }
    if (st.ok()) {
      Db db;
      int rc = sqlite3_open_v2(dest_path.c_str(), db.out(), SQLITE_OPEN_READWRITE, nullptr);
      // Reading the schema makes SQLite find the hot journal and roll it back.
      if (rc == SQLITE_OK)
        rc = sqlite3_exec(db.get(), "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr);
      if (rc != SQLITE_OK || PathExists(dest_path + "-journal")) {
        st = SqliteError(rc == SQLITE_OK ? SQLITE_ERROR : rc, db.get(),
                         L("ジャーナルのロールバック", "rolling back the journal"), o_.path);
      }
    }
    if (!st.ok()) {
      return Status::SourceFailed(
          Tr("SQLite データベース {0} には、書き込み中に異常終了したプログラムのロールバックジャーナル "
             "({0}-journal) が残っており、"
             "コピーできませんでした: {1}。アプリケーションでデータベースを一度開いてください "
             "(開くとジャーナルが戻されます)。"
             "ジャーナルファイルは削除しないでください (データベースが壊れます)",
             "SQLite database {0} has a rollback journal ({0}-journal) left by a program that crashed while "
             "writing, "
             "and could not be copied: {1}. Open the database once with its application (that rolls the "
             "journal back). "
             "Do not delete the journal file (that would damage the database)",
             o_.path, st.message()));
    }
    return Status::Ok();
  }

  // The copy is checked before it is stored: a damaged database backed up every night as
  // a success would only be found by a drill, which would then blame the repository.
  // quick_check reads every page (O(N), without the index cross-checks of integrity_check).
  Status QuickCheck(const std::string& copy) {
    Db db;
    int rc = sqlite3_open_v2(copy.c_str(), db.out(), SQLITE_OPEN_READONLY, nullptr);
    if (rc != SQLITE_OK) return SqliteError(rc, db.get(), "sqlite3_open", copy);
    std::vector<std::string> lines;
    sqlite3_stmt* st = nullptr;
    rc = sqlite3_prepare_v2(db.get(), "PRAGMA quick_check", -1, &st, nullptr);
    if (rc == SQLITE_OK) {
      while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char* text = sqlite3_column_text(st, 0);
        lines.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "");
      }
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE && lines.size() == 1 && lines[0] == "ok") return Status::Ok();
    std::string detail;
    for (size_t i = 0; i < lines.size() && i < 3; ++i) detail += (i ? "; " : "") + lines[i];
    if (rc != SQLITE_DONE) detail += (detail.empty() ? "" : "; ") + std::string(sqlite3_errmsg(db.get()));
    return Status::SourceFailed(Tr(
        "バックアップ元の SQLite データベース {} が壊れています (PRAGMA quick_check: "
        "{})。壊れているのは元のデータベース"
        "ファイルで、バックアップの保存先ではありません。壊れた内容で良い世代を置き換えないよう、今回のバック"
        "アップは保存"
        "しませんでした "
        "(これまでの世代はそのまま残っています)"
        "。アプリケーションの開発元に元のデータベースの修復を依頼してください",
        "the source SQLite database {} is damaged (PRAGMA quick_check: {}). The broken part is the source "
        "database "
        "file, not the backup repository. This backup was not stored, so that the damaged copy does not "
        "replace good "
        "generations (the earlier ones are kept). Ask the application's vendor to repair the source database",
        o_.path, detail));
  }

  SqliteSourceOptions o_;
  int last_step_rc_ = SQLITE_OK;  // of the last sqlite3_backup_step
};

}  // namespace

std::unique_ptr<Source> NewSqliteSource(SqliteSourceOptions options) {
  return std::make_unique<SqliteSource>(std::move(options));
}

Status RestoreSqlite(SnapshotReader& in, const SqliteRestoreTarget& target, RestoreReport* report) {
  if (target.path.empty()) {
    return Status::InvalidArgument(std::string(L("復元先のファイル名がありません", "no target file name")));
  }
  KURA_ASSIGN_OR_RETURN(std::string stream, FindStream(in, target.stream, ""));
  if (PathExists(target.path) && !target.force) {
    return Status::AlreadyExists(Tr("{} は既に存在します。上書きするには force を指定してください",
                                    "{} already exists; set force to replace it", target.path));
  }
  KURA_ASSIGN_OR_RETURN(auto content, in.Open(stream));
  std::string tmp = target.path + ".kura-restore-XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) return ErrnoStatus(errno, L("書き込み", "write"), target.path);
  struct Cleanup {
    std::string path;
    bool keep = false;
    ~Cleanup() {
      if (keep) return;
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) ::unlink((path + suffix).c_str());
    }
  } cleanup{tmp};
  ::fchmod(fd, static_cast<mode_t>(target.mode));
  {
    // Closed before SQLite opens the file: closing another descriptor of a file drops
    // SQLite's POSIX locks on it.
    FdWriter writer(fd, /*owns=*/true, tmp);
    std::vector<uint8_t> buf(1 << 16);
    for (;;) {
      KURA_ASSIGN_OR_RETURN(size_t n, content->Read(buf.data(), buf.size()));
      if (n == 0) break;
      KURA_RETURN_IF_ERROR(writer.Write(buf.data(), n));
    }
    if (::fsync(fd) != 0) return ErrnoStatus(errno, L("書き込み", "write"), tmp);
  }

  RestoreReport r;
  r.target = target.path;
  r.stream = stream;
  {
    Db db;
    int rc = sqlite3_open_v2(tmp.c_str(), db.out(), SQLITE_OPEN_READWRITE, nullptr);
    if (rc != SQLITE_OK) return SqliteError(rc, db.get(), "sqlite3_open", target.path);
    auto check = Column(db.get(), "PRAGMA integrity_check", target.path);
    if (!check.ok() || check->size() != 1 || (*check)[0] != "ok") {
      std::string detail = check.ok() ? LastLines([&] {
        std::string s;
        for (const auto& line : *check) s += line + "\n";
        return s;
      }())
                                      : check.status().message();
      return Status::Corruption(Tr("復元した SQLite データベースの整合性チェックに失敗しました ({}): {}",
                                   "the restored SQLite database failed its integrity check ({}): {}",
                                   target.path, detail));
    }
    r.integrity_checked = true;
    KURA_ASSIGN_OR_RETURN(
        auto tables,
        Column(db.get(),
               "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
               "ESCAPE '\\' ORDER BY name",
               target.path));
    for (const auto& t : tables) {
      KURA_ASSIGN_OR_RETURN(auto n, Column(db.get(), "SELECT count(*) FROM " + QuoteIdent(t), target.path));
      r.tables.push_back({t, std::strtoll(n.at(0).c_str(), nullptr, 10)});
    }
  }
  if (target.force) {
    // A stale -wal of the old file would be replayed into the restored one.
    for (const char* suffix : {"-wal", "-shm", "-journal"}) ::unlink((target.path + suffix).c_str());
  }
  if (::rename(tmp.c_str(), target.path.c_str()) != 0)
    return ErrnoStatus(errno, L("書き込み", "write"), target.path);
  cleanup.keep = true;
  KURA_RETURN_IF_ERROR(SyncDir(DirName(target.path)));
  r.notes.push_back(Tr("PRAGMA integrity_check: ok", "PRAGMA integrity_check: ok"));
  if (report != nullptr) *report = std::move(r);
  return Status::Ok();
}

}  // namespace kura
