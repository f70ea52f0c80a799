// Retention, holds, capacity and alarms on the catalog (docs/retention.md, docs/vault-catalog.md
// "Retention, holds and alarms"): the loop tests/vault/vault_sim.h models in memory, on the
// real tables. The decisions themselves are the pure functions of anomaly.h,
// retention_rules.h, site_state.h and clock_guard.h; this file feeds them catalog rows and
// writes their outcome back, audited, in the same transaction.
#include <algorithm>

#include "util/text.h"
#include "vault/catalog.h"
#include "vault/catalog_internal.h"
#include "vault/catalog_retention_internal.h"

namespace kura::vault {

namespace retention_detail {

AuditActor SystemActor() {
  return AuditActor{"system", "kura-vault", "local", "", ""};
}

std::string Bilingual(const std::string& ja, const std::string& en) {
  return ja + "\n" + en;
}

Status AuditIn(SqlDb& db, const AuditActor& actor, std::string action, std::string target, std::string detail,
               int64_t now_ms) {
  AuditEvent event{actor, std::move(action), std::move(target), std::string(kAuditSuccess),
                   std::move(detail)};
  return AppendAuditRecord(db, event, now_ms).status();
}

Result<std::optional<int64_t>> HoldSince(SqlDb& db, int64_t site_id) {
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db.Prepare("SELECT MIN(placed_at_ms) FROM holds WHERE site_id = ?1"
                                              " AND cleared_at_ms IS NULL"));
  q.Bind(1, site_id);
  KURA_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<int64_t>();
  return q.OptInt(0);
}

Result<ClockGuardState> GuardOf(SqlDb& db) {
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db.Prepare("SELECT last_seen_ms, frozen, jump, jump_from_ms, jump_to_ms"
                                              " FROM clock_guard WHERE id = 1"));
  KURA_ASSIGN_OR_RETURN(bool row, q.Step());
  ClockGuardState st;
  if (!row) return st;
  st.last_seen_ms = q.Int(0);
  st.frozen = q.Int(1) != 0;
  std::string jump = q.Text(2);
  st.jump = jump == "backward"  ? ClockJump::kBackward
            : jump == "forward" ? ClockJump::kForward
                                : ClockJump::kNone;
  st.jump_from_ms = q.Int(3);
  st.jump_to_ms = q.Int(4);
  return st;
}

}  // namespace retention_detail

using retention_detail::AuditIn;
using retention_detail::Bilingual;
using retention_detail::ClearIn;
using retention_detail::GuardOf;
using retention_detail::HoldSince;
using retention_detail::RaiseIn;
using retention_detail::SystemActor;

namespace {

struct RepoOwner {
  int64_t site_id = 0;
  int64_t tenant_id = 0;
};

Result<RepoOwner> OwnerOf(SqlDb& db, int64_t repo) {
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db.Prepare("SELECT r.site_id, s.tenant_id FROM repositories r"
                                              " JOIN sites s ON s.id = r.site_id WHERE r.id = ?1"));
  q.Bind(1, repo);
  KURA_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::NotFound(Tr("リポジトリ {} はありません", "there is no repository {}", repo));
  return RepoOwner{q.Int(0), q.Int(1)};
}

Result<Catalog::TenantPolicy> PolicyOf(SqlDb& db, int64_t tenant_id) {
  KURA_ASSIGN_OR_RETURN(SqlStmt t, db.Prepare("SELECT 1 FROM tenants WHERE id = ?1"));
  t.Bind(1, tenant_id);
  KURA_ASSIGN_OR_RETURN(bool exists, t.Step());
  if (!exists) return Status::NotFound(Tr("テナント {} はありません", "there is no tenant {}", tenant_id));
  Catalog::TenantPolicy policy;
  KURA_ASSIGN_OR_RETURN(SqlStmt q,
                        db.Prepare("SELECT daily_days, monthly_months, manual_last, zone, soft_quota_bytes,"
                                   " hard_quota_bytes, overdue_grace_hours FROM tenant_policies"
                                   " WHERE tenant_id = ?1"));
  q.Bind(1, tenant_id);
  KURA_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return policy;
  policy.retention.daily_days = static_cast<int>(q.Int(0));
  policy.retention.monthly_months = static_cast<int>(q.Int(1));
  policy.retention.manual_last = static_cast<int>(q.Int(2));
  Result<FixedZone> zone = ParseFixedZone(q.Text(3));
  if (zone.ok()) policy.retention.zone = *zone;
  policy.soft_quota_bytes = static_cast<uint64_t>(q.Int(4));
  policy.hard_quota_bytes = static_cast<uint64_t>(q.Int(5));
  if (std::optional<int64_t> grace = q.OptInt(6)) policy.overdue_grace_hours = static_cast<int>(*grace);
  return policy;
}

struct StoredGeneration {
  Generation gen;
  bool quarantined = false;
};

Result<std::vector<StoredGeneration>> GenerationsOf(SqlDb& db, int64_t repo) {
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db.Prepare("SELECT name, kind, received_at_ms, verdict, bytes, new_bytes,"
                                              " blob_count, compression_milli, state FROM snapshots"
                                              " WHERE repository_id = ?1"));
  q.Bind(1, repo);
  std::vector<StoredGeneration> out;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    StoredGeneration s;
    s.gen.id = q.Text(0);
    s.gen.kind = ParseKind(q.Text(1)).value_or(SnapshotKind::kManual);
    s.gen.received_ms = q.Int(2);
    s.gen.state = ParseGenerationState(q.Text(3)).value_or(GenerationState::kPendingCheck);
    s.gen.bytes = static_cast<uint64_t>(q.Int(4));
    s.gen.new_bytes = static_cast<uint64_t>(q.Int(5));
    s.gen.chunks = static_cast<uint64_t>(q.Int(6));
    s.gen.compression_ratio = static_cast<double>(q.Int(7)) / 1000.0;
    s.quarantined = q.Text(8) == "quarantined";
    out.push_back(std::move(s));
  }
}

struct PlanInputs {
  RepoOwner owner;
  Catalog::TenantPolicy policy;
  RetentionPlan plan;
};

Result<PlanInputs> PlanIn(SqlDb& db, int64_t repo, int64_t now_ms) {
  PlanInputs in;
  KURA_ASSIGN_OR_RETURN(in.owner, OwnerOf(db, repo));
  KURA_ASSIGN_OR_RETURN(in.policy, PolicyOf(db, in.owner.tenant_id));
  KURA_ASSIGN_OR_RETURN(std::vector<StoredGeneration> stored, GenerationsOf(db, repo));
  std::vector<Generation> live;
  for (StoredGeneration& s : stored) {
    if (!s.quarantined) live.push_back(std::move(s.gen));
  }
  KURA_ASSIGN_OR_RETURN(std::optional<int64_t> hold, HoldSince(db, in.owner.site_id));
  KURA_ASSIGN_OR_RETURN(ClockGuardState guard, GuardOf(db));
  in.plan =
      PlanRemoteRetention(live, in.policy.retention, {hold.has_value(), !DeletionAllowed(guard)}, now_ms);
  return in;
}

// Quarantines what the plan evicts. The plan already holds everything back on hold or
// with the clock frozen (retention_rules.h), so this never acts against the guards.
Result<Catalog::RetentionOutcome> RetainIn(SqlDb& db, int64_t repo, const AuditActor& actor, int64_t now_ms) {
  KURA_ASSIGN_OR_RETURN(PlanInputs in, PlanIn(db, repo, now_ms));
  Catalog::RetentionOutcome out;
  KURA_ASSIGN_OR_RETURN(SqlStmt up,
                        db.Prepare("UPDATE snapshots SET state = 'quarantined', quarantined_at_ms = ?3"
                                   " WHERE repository_id = ?1 AND name = ?2"
                                   " AND state <> 'quarantined'"));
  for (const GenerationDecision& d : in.plan.decisions) {
    if (d.keep) continue;
    up.Reset();
    KURA_RETURN_IF_ERROR(up.Bind(1, repo).Bind(2, d.id).Bind(3, now_ms).Run());
    if (db.Changes() == 0) continue;
    KURA_RETURN_IF_ERROR(AuditIn(
        db, actor, "snapshot.evict", "repository:" + std::to_string(repo) + "/snapshot:" + d.id,
        fmt::format("kind={} reason={} bucket={}", KindName(d.kind), RetentionReasonCode(d.reason), d.bucket),
        now_ms));
    out.evicted.push_back(d.id);
  }
  out.plan = std::move(in.plan);
  return out;
}

}  // namespace

Result<Catalog::TenantPolicy> Catalog::GetTenantPolicy(int64_t tenant_id) {
  std::lock_guard lock(mu_);
  return PolicyOf(*db_, tenant_id);
}

// Both setters write the whole row from the current policy, so a tenant without a row gets
// the defaults for the half it does not set.
static Status WritePolicy(SqlDb& db, int64_t tenant_id, const Catalog::TenantPolicy& p, int64_t now) {
  KURA_ASSIGN_OR_RETURN(
      SqlStmt q,
      db.Prepare(
          "INSERT INTO tenant_policies (tenant_id, daily_days, monthly_months, manual_last, zone,"
          " soft_quota_bytes, hard_quota_bytes, updated_at, overdue_grace_hours)"
          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
          " ON CONFLICT (tenant_id) DO UPDATE SET daily_days = ?2, monthly_months = ?3,"
          " manual_last = ?4, zone = ?5, soft_quota_bytes = ?6, hard_quota_bytes = ?7, updated_at = ?8,"
          " overdue_grace_hours = ?9"));
  return q.Bind(1, tenant_id)
      .Bind(2, int64_t{p.retention.daily_days})
      .Bind(3, int64_t{p.retention.monthly_months})
      .Bind(4, int64_t{p.retention.manual_last})
      .Bind(5, p.retention.zone.label == "JST" ? std::string("Asia/Tokyo") : p.retention.zone.label)
      .Bind(6, static_cast<int64_t>(p.soft_quota_bytes))
      .Bind(7, static_cast<int64_t>(p.hard_quota_bytes))
      .Bind(8, now)
      .Bind(9, p.overdue_grace_hours ? std::optional<int64_t>(*p.overdue_grace_hours) : std::nullopt)
      .Run();
}

Status Catalog::SetTenantRetention(int64_t tenant_id, int daily_days, int monthly_months, int manual_last,
                                   const AuditActor& actor) {
  std::lock_guard lock(mu_);
  return AuditedLocked<bool>(actor, "tenant.set_retention", "tenant:" + std::to_string(tenant_id),
                             [&](SqlDb& db, AuditEvent& event) -> Result<bool> {
                               KURA_ASSIGN_OR_RETURN(TenantPolicy p, PolicyOf(db, tenant_id));
                               p.retention.daily_days = daily_days;
                               p.retention.monthly_months = monthly_months;
                               p.retention.manual_last = manual_last;
                               KURA_RETURN_IF_ERROR(ValidateRetentionPolicy(p.retention));
                               event.detail = fmt::format("daily={} monthly={} manual={}", daily_days,
                                                          monthly_months, manual_last);
                               KURA_RETURN_IF_ERROR(WritePolicy(db, tenant_id, p, Now()));
                               return true;
                             })
      .status();
}

Status Catalog::SetTenantQuota(int64_t tenant_id, uint64_t soft_bytes, uint64_t hard_bytes,
                               const AuditActor& actor) {
  std::lock_guard lock(mu_);
  return AuditedLocked<bool>(
             actor, "tenant.set_quota", "tenant:" + std::to_string(tenant_id),
             [&](SqlDb& db, AuditEvent& event) -> Result<bool> {
               constexpr uint64_t kMax = uint64_t{1} << 62;  // stays an INTEGER on every catalog
               if (soft_bytes > kMax || hard_bytes > kMax || (hard_bytes != 0 && soft_bytes > hard_bytes)) {
                 return Status::InvalidArgument(
                     Tr("警告の容量 ({} バイト) は上限 ({} バイト) 以下にしてください (0 は設定なし)",
                        "the soft quota ({} bytes) must not be above the hard quota ({} bytes; 0 is none)",
                        soft_bytes, hard_bytes));
               }
               KURA_ASSIGN_OR_RETURN(TenantPolicy p, PolicyOf(db, tenant_id));
               p.soft_quota_bytes = soft_bytes;
               p.hard_quota_bytes = hard_bytes;
               event.detail = fmt::format("soft={} hard={}", soft_bytes, hard_bytes);
               KURA_RETURN_IF_ERROR(WritePolicy(db, tenant_id, p, Now()));
               return true;
             })
      .status();
}

static Status CheckOverdueGrace(std::optional<int> hours) {
  if (!hours || (*hours >= 0 && *hours <= kMaxOverdueGraceHours)) return Status::Ok();
  return Status::InvalidArgument(Tr("期限超過までの猶予は 0〜{} 時間です ({} は使えません)",
                                    "the overdue grace must be 0..{} hours, not {}", kMaxOverdueGraceHours,
                                    *hours));
}

static std::string GraceDetail(std::optional<int> hours) {
  return hours ? fmt::format("overdue_grace_hours={}", *hours) : std::string("overdue_grace_hours=default");
}

Status Catalog::SetTenantOverdueGrace(int64_t tenant_id, std::optional<int> hours, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  return AuditedLocked<bool>(actor, "tenant.set_overdue_grace", "tenant:" + std::to_string(tenant_id),
                             [&](SqlDb& db, AuditEvent& event) -> Result<bool> {
                               KURA_RETURN_IF_ERROR(CheckOverdueGrace(hours));
                               KURA_ASSIGN_OR_RETURN(TenantPolicy p, PolicyOf(db, tenant_id));
                               p.overdue_grace_hours = hours;
                               event.detail = GraceDetail(hours);
                               KURA_RETURN_IF_ERROR(WritePolicy(db, tenant_id, p, Now()));
                               return true;
                             })
      .status();
}

Status Catalog::SetSiteOverdueGrace(int64_t site_id, std::optional<int> hours, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  return AuditedLocked<bool>(
             actor, "site.set_overdue_grace", "site:" + std::to_string(site_id),
             [&](SqlDb& db, AuditEvent& event) -> Result<bool> {
               KURA_RETURN_IF_ERROR(CheckOverdueGrace(hours));
               KURA_ASSIGN_OR_RETURN(SqlStmt q, db.Prepare("UPDATE sites SET overdue_grace_hours = ?2"
                                                           " WHERE id = ?1 RETURNING id"));
               q.Bind(1, site_id).Bind(2, hours ? std::optional<int64_t>(*hours) : std::nullopt);
               KURA_ASSIGN_OR_RETURN(bool found, q.Step());
               if (!found)
                 return Status::NotFound(Tr("サイト {} はありません", "there is no site {}", site_id));
               event.detail = GraceDetail(hours);
               return true;
             })
      .status();
}

Result<Catalog::Capacity> Catalog::TenantCapacity(int64_t tenant_id) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(TenantPolicy p, PolicyOf(*db_, tenant_id));
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("SELECT COALESCE(SUM(p.size), 0) FROM packs p"
                                                " JOIN repositories r ON r.id = p.repository_id"
                                                " JOIN sites s ON s.id = r.site_id WHERE s.tenant_id = ?1"));
  q.Bind(1, tenant_id);
  KURA_ASSIGN_OR_RETURN(bool row, q.Step());
  Capacity c;
  c.used = row ? static_cast<uint64_t>(q.Int(0)) : 0;
  c.soft = p.soft_quota_bytes;
  c.hard = p.hard_quota_bytes;
  return c;
}

Status Catalog::RecordPackSizes(int64_t repo, std::string_view name, uint64_t raw_bytes,
                                uint64_t stored_bytes) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("UPDATE packs SET raw_bytes = ?3, stored_bytes = ?4"
                                                " WHERE repository_id = ?1 AND name = ?2"));
  return q.Bind(1, repo)
      .Bind(2, name)
      .Bind(3, static_cast<int64_t>(raw_bytes))
      .Bind(4, static_cast<int64_t>(stored_bytes))
      .Run();
}

Result<Catalog::RetentionOutcome> Catalog::AssessCommit(int64_t repo, std::string_view snapshot,
                                                        const AuditActor& actor) {
  std::lock_guard lock(mu_);
  return AuditedLocked<RetentionOutcome>(
      actor, "snapshot.assess", "repository:" + std::to_string(repo) + "/snapshot:" + std::string(snapshot),
      [&](SqlDb& db, AuditEvent& event) -> Result<RetentionOutcome> {
        int64_t now_ms = NowMs();
        KURA_ASSIGN_OR_RETURN(SqlStmt find,
                              db.Prepare("SELECT id, verdict FROM snapshots WHERE repository_id = ?1"
                                         " AND name = ?2"));
        find.Bind(1, repo).Bind(2, snapshot);
        KURA_ASSIGN_OR_RETURN(bool found, find.Step());
        if (!found) {
          return Status::NotFound(
              Tr("スナップショット {} はありません", "there is no snapshot {}", snapshot));
        }
        int64_t snap_row = find.Int(0);
        if (find.Text(1) != "pending_check") {  // judged before (a repeated commit): only retain
          event.detail = "already " + find.Text(1);
          return RetainIn(db, repo, SystemActor(), now_ms);
        }
        // The packs stored since the previous commit are this one's new data; their
        // headers' sums give the client-declared compression ratio.
        KURA_ASSIGN_OR_RETURN(SqlStmt claim,
                              db.Prepare("UPDATE packs SET claimed_by = ?1 WHERE repository_id = ?2"
                                         " AND claimed_by IS NULL"));
        KURA_RETURN_IF_ERROR(claim.Bind(1, snap_row).Bind(2, repo).Run());
        KURA_ASSIGN_OR_RETURN(SqlStmt sums, db.Prepare("SELECT COALESCE(SUM(raw_bytes), 0),"
                                                       " COALESCE(SUM(stored_bytes), 0) FROM packs"
                                                       " WHERE claimed_by = ?1"));
        sums.Bind(1, snap_row);
        KURA_ASSIGN_OR_RETURN(bool any, sums.Step());
        int64_t raw = any ? sums.Int(0) : 0;
        int64_t stored = any ? sums.Int(1) : 0;
        int64_t milli = raw > 0 && stored > 0 ? raw * 1000 / stored : 0;
        KURA_ASSIGN_OR_RETURN(SqlStmt up,
                              db.Prepare("UPDATE snapshots SET new_bytes = ?2, compression_milli = ?3"
                                         " WHERE id = ?1"));
        KURA_RETURN_IF_ERROR(up.Bind(1, snap_row).Bind(2, raw).Bind(3, milli).Run());

        KURA_ASSIGN_OR_RETURN(std::vector<StoredGeneration> stored_gens, GenerationsOf(db, repo));
        std::vector<Generation> all;
        Generation candidate;
        for (StoredGeneration& s : stored_gens) {
          if (s.gen.id == snapshot) candidate = s.gen;
          all.push_back(std::move(s.gen));
        }
        AnomalyVerdict verdict = AssessGeneration(candidate, all);
        std::string ja = DescribeVerdict(verdict, Language::kJapanese);
        std::string en = DescribeVerdict(verdict, Language::kEnglish);
        KURA_ASSIGN_OR_RETURN(RepoOwner owner, OwnerOf(db, repo));
        RetentionOutcome out;
        KURA_ASSIGN_OR_RETURN(SqlStmt mark,
                              db.Prepare("UPDATE snapshots SET verdict = ?3, verdict_detail = ?4"
                                         " WHERE repository_id = ?1 AND name = ?2"
                                         " AND verdict IN ('pending_check', 'accepted')"));
        if (!verdict.anomalous) {
          KURA_RETURN_IF_ERROR(mark.Bind(1, repo).Bind(2, snapshot).Bind(3, "accepted").Bind(4, "").Run());
          event.detail = "verdict=accepted new_bytes=" + std::to_string(raw) +
                         " compression_milli=" + std::to_string(milli);
        } else {
          std::vector<std::string> marked{std::string(snapshot)};
          marked.insert(marked.end(), verdict.flood_members.begin(), verdict.flood_members.end());
          for (const std::string& id : marked) {
            mark.Reset();
            KURA_RETURN_IF_ERROR(
                mark.Bind(1, repo).Bind(2, id).Bind(3, "anomalous").Bind(4, Bilingual(ja, en)).Run());
          }
          event.detail =
              fmt::format("verdict=anomalous flood_members={} {}", verdict.flood_members.size(), en);
          KURA_ASSIGN_OR_RETURN(std::optional<int64_t> held, HoldSince(db, owner.site_id));
          if (!held) {
            KURA_ASSIGN_OR_RETURN(SqlStmt hold,
                                  db.Prepare("INSERT INTO holds (site_id, placed_at_ms, placed_by,"
                                             " reason) VALUES (?1, ?2, 'system', ?3)"));
            KURA_RETURN_IF_ERROR(
                hold.Bind(1, owner.site_id).Bind(2, now_ms).Bind(3, Bilingual(ja, en)).Run());
            KURA_RETURN_IF_ERROR(AuditIn(db, SystemActor(), "hold.place",
                                         "site:" + std::to_string(owner.site_id),
                                         "snapshot=" + std::string(snapshot) + " " + en, now_ms));
            out.hold_placed = true;
          }
          KURA_RETURN_IF_ERROR(RaiseIn(db, {"anomalous", owner.tenant_id, owner.site_id, 0},
                                       Bilingual(ja, en), SystemActor(), now_ms)
                                   .status());
        }
        KURA_ASSIGN_OR_RETURN(RetentionOutcome retained, RetainIn(db, repo, SystemActor(), now_ms));
        out.evicted = std::move(retained.evicted);
        out.plan = std::move(retained.plan);
        out.verdict = std::move(verdict);
        return out;
      });
}

Result<Catalog::RetentionOutcome> Catalog::RunRetention(int64_t repo, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  {
    // The tick runs this for every repository each minute; most evict nothing, and need no
    // write lock to find that out. Evicting plans again under the lock.
    KURA_ASSIGN_OR_RETURN(SqlTxn read, SqlTxn::Begin(*db_, SqlTxn::Mode::kRead));
    KURA_ASSIGN_OR_RETURN(PlanInputs in, PlanIn(*db_, repo, NowMs()));
    KURA_RETURN_IF_ERROR(read.Commit());
    if (in.plan.evict_count == 0) {
      RetentionOutcome out;
      out.plan = std::move(in.plan);
      return out;
    }
  }
  KURA_ASSIGN_OR_RETURN(SqlTxn txn, SqlTxn::Begin(*db_, SqlTxn::Mode::kWrite));
  KURA_ASSIGN_OR_RETURN(RetentionOutcome out, RetainIn(*db_, repo, actor, NowMs()));
  KURA_RETURN_IF_ERROR(txn.Commit());
  return out;
}

Result<bool> Catalog::DeletionBlocked(int64_t repo) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlTxn txn, SqlTxn::Begin(*db_, SqlTxn::Mode::kRead));
  KURA_ASSIGN_OR_RETURN(ClockGuardState guard, retention_detail::GuardOf(*db_));
  if (!DeletionAllowed(guard)) return true;
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("SELECT site_id FROM repositories WHERE id = ?1"));
  q.Bind(1, repo);
  KURA_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return false;
  int64_t site = q.Int(0);
  KURA_ASSIGN_OR_RETURN(std::optional<int64_t> held, retention_detail::HoldSince(*db_, site));
  KURA_RETURN_IF_ERROR(txn.Commit());
  return held.has_value();
}

Result<RetentionPlan> Catalog::PlanRetention(int64_t repo) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlTxn txn, SqlTxn::Begin(*db_, SqlTxn::Mode::kRead));
  KURA_ASSIGN_OR_RETURN(PlanInputs in, PlanIn(*db_, repo, NowMs()));
  KURA_RETURN_IF_ERROR(txn.Commit());
  return in.plan;
}

Result<std::vector<SnapshotRecord>> Catalog::ListKeptSnapshots(int64_t repo) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("SELECT name, kind, client_time, received_at_ms, bytes, size,"
                                                " blob_count, clock_warning, CASE WHEN verdict = 'anomalous'"
                                                " THEN 'held' ELSE state END FROM snapshots"
                                                " WHERE repository_id = ?1 AND state <> 'quarantined'"
                                                " ORDER BY received_at_ms DESC, id DESC"));
  q.Bind(1, repo);
  std::vector<SnapshotRecord> out;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back(SnapshotRecord{q.Text(0), q.Text(1), q.Int(2), q.Int(3), static_cast<uint64_t>(q.Int(4)),
                                 static_cast<uint64_t>(q.Int(5)), static_cast<uint64_t>(q.Int(6)),
                                 q.Int(7) != 0, q.Text(8)});
  }
}

Result<std::vector<Catalog::Hold>> Catalog::ListHolds() {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q,
                        db_->Prepare("SELECT h.id, t.id, t.name, s.id, s.name, h.placed_at_ms,"
                                     " h.placed_by, h.reason FROM holds h JOIN sites s ON s.id = h.site_id"
                                     " JOIN tenants t ON t.id = s.tenant_id WHERE h.cleared_at_ms IS NULL"
                                     " ORDER BY h.placed_at_ms, h.id"));
  std::vector<Hold> out;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back(Hold{q.Int(0), q.Int(1), q.Text(2), q.Int(3), q.Text(4), q.Int(5), q.Text(6), q.Text(7)});
  }
}

Status Catalog::ClearHold(int64_t site_id, std::string_view reason, bool accept, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  return AuditedLocked<bool>(
             actor, "hold.clear", "site:" + std::to_string(site_id),
             [&](SqlDb& db, AuditEvent& event) -> Result<bool> {
               if (reason.empty()) {
                 return Status::InvalidArgument(Tr("保留を解除する理由を --reason で指定してください",
                                                   "give the reason for clearing the hold with --reason"));
               }
               int64_t now_ms = NowMs();
               event.detail = fmt::format("accept={} reason={}", accept, EscapeText(reason, false));
               KURA_ASSIGN_OR_RETURN(
                   SqlStmt up,
                   db.Prepare("UPDATE holds SET cleared_at_ms = ?2, cleared_by = ?3, clear_reason = ?4"
                              " WHERE site_id = ?1 AND cleared_at_ms IS NULL"));
               KURA_RETURN_IF_ERROR(
                   up.Bind(1, site_id).Bind(2, now_ms).Bind(3, actor.id).Bind(4, reason).Run());
               if (db.Changes() == 0) {
                 return Status::NotFound(Tr("サイト {} は保留中ではありません (kura-vault hold list で確認)",
                                            "site {} is not on hold (see kura-vault hold list)", site_id));
               }
               if (accept) {
                 KURA_ASSIGN_OR_RETURN(SqlStmt acc,
                                       db.Prepare("UPDATE snapshots SET verdict = 'accepted'"
                                                  " WHERE verdict = 'anomalous' AND repository_id IN"
                                                  " (SELECT id FROM repositories WHERE site_id = ?1)"));
                 KURA_RETURN_IF_ERROR(acc.Bind(1, site_id).Run());
                 event.detail += fmt::format(" accepted={}", db.Changes());
               }
               KURA_ASSIGN_OR_RETURN(SqlStmt tenant, db.Prepare("SELECT tenant_id FROM sites WHERE id = ?1"));
               tenant.Bind(1, site_id);
               KURA_ASSIGN_OR_RETURN(bool row, tenant.Step());
               int64_t tenant_id = row ? tenant.Int(0) : 0;
               KURA_RETURN_IF_ERROR(
                   ClearIn(db, {"anomalous", tenant_id, site_id, 0}, actor, now_ms).status());
               KURA_ASSIGN_OR_RETURN(SqlStmt repos,
                                     db.Prepare("SELECT id FROM repositories WHERE site_id = ?1"));
               repos.Bind(1, site_id);
               std::vector<int64_t> ids;
               for (;;) {
                 KURA_ASSIGN_OR_RETURN(bool more, repos.Step());
                 if (!more) break;
                 ids.push_back(repos.Int(0));
               }
               size_t evicted = 0;
               for (int64_t repo : ids) {
                 KURA_ASSIGN_OR_RETURN(RetentionOutcome out, RetainIn(db, repo, actor, now_ms));
                 evicted += out.evicted.size();
               }
               event.detail += fmt::format(" evicted={}", evicted);
               return true;
             })
      .status();
}

}  // namespace kura::vault
