// Restore grants and the sessions they open (docs/vault-api.md §5).
#include "util/text.h"
#include "vault/catalog.h"
#include "vault/catalog_internal.h"
#include "vault/tokens.h"

namespace kura::vault {

static constexpr size_t kGrantSecretBytes = 32;
static constexpr int64_t kMaxGrantSeconds = int64_t{7} * 86400;

static Status BadGrant() {
  return Status::Unauthorized(
      Tr("復元の許可が正しくないか期限切れです。販売元に新しい許可を発行してもらってください",
         "the restore grant is not valid or has expired; ask for a new one"));
}

static bool Matches(const Bytes& stored, const crypto::Hash& presented) {
  return crypto::ConstantTimeEqual(stored, ByteView(presented.data(), presented.size()));
}

Result<IssuedGrant> Catalog::IssueGrant(int64_t site_id, std::string_view snapshot, std::string_view purpose,
                                        int64_t ttl_seconds, const AuditActor& actor, bool require_approval) {
  std::lock_guard lock(mu_);
  return AuditedLocked<IssuedGrant>(
      actor, "grant.issue", "site:" + std::to_string(site_id) + "/snapshot:" + std::string(snapshot),
      [&](SqlDb& db, AuditEvent& event) -> Result<IssuedGrant> {
        if (ttl_seconds <= 0 || ttl_seconds > kMaxGrantSeconds) {
          return Status::InvalidArgument(Tr("復元の許可の有効期間は 1 時間〜7 日にしてください",
                                            "a restore grant lasts 1 hour to 7 days"));
        }
        if (purpose.empty() || purpose.size() > 1024 || !IsValidUtf8(purpose)) {
          return Status::InvalidArgument(Tr("目的 (--purpose) を 1〜1024 バイトで書いてください",
                                            "give the purpose (--purpose) in 1-1024 bytes"));
        }
        bool hex = snapshot.size() >= 8 && snapshot.size() <= 64 &&
                   snapshot.find_first_not_of("0123456789abcdef") == std::string_view::npos;
        if (!hex) {
          return Status::InvalidArgument(Tr("スナップショットは 16 進の ID (8 桁以上) で指定してください",
                                            "name the snapshot by its hex ID (8 digits or more)"));
        }
        KURA_ASSIGN_OR_RETURN(SqlStmt q, db.Prepare("SELECT s.name, r.id, r.repo_id FROM snapshots s"
                                                    " JOIN repositories r ON r.id = s.repository_id"
                                                    " WHERE r.site_id = ?1 AND substr(s.name, 1, ?2) = ?3"
                                                    " AND s.state != 'quarantined' LIMIT 2"));
        q.Bind(1, site_id).Bind(2, static_cast<int64_t>(snapshot.size())).Bind(3, snapshot);
        KURA_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) {
          return Status::NotFound(
              Tr("このサイトにはスナップショット {} がありません", "this site has no snapshot {}", snapshot));
        }
        IssuedGrant g;
        g.snapshot = q.Text(0);
        int64_t repository = q.Int(1);
        g.repo_id = q.Text(2);
        KURA_ASSIGN_OR_RETURN(bool second, q.Step());
        if (second) {
          return Status::InvalidArgument(
              Tr("{} に当てはまるスナップショットが複数あります。ID をもっと長く指定してください",
                 "more than one snapshot starts with {}; give more of the ID", snapshot));
        }
        SplitToken token = NewToken(kGrantPrefix, kGrantSecretBytes);
        g.expires_at = Now() + ttl_seconds;
        KURA_ASSIGN_OR_RETURN(SqlStmt ins,
                              db.Prepare("INSERT INTO grants (repository_id, snapshot, purpose, selector,"
                                         " secret_hash, issued_by, created_at, expires_at, requires_approval)"
                                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id"));
        ins.Bind(1, repository)
            .Bind(2, g.snapshot)
            .Bind(3, purpose)
            .Bind(4, token.selector)
            .BindBlob(5, TokenSecretHash(token, kGrantPrefix))
            .Bind(6, actor.kind + ":" + actor.id)
            .Bind(7, Now())
            .Bind(8, g.expires_at)
            .Bind(9, int64_t{require_approval ? 1 : 0});
        KURA_RETURN_IF_ERROR(ins.Step().status());
        g.id = ins.Int(0);
        g.token = token.text;
        event.target = fmt::format("repository:{}/snapshot:{}", g.repo_id, g.snapshot);
        event.detail =
            fmt::format("grant={} selector={} expires={} purpose={}{}", g.id, token.selector,
                        FormatUtc(g.expires_at), purpose, require_approval ? " requires_approval=1" : "");
        return g;
      });
}

Result<RestoreSession> Catalog::RedeemGrant(std::string_view text, const AuditActor& actor,
                                            std::string* refusal) {
  std::lock_guard lock(mu_);
  std::optional<SplitToken> token = ParseToken(text, kGrantPrefix, kGrantSecretBytes);
  if (!token) {
    AuditFailureLocked(actor, "grant.redeem", "grant:?", kAuditRefused,
                       Status::Unauthorized("malformed grant"));
    return BadGrant();
  }
  return AuditedLocked<RestoreSession>(
      actor, "grant.redeem", "grant:" + token->selector,
      [&](SqlDb& db, AuditEvent& event) -> Result<RestoreSession> {
        KURA_ASSIGN_OR_RETURN(SqlStmt q, db.Prepare("SELECT g.id, g.secret_hash, g.expires_at, g.redeemed_at,"
                                                    " g.repository_id, r.repo_id, g.snapshot,"
                                                    " g.requires_approval, a.decision FROM grants g"
                                                    " JOIN repositories r ON r.id = g.repository_id"
                                                    " LEFT JOIN grant_approvals a ON a.grant_id = g.id"
                                                    " WHERE g.selector = ?1"));
        q.Bind(1, token->selector);
        KURA_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row || !Matches(q.Blob(1), TokenSecretHash(*token, kGrantPrefix))) return BadGrant();
        RestoreSession s{q.Int(0), q.Int(4), q.Text(5), q.Text(6), q.Int(2), ""};
        event.target = fmt::format("grant:{}/repository:{}/snapshot:{}", s.grant_id, s.repo_id, s.snapshot);
        if (Now() >= s.expires_at) return BadGrant();
        if (!q.IsNull(3)) {
          if (refusal != nullptr) *refusal = "grant_used";
          return Status::PermissionDenied(
              Tr("この復元の許可はすでに使われています", "this restore grant was already used"));
        }
        // Before anything is written: an unapproved grant stays unused.
        if (q.Int(7) != 0 && (q.IsNull(8) || q.Text(8) != "approved")) {
          if (refusal != nullptr) *refusal = "grant_not_approved";
          const bool denied = !q.IsNull(8);
          return Status::PermissionDenied(denied ? Tr("この復元の許可はサイトの管理者に却下されました",
                                                      "the site's administrator denied this restore grant")
                                                 : Tr("この復元の許可はサイトの管理者の承認待ちです",
                                                      "this restore grant awaits the site administrator's "
                                                      "approval"));
        }
        SplitToken session = NewToken(kSessionPrefix, kGrantSecretBytes);
        KURA_ASSIGN_OR_RETURN(SqlStmt up,
                              db.Prepare("UPDATE grants SET redeemed_at = ?1, session_selector = ?2,"
                                         " session_hash = ?3 WHERE id = ?4 AND redeemed_at IS NULL"));
        KURA_RETURN_IF_ERROR(up.Bind(1, Now())
                                 .Bind(2, session.selector)
                                 .BindBlob(3, TokenSecretHash(session, kSessionPrefix))
                                 .Bind(4, s.grant_id)
                                 .Run());
        s.token = session.text;
        event.detail = "session=" + session.selector;
        return s;
      });
}

Result<RestoreSession> Catalog::AuthenticateSession(std::string_view text, const AuditActor& actor) {
  std::lock_guard lock(mu_);
  std::optional<SplitToken> token = ParseToken(text, kSessionPrefix, kGrantSecretBytes);
  std::string why;
  RestoreSession s;
  if (!token) {
    why = "malformed session";
  } else {
    KURA_ASSIGN_OR_RETURN(SqlStmt q,
                          db_->Prepare("SELECT g.id, g.session_hash, g.expires_at, g.repository_id,"
                                       " r.repo_id, g.snapshot FROM grants g JOIN repositories r"
                                       " ON r.id = g.repository_id WHERE g.session_selector = ?1"));
    q.Bind(1, token->selector);
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row || !Matches(q.Blob(1), TokenSecretHash(*token, kSessionPrefix))) {
      why = "unknown session";
    } else if (Now() >= q.Int(2)) {
      why = "expired session";
    } else {
      s = RestoreSession{q.Int(0), q.Int(3), q.Text(4), q.Text(5), q.Int(2), ""};
    }
  }
  if (!why.empty()) {
    AuditFailureLocked(actor, "session.check", token ? "session:" + token->selector : "session:?",
                       kAuditRefused, Status::Unauthorized(why));
    return BadGrant();
  }
  return s;
}

}  // namespace kura::vault
