#include "vault/catalog.h"

#include "util/fs.h"
#include "util/i18n.h"
#include "util/text.h"
#include "vault/catalog_internal.h"
#include "vault/migrations.h"

namespace kura::vault {

Status CheckName(std::string_view name, std::string_view what_ja, std::string_view what_en) {
  bool ok = !name.empty() && name.size() <= 128 && IsValidUtf8(name) && EscapeText(name, false) == name &&
            name.front() != ' ' && name.back() != ' ';
  if (ok) return Status::Ok();
  return Status::InvalidArgument(Tr(
      "{} \"{}\" は使えません。1〜128 バイトの UTF-8 で、制御文字と前後の空白を含まない名前にしてください",
      "{} \"{}\" is not usable; give 1-128 bytes of UTF-8 without control characters "
      "or surrounding spaces",
      CurrentLanguage() == Language::kEnglish ? what_en : what_ja, EscapeText(name.substr(0, 160), false)));
}

Site SiteFromRow(const SqlStmt& q) {
  Site s{q.Int(0), q.Int(1), q.Text(2), q.Int(3), std::nullopt};
  if (std::optional<int64_t> grace = q.OptInt(4)) s.overdue_grace_hours = static_cast<int>(*grace);
  return s;
}

std::string_view FailureResult(const Status& why) {
  return why.code() == Code::kUnauthorized || why.code() == Code::kPermissionDenied ? kAuditRefused
                                                                                    : kAuditFailure;
}

const char* OperatorRoleName(OperatorRole role) {
  return role == OperatorRole::kTenantAdmin ? "tenant_admin" : "operator";
}

Result<std::unique_ptr<Catalog>> Catalog::Open(const std::string& path, const Clock& clock,
                                               const CatalogOptions& options) {
  if (!options.create && !PathExists(path)) {
    return Status::NotFound(Tr("カタログ {} がありません。kura-vault init で作成してください",
                               "there is no catalog at {}; create one with kura-vault init", path));
  }
  std::unique_ptr<Catalog> c(new Catalog());
  c->clock_ = &clock;
  c->options_ = options;
  c->path_ = path;
  KURA_ASSIGN_OR_RETURN(c->db_, SqlDb::OpenSqlite(path, options.busy_timeout_ms));
  if (!options.create) {
    KURA_ASSIGN_OR_RETURN(bool known, c->db_->TableExists("schema_version"));
    if (!known) {
      return Status::NotFound(
          Tr("{} は kura-vault のカタログではありません", "{} is not a kura-vault catalog", path));
    }
  }
  KURA_RETURN_IF_ERROR(Migrate(*c->db_, clock.NowUnix()));
  KURA_ASSIGN_OR_RETURN(c->schema_version_, SchemaVersion(*c->db_));
  return c;
}

Catalog::~Catalog() = default;

void Catalog::AuditFailureLocked(const AuditActor& actor, std::string_view action, const std::string& target,
                                 std::string_view result, const Status& why) {
  AuditEvent event{actor, std::string(action), target, std::string(result),
                   std::string(CodeName(why.code())) + ": " + why.message()};
  Result<SqlTxn> txn = SqlTxn::Begin(*db_, SqlTxn::Mode::kWrite);
  if (!txn.ok()) return;
  // The caller reports `why`; a failure to audit it too can only be told by verify and by
  // the missing record, which is why a successful change never goes without its record.
  if (AppendAuditRecord(*db_, event, NowMs()).ok()) (void)txn->Commit();
}

static Tenant ReadTenant(const SqlStmt& q) {
  return Tenant{q.Int(0), q.Text(1), q.Int(2), q.Text(3)};
}

Result<Tenant> Catalog::AddTenant(std::string_view name, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  return AuditedLocked<Tenant>(
      actor, "tenant.add", "tenant:" + std::string(name),
      [&](SqlDb& db, AuditEvent& event) -> Result<Tenant> {
        KURA_RETURN_IF_ERROR(CheckName(name, "テナント名", "tenant name"));
        KURA_ASSIGN_OR_RETURN(SqlStmt q, db.Prepare("INSERT INTO tenants (name, created_at) "
                                                    "VALUES (?1, ?2) RETURNING id"));
        q.Bind(1, name).Bind(2, Now());
        Result<bool> row = q.Step();
        if (!row.ok() && row.status().code() == Code::kAlreadyExists) {
          return Status::AlreadyExists(
              Tr("テナント \"{}\" はすでにあります", "tenant \"{}\" already exists", name));
        }
        KURA_RETURN_IF_ERROR(row.status());
        Tenant t{q.Int(0), std::string(name), Now()};
        event.detail = "id=" + std::to_string(t.id);
        return t;
      });
}

Result<std::vector<Tenant>> Catalog::ListTenants() {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(
      SqlStmt q, db_->Prepare("SELECT id, name, created_at, recovery_public_key FROM tenants ORDER BY id"));
  std::vector<Tenant> out;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back(ReadTenant(q));
  }
}

Result<Tenant> Catalog::FindTenant(std::string_view name) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(
      SqlStmt q,
      db_->Prepare("SELECT id, name, created_at, recovery_public_key FROM tenants WHERE name = ?1"));
  q.Bind(1, name);
  KURA_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) {
    return Status::NotFound(Tr("テナント \"{}\" はありません。kura-vault tenant list で確認してください",
                               "there is no tenant \"{}\"; see kura-vault tenant list",
                               EscapeText(name, false)));
  }
  return ReadTenant(q);
}

static Result<bool> RowExists(SqlDb& db, std::string_view sql, int64_t id) {
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db.Prepare(sql));
  q.Bind(1, id);
  return q.Step();
}

Result<Site> Catalog::AddSite(int64_t tenant_id, std::string_view name, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  return AuditedLocked<Site>(
      actor, "site.add", "tenant:" + std::to_string(tenant_id) + "/site:" + std::string(name),
      [&](SqlDb& db, AuditEvent& event) -> Result<Site> {
        KURA_RETURN_IF_ERROR(CheckName(name, "サイト名", "site name"));
        KURA_ASSIGN_OR_RETURN(bool tenant, RowExists(db, "SELECT 1 FROM tenants WHERE id = ?1", tenant_id));
        if (!tenant) {
          return Status::NotFound(Tr("テナント {} はありません", "there is no tenant {}", tenant_id));
        }
        KURA_ASSIGN_OR_RETURN(SqlStmt q, db.Prepare("INSERT INTO sites (tenant_id, name, created_at) "
                                                    "VALUES (?1, ?2, ?3) RETURNING id"));
        q.Bind(1, tenant_id).Bind(2, name).Bind(3, Now());
        Result<bool> row = q.Step();
        if (!row.ok() && row.status().code() == Code::kAlreadyExists) {
          return Status::AlreadyExists(Tr("サイト \"{}\" はこのテナントにすでにあります",
                                          "site \"{}\" already exists in this tenant", name));
        }
        KURA_RETURN_IF_ERROR(row.status());
        Site s{q.Int(0), tenant_id, std::string(name), Now()};
        event.detail = "id=" + std::to_string(s.id);
        return s;
      });
}

Result<std::vector<Site>> Catalog::ListSites(int64_t tenant_id) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare(fmt::format("SELECT {} FROM sites WHERE tenant_id = ?1"
                                                            " ORDER BY id",
                                                            kSiteColumns)));
  q.Bind(1, tenant_id);
  std::vector<Site> out;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back(SiteFromRow(q));
  }
}

Result<Site> Catalog::GetSite(int64_t site_id) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q,
                        db_->Prepare(fmt::format("SELECT {} FROM sites WHERE id = ?1", kSiteColumns)));
  q.Bind(1, site_id);
  KURA_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::NotFound(Tr("サイト {} はありません", "there is no site {}", site_id));
  return SiteFromRow(q);
}

Result<RepositoryRecord> Catalog::AddRepository(int64_t site_id, std::string_view job,
                                                const AuditActor& actor) {
  std::lock_guard lock(mu_);
  return AuditedLocked<RepositoryRecord>(
      actor, "repository.add", "site:" + std::to_string(site_id) + "/job:" + std::string(job),
      [&](SqlDb& db, AuditEvent& event) -> Result<RepositoryRecord> {
        KURA_RETURN_IF_ERROR(CheckName(job, "ジョブ名", "job name"));
        KURA_ASSIGN_OR_RETURN(bool site, RowExists(db, "SELECT 1 FROM sites WHERE id = ?1", site_id));
        if (!site) return Status::NotFound(Tr("サイト {} はありません", "there is no site {}", site_id));
        KURA_ASSIGN_OR_RETURN(SqlStmt q, db.Prepare("INSERT INTO repositories (site_id, job, created_at) "
                                                    "VALUES (?1, ?2, ?3) RETURNING id"));
        q.Bind(1, site_id).Bind(2, job).Bind(3, Now());
        Result<bool> row = q.Step();
        if (!row.ok() && row.status().code() == Code::kAlreadyExists) {
          return Status::AlreadyExists(Tr("サイト {} にはジョブ \"{}\" のリポジトリがすでにあります",
                                          "site {} already has a repository for job \"{}\"", site_id, job));
        }
        KURA_RETURN_IF_ERROR(row.status());
        RepositoryRecord r{q.Int(0), site_id, std::string(job), Now()};
        event.detail = "id=" + std::to_string(r.id);
        return r;
      });
}

Result<std::vector<RepositoryRecord>> Catalog::ListRepositories(int64_t site_id) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("SELECT id, site_id, job, created_at FROM repositories "
                                                "WHERE site_id = ?1 ORDER BY id"));
  q.Bind(1, site_id);
  std::vector<RepositoryRecord> out;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back(RepositoryRecord{q.Int(0), q.Int(1), q.Text(2), q.Int(3)});
  }
}

Result<AuditRecord> Catalog::Audit(const AuditEvent& event) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlTxn txn, SqlTxn::Begin(*db_, SqlTxn::Mode::kWrite));
  KURA_ASSIGN_OR_RETURN(AuditRecord rec, AppendAuditRecord(*db_, event, NowMs()));
  KURA_RETURN_IF_ERROR(txn.Commit());
  return rec;
}

Result<AuditVerifyReport> Catalog::VerifyAudit(const std::optional<AuditAnchor>& expect) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlTxn txn, SqlTxn::Begin(*db_, SqlTxn::Mode::kRead));
  KURA_ASSIGN_OR_RETURN(AuditVerifyReport report, VerifyAuditTrail(*db_, expect));
  KURA_RETURN_IF_ERROR(txn.Commit());
  return report;
}

Status Catalog::ForEachAudit(int64_t from_ms, int64_t to_ms,
                             const std::function<Status(const AuditRecord&)>& fn) {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlTxn txn, SqlTxn::Begin(*db_, SqlTxn::Mode::kRead));
  KURA_RETURN_IF_ERROR(ForEachAuditRecord(*db_, from_ms, to_ms, fn));
  return txn.Commit();
}

}  // namespace kura::vault
