// Garbage collection's records (docs/vault-catalog.md "Garbage collection and scrub (schema 6)"):
// upload leases, the mark's results, deletion intents, revival of re-uploaded packs.
//
// Safety rests on two rules checked inside the write transaction that acts, never on a
// read made earlier: a repository whose upload lease is live is not changed at all, and an
// object is deleted only through an intent row, which a re-upload of it respects (503).
#include "util/hex.h"
#include "vault/catalog.h"
#include "vault/catalog_internal.h"

namespace kura::vault {

// Reads the lease inside the caller's transaction. REQUIRES: mu_ held.
static Result<bool> LeaseLiveIn(SqlDb& db, int64_t repo, int64_t lease_seconds, int64_t now_ms) {
  KURA_ASSIGN_OR_RETURN(SqlStmt q,
                        db.Prepare("SELECT renewed_at_ms FROM upload_leases WHERE repository_id = ?1"));
  q.Bind(1, repo);
  KURA_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return false;
  return q.Int(0) > now_ms - lease_seconds * 1000;
}

Result<std::vector<Catalog::GcRepository>> Catalog::ListGcRepositories() {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("SELECT r.id, s.tenant_id, t.name, r.repo_id, r.config_sha256"
                                                " FROM repositories r JOIN sites s ON s.id = r.site_id"
                                                " JOIN tenants t ON t.id = s.tenant_id"
                                                " WHERE r.repo_id IS NOT NULL ORDER BY r.id"));
  std::vector<GcRepository> out;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back(GcRepository{q.Int(0), q.Int(1), q.Text(2), q.Text(3), q.Text(4)});
  }
}

Status Catalog::RenewUploadLease(int64_t repo) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("INSERT INTO upload_leases (repository_id, renewed_at_ms)"
                                                " VALUES (?1, ?2) ON CONFLICT (repository_id)"
                                                " DO UPDATE SET renewed_at_ms = ?2"));
  return q.Bind(1, repo).Bind(2, NowMs()).Run();
}

Result<bool> Catalog::UploadLeaseLive(int64_t repo, int64_t lease_seconds) {
  std::lock_guard lock(mu_);
  return LeaseLiveIn(*db_, repo, lease_seconds, NowMs());
}

Result<std::vector<std::string>> Catalog::LiveSnapshotNames(int64_t repo) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("SELECT name FROM snapshots WHERE repository_id = ?1"
                                                " AND state <> 'quarantined' ORDER BY name"));
  q.Bind(1, repo);
  std::vector<std::string> out;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back(q.Text(0));
  }
}

Result<std::vector<Catalog::GcPack>> Catalog::ListGcPacks(int64_t repo) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("SELECT id, name, size, state, quarantined_at_ms FROM packs"
                                                " WHERE repository_id = ?1 ORDER BY id"));
  q.Bind(1, repo);
  std::vector<GcPack> out;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back(GcPack{q.Int(0), q.Text(1), static_cast<uint64_t>(q.Int(2)), q.Text(3) == "quarantined",
                         q.OptInt(4).value_or(0)});
  }
}

Status Catalog::ForEachPackBlob(int64_t repo, const std::function<void(int64_t, ByteView)>& fn) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlTxn txn, SqlTxn::Begin(*db_, SqlTxn::Mode::kRead));
  KURA_ASSIGN_OR_RETURN(SqlStmt q,
                        db_->Prepare("SELECT pack_id, blob_id FROM blobs WHERE repository_id = ?1"));
  q.Bind(1, repo);
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    Bytes id = q.Blob(1);
    fn(q.Int(0), ByteView(id));
  }
  return txn.Commit();
}

Status Catalog::ApplyGcMarks(int64_t repo, int64_t lease_seconds, const std::vector<int64_t>& quarantine,
                             const std::vector<int64_t>& revive, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  return AuditedLocked<bool>(
             actor, "gc.sweep", "repository:" + std::to_string(repo),
             [&](SqlDb& db, AuditEvent& event) -> Result<bool> {
               KURA_ASSIGN_OR_RETURN(bool live, LeaseLiveIn(db, repo, lease_seconds, NowMs()));
               if (live) {
                 return Status::Retryable(
                     Tr("リポジトリ {} はアップロード中です (アップロードのリース中)",
                        "repository {} has an upload in progress (its upload lease is live)", repo));
               }
               KURA_ASSIGN_OR_RETURN(SqlStmt q, db.Prepare("UPDATE packs SET state = 'quarantined',"
                                                           " quarantined_at_ms = ?1 WHERE id = ?2"
                                                           " AND repository_id = ?3 AND state = 'stored'"));
               int64_t quarantined = 0;
               for (int64_t id : quarantine) {
                 q.Reset();
                 KURA_RETURN_IF_ERROR(q.Bind(1, NowMs()).Bind(2, id).Bind(3, repo).Run());
                 quarantined += db.Changes();
               }
               // A pack being deleted stays on its way out: its intent is the decision.
               KURA_ASSIGN_OR_RETURN(
                   SqlStmt r,
                   db.Prepare("UPDATE packs SET state = 'stored', quarantined_at_ms = NULL"
                              " WHERE id = ?1 AND repository_id = ?2 AND state = 'quarantined'"
                              " AND NOT EXISTS (SELECT 1 FROM gc_deletions g WHERE"
                              " g.repository_id = ?2 AND g.kind = 'pack' AND g.name = packs.name)"));
               int64_t revived = 0;
               for (int64_t id : revive) {
                 r.Reset();
                 KURA_RETURN_IF_ERROR(r.Bind(1, id).Bind(2, repo).Run());
                 revived += db.Changes();
               }
               event.detail = fmt::format("packs_quarantined={} packs_revived={}", quarantined, revived);
               return true;
             })
      .status();
}

Result<std::vector<Catalog::GcObject>> Catalog::ListQuarantinedSnapshots(int64_t repo) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("SELECT name, size, quarantined_at_ms FROM snapshots"
                                                " WHERE repository_id = ?1 AND state = 'quarantined'"
                                                " ORDER BY name"));
  q.Bind(1, repo);
  std::vector<GcObject> out;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back(GcObject{"snapshot", q.Text(0), static_cast<uint64_t>(q.Int(1)), q.OptInt(2).value_or(0)});
  }
}

// The object's size when it is quarantined at or before `cutoff_ms`. REQUIRES: mu_ held.
static Result<std::optional<uint64_t>> QuarantinedSize(SqlDb& db, int64_t repo, std::string_view kind,
                                                       std::string_view name, int64_t cutoff_ms) {
  KURA_ASSIGN_OR_RETURN(
      SqlStmt q, db.Prepare(kind == "pack" ? "SELECT size FROM packs WHERE repository_id = ?1 AND name = ?2"
                                             " AND state = 'quarantined' AND quarantined_at_ms <= ?3"
                                           : "SELECT size FROM snapshots WHERE repository_id = ?1"
                                             " AND name = ?2 AND state = 'quarantined'"
                                             " AND quarantined_at_ms <= ?3"));
  q.Bind(1, repo).Bind(2, name).Bind(3, cutoff_ms);
  KURA_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<uint64_t>();
  return std::optional<uint64_t>(static_cast<uint64_t>(q.Int(0)));
}

Result<std::optional<Catalog::GcIntent>> Catalog::BeginDeletion(int64_t repo, std::string_view kind,
                                                                std::string_view name, int64_t cutoff_ms,
                                                                int64_t lease_seconds) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlTxn txn, SqlTxn::Begin(*db_, SqlTxn::Mode::kWrite));
  KURA_ASSIGN_OR_RETURN(bool live, LeaseLiveIn(*db_, repo, lease_seconds, NowMs()));
  if (live) return std::optional<GcIntent>();
  KURA_ASSIGN_OR_RETURN(std::optional<uint64_t> size, QuarantinedSize(*db_, repo, kind, name, cutoff_ms));
  if (!size) return std::optional<GcIntent>();
  GcIntent intent{0, repo, "", std::string(kind), std::string(name), *size};
  {  // statements end before the commit (a RETURNING statement in progress blocks it)
    KURA_ASSIGN_OR_RETURN(SqlStmt ins,
                          db_->Prepare("INSERT INTO gc_deletions (repository_id, kind, name, size,"
                                       " created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id"));
    ins.Bind(1, repo).Bind(2, kind).Bind(3, name).Bind(4, static_cast<int64_t>(*size)).Bind(5, NowMs());
    Result<bool> row = ins.Step();
    if (!row.ok() && row.status().code() == Code::kAlreadyExists) return std::optional<GcIntent>();
    KURA_RETURN_IF_ERROR(row.status());
    intent.id = ins.Int(0);
    KURA_ASSIGN_OR_RETURN(SqlStmt rid, db_->Prepare("SELECT repo_id FROM repositories WHERE id = ?1"));
    rid.Bind(1, repo);
    KURA_ASSIGN_OR_RETURN(bool found, rid.Step());
    if (found) intent.repo_id = rid.Text(0);
  }
  KURA_RETURN_IF_ERROR(txn.Commit());
  return std::optional<GcIntent>(intent);
}

Status Catalog::FinishDeletion(const GcIntent& intent, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  return AuditedLocked<bool>(
             actor, "object.delete",
             "repository:" + std::to_string(intent.repository) + "/" + intent.kind + ":" + intent.name,
             [&](SqlDb& db, AuditEvent& event) -> Result<bool> {
               event.detail = fmt::format("size={} reason=gc", intent.size);
               bool pack = intent.kind == "pack";
               if (pack) {
                 KURA_ASSIGN_OR_RETURN(
                     SqlStmt b, db.Prepare("DELETE FROM blobs WHERE repository_id = ?1 AND pack_id IN"
                                           " (SELECT id FROM packs WHERE repository_id = ?1 AND name = ?2"
                                           " AND state = 'quarantined')"));
                 KURA_RETURN_IF_ERROR(b.Bind(1, intent.repository).Bind(2, intent.name).Run());
               }
               KURA_ASSIGN_OR_RETURN(
                   SqlStmt d, db.Prepare(pack ? "DELETE FROM packs WHERE repository_id = ?1 AND name = ?2"
                                                " AND state = 'quarantined'"
                                              : "DELETE FROM snapshots WHERE repository_id = ?1 AND name = ?2"
                                                " AND state = 'quarantined'"));
               KURA_RETURN_IF_ERROR(d.Bind(1, intent.repository).Bind(2, intent.name).Run());
               if (db.Changes() == 0) event.detail += " rows=none";
               KURA_ASSIGN_OR_RETURN(SqlStmt g, db.Prepare("DELETE FROM gc_deletions WHERE id = ?1"));
               KURA_RETURN_IF_ERROR(g.Bind(1, intent.id).Run());
               return true;
             })
      .status();
}

Result<std::vector<Catalog::GcIntent>> Catalog::ListDeletionIntents() {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q,
                        db_->Prepare("SELECT g.id, g.repository_id, r.repo_id, g.kind, g.name, g.size"
                                     " FROM gc_deletions g JOIN repositories r"
                                     " ON r.id = g.repository_id ORDER BY g.id"));
  std::vector<GcIntent> out;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back(
        GcIntent{q.Int(0), q.Int(1), q.Text(2), q.Text(3), q.Text(4), static_cast<uint64_t>(q.Int(5))});
  }
}

Result<bool> Catalog::DeletionPending(int64_t repo, std::string_view kind, std::string_view name) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("SELECT 1 FROM gc_deletions WHERE repository_id = ?1"
                                                " AND kind = ?2 AND name = ?3"));
  q.Bind(1, repo).Bind(2, kind).Bind(3, name);
  return q.Step();
}

Result<bool> Catalog::RevivePack(int64_t repo, std::string_view name, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  {
    KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("SELECT 1 FROM packs WHERE repository_id = ?1 AND name = ?2"
                                                  " AND state = 'quarantined'"));
    q.Bind(1, repo).Bind(2, name);
    KURA_ASSIGN_OR_RETURN(bool quarantined, q.Step());
    if (!quarantined) return false;
  }
  return AuditedLocked<bool>(
      actor, "pack.revive", "repository:" + std::to_string(repo) + "/pack:" + std::string(name),
      [&](SqlDb& db, AuditEvent& event) -> Result<bool> {
        KURA_ASSIGN_OR_RETURN(SqlStmt g, db.Prepare("SELECT 1 FROM gc_deletions WHERE repository_id = ?1"
                                                    " AND kind = 'pack' AND name = ?2"));
        g.Bind(1, repo).Bind(2, name);
        KURA_ASSIGN_OR_RETURN(bool deleting, g.Step());
        if (deleting) {
          return Status::Retryable(Tr("パック {} は削除中です。しばらくしてから送り直してください",
                                      "pack {} is being deleted; send it again in a moment", name));
        }
        KURA_ASSIGN_OR_RETURN(SqlStmt u,
                              db.Prepare("UPDATE packs SET state = 'stored', quarantined_at_ms = NULL"
                                         " WHERE repository_id = ?1 AND name = ?2"
                                         " AND state = 'quarantined'"));
        KURA_RETURN_IF_ERROR(u.Bind(1, repo).Bind(2, name).Run());
        event.detail = "re-uploaded";
        return db.Changes() > 0;
      });
}

Result<std::vector<std::pair<int64_t, uint64_t>>> Catalog::PendingReclaimBytes() {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(
      SqlStmt q, db_->Prepare("SELECT s.tenant_id, SUM(x.size) FROM ("
                              " SELECT repository_id, size FROM packs WHERE state = 'quarantined'"
                              " UNION ALL"
                              " SELECT repository_id, size FROM snapshots WHERE state = 'quarantined'"
                              ") x JOIN repositories r ON r.id = x.repository_id"
                              " JOIN sites s ON s.id = r.site_id GROUP BY s.tenant_id ORDER BY s.tenant_id"));
  std::vector<std::pair<int64_t, uint64_t>> out;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.emplace_back(q.Int(0), static_cast<uint64_t>(q.Int(1)));
  }
}

Result<std::vector<crypto::Hash>> Catalog::PackBlobIds(int64_t repo, std::string_view pack_name) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q,
                        db_->Prepare("SELECT b.blob_id FROM blobs b JOIN packs p ON p.id = b.pack_id"
                                     " WHERE p.repository_id = ?1 AND p.name = ?2"));
  q.Bind(1, repo).Bind(2, pack_name);
  std::vector<crypto::Hash> out;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    Bytes b = q.Blob(0);
    crypto::Hash h{};
    if (b.size() == h.size()) std::copy(b.begin(), b.end(), h.begin());
    out.push_back(h);
  }
}

}  // namespace kura::vault
