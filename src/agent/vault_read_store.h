// A read-only ObjectStore over a kura-vault restore session (docs/vault-api.md §5): what
// `kura restore|verify --vault URL --grant FILE` opens a Repository on, so the restore and
// verify pipelines run unchanged on the vault's copy with the vendor's recovery key.
//
// Reads: Get and GetRange fetch at most `max_request_bytes` (Default 8 MiB) per request
// with `Range`, so no answer is larger than that however big a pack is; List uses the
// session's listings (the snapshot list holds the granted snapshot only). Each request
// follows VaultClient's retry rules (5xx, resets and timeouts retried with backoff).
// A restore reads one blob at a time (GetRange of about 128 KiB); such small reads of a
// pack are served from its aligned window of max_request_bytes (a whole default pack),
// fetched once and kept among the `pack_windows` most recent, so a restore makes one
// request (and the vault one audit record) per window, not per blob. Readers of a window
// being fetched wait for that one request.
//
// Writes: Put, PutIfAbsent, Delete, MoveAside and an exclusive Lock are kPermissionDenied:
// a grant reads. A shared Lock succeeds without taking anything: the vault keeps no lock
// a client could take or leave behind (docs/vault-api.md §1), and only the vault deletes,
// through a quarantine grace period (docs/retention.md), so a reader cannot lose an
// object under it to another client.
//
// Thread safety: every call may be made from several threads; each request takes one of
// up to `connections` pinned HTTPS connections from a pool (waiting when all are busy).
#pragma once

#include <atomic>
#include <condition_variable>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/vault_client.h"
#include "objstore/object_store.h"

namespace kura {

struct VaultReadOptions {
  std::string url;                                 // "https://vault.example.jp:8443". REQUIRED
  net::Fingerprint pin;                            // the vault certificate's SHA-256. REQUIRED
  std::string session;                             // krs1_… from VaultClient::RedeemGrant. REQUIRED, secret
  std::string repository;                          // the session's repository. REQUIRED
  size_t connections = 4;                          // Default 4
  uint64_t max_request_bytes = uint64_t{8} << 20;  // Default 8 MiB
  size_t pack_windows = 4;                         // windows kept (memory: × max_request_bytes). Default 4
  RetryOptions retry;
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(15)};
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
};

class VaultReadStore : public ObjectStore {
 public:
  // Prepares the pool; connects on the first read. Errors: those of VaultClient::Create.
  static Result<std::unique_ptr<VaultReadStore>> Open(VaultReadOptions options);
  ~VaultReadStore() override;

  Status Put(ObjectType type, const std::string& name, ByteView data) override;
  Result<Bytes> Get(ObjectType type, const std::string& name) override;
  // kCorruption when the object is shorter than offset+length.
  Result<Bytes> GetRange(ObjectType type, const std::string& name, uint64_t offset, uint64_t length) override;
  Result<std::vector<ObjectInfo>> List(ObjectType type) override;
  Status Delete(ObjectType type, const std::string& name) override;
  Status PutIfAbsent(ObjectType type, const std::string& name, ByteView data) override;
  Status MoveAside(ObjectType type, const std::string& name) override;
  Result<std::unique_ptr<StoreLock>> Lock(LockMode mode, int timeout_ms) override;
  std::string Location() const override;

  // Requests sent through every connection so far, retries included (tests).
  uint64_t requests() const;

 private:
  explicit VaultReadStore(VaultReadOptions options);
  // A connection of the pool, returned when the Lease ends.
  Result<std::unique_ptr<VaultClient>> Acquire();
  void Release(std::unique_ptr<VaultClient> client, uint64_t requests_before);
  Status ReadOnly(std::string_view what) const;
  // One ranged read through a pooled connection; a range past the end is kCorruption.
  Result<Bytes> ReadPart(ObjectType type, const std::string& name, ByteRange range, uint64_t* total);
  // The pack's window `index` (its bytes from index × max_request_bytes, shorter at the
  // end), from the cache or fetched once however many threads ask.
  using Window = std::shared_future<Result<std::shared_ptr<const Bytes>>>;
  Result<std::shared_ptr<const Bytes>> PackWindow(const std::string& name, uint64_t index);

  VaultReadOptions options_;
  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  std::vector<std::unique_ptr<VaultClient>> idle_;  // GUARDED_BY(mu_)
  size_t open_ = 0;                                 // GUARDED_BY(mu_): idle and leased
  std::atomic<uint64_t> requests_{0};
  std::mutex windows_mu_;
  std::list<std::pair<std::pair<std::string, uint64_t>, Window>>
      windows_;  // GUARDED_BY(windows_mu_), newest first
};

}  // namespace kura
