// The write-only backup sink (issue 7 §0): what a site may do to a place that keeps its
// snapshots offsite, and nothing more. It can be told objects and asked which blob IDs it
// lacks; it can never be read, listed, locked or made to delete. Both a local mirror
// repository (MirrorSink, below) and the vault client (agent/vault_client.h, speaking
// docs/vault-api.md) implement it, so engine/send_packs.h sends to either.
//
// The sink's repository shares the source repository's config and key slots
// (docs/adr/0006-vault-shares-local-keys.md): packs and snapshot objects go in byte for
// byte, named by the SHA-256 of their bytes. Every call is idempotent, so a send that was
// cut off is simply done again.
//
// Thread safety: one sink per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "kura/status.h"
#include "objstore/object_store.h"
#include "repo/index_cache.h"
#include "repo/snapshot_kind.h"
#include "util/bytes.h"
#include "util/clock.h"

namespace kura {

// The largest request of MissingBlobs (docs/vault-api.md §4.3).
inline constexpr size_t kMaxMissingBatch = 10000;

// A client time this far from the sink's receive time is flagged (docs/vault-api.md §4.5).
inline constexpr int64_t kClockWarningSeconds = 3600;

struct CommitAnswer {
  bool created = false;        // false: the snapshot was committed before (same answer)
  int64_t received = 0;        // the sink's receive time, Unix seconds (the vault's clock)
  bool clock_warning = false;  // the snapshot's client time is far from `received`
};

// A run of a job, as the vault keeps it for the missed-backup alarm (docs/vault-api.md §4.6).
struct RunReport {
  bool success = false;
  SnapshotKind kind = SnapshotKind::kDaily;
  std::string snapshot;  // the snapshot's ID, or "" for a failed run
  std::string message;   // for a failure: what went wrong (at most 2,000 characters are kept)
  int64_t started = 0;   // Unix seconds
  int64_t finished = 0;
  // The job's schedule: "02:00", "Asia/Tokyo", "daily" (docs/agent.md). Empty: none.
  std::string schedule_time;
  std::string schedule_timezone;
  std::string schedule_days;
};

class BackupSink {
 public:
  virtual ~BackupSink() = default;

  // Where the snapshots go, for people ("https://vault.example.jp:8443", a path).
  virtual std::string Location() const = 0;

  // Registers the repository's config object. Idempotent for the same bytes; other bytes
  // for a registered repository are refused (kAlreadyExists).
  virtual Status PutConfig(ByteView config) = 0;
  // Stores a key slot named `id` (the SHA-256 of `slot`). Idempotent.
  virtual Status PutKey(const std::string& id, ByteView slot) = 0;

  // The IDs of `ids` that no stored pack holds, in request order.
  // REQUIRES: ids.size() <= kMaxMissingBatch.
  virtual Result<std::vector<crypto::Hash>> MissingBlobs(const std::vector<crypto::Hash>& ids) = 0;

  // Stores pack `name` (the SHA-256 of `pack`). Idempotent: a pack already stored is not
  // replaced. Errors: kNoSpace (disk full or the vault's hard quota), kCorruption (the
  // bytes are not `name` or not a pack), kRetryable, ...
  virtual Status PutPack(const std::string& name, ByteView pack) = 0;

  // Commits snapshot `id` (the SHA-256 of `snapshot`). Refused unless every blob it
  // refers to is stored (kNotFound naming how many are missing) and, for the
  // vault, a recovery slot for the tenant's key is stored. Idempotent.
  virtual Result<CommitAnswer> CommitSnapshot(const std::string& id, ByteView snapshot) = 0;

  // Tells the sink how a run of the job went. A local mirror keeps nothing (the site's
  // status file has it).
  virtual Status ReportRun(const RunReport& run) = 0;
};

// A second local repository that shares the source's keys: the objects go into `store`
// unchanged, so the mirror opens with the source's password. Which blobs it holds is
// answered from its own index cache in `cache_dir` (never the source's: both have the
// same repository ID), synced from the store on first use.
class MirrorSink : public BackupSink {
 public:
  // `store` is owned; `clock` must outlive the sink.
  MirrorSink(std::unique_ptr<ObjectStore> store, std::string cache_dir, const Clock& clock = SystemClock());
  // The cache directory MirrorSink uses for a mirror at `location` by default: beside the
  // repositories' caches (DefaultCacheRoot()), named by the location's SHA-256.
  static std::string DefaultCacheDir(const std::string& location);

  std::string Location() const override { return store_->Location(); }
  Status PutConfig(ByteView config) override;
  Status PutKey(const std::string& id, ByteView slot) override;
  Result<std::vector<crypto::Hash>> MissingBlobs(const std::vector<crypto::Hash>& ids) override;
  Status PutPack(const std::string& name, ByteView pack) override;
  Result<CommitAnswer> CommitSnapshot(const std::string& id, ByteView snapshot) override;
  Status ReportRun(const RunReport&) override { return Status::Ok(); }

 private:
  Result<IndexCache*> Cache();

  std::unique_ptr<ObjectStore> store_;
  std::string cache_dir_;
  const Clock& clock_;
  std::unique_ptr<IndexCache> cache_;
};

}  // namespace kura
