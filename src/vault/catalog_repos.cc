// The agent API's records (docs/vault-api.md §4, docs/vault-catalog.md "Repository
// objects"): repository bindings, key slots, packs and their blob IDs, snapshots, runs.
#include "util/hex.h"
#include "util/text.h"
#include "vault/catalog.h"
#include "vault/catalog_internal.h"

namespace kura::vault {

Result<Site> Catalog::FindSite(int64_t tenant_id, std::string_view name) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare(fmt::format("SELECT {} FROM sites"
                                                            " WHERE tenant_id = ?1 AND name = ?2",
                                                            kSiteColumns)));
  q.Bind(1, tenant_id).Bind(2, name);
  KURA_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) {
    return Status::NotFound(
        Tr("サイト \"{}\" はこのテナントにありません。kura-vault site list で確認してください",
           "there is no site \"{}\" in this tenant; see kura-vault site list", EscapeText(name, false)));
  }
  return SiteFromRow(q);
}

Result<Tenant> Catalog::GetTenant(int64_t tenant_id) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q,
                        db_->Prepare("SELECT id, name, created_at, recovery_public_key FROM tenants"
                                     " WHERE id = ?1"));
  q.Bind(1, tenant_id);
  KURA_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::NotFound(Tr("テナント {} はありません", "there is no tenant {}", tenant_id));
  return Tenant{q.Int(0), q.Text(1), q.Int(2), q.Text(3)};
}

Status Catalog::SetRecoveryKey(int64_t tenant_id, std::string_view public_key_hex, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  return AuditedLocked<bool>(
             actor, "tenant.set_recovery_key", "tenant:" + std::to_string(tenant_id),
             [&](SqlDb& db, AuditEvent& event) -> Result<bool> {
               if (!IsLowerHex(public_key_hex, 64)) {
                 return Status::InvalidArgument(Tr(
                     "復旧用の公開鍵は X25519 の 32 バイトを 16 進 64 桁 (小文字) で指定してください",
                     "the recovery public key must be an X25519 key: 32 bytes as 64 lowercase hex digits"));
               }
               KURA_ASSIGN_OR_RETURN(SqlStmt q, db.Prepare("UPDATE tenants SET recovery_public_key = ?1"
                                                           " WHERE id = ?2 RETURNING id"));
               q.Bind(1, public_key_hex).Bind(2, tenant_id);
               KURA_ASSIGN_OR_RETURN(bool row, q.Step());
               if (!row)
                 return Status::NotFound(Tr("テナント {} はありません", "there is no tenant {}", tenant_id));
               event.detail = "recovery_public_key=" + std::string(public_key_hex);
               return true;
             })
      .status();
}

static BoundRepository ReadBound(const SqlStmt& q) {
  return BoundRepository{q.Int(0), q.Int(1), q.Int(2), q.Text(3), q.Text(4), q.Text(5)};
}

Result<BoundRepository> Catalog::FindBoundRepository(std::string_view repo_id) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("SELECT r.id, r.site_id, s.tenant_id, r.job, r.repo_id,"
                                                " r.config_sha256 FROM repositories r JOIN sites s"
                                                " ON s.id = r.site_id WHERE r.repo_id = ?1"));
  q.Bind(1, repo_id);
  KURA_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::NotFound(Tr("リポジトリ {} はありません", "there is no repository {}", repo_id));
  return ReadBound(q);
}

Result<bool> Catalog::BindRepository(int64_t site_id, std::string_view job, std::string_view repo_id,
                                     std::string_view config_sha256, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  return AuditedLocked<bool>(
      actor, "repository.bind", "site:" + std::to_string(site_id) + "/repository:" + std::string(repo_id),
      [&](SqlDb& db, AuditEvent& event) -> Result<bool> {
        event.detail = "job=" + std::string(job);
        KURA_ASSIGN_OR_RETURN(SqlStmt by_id,
                              db.Prepare("SELECT id, site_id, job, config_sha256 FROM repositories"
                                         " WHERE repo_id = ?1"));
        by_id.Bind(1, repo_id);
        KURA_ASSIGN_OR_RETURN(bool bound, by_id.Step());
        if (bound) {
          if (by_id.Int(1) != site_id) {
            return Status::PermissionDenied(
                Tr("このサイトはリポジトリ {} を使えません", "this site may not use repository {}", repo_id));
          }
          if (by_id.Text(2) != job || by_id.Text(3) != config_sha256) {
            return Status::AlreadyExists(Tr(
                "リポジトリ {} はすでに別の設定またはジョブで登録されています。設定は置き換えられません",
                "repository {} is already registered with another config or job; configs are never replaced",
                repo_id));
          }
          event.detail += " repeat";
          return false;
        }
        KURA_ASSIGN_OR_RETURN(SqlStmt by_job, db.Prepare("SELECT id, repo_id FROM repositories"
                                                         " WHERE site_id = ?1 AND job = ?2"));
        by_job.Bind(1, site_id).Bind(2, job);
        KURA_ASSIGN_OR_RETURN(bool job_row, by_job.Step());
        if (job_row && !by_job.IsNull(1)) {
          return Status::AlreadyExists(Tr("ジョブ \"{}\" にはすでに別のリポジトリが登録されています",
                                          "job \"{}\" is already bound to another repository", job));
        }
        if (job_row) {
          // An operator registered the job first (kura-vault ... AddRepository): bind it.
          KURA_ASSIGN_OR_RETURN(SqlStmt up, db.Prepare("UPDATE repositories SET repo_id = ?1,"
                                                       " config_sha256 = ?2 WHERE id = ?3"));
          KURA_RETURN_IF_ERROR(up.Bind(1, repo_id).Bind(2, config_sha256).Bind(3, by_job.Int(0)).Run());
          return true;
        }
        KURA_RETURN_IF_ERROR(CheckName(job, "ジョブ名", "job name"));
        KURA_ASSIGN_OR_RETURN(SqlStmt ins,
                              db.Prepare("INSERT INTO repositories (site_id, job, created_at,"
                                         " repo_id, config_sha256) VALUES (?1, ?2, ?3, ?4, ?5)"));
        KURA_RETURN_IF_ERROR(
            ins.Bind(1, site_id).Bind(2, job).Bind(3, Now()).Bind(4, repo_id).Bind(5, config_sha256).Run());
        return true;
      });
}

Result<bool> Catalog::RecordKeySlot(int64_t repo, const KeySlotRecord& slot, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  {
    KURA_ASSIGN_OR_RETURN(SqlStmt q,
                          db_->Prepare("SELECT 1 FROM repo_keys WHERE repository_id = ?1 AND name = ?2"));
    q.Bind(1, repo).Bind(2, slot.name);
    KURA_ASSIGN_OR_RETURN(bool exists, q.Step());
    if (exists) return false;
  }
  return AuditedLocked<bool>(actor, "key.upload", "repository:" + std::to_string(repo) + "/key:" + slot.name,
                             [&](SqlDb& db, AuditEvent& event) -> Result<bool> {
                               event.detail = "kind=" + slot.kind;
                               if (!slot.recovery_public_key.empty())
                                 event.detail += " recovery_public_key=" + slot.recovery_public_key;
                               KURA_ASSIGN_OR_RETURN(
                                   SqlStmt q, db.Prepare("INSERT INTO repo_keys (repository_id, name, kind,"
                                                         " recovery_public_key, size, received_at)"
                                                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
                               std::optional<std::string> pub;
                               if (!slot.recovery_public_key.empty()) pub = slot.recovery_public_key;
                               Status st = q.Bind(1, repo)
                                               .Bind(2, slot.name)
                                               .Bind(3, slot.kind)
                                               .Bind(4, pub)
                                               .Bind(5, static_cast<int64_t>(slot.size))
                                               .Bind(6, Now())
                                               .Run();
                               if (st.code() == Code::kAlreadyExists) return false;  // recorded meanwhile
                               KURA_RETURN_IF_ERROR(st);
                               return true;
                             });
}

Result<bool> Catalog::HasRecoverySlot(int64_t repo, std::string_view public_key_hex) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("SELECT 1 FROM repo_keys WHERE repository_id = ?1"
                                                " AND kind = 'recovery' AND recovery_public_key = ?2"));
  q.Bind(1, repo).Bind(2, public_key_hex);
  return q.Step();
}

Result<bool> Catalog::PackStored(int64_t repo, std::string_view name) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("SELECT 1 FROM packs p WHERE p.repository_id = ?1"
                                                " AND p.name = ?2 AND p.state = 'stored' AND " +
                                                std::string(kPackNotDamaged)));
  q.Bind(1, repo).Bind(2, name);
  return q.Step();
}

Result<bool> Catalog::PackDamaged(int64_t repo, std::string_view name) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("SELECT 1 FROM scrub_damage WHERE repository_id = ?1"
                                                " AND kind = 'pack' AND name = ?2"));
  q.Bind(1, repo).Bind(2, name);
  return q.Step();
}

Result<bool> Catalog::RecordPack(int64_t repo, std::string_view name, uint64_t size,
                                 const std::vector<crypto::Hash>& blob_ids, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  return AuditedLocked<bool>(
      actor, "pack.upload", "repository:" + std::to_string(repo) + "/pack:" + std::string(name),
      [&](SqlDb& db, AuditEvent& event) -> Result<bool> {
        event.detail = fmt::format("size={} blobs={}", size, blob_ids.size());
        KURA_ASSIGN_OR_RETURN(SqlStmt ins,
                              db.Prepare("INSERT INTO packs (repository_id, name, size, blob_count,"
                                         " state, received_at) VALUES (?1, ?2, ?3, ?4, 'stored', ?5)"
                                         " RETURNING id"));
        ins.Bind(1, repo)
            .Bind(2, name)
            .Bind(3, static_cast<int64_t>(size))
            .Bind(4, static_cast<int64_t>(blob_ids.size()))
            .Bind(5, Now());
        Result<bool> row = ins.Step();
        if (!row.ok() && row.status().code() == Code::kAlreadyExists) {
          event.detail += " repeat";
          return false;
        }
        KURA_RETURN_IF_ERROR(row.status());
        int64_t pack_id = ins.Int(0);
        KURA_ASSIGN_OR_RETURN(SqlStmt blob, db.Prepare("INSERT OR IGNORE INTO blobs (repository_id, blob_id,"
                                                       " pack_id) VALUES (?1, ?2, ?3)"));
        for (const crypto::Hash& id : blob_ids) {
          blob.Reset();
          KURA_RETURN_IF_ERROR(
              blob.Bind(1, repo).BindBlob(2, ByteView(id.data(), id.size())).Bind(3, pack_id).Run());
        }
        return true;
      });
}

Result<uint64_t> Catalog::CountMissingBlobs(int64_t repo, ByteView ids, size_t keep,
                                            std::vector<size_t>* first) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlTxn txn, SqlTxn::Begin(*db_, SqlTxn::Mode::kRead));
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("SELECT 1 FROM blobs b JOIN packs p ON p.id = b.pack_id"
                                                " WHERE b.repository_id = ?1 AND b.blob_id = ?2"
                                                " AND p.state = 'stored' AND " +
                                                std::string(kPackNotDamaged) + " LIMIT 1"));
  uint64_t missing = 0;
  for (size_t i = 0; i + 32 <= ids.size(); i += 32) {
    q.Reset();
    q.Bind(1, repo).BindBlob(2, ids.subspan(i, 32));
    KURA_ASSIGN_OR_RETURN(bool held, q.Step());
    if (held) continue;
    if (first != nullptr && first->size() < keep) first->push_back(i / 32);
    ++missing;
  }
  KURA_RETURN_IF_ERROR(txn.Commit());
  return missing;
}

static SnapshotRecord ReadSnapshot(const SqlStmt& q) {
  return SnapshotRecord{q.Text(0),
                        q.Text(1),
                        q.Int(2),
                        q.Int(3),
                        static_cast<uint64_t>(q.Int(4)),
                        static_cast<uint64_t>(q.Int(5)),
                        static_cast<uint64_t>(q.Int(6)),
                        q.Int(7) != 0,
                        q.Text(8)};
}

Result<std::optional<SnapshotRecord>> Catalog::FindSnapshotRecord(int64_t repo, std::string_view name) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("SELECT name, kind, client_time, received_at_ms, bytes, size,"
                                                " blob_count, clock_warning, state FROM snapshots"
                                                " WHERE repository_id = ?1 AND name = ?2"));
  q.Bind(1, repo).Bind(2, name);
  KURA_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<SnapshotRecord>();
  return std::optional<SnapshotRecord>(ReadSnapshot(q));
}

Status Catalog::RecordSnapshot(int64_t repo, const SnapshotRecord& s, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  return AuditedLocked<bool>(
             actor, "snapshot.commit", "repository:" + std::to_string(repo) + "/snapshot:" + s.name,
             [&](SqlDb& db, AuditEvent& event) -> Result<bool> {
               event.detail = fmt::format("kind={} blobs={} bytes={} client_time={} clock_warning={}", s.kind,
                                          s.blob_count, s.bytes, FormatUtc(s.client_time), s.clock_warning);
               KURA_ASSIGN_OR_RETURN(
                   SqlStmt q, db.Prepare("INSERT INTO snapshots (repository_id, name, kind, client_time,"
                                         " received_at_ms, bytes, size, blob_count, clock_warning, state)"
                                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'kept')"));
               KURA_RETURN_IF_ERROR(q.Bind(1, repo)
                                        .Bind(2, s.name)
                                        .Bind(3, s.kind)
                                        .Bind(4, s.client_time)
                                        .Bind(5, s.received_at_ms)
                                        .Bind(6, static_cast<int64_t>(s.bytes))
                                        .Bind(7, static_cast<int64_t>(s.size))
                                        .Bind(8, static_cast<int64_t>(s.blob_count))
                                        .Bind(9, int64_t{s.clock_warning ? 1 : 0})
                                        .Run());
               KURA_ASSIGN_OR_RETURN(
                   SqlStmt st,
                   db.Prepare("INSERT INTO repo_status (repository_id, warning_active, clock_warning,"
                              " updated_at) VALUES (?1, 0, ?2, ?3) ON CONFLICT (repository_id)"
                              " DO UPDATE SET clock_warning = ?2, updated_at = ?3"));
               KURA_RETURN_IF_ERROR(
                   st.Bind(1, repo).Bind(2, int64_t{s.clock_warning ? 1 : 0}).Bind(3, Now()).Run());
               return true;
             })
      .status();
}

Result<std::vector<SnapshotRecord>> Catalog::ListSnapshotRecords(int64_t repo) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q,
                        db_->Prepare("SELECT name, kind, client_time, received_at_ms, bytes, size,"
                                     " blob_count, clock_warning, state FROM snapshots"
                                     " WHERE repository_id = ?1 ORDER BY received_at_ms DESC, id DESC"));
  q.Bind(1, repo);
  std::vector<SnapshotRecord> out;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back(ReadSnapshot(q));
  }
}

Status Catalog::RecordRun(int64_t repo, const RunReport& run) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlTxn txn, SqlTxn::Begin(*db_, SqlTxn::Mode::kWrite));
  KURA_ASSIGN_OR_RETURN(SqlStmt ins, db_->Prepare("INSERT INTO runs (repository_id, result, kind, snapshot,"
                                                  " message, started, finished, received_at)"
                                                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  KURA_RETURN_IF_ERROR(ins.Bind(1, repo)
                           .Bind(2, run.result)
                           .Bind(3, run.kind)
                           .Bind(4, run.snapshot)
                           .Bind(5, run.message)
                           .Bind(6, run.started)
                           .Bind(7, run.finished)
                           .Bind(8, Now())
                           .Run());
  bool success = run.result == "success";
  // A success clears the warning a failure raised; a failure keeps the last success; a
  // report without a schedule keeps the one known.
  KURA_ASSIGN_OR_RETURN(
      SqlStmt up,
      db_->Prepare(success
                       ? "INSERT INTO repo_status (repository_id, last_success_at, last_success_snapshot,"
                         " warning_active, schedule_time, schedule_timezone, schedule_days, clock_warning,"
                         " updated_at) VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, 0, ?2)"
                         " ON CONFLICT (repository_id) DO UPDATE SET last_success_at = ?2,"
                         " last_success_snapshot = ?3, warning_active = 0,"
                         " schedule_time = COALESCE(NULLIF(?4, ''), schedule_time),"
                         " schedule_timezone = COALESCE(NULLIF(?5, ''), schedule_timezone),"
                         " schedule_days = COALESCE(NULLIF(?6, ''), schedule_days), updated_at = ?2"
                       : "INSERT INTO repo_status (repository_id, last_failure_at, last_failure_message,"
                         " warning_active, schedule_time, schedule_timezone, schedule_days, clock_warning,"
                         " updated_at) VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, 0, ?2)"
                         " ON CONFLICT (repository_id) DO UPDATE SET last_failure_at = ?2,"
                         " last_failure_message = ?3, warning_active = 1,"
                         " schedule_time = COALESCE(NULLIF(?4, ''), schedule_time),"
                         " schedule_timezone = COALESCE(NULLIF(?5, ''), schedule_timezone),"
                         " schedule_days = COALESCE(NULLIF(?6, ''), schedule_days), updated_at = ?2"));
  KURA_RETURN_IF_ERROR(up.Bind(1, repo)
                           .Bind(2, Now())
                           .Bind(3, success ? run.snapshot : run.message)
                           .Bind(4, run.schedule_time)
                           .Bind(5, run.schedule_timezone)
                           .Bind(6, run.schedule_days)
                           .Run());
  return txn.Commit();
}

Result<RepoStatus> Catalog::GetRepoStatus(int64_t repo) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q,
                        db_->Prepare("SELECT last_success_at, last_success_snapshot, last_failure_at,"
                                     " last_failure_message, warning_active, clock_warning,"
                                     " schedule_time, schedule_timezone, schedule_days"
                                     " FROM repo_status WHERE repository_id = ?1"));
  q.Bind(1, repo);
  KURA_ASSIGN_OR_RETURN(bool row, q.Step());
  RepoStatus st;
  if (!row) return st;
  st.last_success_at = q.OptInt(0);
  st.last_success_snapshot = q.Text(1);
  st.last_failure_at = q.OptInt(2);
  st.last_failure_message = q.Text(3);
  st.warning_active = q.Int(4) != 0;
  st.clock_warning = q.Int(5) != 0;
  st.schedule_time = q.Text(6);
  st.schedule_timezone = q.Text(7);
  st.schedule_days = q.Text(8);
  return st;
}

}  // namespace kura::vault
