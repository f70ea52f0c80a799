// The vault's catalog: the one place all of kura-vault's state is reached through
// (docs/vault-catalog.md). Tenants, their sites, one repository per site and job, operator
// accounts, site credentials, enrolment codes and the audit trail (vault/audit.h) live in
// one SQL database (SQLite now, PostgreSQL next) that is brought to the latest schema
// with numbered migrations when it is opened (vault/migrations.h).
//
// Every change that matters for security is audited in the same transaction as the change
// itself: if the audit record cannot be written, the change is not made either. A refused
// or failed change is audited afterwards, on its own, with result "failure" or "refused".
//
// Thread-safety: a Catalog is one connection guarded by a mutex; any thread may call it.
// Several Catalogs, in one process or in several, may use the same file at once.
// Secrets (initial passwords, tokens, enrolment codes) appear in a return value once and
// are never stored, logged or put into a message.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/crypto.h"
#include "kura/status.h"
#include "util/clock.h"
#include "vault/anomaly.h"
#include "vault/audit.h"
#include "vault/clock_guard.h"
#include "vault/retention_rules.h"
#include "vault/site_state.h"
#include "vault/sql.h"

namespace kura::vault {

struct CatalogOptions {
  // Create the file and the schema when there is none. Default: false, so a mistyped
  // path is an error (kNotFound), not a new empty catalog.
  bool create = false;
  // How long a call waits for another connection's write transaction. Default: 10 s.
  int busy_timeout_ms = 10000;
  // Argon2id cost of new operator passwords. Default: 3 passes, 64 MiB.
  crypto::Argon2Params password_cost;
};

struct Tenant {
  int64_t id = 0;
  std::string name;
  int64_t created_at = 0;
  // X25519, 64 lowercase hex; empty until `kura-vault tenant set-recovery-key`. Every
  // repository of the tenant must carry a recovery key slot for it (docs/vault-api.md §4.5).
  std::string recovery_public_key;
};

struct Site {
  int64_t id = 0;
  int64_t tenant_id = 0;
  std::string name;
  int64_t created_at = 0;
  std::optional<int> overdue_grace_hours;  // none: the tenant's (SetSiteOverdueGrace)
};

struct RepositoryRecord {
  int64_t id = 0;
  int64_t site_id = 0;
  std::string job;
  int64_t created_at = 0;
};

enum class OperatorRole { kOperator, kTenantAdmin };
const char* OperatorRoleName(OperatorRole role);  // "operator", "tenant_admin"

struct OperatorAccount {
  int64_t id = 0;
  std::string login;
  OperatorRole role = OperatorRole::kOperator;
  std::optional<int64_t> tenant_id;  // set exactly for kTenantAdmin
  bool must_change_password = false;
  bool disabled = false;
  bool has_second_factor = false;  // TOTP is not enrolled yet anywhere; the column is kept
  int64_t created_at = 0;
  std::optional<int64_t> last_login_at;
};

struct NewOperator {
  std::string login;  // 1-64 of [a-z0-9._-], starting with a letter or digit
  OperatorRole role = OperatorRole::kOperator;
  std::optional<int64_t> tenant_id;  // REQUIRES: set exactly for kTenantAdmin
  // An initial password someone else chose: the account must change it at first login.
  bool must_change_password = true;
};

// A one-time enrolment code for a site (shown once; only its hash is stored).
struct EnrolmentCode {
  int64_t id = 0;
  int64_t site_id = 0;
  std::string code;  // the secret of "KURA1-<secret>-<fingerprint>" (vault/tokens.h)
  int64_t expires_at = 0;
};

// A site credential with the append scope (shown once; only its hash is stored).
struct SiteCredential {
  int64_t id = 0;
  int64_t site_id = 0;
  int64_t tenant_id = 0;
  std::string token;  // "kst1_<selector>_<secret>"
};

// A repository as the agent API knows it: the config's ID bound to a site and job by the
// first `PUT config` (docs/vault-api.md §4.1).
struct BoundRepository {
  int64_t id = 0;  // catalog row
  int64_t site_id = 0;
  int64_t tenant_id = 0;
  std::string job;
  std::string repo_id;        // the config's id (lowercase hex)
  std::string config_sha256;  // of the config object's bytes
};

struct KeySlotRecord {
  std::string name;                 // SHA-256 of the slot object
  std::string kind;                 // "password", "keyfile", "recovery"
  std::string recovery_public_key;  // 64 hex for recovery slots, else empty
  uint64_t size = 0;
};

struct SnapshotRecord {
  std::string name;
  std::string kind;            // "daily", "monthly", "manual"
  int64_t client_time = 0;     // the client's label, Unix seconds
  int64_t received_at_ms = 0;  // the vault's Clock when the commit was accepted
  uint64_t bytes = 0;          // source bytes, as the snapshot states
  uint64_t size = 0;           // the snapshot object's size
  uint64_t blob_count = 0;
  bool clock_warning = false;  // client time more than 1 h from receive time
  std::string state = "kept";  // "kept", "held", "quarantined"
};

// POST runs (docs/vault-api.md §4.6), checked by the API before it gets here.
struct RunReport {
  std::string result;  // "success" or "failure"
  std::string kind;
  std::string snapshot;
  std::string message;  // at most 2,000 characters, stored as text
  std::string started;
  std::string finished;
  std::string schedule_time;
  std::string schedule_timezone;
  std::string schedule_days;
};

struct RepoStatus {
  std::optional<int64_t> last_success_at;
  std::string last_success_snapshot;
  std::optional<int64_t> last_failure_at;
  std::string last_failure_message;
  bool warning_active = false;  // set by a failure, cleared by the next success
  bool clock_warning = false;   // the last commit's client time was far from the vault's
  std::string schedule_time, schedule_timezone, schedule_days;
};

// What a /metrics scrape shows of one tenant (Catalog::Counts).
struct TenantCounts {
  int64_t tenant_id = 0;
  std::string name;
  uint64_t packs = 0;
  uint64_t stored_bytes = 0;                  // every stored pack, quarantined included
  uint64_t quarantined_bytes = 0;             // what garbage collection will reclaim
  uint64_t damaged_objects = 0;               // what scrub found damaged
  std::map<std::string, uint64_t> snapshots;  // by state
};

struct CatalogCounts {
  std::vector<TenantCounts> tenants;
};

// A restore grant (docs/vault-api.md §5), shown once.
struct IssuedGrant {
  int64_t id = 0;
  std::string token;  // "kgr1_<selector>_<secret>"
  std::string repo_id;
  std::string snapshot;
  int64_t expires_at = 0;
};

// A grant as `kura-vault grant list` shows it (never its secret).
struct GrantRecord {
  int64_t id = 0;
  std::string tenant, site, job;
  int64_t tenant_id = 0;
  std::string repo_id, snapshot, purpose, issued_by;
  int64_t created_at = 0, expires_at = 0;
  std::optional<int64_t> redeemed_at;
  bool requires_approval = false;
  std::string decision;    // "" (pending or not needed), "approved", "denied"
  std::string decided_by;  // the tenant admin's login
  std::string reason;
  std::optional<int64_t> decided_at;
};

// What a restore session may read.
struct RestoreSession {
  int64_t grant_id = 0;
  int64_t repository = 0;  // BoundRepository::id
  std::string repo_id;
  std::string snapshot;
  int64_t expires_at = 0;
  std::string token;  // "krs1_…", set only by RedeemGrant
};

// Who a presented site token belongs to.
struct SiteIdentity {
  int64_t credential_id = 0;
  int64_t site_id = 0;
  int64_t tenant_id = 0;
  std::string scope;  // "append"
};

class Catalog {
 public:
  // Opens the catalog at `path` and migrates it to the latest schema. `clock` gives every
  // time the catalog records; it must outlive the Catalog.
  // Errors: kNotFound when there is no catalog and !options.create; kUnsupported when a
  // newer kura-vault wrote it (nothing is changed); kCorruption for a damaged file or
  // schema history; kLocked when another process holds it past the busy timeout.
  static Result<std::unique_ptr<Catalog>> Open(const std::string& path, const Clock& clock,
                                               const CatalogOptions& options = {});
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  int schema_version() const { return schema_version_; }
  const std::string& path() const { return path_; }

  // Tenants. Names are 1-128 bytes of UTF-8 without control characters or surrounding
  // spaces, unique across the vault. Errors: kInvalidArgument (bad name), kAlreadyExists.
  Result<Tenant> AddTenant(std::string_view name, const AuditActor& actor);
  Result<std::vector<Tenant>> ListTenants();
  // Errors: kNotFound.
  Result<Tenant> FindTenant(std::string_view name);

  // Sites in a tenant; names as for tenants, unique within the tenant.
  // Errors: kNotFound (no such tenant), kInvalidArgument, kAlreadyExists.
  Result<Site> AddSite(int64_t tenant_id, std::string_view name, const AuditActor& actor);
  Result<std::vector<Site>> ListSites(int64_t tenant_id);
  Result<Site> GetSite(int64_t site_id);
  // Errors: kNotFound.
  Result<Site> FindSite(int64_t tenant_id, std::string_view name);

  // Sets the tenant's recovery public key (64 hex digits of an X25519 key; audited
  // "tenant.set_recovery_key"). Errors: kNotFound, kInvalidArgument.
  Status SetRecoveryKey(int64_t tenant_id, std::string_view public_key_hex, const AuditActor& actor);
  Result<Tenant> GetTenant(int64_t tenant_id);

  // One repository per site and job (the agent's job name, rules as for tenant names).
  // Errors: kNotFound (no such site), kInvalidArgument, kAlreadyExists.
  Result<RepositoryRecord> AddRepository(int64_t site_id, std::string_view job, const AuditActor& actor);
  Result<std::vector<RepositoryRecord>> ListRepositories(int64_t site_id);

  // Operator accounts. `password` is hashed (vault/password.h) and then forgotten.
  // Errors: kInvalidArgument (login, role/tenant mismatch), kAlreadyExists, kNotFound
  // (no such tenant).
  Result<OperatorAccount> AddOperator(const NewOperator& account, std::string_view password,
                                      const AuditActor& actor);
  Result<std::vector<OperatorAccount>> ListOperators();
  // Checks a login. Audited both ways ("operator.login"). The same error, kUnauthorized,
  // for an unknown login, a wrong password and a disabled account, and the same work (a
  // hash is checked even for an unknown login), so nothing tells them apart.
  // A must-change account logs in; the caller must then allow nothing but the change.
  Result<OperatorAccount> CheckOperatorLogin(std::string_view login, std::string_view password,
                                             const AuditActor& actor);

  // Replaces an account's password after checking the current one (audited
  // "operator.login" for the check, "operator.password" for the change); clears
  // must_change_password. Errors: kUnauthorized (as CheckOperatorLogin), kInvalidArgument
  // (the new password is too weak or the same).
  Status ChangeOperatorPassword(std::string_view login, std::string_view current,
                                std::string_view replacement, const AuditActor& actor);

  // Issues a one-time enrolment code for `site_id`, valid for `ttl_seconds` (> 0).
  // Errors: kNotFound (no such site), kInvalidArgument.
  Result<EnrolmentCode> IssueEnrolment(int64_t site_id, int64_t ttl_seconds, const AuditActor& actor);
  // Exchanges an unused, unexpired enrolment code for a new site credential with the
  // append scope; the code is then used up. Refusals are audited.
  // Errors: kUnauthorized (unknown, malformed, expired or used code; the message says
  // which only once the code's secret matched).
  Result<SiteCredential> RedeemEnrolment(std::string_view code, const AuditActor& actor);
  // The tenant a code would enrol into, without using it up or auditing (the redeem that
  // follows does). Errors: kUnauthorized for a code RedeemEnrolment would refuse.
  Result<int64_t> EnrolmentTenant(std::string_view code);
  // Who holds `token`. Refusals are audited ("credential.check"); successes are not (the
  // request they authorise is).
  // Errors: kUnauthorized (unknown, malformed or revoked token).
  Result<SiteIdentity> AuthenticateSite(std::string_view token, const AuditActor& actor);
  // Errors: kNotFound.
  Status RevokeCredential(int64_t credential_id, const AuditActor& actor);

  // The agent API's records (docs/vault-api.md §4; catalog_repos.cc). `repo` is
  // BoundRepository::id. Objects are recorded only after they are stored whole.
  //
  // Errors: kNotFound (no repository has this ID).
  Result<BoundRepository> FindBoundRepository(std::string_view repo_id);
  // Binds `repo_id` to the site and job (audited "repository.bind"). True when new, false
  // when the same binding with the same config bytes exists.
  // Errors: kPermissionDenied (the ID belongs to another site), kAlreadyExists (other
  // config bytes for this ID, or the job is bound to another ID), kInvalidArgument (job).
  Result<bool> BindRepository(int64_t site_id, std::string_view job, std::string_view repo_id,
                              std::string_view config_sha256, const AuditActor& actor);
  // True when new (audited "key.upload"), false when already recorded.
  Result<bool> RecordKeySlot(int64_t repo, const KeySlotRecord& slot, const AuditActor& actor);
  // Whether the repository has a recovery slot for `public_key_hex`.
  Result<bool> HasRecoverySlot(int64_t repo, std::string_view public_key_hex);
  // A stored pack scrub has not found damaged (a damaged one must be sent again).
  Result<bool> PackStored(int64_t repo, std::string_view name);
  // Whether scrub found the pack damaged (and no repair has cleared it since).
  Result<bool> PackDamaged(int64_t repo, std::string_view name);
  // Records a stored pack and the blob IDs of its header (audited "pack.upload"). True
  // when new, false when it was recorded already.
  Result<bool> RecordPack(int64_t repo, std::string_view name, uint64_t size,
                          const std::vector<crypto::Hash>& blob_ids, const AuditActor& actor);
  // How many of `ids` (32 bytes each) no stored pack holds that is neither quarantined nor
  // found damaged by scrub (so the agent sends a damaged pack's data again); the indices
  // of the first `keep` of them go to `first`, in order.
  Result<uint64_t> CountMissingBlobs(int64_t repo, ByteView ids, size_t keep, std::vector<size_t>* first);
  Result<std::optional<SnapshotRecord>> FindSnapshotRecord(int64_t repo, std::string_view name);
  // Audited "snapshot.commit". Errors: kAlreadyExists when it was committed meanwhile.
  Status RecordSnapshot(int64_t repo, const SnapshotRecord& snapshot, const AuditActor& actor);
  // Newest first by receive time.
  Result<std::vector<SnapshotRecord>> ListSnapshotRecords(int64_t repo);
  Status RecordRun(int64_t repo, const RunReport& run);
  Result<RepoStatus> GetRepoStatus(int64_t repo);

  // Retention, holds, capacity and alarms (catalog_retention.cc; docs/retention.md,
  // docs/vault-catalog.md "Retention, holds and alarms"). Every time is the catalog's clock.
  struct TenantPolicy {
    RemoteRetentionPolicy retention;         // Default: 3/1/1 days/months/latest, Asia/Tokyo
    uint64_t soft_quota_bytes = 0;           // 0: none
    uint64_t hard_quota_bytes = 0;           // 0: none
    std::optional<int> overdue_grace_hours;  // none: kDefaultOverdueGraceHours
  };
  // Used: the tenant's unique stored packs (no dedup across repositories exists), the
  // quarantined ones included until garbage collection deletes them.
  struct Capacity {
    uint64_t used = 0;
    uint64_t soft = 0;  // 0: none
    uint64_t hard = 0;  // 0: none
    uint64_t Remaining() const { return hard == 0 || used >= hard ? 0 : hard - used; }
  };
  struct Hold {
    int64_t id = 0;
    int64_t tenant_id = 0;
    std::string tenant;
    int64_t site_id = 0;
    std::string site;
    int64_t placed_at_ms = 0;
    std::string placed_by;  // "system" for an anomaly, else the actor's id
    std::string reason;
  };
  // One alarm target: 0 for "none" (the clock alarm has no tenant; quota has no site).
  struct AlarmKey {
    std::string kind;  // overdue, failed, incomplete, damaged, anomalous, quota, clock
    int64_t tenant_id = 0;
    int64_t site_id = 0;
    int64_t repository_id = 0;
  };
  struct Alarm {
    int64_t id = 0;
    AlarmKey key;
    int64_t raised_at_ms = 0;
    std::string detail;
  };
  // What one repository's commit or retention run did.
  struct RetentionOutcome {
    std::optional<AnomalyVerdict> verdict;  // set by AssessCommit
    bool hold_placed = false;
    std::vector<std::string> evicted;  // quarantined now
    RetentionPlan plan;
  };
  // What EvaluateSite needs about one repository, with names for people.
  struct RepositoryFacts {
    int64_t repository = 0;
    std::string repo_id, job;
    int64_t site_id = 0;
    std::string site;
    int64_t tenant_id = 0;
    std::string tenant;
    SiteFacts facts;
    // The grace in effect: the site's, else its tenant's, else kDefaultOverdueGraceHours.
    SiteStatePolicy policy;
    std::string grace_from;      // "site", "tenant" or "default"
    uint64_t stored_bytes = 0;   // its packs, quarantined included
    std::string schedule_error;  // the reported schedule did not parse (expected every 24 h)
  };
  // Errors: kNotFound (no such tenant).
  Result<TenantPolicy> GetTenantPolicy(int64_t tenant_id);
  // Audited "tenant.set_retention" / "tenant.set_quota". Errors: kNotFound,
  // kInvalidArgument (a count out of range, soft above hard).
  Status SetTenantRetention(int64_t tenant_id, int daily_days, int monthly_months, int manual_last,
                            const AuditActor& actor);
  Status SetTenantQuota(int64_t tenant_id, uint64_t soft_bytes, uint64_t hard_bytes, const AuditActor& actor);
  // How long after its scheduled time a site's backup may arrive before it is overdue
  // (docs/retention.md §5): per tenant, and per site over its tenant's; none goes back to
  // the tenant's or the default. Audited "tenant.set_overdue_grace" /
  // "site.set_overdue_grace". Errors: kNotFound, kInvalidArgument (hours outside
  // 0..kMaxOverdueGraceHours).
  Status SetTenantOverdueGrace(int64_t tenant_id, std::optional<int> hours, const AuditActor& actor);
  Status SetSiteOverdueGrace(int64_t site_id, std::optional<int> hours, const AuditActor& actor);
  // One indexed SUM: cheap enough to run on every pack upload.
  Result<Capacity> TenantCapacity(int64_t tenant_id);
  // The raw and stored byte sums of a recorded pack's header (what AssessCommit reads).
  Status RecordPackSizes(int64_t repo, std::string_view name, uint64_t raw_bytes, uint64_t stored_bytes);
  // After RecordSnapshot, in one write transaction: the packs stored since the previous
  // commit become this one's new data; the generation is judged against its repository's
  // history (anomalous: it and the flood's members marked, the site put on hold, audited
  // "hold.place", alarm "anomalous"; else accepted, audited "snapshot.assess") and
  // retention runs (RunRetention).
  Result<RetentionOutcome> AssessCommit(int64_t repo, std::string_view snapshot, const AuditActor& actor);
  // Plans the repository with its tenant's policy and quarantines what the plan evicts
  // (audited "snapshot.evict" each). Nothing while its site is on hold or the clock guard
  // is frozen.
  Result<RetentionOutcome> RunRetention(int64_t repo, const AuditActor& actor);
  // Whether garbage collection must leave the repository alone: its site is on hold or the
  // clock guard has frozen deletion (docs/retention.md §6, docs/vault-gc-scrub.md).
  Result<bool> DeletionBlocked(int64_t repo);
  // The plan without acting on it (kura-vault retention show).
  Result<RetentionPlan> PlanRetention(int64_t repo);
  // The snapshots the vault keeps (not quarantined), newest first; an anomalous one has
  // state "held" (kept while its site is on hold, docs/vault-api.md §4.7).
  Result<std::vector<SnapshotRecord>> ListKeptSnapshots(int64_t repo);
  Result<std::vector<Hold>> ListHolds();
  // Operator only. `accept` turns the site's anomalous generations into accepted ones (a
  // legitimate big change); otherwise the next retention run evicts them. Audited
  // "hold.clear"; clears the "anomalous" alarm; runs retention for the site's repositories.
  // Errors: kNotFound (no hold on the site), kInvalidArgument (empty reason).
  Status ClearHold(int64_t site_id, std::string_view reason, bool accept, const AuditActor& actor);
  Result<std::vector<Alarm>> ListOpenAlarms();
  // True when newly raised / cleared (audited "alarm.raise" / "alarm.clear"); false when it
  // was already so (nothing written).
  Result<bool> RaiseAlarm(const AlarmKey& key, std::string_view detail, const AuditActor& actor);
  Result<bool> ClearAlarm(const AlarmKey& key, const AuditActor& actor);
  Result<std::vector<RepositoryFacts>> ListRepositoryFacts();
  Result<ClockGuardState> GetClockGuard();
  // Persists a reading's state; a newly frozen guard is audited "clock.freeze" and raises
  // the "clock" alarm in the same transaction.
  Status PutClockGuard(const ClockGuardState& state, bool froze_now, std::string_view detail,
                       const AuditActor& actor);
  // Unfreezes (AcknowledgeClock at the catalog's time) and clears the "clock" alarm.
  // Audited "clock.acknowledge"; a guard that is not frozen only takes the current time.
  Status AcknowledgeClockJump(const AuditActor& actor);

  // Restore grants (catalog_grants.cc). Issues a grant for the committed snapshot
  // `snapshot` (64 hex, or a unique prefix of at least 8) of one of `site_id`'s
  // repositories, valid for `ttl_seconds` (at most 7 days). Audited "grant.issue".
  // Errors: kNotFound (no such snapshot), kInvalidArgument (ttl, purpose, ambiguous prefix).
  // `require_approval`: it redeems only after DecideGrant approved it.
  Result<IssuedGrant> IssueGrant(int64_t site_id, std::string_view snapshot, std::string_view purpose,
                                 int64_t ttl_seconds, const AuditActor& actor, bool require_approval = false);
  // Redeems a grant once for a session (audited "grant.redeem" both ways).
  // Errors: kUnauthorized (unknown, malformed or expired), kPermissionDenied (used before,
  // or awaiting or refused approval: the grant is then not used up). `refusal` (optional)
  // gets the API code of a kPermissionDenied: "grant_used" or "grant_not_approved".
  Result<RestoreSession> RedeemGrant(std::string_view token, const AuditActor& actor,
                                     std::string* refusal = nullptr);
  // The site administrator's decision on a grant that requires approval
  // (catalog_grant_approvals.cc; audited "grant.approve" / "grant.deny" both ways).
  // `by` is a logged-in account (CheckOperatorLogin); only a tenant admin of the grant's
  // tenant may decide. Errors: kNotFound (no such grant), kPermissionDenied (`by` may not
  // decide for that tenant), kAlreadyExists (decided before), kInvalidArgument (the grant
  // needs no approval, is redeemed or expired; a reason over 1024 bytes or, to deny, none).
  Status DecideGrant(int64_t grant_id, bool approve, std::string_view reason, const OperatorAccount& by,
                     const AuditActor& actor);
  // Grants, newest first; `tenant_id` limits them to one tenant. Not audited here: the caller audits the
  // listing (grant.list).
  Result<std::vector<GrantRecord>> ListGrants(std::optional<int64_t> tenant_id = std::nullopt);
  // The session a "krs1_" token opens. Errors: kUnauthorized (unknown, expired; audited).
  Result<RestoreSession> AuthenticateSession(std::string_view token, const AuditActor& actor);

  // Storage and state counts for /metrics (catalog_metrics.cc), one read transaction.
  Result<CatalogCounts> Counts();

  // Garbage collection and scrub (catalog_gc.cc, catalog_scrub.cc; the runs are vault/gc.h
  // and vault/scrub.h, docs/vault-catalog.md "Garbage collection and scrub (schema 6)").
  struct GcRepository {
    int64_t id = 0;  // BoundRepository::id
    int64_t tenant_id = 0;
    std::string tenant;
    std::string repo_id;  // the area objects/<repo_id>/
    std::string config_sha256;
  };
  struct GcPack {
    int64_t id = 0;
    std::string name;
    uint64_t size = 0;
    bool quarantined = false;
    int64_t quarantined_at_ms = 0;
  };
  struct GcObject {    // a quarantined snapshot, or an object to scrub
    std::string kind;  // "pack", "snapshot", "key", "config"
    std::string name;
    uint64_t size = 0;
    int64_t quarantined_at_ms = 0;
  };
  struct GcIntent {
    int64_t id = 0;
    int64_t repository = 0;
    std::string repo_id;
    std::string kind;  // "pack", "snapshot"
    std::string name;
    uint64_t size = 0;
  };
  struct ScrubDamageRecord {
    int64_t repository = 0;
    std::string repo_id;
    std::string kind, name, detail;
    int64_t found_at_ms = 0;
    std::vector<std::string> affected_snapshots;
  };
  // Bound repositories, by id.
  Result<std::vector<GcRepository>> ListGcRepositories();
  // Renews the repository's upload lease to now (not audited: the upload it covers is).
  Status RenewUploadLease(int64_t repo);
  // Whether the lease was renewed less than `lease_seconds` ago.
  Result<bool> UploadLeaseLive(int64_t repo, int64_t lease_seconds);
  // Names of the snapshots that are not quarantined (what GC marks from).
  Result<std::vector<std::string>> LiveSnapshotNames(int64_t repo);
  Result<std::vector<GcPack>> ListGcPacks(int64_t repo);
  // Calls `fn(pack_id, blob_id)` for every blob row of the repository, in one read.
  Status ForEachPackBlob(int64_t repo, const std::function<void(int64_t, ByteView)>& fn);
  // In one write transaction, unless the upload lease is live (then kRetryable, nothing
  // changed): `quarantine` (stored packs) become quarantined now, `revive` (quarantined
  // packs, none being deleted) stored again. Audited "gc.sweep".
  Status ApplyGcMarks(int64_t repo, int64_t lease_seconds, const std::vector<int64_t>& quarantine,
                      const std::vector<int64_t>& revive, const AuditActor& actor);
  Result<std::vector<GcObject>> ListQuarantinedSnapshots(int64_t repo);
  // Writes the intent to delete a quarantined pack or snapshot quarantined at or before
  // `cutoff_ms`, unless the lease is live or the object is no longer so (then nullopt).
  Result<std::optional<GcIntent>> BeginDeletion(int64_t repo, std::string_view kind, std::string_view name,
                                                int64_t cutoff_ms, int64_t lease_seconds);
  // After the file is gone: removes the object's rows and the intent, audited
  // "object.delete". An intent whose object was revived meanwhile is only dropped.
  Status FinishDeletion(const GcIntent& intent, const AuditActor& actor);
  Result<std::vector<GcIntent>> ListDeletionIntents();
  // Whether GC is deleting that object right now (its upload answers 503 retry_later).
  Result<bool> DeletionPending(int64_t repo, std::string_view kind, std::string_view name);
  // A re-uploaded quarantined pack is stored again (audited "pack.revive"). False when it
  // was not quarantined. Errors: kRetryable while it is being deleted.
  Result<bool> RevivePack(int64_t repo, std::string_view name, const AuditActor& actor);
  // Quarantined bytes (packs and snapshots) per tenant id.
  Result<std::vector<std::pair<int64_t, uint64_t>>> PendingReclaimBytes();
  // Scrub: every object of a repository in scrub order (kind, then name).
  Result<std::vector<GcObject>> ListScrubObjects(int64_t repo);
  // Where the rotating sample goes on; nullopt before the first run.
  struct ScrubCursor {
    int64_t repository = 0;
    std::string kind, name;
    int64_t last_run_ms = 0;
  };
  Result<std::optional<ScrubCursor>> GetScrubCursor();
  Status SetScrubCursor(const ScrubCursor& cursor);
  // Records a damaged object (audited "scrub.damage"); false when it was known already.
  Result<bool> RecordScrubDamage(const ScrubDamageRecord& damage, const AuditActor& actor);
  Result<std::vector<ScrubDamageRecord>> ListScrubDamage();
  // A damaged object is whole again: `how` says why ("re-uploaded by the site" after its
  // bytes were checked against the name, or "found intact by scrub"). Deletes the damage
  // row, so the object counts again and the site's "damaged" state clears at the next
  // tick; audited "scrub.repair" with what was found and when. False when no damage was
  // recorded for it.
  Result<bool> ClearScrubDamage(int64_t repo, std::string_view kind, std::string_view name,
                                std::string_view how, const AuditActor& actor);
  // The blob IDs the pack's header listed (with them scrub finds the snapshots a damaged
  // pack affects: snapshot blob lists are files, not rows).
  Result<std::vector<crypto::Hash>> PackBlobIds(int64_t repo, std::string_view pack_name);

  // Appends an event on its own (a read, a refusal, a verification).
  Result<AuditRecord> Audit(const AuditEvent& event);
  // Checks the whole trail against its chain and anchor (one read transaction), and
  // against a head written down earlier when `expect` is given.
  Result<AuditVerifyReport> VerifyAudit(const std::optional<AuditAnchor>& expect = std::nullopt);
  // Records with from_ms <= at_ms < to_ms in seq order (one read transaction).
  Status ForEachAudit(int64_t from_ms, int64_t to_ms, const std::function<Status(const AuditRecord&)>& fn);

 private:
  Catalog() = default;
  int64_t NowMs() const { return clock_->NowUnixMillis(); }
  int64_t Now() const { return clock_->NowUnix(); }
  // Runs `body(db, event)` in a write transaction and appends `event` (prefilled with
  // actor, action and target; body may refine target and detail) with result "success" in
  // the same transaction. On failure rolls back and audits the failure on its own.
  // Defined in catalog_internal.h. REQUIRES: mu_ held.
  template <typename T, typename Body>
  Result<T> AuditedLocked(const AuditActor& actor, std::string_view action, std::string target, Body body);
  void AuditFailureLocked(const AuditActor& actor, std::string_view action, const std::string& target,
                          std::string_view result, const Status& why);

  std::mutex mu_;
  std::unique_ptr<SqlDb> db_;  // guarded by mu_
  const Clock* clock_ = nullptr;
  CatalogOptions options_;
  std::string path_;
  int schema_version_ = 0;
  std::string dummy_password_hash_;  // checked for unknown logins, so they take as long
};

}  // namespace kura::vault
