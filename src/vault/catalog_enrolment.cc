// Enrolment codes and site credentials (docs/vault-catalog.md "Tokens").
#include "vault/catalog.h"
#include "vault/catalog_internal.h"
#include "vault/tokens.h"

namespace kura::vault {

static constexpr size_t kCredentialSecretBytes = 32;

static Status BadCode() {
  return Status::Unauthorized(
      Tr("登録コードが正しくありません。販売元に新しい登録コードを発行してもらってください",
         "the enrolment code is not valid; ask the vendor for a new one"));
}

static Status BadToken() {
  return Status::Unauthorized(Tr("サイトの認証情報が正しくありません", "the site credential is not valid"));
}

static bool HashMatches(const Bytes& stored, const crypto::Hash& presented) {
  return crypto::ConstantTimeEqual(stored, ByteView(presented.data(), presented.size()));
}

Result<EnrolmentCode> Catalog::IssueEnrolment(int64_t site_id, int64_t ttl_seconds, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  return AuditedLocked<EnrolmentCode>(
      actor, "enrolment.issue", "site:" + std::to_string(site_id),
      [&](SqlDb& db, AuditEvent& event) -> Result<EnrolmentCode> {
        if (ttl_seconds <= 0) {
          return Status::InvalidArgument(
              Tr("登録コードの有効期間は正の秒数にしてください",
                 "the enrolment code's lifetime must be a positive number of seconds"));
        }
        KURA_ASSIGN_OR_RETURN(SqlStmt s, db.Prepare("SELECT 1 FROM sites WHERE id = ?1"));
        s.Bind(1, site_id);
        KURA_ASSIGN_OR_RETURN(bool site, s.Step());
        if (!site) return Status::NotFound(Tr("サイト {} はありません", "there is no site {}", site_id));
        SplitToken code = NewEnrolmentSecret();
        crypto::Hash hash = TokenSecretHash(code, kEnrolmentPrefix);
        int64_t now = Now();
        KURA_ASSIGN_OR_RETURN(SqlStmt q,
                              db.Prepare("INSERT INTO enrolments (site_id, selector, secret_hash, created_at,"
                                         " expires_at) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id"));
        q.Bind(1, site_id).Bind(2, code.selector).BindBlob(3, hash).Bind(4, now).Bind(5, now + ttl_seconds);
        KURA_RETURN_IF_ERROR(q.Step().status());
        EnrolmentCode out{q.Int(0), site_id, code.text, now + ttl_seconds};
        event.detail = fmt::format("enrolment={} selector={} expires={}", out.id, code.selector,
                                   FormatUtc(out.expires_at));
        return out;
      });
}

Result<int64_t> Catalog::EnrolmentTenant(std::string_view text) {
  std::lock_guard lock(mu_);
  std::optional<SplitToken> code = ParseEnrolmentSecret(text);
  if (!code) return BadCode();
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db_->Prepare("SELECT e.secret_hash, e.expires_at, e.used_at, s.tenant_id"
                                                " FROM enrolments e JOIN sites s ON s.id = e.site_id"
                                                " WHERE e.selector = ?1"));
  q.Bind(1, code->selector);
  KURA_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row || !HashMatches(q.Blob(0), TokenSecretHash(*code, kEnrolmentPrefix)) || !q.IsNull(2) ||
      Now() >= q.Int(1)) {
    return BadCode();
  }
  return q.Int(3);
}

Result<SiteCredential> Catalog::RedeemEnrolment(std::string_view text, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  std::optional<SplitToken> code = ParseEnrolmentSecret(text);
  if (!code) {
    AuditFailureLocked(actor, "enrolment.redeem", "enrolment:?", kAuditRefused,
                       Status::Unauthorized("malformed code"));
    return BadCode();
  }
  return AuditedLocked<SiteCredential>(
      actor, "enrolment.redeem", "enrolment:" + code->selector,
      [&](SqlDb& db, AuditEvent& event) -> Result<SiteCredential> {
        KURA_ASSIGN_OR_RETURN(SqlStmt q,
                              db.Prepare("SELECT e.id, e.site_id, e.secret_hash, e.expires_at, e.used_at,"
                                         " s.tenant_id FROM enrolments e JOIN sites s ON s.id = e.site_id"
                                         " WHERE e.selector = ?1"));
        q.Bind(1, code->selector);
        KURA_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row || !HashMatches(q.Blob(2), TokenSecretHash(*code, kEnrolmentPrefix))) return BadCode();
        int64_t enrolment_id = q.Int(0), site_id = q.Int(1), expires_at = q.Int(3), tenant_id = q.Int(5);
        bool used = !q.IsNull(4);
        event.target = fmt::format("site:{}/enrolment:{}", site_id, enrolment_id);
        if (used) {
          return Status::Unauthorized(
              Tr("この登録コードはすでに使われています。販売元に新しい登録コードを発行してもらってください",
                 "this enrolment code was already used; ask the vendor for a new one"));
        }
        if (Now() >= expires_at) {
          return Status::Unauthorized(Tr(
              "この登録コードは {} に期限が切れています。販売元に新しい登録コードを発行してもらってください",
              "this enrolment code expired at {}; ask the vendor for a new one", FormatUtc(expires_at)));
        }
        SplitToken token = NewToken(kSiteTokenPrefix, kCredentialSecretBytes);
        KURA_ASSIGN_OR_RETURN(
            SqlStmt ins, db.Prepare("INSERT INTO site_credentials (site_id, selector, secret_hash,"
                                    " scope, created_at) VALUES (?1, ?2, ?3, 'append', ?4) RETURNING id"));
        ins.Bind(1, site_id)
            .Bind(2, token.selector)
            .BindBlob(3, TokenSecretHash(token, kSiteTokenPrefix))
            .Bind(4, Now());
        KURA_RETURN_IF_ERROR(ins.Step().status());
        int64_t credential_id = ins.Int(0);
        // "AND used_at IS NULL": the code is used up exactly once even if a second
        // connection got past the check above (it cannot on SQLite, whose write
        // transactions are serial; the condition keeps it so on PostgreSQL too).
        KURA_ASSIGN_OR_RETURN(SqlStmt use, db.Prepare("UPDATE enrolments SET used_at = ?1, credential_id = ?2"
                                                      " WHERE id = ?3 AND used_at IS NULL"));
        KURA_RETURN_IF_ERROR(use.Bind(1, Now()).Bind(2, credential_id).Bind(3, enrolment_id).Run());
        if (db.Changes() != 1) {
          return Status::Unauthorized(
              Tr("この登録コードはすでに使われています", "this enrolment code was already used"));
        }
        event.detail = fmt::format("credential={} selector={} scope=append", credential_id, token.selector);
        return SiteCredential{credential_id, site_id, tenant_id, token.text};
      });
}

Result<SiteIdentity> Catalog::AuthenticateSite(std::string_view text, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  std::optional<SplitToken> token = ParseToken(text, kSiteTokenPrefix, kCredentialSecretBytes);
  if (!token) {
    AuditFailureLocked(actor, "credential.check", "credential:?", kAuditRefused,
                       Status::Unauthorized("malformed token"));
    return BadToken();
  }
  std::string target = "credential:" + token->selector;
  KURA_ASSIGN_OR_RETURN(
      SqlStmt q, db_->Prepare("SELECT c.id, c.site_id, s.tenant_id, c.scope, c.secret_hash, c.revoked_at"
                              " FROM site_credentials c JOIN sites s ON s.id = c.site_id"
                              " WHERE c.selector = ?1"));
  q.Bind(1, token->selector);
  KURA_ASSIGN_OR_RETURN(bool row, q.Step());
  std::string why;
  if (!row) {
    why = "unknown credential";
  } else if (!HashMatches(q.Blob(4), TokenSecretHash(*token, kSiteTokenPrefix))) {
    why = "wrong secret";
  } else if (!q.IsNull(5)) {
    why = "revoked";
  }
  if (!why.empty()) {
    AuditFailureLocked(actor, "credential.check", target, kAuditRefused, Status::Unauthorized(why));
    return BadToken();
  }
  return SiteIdentity{q.Int(0), q.Int(1), q.Int(2), q.Text(3)};
}

Status Catalog::RevokeCredential(int64_t credential_id, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  return AuditedLocked<bool>(
             actor, "credential.revoke", "credential:" + std::to_string(credential_id),
             [&](SqlDb& db, AuditEvent& event) -> Result<bool> {
               KURA_ASSIGN_OR_RETURN(SqlStmt s, db.Prepare("SELECT revoked_at FROM site_credentials"
                                                           " WHERE id = ?1"));
               s.Bind(1, credential_id);
               KURA_ASSIGN_OR_RETURN(bool found, s.Step());
               if (!found) {
                 return Status::NotFound(
                     Tr("サイトの認証情報 {} はありません", "there is no site credential {}", credential_id));
               }
               if (!s.IsNull(0)) {
                 event.detail = "already revoked";
                 return true;
               }
               KURA_ASSIGN_OR_RETURN(SqlStmt q, db.Prepare("UPDATE site_credentials SET revoked_at = ?1"
                                                           " WHERE id = ?2"));
               KURA_RETURN_IF_ERROR(q.Bind(1, Now()).Bind(2, credential_id).Run());
               return true;
             })
      .status();
}

}  // namespace kura::vault
