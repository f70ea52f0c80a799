// The client's disposable on-disk dedup index: blob ID -> (pack, offset, lengths), kept in
// SQLite so memory stays bounded however large the repository grows. It is only a cache of
// the pack headers in the repository: Sync() rebuilds whatever is missing or stale, and a
// damaged cache file is deleted and rebuilt. Thread-safe (one connection behind a mutex).
//
// Every read returns a Result: a failed SQLite read is an error, never an empty or partial
// answer, because prune decides what to delete from these answers.
#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "kura/status.h"
#include "objstore/object_store.h"
#include "repo/pack.h"

struct sqlite3;
struct sqlite3_stmt;

namespace kura {

struct BlobLocation {
  std::string pack;
  PackEntry entry;
};

struct SyncStats {
  size_t packs_added = 0;
  size_t packs_removed = 0;
  size_t packs_damaged = 0;  // header unreadable or object size does not match the header
  std::vector<std::string> damaged;
  // Packs the store would not let us read (permission denied, I/O error): not indexed
  // this time, tried again by the next Sync. Their data counts as missing until then.
  std::vector<std::pair<std::string, Status>> unreadable;
};

// Where caches live: $KURA_CACHE_DIR, else $XDG_CACHE_HOME/kura, else ~/.cache/kura.
std::string DefaultCacheRoot();

class IndexCache {
 public:
  // Opens (creating) the cache file `<dir>/index.db`. A damaged file is replaced.
  static Result<std::unique_ptr<IndexCache>> Open(const std::string& dir);
  ~IndexCache();

  // Reads the header of every pack the cache does not know, forgets packs that are gone
  // from the store, and re-reads (or, when damaged, forgets) packs whose object size no
  // longer matches the header indexed before. Damaged packs are reported, never indexed.
  // A pack whose header cannot be read (EACCES, EIO) is reported in `unreadable` and
  // skipped: one bad pack limits only what needs it. Errors: listing the store failed, or
  // the cache itself failed.
  Result<SyncStats> Sync(ObjectStore& store);

  // One pack holding `id`, or nullopt when no indexed pack does.
  Result<std::optional<BlobLocation>> Find(const crypto::Hash& id);
  // Every indexed pack holding `id` (two backups without a working lock may store a blob
  // twice).
  Result<std::vector<std::string>> PacksHolding(const crypto::Hash& id);
  Status AddPack(const std::string& pack, const std::vector<PackEntry>& entries);
  Status RemovePack(const std::string& pack);
  // Forgets a damaged pack's blobs but remembers the pack, so Sync() does not index it again
  // and the next backup stores those blobs anew instead of referring to damaged data.
  Status QuarantinePack(const std::string& pack);
  // Forgets only these blobs of `pack` (found damaged by verify --read-data); the pack's
  // other blobs stay usable for dedup and restore.
  Status QuarantineBlobs(const std::string& pack, const std::vector<crypto::Hash>& ids);
  Result<std::vector<std::string>> Packs();
  // Pack name -> the object size its indexed header implies.
  Result<std::map<std::string, uint64_t>> PackSizes();
  Result<std::vector<PackEntry>> PackEntries(const std::string& pack);

 private:
  IndexCache() = default;
  Status Exec(const char* sql);
  Status MigrateSchema();
  // One attempt at opening path_ and preparing the statements; CloseHandles undoes it.
  Status OpenOnce();
  void CloseHandles();
  Status AddPackLocked(const std::string& pack, const std::vector<PackEntry>& entries);
  Status RemovePackLocked(const std::string& pack);
  // Runs each statement with ?1 bound to `pack`. REQUIRES: mu_ held.
  Status ExecForPackLocked(std::initializer_list<const char*> statements, const std::string& pack);

  std::mutex mu_;
  std::string path_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* find_ = nullptr;
  sqlite3_stmt* insert_blob_ = nullptr;
  sqlite3_stmt* insert_pack_ = nullptr;
};

// Reads and parses one pack's header through the store (two small range reads at most).
Result<PackHeader> ReadPackHeader(ObjectStore& store, const std::string& pack, uint64_t object_size);

}  // namespace kura
