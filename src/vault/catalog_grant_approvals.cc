// The site administrator's approval of restore grants (seed 001 §6.5(2)②,
// docs/vault-api.md §5.3), and the grant listing operators decide from.
#include "util/text.h"
#include "vault/catalog.h"
#include "vault/catalog_internal.h"

namespace kura::vault {

Status Catalog::DecideGrant(int64_t grant_id, bool approve, std::string_view reason,
                            const OperatorAccount& by, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  return AuditedLocked<bool>(
             actor, approve ? "grant.approve" : "grant.deny", "grant:" + std::to_string(grant_id),
             [&](SqlDb& db, AuditEvent& event) -> Result<bool> {
               if (reason.size() > 1024 || !IsValidUtf8(reason) || (!approve && reason.empty())) {
                 return Status::InvalidArgument(Tr("理由 (--reason) を 1〜1024 バイトで書いてください",
                                                   "give the reason (--reason) in 1-1024 bytes"));
               }
               KURA_ASSIGN_OR_RETURN(SqlStmt q,
                                     db.Prepare("SELECT s.tenant_id, g.requires_approval, g.redeemed_at,"
                                                " g.expires_at, a.decision, r.repo_id, g.snapshot"
                                                " FROM grants g"
                                                " JOIN repositories r ON r.id = g.repository_id"
                                                " JOIN sites s ON s.id = r.site_id"
                                                " LEFT JOIN grant_approvals a ON a.grant_id = g.id"
                                                " WHERE g.id = ?1"));
               q.Bind(1, grant_id);
               KURA_ASSIGN_OR_RETURN(bool row, q.Step());
               if (!row) {
                 return Status::NotFound(
                     Tr("復元の許可 {} はありません", "there is no restore grant {}", grant_id));
               }
               event.target =
                   fmt::format("grant:{}/repository:{}/snapshot:{}", grant_id, q.Text(5), q.Text(6));
               // Only the site's side approves access to its data: never the vendor's operators,
               // nor another tenant's administrator.
               if (by.role != OperatorRole::kTenantAdmin || by.tenant_id != q.Int(0)) {
                 return Status::PermissionDenied(Tr(
                     "{} はこの復元の許可を承認・却下できません (そのサイトのテナント管理者だけができます)",
                     "{} may not decide on this restore grant (only a tenant admin of its site's tenant may)",
                     by.login));
               }
               if (q.Int(1) == 0) {
                 return Status::InvalidArgument(Tr("復元の許可 {} は承認を必要としません",
                                                   "restore grant {} needs no approval", grant_id));
               }
               if (!q.IsNull(4)) {
                 return Status::AlreadyExists(
                     Tr("復元の許可 {} はすでに{}されています", "restore grant {} was already {}", grant_id,
                        q.Text(4) == "approved" ? L("承認", "approved") : L("却下", "denied")));
               }
               if (!q.IsNull(2) || Now() >= q.Int(3)) {
                 return Status::InvalidArgument(Tr("復元の許可 {} は使用済みか期限切れです",
                                                   "restore grant {} was redeemed or has expired", grant_id));
               }
               KURA_ASSIGN_OR_RETURN(SqlStmt ins,
                                     db.Prepare("INSERT INTO grant_approvals (grant_id, decision,"
                                                " operator_id, reason, decided_at)"
                                                " VALUES (?1, ?2, ?3, ?4, ?5)"));
               KURA_RETURN_IF_ERROR(ins.Bind(1, grant_id)
                                        .Bind(2, approve ? "approved" : "denied")
                                        .Bind(3, by.id)
                                        .Bind(4, reason)
                                        .Bind(5, Now())
                                        .Run());
               event.detail = fmt::format("by={} reason={}", by.login, reason);
               return true;
             })
      .status();
}

Result<std::vector<GrantRecord>> Catalog::ListGrants(std::optional<int64_t> tenant_id) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(
      SqlStmt q, db_->Prepare("SELECT g.id, t.name, s.name, r.job, t.id, r.repo_id, g.snapshot, g.purpose,"
                              " g.issued_by, g.created_at, g.expires_at, g.redeemed_at,"
                              " g.requires_approval, a.decision, o.login, a.reason, a.decided_at"
                              " FROM grants g JOIN repositories r ON r.id = g.repository_id"
                              " JOIN sites s ON s.id = r.site_id JOIN tenants t ON t.id = s.tenant_id"
                              " LEFT JOIN grant_approvals a ON a.grant_id = g.id"
                              " LEFT JOIN operators o ON o.id = a.operator_id"
                              " WHERE ?1 IS NULL OR t.id = ?1 ORDER BY g.id DESC"));
  if (tenant_id)
    q.Bind(1, *tenant_id);
  else
    q.BindNull(1);
  std::vector<GrantRecord> out;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    GrantRecord g;
    g.id = q.Int(0);
    g.tenant = q.Text(1);
    g.site = q.Text(2);
    g.job = q.Text(3);
    g.tenant_id = q.Int(4);
    g.repo_id = q.Text(5);
    g.snapshot = q.Text(6);
    g.purpose = q.Text(7);
    g.issued_by = q.Text(8);
    g.created_at = q.Int(9);
    g.expires_at = q.Int(10);
    g.redeemed_at = q.OptInt(11);
    g.requires_approval = q.Int(12) != 0;
    g.decision = q.Text(13);
    g.decided_by = q.Text(14);
    g.reason = q.Text(15);
    g.decided_at = q.OptInt(16);
    out.push_back(std::move(g));
  }
}

}  // namespace kura::vault
