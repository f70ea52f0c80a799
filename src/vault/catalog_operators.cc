// Operator accounts of the catalog (docs/vault-catalog.md "operators").
#include "util/secret_file.h"
#include "util/text.h"
#include "vault/catalog.h"
#include "vault/catalog_internal.h"
#include "vault/password.h"

namespace kura::vault {

static Status CheckLogin(std::string_view login) {
  bool ok = !login.empty() && login.size() <= 64 && login.front() != '.' && login.front() != '-' &&
            login.front() != '_';
  for (char c : login)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
  if (ok) return Status::Ok();
  return Status::InvalidArgument(
      Tr("ログイン名 \"{}\" は使えません。英小文字・数字・. _ - の 64 文字以内で、英数字で始めてください",
         "login \"{}\" is not usable; use up to 64 of a-z, 0-9, '.', '_', '-', starting "
         "with a letter or digit",
         EscapeText(login.substr(0, 80), false)));
}

// Whole constant statements; the columns are the ones ReadOperator reads, in its order
// (password_hash last, read only by the login check).
static constexpr std::string_view kSelectOperators =
    "SELECT id, login, role, tenant_id, must_change_password, disabled, totp_secret, created_at, "
    "last_login_at,"
    " password_hash FROM operators ORDER BY id";
static constexpr std::string_view kSelectOperatorByLogin =
    "SELECT id, login, role, tenant_id, must_change_password, disabled, totp_secret, created_at, "
    "last_login_at,"
    " password_hash FROM operators WHERE login = ?1";

static OperatorAccount ReadOperator(const SqlStmt& q) {
  OperatorAccount a;
  a.id = q.Int(0);
  a.login = q.Text(1);
  a.role = q.Text(2) == "tenant_admin" ? OperatorRole::kTenantAdmin : OperatorRole::kOperator;
  a.tenant_id = q.OptInt(3);
  a.must_change_password = q.Int(4) != 0;
  a.disabled = q.Int(5) != 0;
  a.has_second_factor = !q.IsNull(6);
  a.created_at = q.Int(7);
  a.last_login_at = q.OptInt(8);
  return a;
}

Result<OperatorAccount> Catalog::AddOperator(const NewOperator& account, std::string_view password,
                                             const AuditActor& actor) {
  std::string target = "operator:" + account.login;
  Status valid = CheckLogin(account.login);
  if (valid.ok() && (account.role == OperatorRole::kTenantAdmin) != account.tenant_id.has_value()) {
    valid = Status::InvalidArgument(
        Tr("テナント管理者にはテナントを一つ、オペレーターにはテナントなしを指定してください",
           "a tenant admin needs exactly one tenant, an operator none"));
  }
  if (valid.ok()) valid = CheckNewPassword(password);
  // Hashing takes a while: before the write transaction, so other writers do not wait.
  Result<std::string> hash =
      valid.ok() ? HashPassword(password, options_.password_cost) : Result<std::string>(valid);
  std::lock_guard lock(mu_);
  if (!hash.ok()) {
    AuditFailureLocked(actor, "operator.add", target, kAuditFailure, hash.status());
    return hash.status();
  }
  return AuditedLocked<OperatorAccount>(
      actor, "operator.add", target, [&](SqlDb& db, AuditEvent& event) -> Result<OperatorAccount> {
        if (account.tenant_id) {
          KURA_ASSIGN_OR_RETURN(SqlStmt t, db.Prepare("SELECT 1 FROM tenants WHERE id = ?1"));
          t.Bind(1, *account.tenant_id);
          KURA_ASSIGN_OR_RETURN(bool found, t.Step());
          if (!found)
            return Status::NotFound(
                Tr("テナント {} はありません", "there is no tenant {}", *account.tenant_id));
        }
        KURA_ASSIGN_OR_RETURN(
            SqlStmt q,
            db.Prepare("INSERT INTO operators (login, role, tenant_id, password_hash, must_change_password,"
                       " disabled, created_at, password_changed_at) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?6)"
                       " RETURNING id"));
        q.Bind(1, account.login)
            .Bind(2, OperatorRoleName(account.role))
            .Bind(3, account.tenant_id)
            .Bind(4, *hash);
        q.Bind(5, int64_t{account.must_change_password ? 1 : 0}).Bind(6, Now());
        Result<bool> row = q.Step();
        if (!row.ok() && row.status().code() == Code::kAlreadyExists) {
          return Status::AlreadyExists(
              Tr("ログイン名 \"{}\" はすでに使われています", "login \"{}\" is taken", account.login));
        }
        KURA_RETURN_IF_ERROR(row.status());
        OperatorAccount a;
        a.id = q.Int(0);
        a.login = account.login;
        a.role = account.role;
        a.tenant_id = account.tenant_id;
        a.must_change_password = account.must_change_password;
        a.created_at = Now();
        event.detail = fmt::format("id={} role={} must_change_password={}", a.id, OperatorRoleName(a.role),
                                   a.must_change_password ? 1 : 0);
        return a;
      });
}

Result<std::vector<OperatorAccount>> Catalog::ListOperators() {
  std::lock_guard lock(mu_);
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare(kSelectOperators));
  std::vector<OperatorAccount> out;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    out.push_back(ReadOperator(q));
  }
}

Result<OperatorAccount> Catalog::CheckOperatorLogin(std::string_view login, std::string_view password,
                                                    const AuditActor& actor) {
  std::string target = "operator:" + std::string(login);
  Status refused = Status::Unauthorized(Tr("ログイン名かパスワードが違います", "wrong login or password"));
  std::optional<OperatorAccount> account;
  std::string stored;
  {
    std::lock_guard lock(mu_);
    if (dummy_password_hash_.empty()) {
      KURA_ASSIGN_OR_RETURN(dummy_password_hash_,
                            HashPassword(RandomInitialPassword(), options_.password_cost));
    }
    KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare(kSelectOperatorByLogin));
    q.Bind(1, login);
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) {
      account = ReadOperator(q);
      stored = q.Text(9);
    } else {
      stored = dummy_password_hash_;
    }
  }
  // Outside the lock: Argon2id takes its time, and other calls need not wait for it.
  bool match = CheckPassword(stored, password);
  std::lock_guard lock(mu_);
  if (!account || !match || account->disabled) {
    std::string why = !account ? "unknown login" : !match ? "wrong password" : "account disabled";
    AuditFailureLocked(actor, "operator.login", target, kAuditRefused, Status::Unauthorized(why));
    return refused;
  }
  return AuditedLocked<OperatorAccount>(
      actor, "operator.login", target, [&](SqlDb& db, AuditEvent& event) -> Result<OperatorAccount> {
        KURA_ASSIGN_OR_RETURN(SqlStmt q, db.Prepare("UPDATE operators SET last_login_at = ?1 WHERE id = ?2"));
        KURA_RETURN_IF_ERROR(q.Bind(1, Now()).Bind(2, account->id).Run());
        account->last_login_at = Now();
        if (account->must_change_password) event.detail = "must_change_password=1";
        return *account;
      });
}

Status Catalog::ChangeOperatorPassword(std::string_view login, std::string_view current,
                                       std::string_view replacement, const AuditActor& actor) {
  std::string target = "operator:" + std::string(login);
  KURA_ASSIGN_OR_RETURN(OperatorAccount account, CheckOperatorLogin(login, current, actor));  // audited
  Status valid = CheckNewPassword(replacement);
  if (valid.ok() && replacement == current) {
    valid = Status::InvalidArgument(
        Tr("新しいパスワードが今のものと同じです", "the new password is the same as the current one"));
  }
  Result<std::string> hash =
      valid.ok() ? HashPassword(replacement, options_.password_cost) : Result<std::string>(valid);
  std::lock_guard lock(mu_);
  if (!hash.ok()) {
    AuditFailureLocked(actor, "operator.password", target, kAuditFailure, hash.status());
    return hash.status();
  }
  return AuditedLocked<bool>(
             actor, "operator.password", target,
             [&](SqlDb& db, AuditEvent& event) -> Result<bool> {
               KURA_ASSIGN_OR_RETURN(
                   SqlStmt q, db.Prepare("UPDATE operators SET password_hash = ?1, must_change_password = 0,"
                                         " password_changed_at = ?2 WHERE id = ?3"));
               KURA_RETURN_IF_ERROR(q.Bind(1, *hash).Bind(2, Now()).Bind(3, account.id).Run());
               event.detail = fmt::format("id={}", account.id);
               return true;
             })
      .status();
}

}  // namespace kura::vault
