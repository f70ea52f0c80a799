// Alarm rows, the facts the alarm tick judges and the persisted clock guard on the catalog
// (docs/vault-catalog.md "Retention, holds and alarms"; vault/alarm_tick.h raises and
// clears by them).
#include <algorithm>

#include "vault/catalog.h"
#include "vault/catalog_internal.h"
#include "vault/catalog_retention_internal.h"

namespace kura::vault {

namespace {

// How long after its last pack an uncommitted upload counts as incomplete.
constexpr int64_t kIncompleteQuietMs = 3'600'000;

Status WriteGuard(SqlDb& db, const ClockGuardState& st) {
  KURA_ASSIGN_OR_RETURN(SqlStmt q,
                        db.Prepare("UPDATE clock_guard SET last_seen_ms = ?1, frozen = ?2, jump = ?3,"
                                   " jump_from_ms = ?4, jump_to_ms = ?5 WHERE id = 1"));
  return q.Bind(1, st.last_seen_ms)
      .Bind(2, int64_t{st.frozen ? 1 : 0})
      .Bind(3, ClockJumpName(st.jump))
      .Bind(4, st.jump_from_ms)
      .Bind(5, st.jump_to_ms)
      .Run();
}

std::string AlarmTarget(const Catalog::AlarmKey& key) {
  return fmt::format("alarm:{}/tenant:{}/site:{}/repository:{}", key.kind, key.tenant_id, key.site_id,
                     key.repository_id);
}

// The English line of a Bilingual text, for audit details (one language, grep-able).
std::string EnglishPart(std::string_view text) {
  size_t nl = text.find('\n');
  return std::string(nl == std::string_view::npos ? text : text.substr(nl + 1));
}

}  // namespace

namespace retention_detail {

Result<bool> RaiseIn(SqlDb& db, const Catalog::AlarmKey& key, std::string_view detail,
                     const AuditActor& actor, int64_t now_ms) {
  KURA_ASSIGN_OR_RETURN(SqlStmt q,
                        db.Prepare("SELECT id FROM alarms WHERE kind = ?1 AND tenant_id = ?2"
                                   " AND site_id = ?3 AND repository_id = ?4 AND cleared_at_ms IS NULL"));
  q.Bind(1, key.kind).Bind(2, key.tenant_id).Bind(3, key.site_id).Bind(4, key.repository_id);
  KURA_ASSIGN_OR_RETURN(bool open, q.Step());
  if (open) return false;
  KURA_ASSIGN_OR_RETURN(
      SqlStmt ins, db.Prepare("INSERT INTO alarms (kind, tenant_id, site_id, repository_id, raised_at_ms,"
                              " detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  KURA_RETURN_IF_ERROR(ins.Bind(1, key.kind)
                           .Bind(2, key.tenant_id)
                           .Bind(3, key.site_id)
                           .Bind(4, key.repository_id)
                           .Bind(5, now_ms)
                           .Bind(6, detail)
                           .Run());
  KURA_RETURN_IF_ERROR(AuditIn(db, actor, "alarm.raise", AlarmTarget(key), EnglishPart(detail), now_ms));
  return true;
}

Result<bool> ClearIn(SqlDb& db, const Catalog::AlarmKey& key, const AuditActor& actor, int64_t now_ms) {
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db.Prepare("UPDATE alarms SET cleared_at_ms = ?5 WHERE kind = ?1"
                                              " AND tenant_id = ?2 AND site_id = ?3 AND repository_id = ?4"
                                              " AND cleared_at_ms IS NULL"));
  KURA_RETURN_IF_ERROR(q.Bind(1, key.kind)
                           .Bind(2, key.tenant_id)
                           .Bind(3, key.site_id)
                           .Bind(4, key.repository_id)
                           .Bind(5, now_ms)
                           .Run());
  if (db.Changes() == 0) return false;
  KURA_RETURN_IF_ERROR(AuditIn(db, actor, "alarm.clear", AlarmTarget(key), "", now_ms));
  return true;
}

}  // namespace retention_detail

using retention_detail::AuditIn;
using retention_detail::ClearIn;
using retention_detail::GuardOf;
using retention_detail::HoldSince;
using retention_detail::RaiseIn;

Result<std::vector<Catalog::Alarm>> Catalog::ListOpenAlarms() {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q,
                        db_->Prepare("SELECT id, kind, tenant_id, site_id, repository_id, raised_at_ms,"
                                     " detail FROM alarms WHERE cleared_at_ms IS NULL"
                                     " ORDER BY raised_at_ms, id"));
  std::vector<Alarm> out;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back(Alarm{q.Int(0), AlarmKey{q.Text(1), q.Int(2), q.Int(3), q.Int(4)}, q.Int(5), q.Text(6)});
  }
}

// Whether the alarm is open, read without the write lock: the tick asks for every
// repository every minute and the pack upload past the soft quota asks each time, and
// almost always nothing changes.
static Result<bool> IsOpen(SqlDb& db, const Catalog::AlarmKey& key) {
  KURA_ASSIGN_OR_RETURN(SqlStmt q,
                        db.Prepare("SELECT 1 FROM alarms WHERE kind = ?1 AND tenant_id = ?2"
                                   " AND site_id = ?3 AND repository_id = ?4 AND cleared_at_ms IS NULL"));
  q.Bind(1, key.kind).Bind(2, key.tenant_id).Bind(3, key.site_id).Bind(4, key.repository_id);
  return q.Step();
}

Result<bool> Catalog::RaiseAlarm(const AlarmKey& key, std::string_view detail, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(bool open, IsOpen(*db_, key));
  if (open) return false;
  KURA_ASSIGN_OR_RETURN(SqlTxn txn, SqlTxn::Begin(*db_, SqlTxn::Mode::kWrite));
  KURA_ASSIGN_OR_RETURN(bool raised, RaiseIn(*db_, key, detail, actor, NowMs()));
  KURA_RETURN_IF_ERROR(txn.Commit());
  return raised;
}

Result<bool> Catalog::ClearAlarm(const AlarmKey& key, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(bool open, IsOpen(*db_, key));
  if (!open) return false;
  KURA_ASSIGN_OR_RETURN(SqlTxn txn, SqlTxn::Begin(*db_, SqlTxn::Mode::kWrite));
  KURA_ASSIGN_OR_RETURN(bool cleared, ClearIn(*db_, key, actor, NowMs()));
  KURA_RETURN_IF_ERROR(txn.Commit());
  return cleared;
}

Result<std::vector<Catalog::RepositoryFacts>> Catalog::ListRepositoryFacts() {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlTxn txn, SqlTxn::Begin(*db_, SqlTxn::Mode::kRead));
  KURA_ASSIGN_OR_RETURN(
      SqlStmt q,
      db_->Prepare(
          "SELECT r.id, r.repo_id, r.job, r.created_at, s.id, s.name, t.id, t.name, st.last_success_at,"
          " st.last_failure_at, st.last_failure_message, st.schedule_time, st.schedule_timezone,"
          " st.schedule_days, s.overdue_grace_hours, tp.overdue_grace_hours"
          " FROM repositories r JOIN sites s ON s.id = r.site_id"
          " JOIN tenants t ON t.id = s.tenant_id LEFT JOIN repo_status st ON st.repository_id = r.id"
          " LEFT JOIN tenant_policies tp ON tp.tenant_id = t.id ORDER BY t.name, s.name, r.job"));
  KURA_ASSIGN_OR_RETURN(SqlStmt arrival,
                        db_->Prepare("SELECT MAX(received_at_ms) FROM snapshots"
                                     " WHERE repository_id = ?1 AND kind IN ('daily', 'monthly')"));
  KURA_ASSIGN_OR_RETURN(SqlStmt failing,
                        db_->Prepare("SELECT MIN(received_at) FROM runs WHERE repository_id = ?1"
                                     " AND result = 'failure' AND received_at > ?2"));
  KURA_ASSIGN_OR_RETURN(SqlStmt unclaimed, db_->Prepare("SELECT MIN(received_at), MAX(received_at) FROM packs"
                                                        " WHERE repository_id = ?1 AND claimed_by IS NULL"));
  // Damaged: a snapshot judged so, or an object scrub found damaged (scrub_damage, since
  // it was found), whichever came first.
  KURA_ASSIGN_OR_RETURN(
      SqlStmt damaged,
      db_->Prepare("SELECT MIN(t) FROM (SELECT received_at_ms AS t FROM snapshots"
                   " WHERE repository_id = ?1 AND verdict = 'damaged' AND state <> 'quarantined'"
                   " UNION ALL SELECT found_at_ms AS t FROM scrub_damage WHERE repository_id = ?1)"
                   " AS damage"));
  KURA_ASSIGN_OR_RETURN(SqlStmt bytes, db_->Prepare("SELECT COALESCE(SUM(size), 0) FROM packs"
                                                    " WHERE repository_id = ?1"));
  std::vector<RepositoryFacts> out;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    RepositoryFacts f;
    f.repository = q.Int(0);
    f.repo_id = q.Text(1);
    f.job = q.Text(2);
    f.facts.enrolled_ms = q.Int(3) * 1000;
    f.site_id = q.Int(4);
    f.site = q.Text(5);
    f.tenant_id = q.Int(6);
    f.tenant = q.Text(7);
    std::optional<int64_t> success = q.OptInt(8);
    std::optional<int64_t> failure = q.OptInt(9);
    if (success) f.facts.last_success_ms = *success * 1000;
    if (failure && (!success || *failure >= *success)) {
      failing.Reset();
      failing.Bind(1, f.repository).Bind(2, success ? *success - 1 : int64_t{-1});
      KURA_ASSIGN_OR_RETURN(bool got, failing.Step());
      f.facts.failing_since_ms = (got && !failing.IsNull(0) ? failing.Int(0) : *failure) * 1000;
      f.facts.failure_message = q.Text(10);
    }
    if (!q.IsNull(11) && !q.Text(11).empty()) {
      Result<BackupSchedule> schedule = ParseBackupSchedule(q.Text(11), q.Text(12), q.Text(13));
      if (schedule.ok()) {
        f.facts.schedule = *schedule;
      } else {
        f.schedule_error = schedule.status().message();
      }
    }
    std::optional<int64_t> site_grace = q.OptInt(14), tenant_grace = q.OptInt(15);
    f.grace_from = site_grace ? "site" : tenant_grace ? "tenant" : "default";
    f.policy.grace_ms =
        site_grace.value_or(tenant_grace.value_or(kDefaultOverdueGraceHours)) * kMillisPerHour;
    arrival.Reset();
    arrival.Bind(1, f.repository);
    KURA_ASSIGN_OR_RETURN(bool a, arrival.Step());
    if (a) f.facts.last_arrival_ms = arrival.OptInt(0);
    unclaimed.Reset();
    unclaimed.Bind(1, f.repository);
    KURA_ASSIGN_OR_RETURN(bool u, unclaimed.Step());
    // Packs no commit has followed: an upload that stopped, once none came for an hour (a
    // backup still sending is not incomplete, and would raise and clear an alarm nightly).
    if (u && !unclaimed.IsNull(0) && unclaimed.Int(1) * 1000 + kIncompleteQuietMs <= NowMs()) {
      f.facts.incomplete_since_ms = unclaimed.Int(0) * 1000;
    }
    damaged.Reset();
    damaged.Bind(1, f.repository);
    KURA_ASSIGN_OR_RETURN(bool d, damaged.Step());
    if (d) f.facts.damaged_since_ms = damaged.OptInt(0);
    KURA_ASSIGN_OR_RETURN(f.facts.hold_since_ms, HoldSince(*db_, f.site_id));
    bytes.Reset();
    bytes.Bind(1, f.repository);
    KURA_ASSIGN_OR_RETURN(bool b, bytes.Step());
    f.stored_bytes = b ? static_cast<uint64_t>(bytes.Int(0)) : 0;
    out.push_back(std::move(f));
  }
  KURA_RETURN_IF_ERROR(txn.Commit());
  return out;
}

Result<ClockGuardState> Catalog::GetClockGuard() {
  std::lock_guard lock(mu_);
  return GuardOf(*db_);
}

Status Catalog::PutClockGuard(const ClockGuardState& state, bool froze_now, std::string_view detail,
                              const AuditActor& actor) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlTxn txn, SqlTxn::Begin(*db_, SqlTxn::Mode::kWrite));
  KURA_RETURN_IF_ERROR(WriteGuard(*db_, state));
  if (froze_now) {
    int64_t now_ms = NowMs();
    KURA_RETURN_IF_ERROR(AuditIn(*db_, actor, "clock.freeze", "clock",
                                 fmt::format("jump={} from_ms={} to_ms={}", ClockJumpName(state.jump),
                                             state.jump_from_ms, state.jump_to_ms),
                                 now_ms));
    KURA_RETURN_IF_ERROR(RaiseIn(*db_, {"clock", 0, 0, 0}, detail, actor, now_ms).status());
  }
  return txn.Commit();
}

Status Catalog::AcknowledgeClockJump(const AuditActor& actor) {
  std::lock_guard lock(mu_);
  return AuditedLocked<bool>(actor, "clock.acknowledge", "clock",
                             [&](SqlDb& db, AuditEvent& event) -> Result<bool> {
                               KURA_ASSIGN_OR_RETURN(ClockGuardState st, GuardOf(db));
                               event.detail =
                                   fmt::format("frozen={} jump={} from_ms={} to_ms={}", st.frozen,
                                               ClockJumpName(st.jump), st.jump_from_ms, st.jump_to_ms);
                               ClockGuardState next = AcknowledgeClock(st, NowMs());
                               if (!st.frozen) next.last_seen_ms = std::max(st.last_seen_ms, NowMs());
                               KURA_RETURN_IF_ERROR(WriteGuard(db, next));
                               KURA_RETURN_IF_ERROR(ClearIn(db, {"clock", 0, 0, 0}, actor, NowMs()).status());
                               return true;
                             })
      .status();
}

}  // namespace kura::vault
