#include "repo/index_cache.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>

#include "util/fs.h"
#include "util/hex.h"
#include "util/i18n.h"

namespace kura {

std::string DefaultCacheRoot() {
  if (const char* d = std::getenv("KURA_CACHE_DIR"); d && *d) return d;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return std::string(d) + "/kura";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/kura";
  return "/var/cache/kura";
}

static Status CacheError(sqlite3* db, const std::string& path) {
  return Status::IOError(Tr("キャッシュ {} の操作に失敗しました: {}。キャッシュは削除しても構いません",
                            "cache {} failed: {}; the cache may be deleted safely", path,
                            db ? sqlite3_errmsg(db) : "open failed"));
}

// How an open that failed goes on. The cache is disposable, so a damaged file is deleted
// and made again; but a file another user (a second kura, or a second repository handle
// in this process) is creating or migrating at this moment is only busy, and deleting it
// would break that user's next statement with "disk I/O error".
enum class OpenFailure { kDamaged, kBusy, kOther };

static OpenFailure Classify(sqlite3* db) {
  switch (db ? sqlite3_errcode(db) & 0xff : SQLITE_CANTOPEN) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return OpenFailure::kDamaged;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_SCHEMA:
      return OpenFailure::kBusy;
    default:
      return OpenFailure::kOther;
  }
}

Status IndexCache::OpenOnce() {
  int rc = sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) return CacheError(db_, path_);
  sqlite3_busy_timeout(db_, 10000);
  KURA_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
  // The schema is checked, dropped and made in one write transaction, so two openers of a
  // new file cannot drop the tables the other has just made.
  KURA_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  KURA_RETURN_IF_ERROR(MigrateSchema());
  KURA_RETURN_IF_ERROR(
      Exec("CREATE TABLE IF NOT EXISTS packs(name TEXT PRIMARY KEY, size INTEGER NOT NULL) WITHOUT ROWID;"
           "CREATE TABLE IF NOT EXISTS blobs(id BLOB NOT NULL, pack TEXT NOT NULL, offset INTEGER NOT NULL,"
           " stored INTEGER NOT NULL, raw INTEGER NOT NULL, compression INTEGER NOT NULL,"
           " PRIMARY KEY(id, pack)) WITHOUT ROWID;"
           "CREATE INDEX IF NOT EXISTS blobs_by_pack ON blobs(pack);"
           "COMMIT;"));
  const char* sqls[] = {"SELECT pack, offset, stored, raw, compression FROM blobs WHERE id=?1 LIMIT 1",
                        "INSERT OR IGNORE INTO blobs VALUES(?1,?2,?3,?4,?5,?6)",
                        "INSERT OR REPLACE INTO packs VALUES(?1,?2)"};
  sqlite3_stmt** stmts[] = {&find_, &insert_blob_, &insert_pack_};
  for (int i = 0; i < 3; ++i) {
    if (sqlite3_prepare_v2(db_, sqls[i], -1, stmts[i], nullptr) != SQLITE_OK) return CacheError(db_, path_);
  }
  return Status::Ok();
}

void IndexCache::CloseHandles() {
  for (sqlite3_stmt** s : {&find_, &insert_blob_, &insert_pack_}) {
    sqlite3_finalize(*s);
    *s = nullptr;
  }
  sqlite3_close(db_);
  db_ = nullptr;
}

Result<std::unique_ptr<IndexCache>> IndexCache::Open(const std::string& dir) {
  KURA_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  std::unique_ptr<IndexCache> c(new IndexCache());
  c->path_ = dir + "/index.db";
  bool recreated = false;
  // A busy file is tried again for up to about 10 s on top of SQLite's own busy wait
  // (some busy answers, such as a stale WAL snapshot, do not wait); a damaged one is
  // deleted once and made again.
  for (int busy = 0;;) {
    Status st = c->OpenOnce();
    if (st.ok()) return c;
    const OpenFailure why = Classify(c->db_);
    c->CloseHandles();
    if (why == OpenFailure::kBusy && busy < 100) {
      ++busy;
      ::usleep(static_cast<useconds_t>(1000 * std::min(busy, 100)));
      continue;
    }
    if (why != OpenFailure::kDamaged || recreated) return st;
    recreated = true;
    for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((c->path_ + suffix).c_str());
  }
}

// Schema 2 added packs.size. The cache is disposable, so an older schema is simply dropped
// and rebuilt from the pack headers.
static constexpr int kCacheSchema = 2;

Status IndexCache::MigrateSchema() {
  sqlite3_stmt* st = nullptr;
  int version = -1;
  if (sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &st, nullptr) != SQLITE_OK)
    return CacheError(db_, path_);
  if (sqlite3_step(st) == SQLITE_ROW) version = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  if (version == kCacheSchema) return Status::Ok();
  KURA_RETURN_IF_ERROR(Exec("DROP TABLE IF EXISTS blobs; DROP TABLE IF EXISTS packs;"));
  return Exec(("PRAGMA user_version=" + std::to_string(kCacheSchema)).c_str());
}

IndexCache::~IndexCache() {
  CloseHandles();
}

Status IndexCache::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    sqlite3_free(err);
    return CacheError(db_, path_);
  }
  return Status::Ok();
}

Result<std::optional<BlobLocation>> IndexCache::Find(const crypto::Hash& id) {
  std::lock_guard lock(mu_);
  sqlite3_reset(find_);
  sqlite3_bind_blob(find_, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
  int rc = sqlite3_step(find_);
  if (rc == SQLITE_DONE) {
    sqlite3_reset(find_);
    return std::optional<BlobLocation>();
  }
  if (rc != SQLITE_ROW) {
    Status st = CacheError(db_, path_);
    sqlite3_reset(find_);
    return st;
  }
  BlobLocation loc;
  loc.pack = reinterpret_cast<const char*>(sqlite3_column_text(find_, 0));
  loc.entry.id = id;
  loc.entry.offset = static_cast<uint64_t>(sqlite3_column_int64(find_, 1));
  loc.entry.stored_length = static_cast<uint32_t>(sqlite3_column_int64(find_, 2));
  loc.entry.raw_length = static_cast<uint32_t>(sqlite3_column_int64(find_, 3));
  loc.entry.compression = static_cast<uint8_t>(sqlite3_column_int(find_, 4));
  sqlite3_reset(find_);
  return std::optional<BlobLocation>(std::move(loc));
}

Result<std::vector<std::string>> IndexCache::PacksHolding(const crypto::Hash& id) {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT pack FROM blobs WHERE id=?1", -1, &st, nullptr) != SQLITE_OK) {
    return CacheError(db_, path_);
  }
  sqlite3_bind_blob(st, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return CacheError(db_, path_);
  return out;
}

Status IndexCache::AddPackLocked(const std::string& pack, const std::vector<PackEntry>& entries) {
  KURA_RETURN_IF_ERROR(Exec("BEGIN"));
  for (const PackEntry& e : entries) {
    sqlite3_reset(insert_blob_);
    sqlite3_bind_blob(insert_blob_, 1, e.id.data(), static_cast<int>(e.id.size()), SQLITE_STATIC);
    sqlite3_bind_text(insert_blob_, 2, pack.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_int64(insert_blob_, 3, static_cast<sqlite3_int64>(e.offset));
    sqlite3_bind_int64(insert_blob_, 4, e.stored_length);
    sqlite3_bind_int64(insert_blob_, 5, e.raw_length);
    sqlite3_bind_int(insert_blob_, 6, e.compression);
    if (sqlite3_step(insert_blob_) != SQLITE_DONE) {
      Status st = CacheError(db_, path_);
      (void)Exec("ROLLBACK");
      return st;
    }
  }
  uint64_t size = PackHeaderSize(static_cast<uint32_t>(entries.size()));
  for (const PackEntry& e : entries) size += e.stored_length;
  sqlite3_reset(insert_pack_);
  sqlite3_bind_text(insert_pack_, 1, pack.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_int64(insert_pack_, 2, static_cast<sqlite3_int64>(size));
  if (sqlite3_step(insert_pack_) != SQLITE_DONE) {
    Status st = CacheError(db_, path_);
    (void)Exec("ROLLBACK");
    return st;
  }
  return Exec("COMMIT");
}

Status IndexCache::AddPack(const std::string& pack, const std::vector<PackEntry>& entries) {
  std::lock_guard lock(mu_);
  return AddPackLocked(pack, entries);
}

Status IndexCache::ExecForPackLocked(std::initializer_list<const char*> statements, const std::string& pack) {
  for (const char* sql : statements) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) return CacheError(db_, path_);
    sqlite3_bind_text(st, 1, pack.c_str(), -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return CacheError(db_, path_);
  }
  return Status::Ok();
}

Status IndexCache::RemovePackLocked(const std::string& pack) {
  return ExecForPackLocked({"DELETE FROM blobs WHERE pack=?1", "DELETE FROM packs WHERE name=?1"}, pack);
}

Status IndexCache::QuarantinePack(const std::string& pack) {
  std::lock_guard lock(mu_);
  // The pack row keeps the size it was indexed with, so Sync keeps treating it as known
  // (and quarantined); a pack never indexed gets size 0, which Sync re-checks.
  return ExecForPackLocked({"DELETE FROM blobs WHERE pack=?1", "INSERT OR IGNORE INTO packs VALUES(?1, 0)"},
                           pack);
}

Status IndexCache::RemovePack(const std::string& pack) {
  std::lock_guard lock(mu_);
  return RemovePackLocked(pack);
}

Status IndexCache::QuarantineBlobs(const std::string& pack, const std::vector<crypto::Hash>& ids) {
  std::lock_guard lock(mu_);
  KURA_RETURN_IF_ERROR(Exec("BEGIN"));
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "DELETE FROM blobs WHERE id=?1 AND pack=?2", -1, &st, nullptr) != SQLITE_OK) {
    Status err = CacheError(db_, path_);
    (void)Exec("ROLLBACK");
    return err;
  }
  for (const crypto::Hash& id : ids) {
    sqlite3_reset(st);
    sqlite3_bind_blob(st, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pack.c_str(), -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
      Status err = CacheError(db_, path_);
      sqlite3_finalize(st);
      (void)Exec("ROLLBACK");
      return err;
    }
  }
  sqlite3_finalize(st);
  return Exec("COMMIT");
}

Result<std::vector<std::string>> IndexCache::Packs() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT name FROM packs", -1, &st, nullptr) != SQLITE_OK)
    return CacheError(db_, path_);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return CacheError(db_, path_);
  return out;
}

Result<std::map<std::string, uint64_t>> IndexCache::PackSizes() {
  std::lock_guard lock(mu_);
  std::map<std::string, uint64_t> out;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT name, size FROM packs", -1, &st, nullptr) != SQLITE_OK) {
    return CacheError(db_, path_);
  }
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    out.emplace(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                static_cast<uint64_t>(sqlite3_column_int64(st, 1)));
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return CacheError(db_, path_);
  return out;
}

Result<std::vector<PackEntry>> IndexCache::PackEntries(const std::string& pack) {
  std::lock_guard lock(mu_);
  std::vector<PackEntry> out;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(
          db_, "SELECT id, offset, stored, raw, compression FROM blobs WHERE pack=?1 ORDER BY offset", -1,
          &st, nullptr) != SQLITE_OK) {
    return CacheError(db_, path_);
  }
  sqlite3_bind_text(st, 1, pack.c_str(), -1, SQLITE_STATIC);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    PackEntry e;
    if (sqlite3_column_bytes(st, 0) != 32) {
      sqlite3_finalize(st);
      return Status::Corruption(Tr("キャッシュ {} の内容が壊れています。キャッシュは削除しても構いません",
                                   "cache {} holds a damaged row; the cache may be deleted safely", path_));
    }
    std::memcpy(e.id.data(), sqlite3_column_blob(st, 0), 32);
    e.offset = static_cast<uint64_t>(sqlite3_column_int64(st, 1));
    e.stored_length = static_cast<uint32_t>(sqlite3_column_int64(st, 2));
    e.raw_length = static_cast<uint32_t>(sqlite3_column_int64(st, 3));
    e.compression = static_cast<uint8_t>(sqlite3_column_int(st, 4));
    out.push_back(e);
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return CacheError(db_, path_);
  return out;
}

Result<PackHeader> ReadPackHeader(ObjectStore& store, const std::string& pack, uint64_t object_size) {
  uint64_t first = std::min<uint64_t>(object_size, uint64_t{64} * 1024);
  KURA_ASSIGN_OR_RETURN(Bytes head, store.GetRange(ObjectType::kPack, pack, 0, first));
  KURA_ASSIGN_OR_RETURN(uint32_t count, ParsePackPrefix(head, pack));
  uint64_t need = PackHeaderSize(count);
  if (need > object_size) {
    return Status::Corruption(Tr("パック {} が途中で切れています", "pack {} is truncated", pack));
  }
  if (need > head.size()) {
    KURA_ASSIGN_OR_RETURN(head, store.GetRange(ObjectType::kPack, pack, 0, need));
  }
  KURA_ASSIGN_OR_RETURN(PackHeader header, ParsePackHeader(head, pack));
  if (header.total_size != object_size) {
    return Status::Corruption(Tr("パック {} の大きさがヘッダーと一致しません ({} / {} バイト)",
                                 "pack {} size does not match its header ({} / {} bytes)", pack, object_size,
                                 header.total_size));
  }
  return header;
}

Result<SyncStats> IndexCache::Sync(ObjectStore& store) {
  KURA_ASSIGN_OR_RETURN(std::vector<ObjectInfo> listed, store.List(ObjectType::kPack));
  std::set<std::string> present;
  for (const ObjectInfo& o : listed) present.insert(o.name);
  SyncStats stats;
  KURA_ASSIGN_OR_RETURN(auto known, PackSizes());
  for (const auto& [p, size] : known) {
    if (!present.count(p)) {
      std::lock_guard lock(mu_);
      KURA_RETURN_IF_ERROR(RemovePackLocked(p));
      ++stats.packs_removed;
    }
  }
  for (const ObjectInfo& o : listed) {
    auto k = known.find(o.name);
    if (k != known.end()) {
      if (k->second == o.size) continue;
      // The object changed size since it was indexed (truncated by a torn write or a bad
      // copy): its blobs must not serve dedup any more. Read its header again below.
      std::lock_guard lock(mu_);
      KURA_RETURN_IF_ERROR(RemovePackLocked(o.name));
    }
    auto header = ReadPackHeader(store, o.name, o.size);
    if (!header.ok()) {
      Code c = header.status().code();
      if (c == Code::kNotFound) continue;  // deleted since the listing
      if (c != Code::kCorruption && c != Code::kUnsupported) {
        // Unreadable now (EACCES, EIO): limit the failure to what needs this pack.
        stats.unreadable.emplace_back(o.name, header.status());
        continue;
      }
      ++stats.packs_damaged;
      stats.damaged.push_back(o.name);
      continue;
    }
    KURA_RETURN_IF_ERROR(AddPack(o.name, header->entries));
    ++stats.packs_added;
  }
  return stats;
}

}  // namespace kura
