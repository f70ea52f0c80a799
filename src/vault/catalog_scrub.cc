// Scrub's records (docs/vault-catalog.md "Garbage collection and scrub (schema 6)"): what there is to
// re-hash, where the rotating sample goes on, and the damage found.
#include "vault/catalog.h"
#include "vault/catalog_internal.h"

namespace kura::vault {

Result<std::vector<Catalog::GcObject>> Catalog::ListScrubObjects(int64_t repo) {
  std::lock_guard lock(mu_);
  // The order is the cursor's: kind, then name (config < key < pack < snapshot).
  KURA_ASSIGN_OR_RETURN(SqlStmt q,
                        db_->Prepare("SELECT kind, name, size FROM ("
                                     " SELECT 'config' AS kind, 'config' AS name, 0 AS size"
                                     "  FROM repositories WHERE id = ?1 AND config_sha256 IS NOT NULL"
                                     " UNION ALL SELECT 'key', name, size FROM repo_keys"
                                     "  WHERE repository_id = ?1"
                                     " UNION ALL SELECT 'pack', name, size FROM packs"
                                     "  WHERE repository_id = ?1"
                                     " UNION ALL SELECT 'snapshot', name, size FROM snapshots"
                                     "  WHERE repository_id = ?1"
                                     ") x ORDER BY kind, name"));
  q.Bind(1, repo);
  std::vector<GcObject> out;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back(GcObject{q.Text(0), q.Text(1), static_cast<uint64_t>(q.Int(2)), 0});
  }
}

Result<std::optional<Catalog::ScrubCursor>> Catalog::GetScrubCursor() {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(
      SqlStmt q,
      db_->Prepare("SELECT repository_id, kind, name, last_run_ms FROM scrub_cursor WHERE id = 1"));
  KURA_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<ScrubCursor>();
  return std::optional<ScrubCursor>(ScrubCursor{q.Int(0), q.Text(1), q.Text(2), q.Int(3)});
}

Status Catalog::SetScrubCursor(const ScrubCursor& c) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("INSERT INTO scrub_cursor (id, repository_id, kind, name,"
                                                " last_run_ms) VALUES (1, ?1, ?2, ?3, ?4) ON CONFLICT (id)"
                                                " DO UPDATE SET repository_id = ?1, kind = ?2, name = ?3,"
                                                " last_run_ms = ?4"));
  return q.Bind(1, c.repository).Bind(2, c.kind).Bind(3, c.name).Bind(4, c.last_run_ms).Run();
}

static std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ",";
    out += n;
  }
  return out;
}

static std::vector<std::string> SplitNames(const std::string& text) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t comma = text.find(',', at);
    if (comma == std::string::npos) comma = text.size();
    if (comma > at) out.push_back(text.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

Result<bool> Catalog::RecordScrubDamage(const ScrubDamageRecord& d, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  {
    KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("SELECT 1 FROM scrub_damage WHERE repository_id = ?1"
                                                  " AND kind = ?2 AND name = ?3"));
    q.Bind(1, d.repository).Bind(2, d.kind).Bind(3, d.name);
    KURA_ASSIGN_OR_RETURN(bool known, q.Step());
    if (known) return false;
  }
  return AuditedLocked<bool>(
      actor, "scrub.damage", "repository:" + std::to_string(d.repository) + "/" + d.kind + ":" + d.name,
      [&](SqlDb& db, AuditEvent& event) -> Result<bool> {
        event.result = std::string(kAuditFailure);  // an integrity failure found, on record as such
        event.detail = fmt::format("{} affected_snapshots={}", d.detail, JoinNames(d.affected_snapshots));
        KURA_ASSIGN_OR_RETURN(SqlStmt ins, db.Prepare("INSERT INTO scrub_damage (repository_id, kind, name,"
                                                      " found_at_ms, detail, affected_snapshots)"
                                                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
        KURA_RETURN_IF_ERROR(ins.Bind(1, d.repository)
                                 .Bind(2, d.kind)
                                 .Bind(3, d.name)
                                 .Bind(4, d.found_at_ms)
                                 .Bind(5, d.detail)
                                 .Bind(6, JoinNames(d.affected_snapshots))
                                 .Run());
        return true;
      });
}

Result<bool> Catalog::ClearScrubDamage(int64_t repo, std::string_view kind, std::string_view name,
                                       std::string_view how, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  {
    KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("SELECT 1 FROM scrub_damage WHERE repository_id = ?1"
                                                  " AND kind = ?2 AND name = ?3"));
    q.Bind(1, repo).Bind(2, kind).Bind(3, name);
    KURA_ASSIGN_OR_RETURN(bool known, q.Step());
    if (!known) return false;
  }
  return AuditedLocked<bool>(
      actor, "scrub.repair",
      "repository:" + std::to_string(repo) + "/" + std::string(kind) + ":" + std::string(name),
      [&](SqlDb& db, AuditEvent& event) -> Result<bool> {
        KURA_ASSIGN_OR_RETURN(SqlStmt q, db.Prepare("DELETE FROM scrub_damage WHERE repository_id = ?1"
                                                    " AND kind = ?2 AND name = ?3"
                                                    " RETURNING found_at_ms, detail"));
        q.Bind(1, repo).Bind(2, kind).Bind(3, name);
        KURA_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) {
          event.detail = "already repaired by another process";
          return false;
        }
        event.detail = fmt::format("{}; damage found {} ({})", how, FormatUtc(q.Int(0) / 1000), q.Text(1));
        return true;
      });
}

Result<std::vector<Catalog::ScrubDamageRecord>> Catalog::ListScrubDamage() {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q,
                        db_->Prepare("SELECT d.repository_id, r.repo_id, d.kind, d.name, d.detail,"
                                     " d.found_at_ms, d.affected_snapshots FROM scrub_damage d"
                                     " JOIN repositories r ON r.id = d.repository_id ORDER BY d.id"));
  std::vector<ScrubDamageRecord> out;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back(ScrubDamageRecord{q.Int(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4), q.Int(5),
                                    SplitNames(q.Text(6))});
  }
}

}  // namespace kura::vault
