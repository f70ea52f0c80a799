// The agent's client of a kura-vault (docs/vault-api.md, version 1): a BackupSink over
// HTTPS with a pinned certificate (net/http_client.h), one connection reused across calls.
//
// Retries: a call that got no answer (connection refused or reset, timeout), 408, 500,
// 502, 503 or 504 is tried again after an exponential backoff with jitter (a Retry-After the vault
// sends is honoured), up to RetryOptions::max_attempts; a 4xx other than 408, and 507
// (quota), is never retried. Every object is named by its SHA-256 and every call is idempotent, so a retry
// cannot store anything twice. Enrolment, which consumes its code, is retried only on 503.
//
// Errors map the vault's JSON error to a Status (see VaultStatus) whose message has the
// vault's own message in the user's language and the stable code, e.g.
// "保管庫 https://… が要求を断りました (quota_exceeded): …".
//
// The site credential is read from a file that only its owner may read (0600), never from
// argv or the environment, and never appears in a message or log.
//
// Restore (docs/vault-api.md §5): RedeemGrant turns a restore grant into a session; a
// client made with VaultOptions::session then makes only the session's reads
// (ReadObject, ListObjects). agent/vault_read_store.h wraps them as an ObjectStore.
//
// Thread safety: one VaultClient per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/backup_sink.h"
#include "kura/status.h"
#include "net/http_client.h"
#include "net/tls.h"
#include "objstore/object_store.h"

namespace kura {

struct RetryOptions {
  int max_attempts = 8;                                           // tries of one call. Default 8
  std::chrono::milliseconds first_delay{500};                     // Default 0.5 s, doubling
  std::chrono::milliseconds max_delay{std::chrono::seconds(30)};  // Default 30 s
  // Waits between tries; tests replace it. Default: sleep.
  std::function<void(std::chrono::milliseconds)> sleep;
};

struct VaultOptions {
  std::string url;              // "https://vault.example.jp:8443". REQUIRED
  net::Fingerprint pin;         // the vault certificate's SHA-256 from enrolment. REQUIRED
  std::string credential_file;  // the site credential (kst1_…), mode 0600. REQUIRED but for Enrol
  std::string repository;       // the repository ID (the config's id). REQUIRED for BackupSink calls
  std::string job;              // the job the repository is bound to. REQUIRED for PutConfig
  // A restore session (krs1_…, from RedeemGrant) used as the bearer token instead of a
  // credential file; `repository` is then the session's. Secret. Default: none.
  std::string session;
  RetryOptions retry;
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(15)};
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
};

// An enrolment code: KURA1-<secret: 32 base32>-<fingerprint: 64 hex> (docs/vault-api.md §3).
struct EnrolmentCode {
  std::string text;  // the whole code as given, without surrounding space. Secret
  net::Fingerprint fingerprint;
};
// Errors: kInvalidArgument saying what is wrong, without repeating the code.
Result<EnrolmentCode> ParseEnrolmentCode(std::string_view text);

struct EnrolAnswer {
  std::string tenant;
  std::string site;
  int64_t site_id = 0;
  std::string credential;     // kst1_…: secret; store it with StoreCredential
  Bytes recovery_public_key;  // 32 bytes, X25519
  int64_t vault_time = 0;
};

struct VaultGeneration {
  std::string snapshot;
  std::string kind;
  int64_t received = 0;
  uint64_t bytes = 0;
  std::string state;  // kept | held | quarantined
};
struct VaultGenerations {
  std::vector<VaultGeneration> generations;
  uint64_t used = 0, soft = 0, hard = 0, remaining = 0;
  std::string quota_warning;  // past the soft quota: the vault's text in this process's language
};

// Writes the credential to `path` (mode 0600, atomically). Never logs it.
Status StoreCredential(const std::string& path, const std::string& credential);
// Reads it back: kPermissionDenied (saying to chmod 600) when others may read the file,
// kInvalidArgument when it does not hold a site credential.
Result<std::string> LoadCredential(const std::string& path);

// The answer of POST /v1/grants/redeem.
struct RestoreSessionInfo {
  std::string session;     // krs1_…: secret, for VaultOptions::session
  std::string repository;  // the granted repository's ID
  std::string snapshot;    // the granted snapshot's full ID
  int64_t expires = 0;     // Unix seconds (the vault's clock)
};

// Bytes [offset, offset + length) of an object.
struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};

class VaultClient : public BackupSink {
 public:
  // Reads the credential (unless `options.credential_file` is empty: then only Enrol and
  // Health work) and prepares the connection; connects on the first call.
  static Result<std::unique_ptr<VaultClient>> Create(VaultOptions options);
  ~VaultClient() override;

  // POST /v1/enrol with `code` (its fingerprint must equal options.pin).
  Result<EnrolAnswer> Enrol(const EnrolmentCode& code, const std::string& host);
  // GET /v1/health.
  Status Health();
  // GET /v1/repos/{repo}/generations.
  Result<VaultGenerations> Generations();

  // POST /v1/grants/redeem. The grant is single-use, so only 503 (refused before it was
  // looked at) is retried: a retry after a lost answer would find it used. Errors:
  // kPermissionDenied (grant_used), kUnauthorized (unknown, forged or expired).
  Result<RestoreSessionInfo> RedeemGrant(const std::string& grant);
  // Session reads (REQUIRES: options.session). One object of the session's repository
  // (`name` is "config" for kConfig); with `range`, only those bytes (REQUIRES: length
  // of at most 16 MiB, length > 0). `*total` (optional) gets the whole object's size.
  // Errors: kNotFound (no such object, or a name that is no object ID), kPermissionDenied
  // (outside the grant), kUnauthorized (session expired), kInvalidArgument with
  // last_error_code() "range_not_satisfiable" for a range past the end.
  Result<Bytes> ReadObject(ObjectType type, const std::string& name, std::optional<ByteRange> range,
                           uint64_t* total);
  // GET /v1/repos/{repo}/keys|snapshots|packs (kConfig: the one config object).
  Result<std::vector<ObjectInfo>> ListObjects(ObjectType type);

  std::string Location() const override { return options_.url; }
  Status PutConfig(ByteView config) override;
  Status PutKey(const std::string& id, ByteView slot) override;
  Result<std::vector<crypto::Hash>> MissingBlobs(const std::vector<crypto::Hash>& ids) override;
  Status PutPack(const std::string& name, ByteView pack) override;
  Result<CommitAnswer> CommitSnapshot(const std::string& id, ByteView snapshot) override;
  Status ReportRun(const RunReport& run) override;

  // The vault's error code of the last refused call ("quota_exceeded"), "" when the last
  // call succeeded or got no answer.
  const std::string& last_error_code() const { return last_code_; }
  // Requests sent, retries included (for tests and progress).
  uint64_t requests() const { return requests_; }

 private:
  VaultClient(VaultOptions options, std::string credential, std::unique_ptr<net::HttpClient> http);
  // Sends with the credential and the retry rules; returns the 2xx response or the mapped
  // error. `retry` false: only 503 is retried.
  Result<net::ClientResponse> Call(net::ClientRequest request, bool authorised = true, bool retry = true);
  Status MappedError(const net::ClientResponse& response);
  std::string RepoPath(std::string_view rest) const;

  VaultOptions options_;
  std::string credential_;  // secret
  std::unique_ptr<net::HttpClient> http_;
  std::string last_code_;
  uint64_t requests_ = 0;
  bool restore_ = false;  // a grant or session call: restore advice on errors
};

// The Status for a vault error answer: `status` the HTTP status, `code` the vault's code,
// `message` its message in the user's language. Exposed for tests of the mapping.
// `restore`: the call was made for a restore grant or session, whose advice differs from
// a site credential's.
Status VaultStatus(const std::string& url, int status, const std::string& code, const std::string& message,
                   bool restore = false);

}  // namespace kura
