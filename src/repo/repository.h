// An open kura repository: its store, config, keys, chunker and local index cache.
//
// Thread-safety: after Open()/Init() returns, the accessors and ReadBlob()/FindBlob() may
// be used from several threads; key changes and snapshot listing are for one thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chunker/chunker.h"
#include "kura/status.h"
#include "objstore/object_store.h"
#include "repo/config.h"
#include "repo/entry_pages.h"
#include "repo/index_cache.h"
#include "repo/keys.h"
#include "repo/snapshot.h"
#include "util/clock.h"

namespace kura {

struct InitOptions {
  ChunkerParams chunker = DefaultChunkerParams();
  uint32_t pack_target_size = 0;  // Default: format::kDefaultPackTargetSize
  std::string label = "initial";
  std::string host;
};

class Repository {
 public:
  // Creates a repository in an empty store with one password or key-file slot from `creds`.
  // Errors: kAlreadyExists when the store already holds a repository, also when another
  // Init on the same store won a race (the config is created with PutIfAbsent, so exactly
  // one succeeds; the loser removes its key slot); kInvalidArgument when `creds` has
  // neither a password nor a key file.
  static Result<std::unique_ptr<Repository>> Init(std::unique_ptr<ObjectStore> store,
                                                  const Credentials& creds, const InitOptions& options,
                                                  const Clock& clock);
  // Errors: kNotFound (no repository there), kUnauthorized (wrong password or key file),
  // kUnsupported (newer format), kInvalidArgument (no credentials given).
  static Result<std::unique_ptr<Repository>> Open(std::unique_ptr<ObjectStore> store,
                                                  const Credentials& creds);

  ObjectStore& store() { return *store_; }
  const RepoConfig& config() const { return config_; }
  const RepoKeys& keys() const { return keys_; }
  const Chunker& chunker() const { return *chunker_; }
  const std::string& id() const { return config_.id; }

  // The index cache, synced with the store on first use (and again by Resync()).
  Result<IndexCache*> Cache();
  Result<SyncStats> Resync();

  // All snapshots' plaintext parts, oldest first. Damaged snapshot objects are skipped and
  // reported in `damaged` when it is not null.
  // `with_blobs` false leaves each Snapshot::blobs empty (32 bytes per blob each otherwise:
  // LoadSnapshot gets one snapshot's list when it is needed).
  Result<std::vector<Snapshot>> ListSnapshots(std::vector<std::string>* damaged = nullptr,
                                              bool with_blobs = true);
  // `ref` is a full ID, a unique ID prefix (at least 4 hex digits) or "latest" (the newest
  // snapshot whose time is not in the future by `clock`: LatestSnapshot in repo/retention.h).
  // Errors: kNotFound, kInvalidArgument (ambiguous prefix).
  // The snapshot found has no blob list loaded (see LoadSnapshot).
  Result<Snapshot> FindSnapshot(const std::string& ref, const Clock& clock = SystemClock());
  // One snapshot's plaintext part with its blob list. Errors: kNotFound, kCorruption.
  Result<Snapshot> LoadSnapshot(const std::string& id);
  // The sealed metadata without the entries of a version 3 snapshot (which are in pages:
  // OpenEntries streams them). Versions 1 and 2 carry their entries here.
  Result<SnapshotMeta> LoadHead(const std::string& snapshot_id);
  // Streams the entries, one page in memory at a time. The second form takes a head
  // already loaded (its entries are moved out).
  Result<std::unique_ptr<EntryReader>> OpenEntries(const std::string& snapshot_id);
  std::unique_ptr<EntryReader> OpenEntries(const std::string& snapshot_id, SnapshotMeta& head);
  // The head and every entry in memory: for tests and snapshots known to be small (a
  // database dump). Memory grows with the entry count; use OpenEntries for file trees.
  Result<SnapshotMeta> LoadMeta(const std::string& snapshot_id);

  // Reads and decodes one blob through the cache. Errors: kNotFound (no pack holds it),
  // kCorruption.
  // `check_id`: see DecodeBlob. Default: true.
  Result<Bytes> ReadBlob(const crypto::Hash& id, bool check_id = true);

  // Key slots.
  Result<std::vector<KeySlot>> ListKeys();
  Result<std::string> AddSecretKey(KeySlotKind kind, std::string_view secret, const KeySlotInfo& info);
  Result<std::string> AddRecoveryKey(ByteView public_key, const KeySlotInfo& info);
  // Refuses (kInvalidArgument) to remove the last password or key-file slot.
  Status RemoveKey(const std::string& id_or_prefix);
  // The slot this session was opened with.
  const std::string& opened_slot() const { return opened_slot_; }

 private:
  Repository() = default;
  // `damaged` (optional) gets the names of slots that cannot even be parsed.
  Result<std::vector<KeySlot>> ListKeysFrom(ObjectStore& store, std::vector<std::string>* damaged = nullptr);
  std::unique_ptr<ObjectStore> store_;
  RepoConfig config_;
  RepoKeys keys_;
  std::unique_ptr<Chunker> chunker_;
  std::unique_ptr<IndexCache> cache_;
  bool cache_synced_ = false;
  std::string opened_slot_;
};

// "a1b2c3d4" for people.
inline std::string ShortId(const std::string& id) {
  return id.substr(0, 8);
}

}  // namespace kura
