// What a /metrics scrape asks the catalog (vault/metrics.h): per-tenant storage and
// snapshot counts, in one read transaction (site states: Catalog::ListRepositoryFacts).
#include "vault/catalog.h"
#include "vault/catalog_internal.h"

namespace kura::vault {

Result<CatalogCounts> Catalog::Counts() {
  std::lock_guard lock(mu_);
  CatalogCounts out;
  KURA_ASSIGN_OR_RETURN(SqlTxn txn, SqlTxn::Begin(*db_, SqlTxn::Mode::kRead));
  KURA_ASSIGN_OR_RETURN(SqlStmt tenants, db_->Prepare("SELECT id, name FROM tenants ORDER BY id"));
  while (true) {
    KURA_ASSIGN_OR_RETURN(bool row, tenants.Step());
    if (!row) break;
    TenantCounts t;
    t.tenant_id = tenants.Int(0);
    t.name = tenants.Text(1);
    out.tenants.push_back(std::move(t));
  }
  auto tenant = [&out](int64_t id) -> TenantCounts* {
    for (TenantCounts& t : out.tenants) {
      if (t.tenant_id == id) return &t;
    }
    return nullptr;
  };
  KURA_ASSIGN_OR_RETURN(SqlStmt packs,
                        db_->Prepare("SELECT s.tenant_id, p.state, COUNT(*), COALESCE(SUM(p.size), 0)"
                                     " FROM packs p JOIN repositories r ON r.id = p.repository_id"
                                     " JOIN sites s ON s.id = r.site_id GROUP BY s.tenant_id, p.state"));
  while (true) {
    KURA_ASSIGN_OR_RETURN(bool row, packs.Step());
    if (!row) break;
    TenantCounts* t = tenant(packs.Int(0));
    if (t == nullptr) continue;
    auto bytes = static_cast<uint64_t>(packs.Int(3));
    t->packs += static_cast<uint64_t>(packs.Int(2));
    t->stored_bytes += bytes;
    if (packs.Text(1) == "quarantined") t->quarantined_bytes += bytes;
  }
  KURA_ASSIGN_OR_RETURN(SqlStmt snaps,
                        db_->Prepare("SELECT s.tenant_id, n.state, COUNT(*)"
                                     " FROM snapshots n JOIN repositories r ON r.id = n.repository_id"
                                     " JOIN sites s ON s.id = r.site_id GROUP BY s.tenant_id, n.state"));
  while (true) {
    KURA_ASSIGN_OR_RETURN(bool row, snaps.Step());
    if (!row) break;
    TenantCounts* t = tenant(snaps.Int(0));
    if (t != nullptr) t->snapshots[snaps.Text(1)] += static_cast<uint64_t>(snaps.Int(2));
  }
  KURA_ASSIGN_OR_RETURN(SqlStmt damage,
                        db_->Prepare("SELECT s.tenant_id, COUNT(*) FROM scrub_damage d"
                                     " JOIN repositories r ON r.id = d.repository_id"
                                     " JOIN sites s ON s.id = r.site_id GROUP BY s.tenant_id"));
  while (true) {
    KURA_ASSIGN_OR_RETURN(bool row, damage.Step());
    if (!row) break;
    TenantCounts* t = tenant(damage.Int(0));
    if (t != nullptr) t->damaged_objects = static_cast<uint64_t>(damage.Int(1));
  }
  KURA_RETURN_IF_ERROR(txn.Commit());
  return out;
}

}  // namespace kura::vault
