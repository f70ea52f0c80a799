// kura-vault grant issue TENANT SITE SNAPSHOT --purpose TEXT --expires HOURS
// [--output FILE [--vault-url URL]] (docs/vault-cli.md): a one-time restore grant, printed
// once or written to a grant file (docs/vault-api.md §5.1) that also pins the vault's
// certificate for `kura restore --grant FILE`.
#include <nlohmann/json.hpp>

#include "net/tls.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/hex.h"
#include "util/i18n.h"
#include "util/secret_file.h"
#include "vault_cli/commands.h"
#include "vault_cli/exit_codes.h"

namespace kura::vault_cli {

struct IssueArgs {
  std::string tenant, site, snapshot, purpose;
  int64_t hours = 24;
  std::string output;     // the grant file to write (mode 0600); "" prints the token
  std::string vault_url;  // recorded in the grant file for kura restore --grant
  bool require_approval = false;
};

// Version 1 of the grant file (docs/vault-api.md §5.1). Written exclusively: an existing
// file (perhaps another grant) is never replaced.
static Status WriteGrantFile(const std::string& path, const vault::IssuedGrant& grant, const std::string& url,
                             const net::Fingerprint& fp) {
  nlohmann::json doc = {{"version", 1},
                        {"kind", "kura-restore-grant"},
                        {"fingerprint", ToHex(ByteView(fp.bytes.data(), fp.bytes.size()))},
                        {"grant", grant.token},
                        {"grant_id", grant.id},
                        {"repository", grant.repo_id},
                        {"snapshot", grant.snapshot},
                        {"expires", FormatUtc(grant.expires_at)}};
  if (!url.empty()) doc["vault"] = url;
  std::string text = doc.dump(2) + "\n";
  Status st = PathExists(path)
                  ? Status::AlreadyExists(Tr("{} はすでにあります。別のファイル名を指定してください",
                                             "{} already exists; give another file name", path))
                  : WriteFileAtomic(path, AsBytes(text), 0600);
  SecureZero(text.data(), text.size());
  return st;
}

static int Issue(Context& ctx, const IssueArgs& a) {
  if (a.hours <= 0 || a.hours > int64_t{7} * 24) {
    return Fail(ctx, Status::InvalidArgument(
                         Tr("--expires は 1〜168 時間にしてください", "--expires must be 1-168 hours")));
  }
  if (!a.vault_url.empty() && !a.vault_url.starts_with("https://")) {
    return Fail(ctx, Status::InvalidArgument(Tr("--vault-url \"{}\" は https:// で始めてください",
                                                "--vault-url \"{}\" must start with https://", a.vault_url)));
  }
  if (!a.vault_url.empty() && a.output.empty()) {
    return Fail(ctx, Status::InvalidArgument(L("--vault-url は --output と一緒に指定してください",
                                               "--vault-url goes with --output")));
  }
  if (!a.output.empty() && PathExists(a.output)) {
    return Fail(ctx, Status::AlreadyExists(Tr("{} はすでにあります。別のファイル名を指定してください",
                                              "{} already exists; give another file name", a.output)));
  }
  const std::string& tenant_name = a.tenant;
  const std::string& site_name = a.site;
  const std::string& snapshot = a.snapshot;
  const std::string& purpose = a.purpose;
  const int64_t hours = a.hours;
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  net::Fingerprint fp;
  if (!a.output.empty()) {
    auto got = net::FingerprintOfPemFile(v->config.server.certificate);
    if (!got.ok()) return Fail(ctx, got.status());
    fp = *got;
  }
  auto tenant = v->catalog->FindTenant(tenant_name);
  if (!tenant.ok()) return Fail(ctx, tenant.status());
  auto site = v->catalog->FindSite(tenant->id, site_name);
  if (!site.ok()) return Fail(ctx, site.status());
  auto grant =
      v->catalog->IssueGrant(site->id, snapshot, purpose, hours * 3600, ConsoleActor(), a.require_approval);
  if (!grant.ok()) return Fail(ctx, grant.status());
  if (!a.output.empty()) {
    Status written = WriteGrantFile(a.output, *grant, a.vault_url, fp);
    SecureZero(grant->token.data(), grant->token.size());
    if (!written.ok()) {
      return Fail(ctx, written.WithContext(Tr("復元の許可 {} は発行されましたが、ファイルに書けませんでした。"
                                              "この許可は使わず、もう一度発行してください",
                                              "restore grant {} was issued but could not be written; do not "
                                              "use it, issue another",
                                              grant->id)));
    }
    if (ctx.opts.json) {
      PrintJson({{"ok", true},
                 {"grant_id", grant->id},
                 {"output", a.output},
                 {"repository", grant->repo_id},
                 {"snapshot", grant->snapshot},
                 {"expires", FormatUtc(grant->expires_at)}});
    } else {
      PrintLine(
          Tr("スナップショット {} の復元の許可を {} に書きました ({} まで、1 回だけ使えます)。\n"
             "復元する人に安全な方法で渡してください: kura restore --grant {} --recovery-key-file ...",
             "Wrote the restore grant for snapshot {} to {} (valid until {}, usable once).\n"
             "Hand it safely to whoever restores: kura restore --grant {} --recovery-key-file ...",
             grant->snapshot, a.output, FormatLocal(grant->expires_at), a.output));
    }
    return kExitOk;
  }
  if (ctx.opts.json) {
    PrintJson({{"ok", true},
               {"grant", grant->token},
               {"grant_id", grant->id},
               {"repository", grant->repo_id},
               {"snapshot", grant->snapshot},
               {"expires", FormatUtc(grant->expires_at)}});
  } else {
    PrintLine(
        Tr("スナップショット {} の復元の許可 (この一度だけ表示します。{} まで、1 回だけ使えます):\n\n  {}\n\n"
           "復元する人に安全な方法で渡してください: kura restore --vault URL --grant ...",
           "Restore grant for snapshot {} (shown this once only; valid until {}, usable once):\n\n  {}\n\n"
           "Hand it safely to whoever restores: kura restore --vault URL --grant ...",
           grant->snapshot, FormatLocal(grant->expires_at), grant->token));
  }
  SecureZero(grant->token.data(), grant->token.size());
  return kExitOk;
}

struct DecideArgs {
  int64_t id = 0;
  std::string login, password_file, reason;
};

// grant approve|deny ID --login L --password-file F: the site's administrator decides.
static int Decide(Context& ctx, const DecideArgs& a, bool approve) {
  if (a.password_file.empty()) {
    return Fail(ctx, Status::InvalidArgument(L("--password-file でパスワードのファイルを指定してください",
                                               "give the password file with --password-file")));
  }
  WarnIfReadableByOthers(a.password_file, "パスワードファイル", "password file");
  auto password = ReadPasswordFile(a.password_file);
  if (!password.ok()) return Fail(ctx, password.status());
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  auto account = v->catalog->CheckOperatorLogin(a.login, *password, ConsoleActor());  // audited
  SecureZero(password->data(), password->size());
  if (!account.ok()) return Fail(ctx, account.status());
  if (account->must_change_password) {
    return Fail(ctx,
                Status::PermissionDenied(L("初期パスワードのままです。先にパスワードを変更してください",
                                           "the account still has its initial password; change it first")));
  }
  Status st = v->catalog->DecideGrant(a.id, approve, a.reason, *account, ConsoleActor());
  if (!st.ok()) return Fail(ctx, st);
  if (ctx.opts.json) {
    PrintJson(
        {{"ok", true}, {"grant_id", a.id}, {"decision", approve ? "approved" : "denied"}, {"by", a.login}});
  } else {
    PrintLine(approve ? Tr("復元の許可 {} を承認しました。", "approved restore grant {}.", a.id)
                      : Tr("復元の許可 {} を却下しました。", "denied restore grant {}.", a.id));
  }
  return kExitOk;
}

static int List(Context& ctx, const std::string& tenant_name) {
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  std::optional<int64_t> tenant_id;
  if (!tenant_name.empty()) {
    auto tenant = v->catalog->FindTenant(tenant_name);
    if (!tenant.ok()) return Fail(ctx, tenant.status());
    tenant_id = tenant->id;
  }
  auto grants = v->catalog->ListGrants(tenant_id);
  vault::AuditEvent event{ConsoleActor(), "grant.list",
                          tenant_name.empty() ? "grants" : "tenant:" + tenant_name,
                          std::string(vault::kAuditSuccess), ""};
  if (!grants.ok()) {
    event.result = vault::kAuditFailure;
    event.detail = grants.status().ToString();
    (void)v->catalog->Audit(event);
    return Fail(ctx, grants.status());
  }
  event.detail = fmt::format("count={}", grants->size());
  // No listing without its audit record.
  if (auto rec = v->catalog->Audit(event); !rec.ok()) return Fail(ctx, rec.status());
  auto state = [&](const vault::GrantRecord& g) -> std::string {
    if (g.redeemed_at) return "redeemed";
    if (ctx.clock->NowUnix() >= g.expires_at) return "expired";
    if (g.decision == "denied") return "denied";
    if (g.requires_approval && g.decision.empty()) return "awaiting_approval";
    return "usable";
  };
  if (ctx.opts.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const vault::GrantRecord& g : *grants) {
      nlohmann::json j = {{"id", g.id},
                          {"tenant", g.tenant},
                          {"site", g.site},
                          {"job", g.job},
                          {"repository", g.repo_id},
                          {"snapshot", g.snapshot},
                          {"purpose", g.purpose},
                          {"issued_by", g.issued_by},
                          {"created", FormatUtc(g.created_at)},
                          {"expires", FormatUtc(g.expires_at)},
                          {"requires_approval", g.requires_approval},
                          {"state", state(g)}};
      if (g.redeemed_at) j["redeemed"] = FormatUtc(*g.redeemed_at);
      if (!g.decision.empty()) {
        j["decision"] = {{"decision", g.decision},
                         {"by", g.decided_by},
                         {"reason", g.reason},
                         {"at", FormatUtc(g.decided_at.value_or(0))}};
      }
      out.push_back(std::move(j));
    }
    PrintJson({{"ok", true}, {"grants", out}});
    return kExitOk;
  }
  for (const vault::GrantRecord& g : *grants) {
    PrintLine(fmt::format("{:>5}  {}/{}  {}  {}  {}  {}", g.id, g.tenant, g.site, g.snapshot.substr(0, 12),
                          FormatLocal(g.expires_at), state(g), g.purpose));
  }
  return kExitOk;
}

void AddGrantCommands(CLI::App& app, Context& ctx, int* exit_code) {
  auto* grant = app.add_subcommand("grant", L("復元の許可 (1 回だけ使える読み取り権限) の管理",
                                              "manage restore grants (single-use read access)"));
  grant->require_subcommand(1);
  auto a = std::make_shared<IssueArgs>();
  auto* issue = grant->add_subcommand("issue", L("サイトのスナップショット 1 つの復元の許可を発行",
                                                 "issue a restore grant for one snapshot of a site"));
  issue->add_option("TENANT", a->tenant, L("テナント名", "tenant name"))->required();
  issue->add_option("SITE", a->site, L("サイト名", "site name"))->required();
  issue
      ->add_option("SNAPSHOT", a->snapshot,
                   L("スナップショット ID (8 桁以上)", "snapshot ID (8 digits or more)"))
      ->required();
  issue
      ->add_option("--purpose", a->purpose,
                   L("目的 (監査記録に残ります)", "purpose (kept in the audit trail)"))
      ->required();
  issue->add_option("--expires", a->hours,
                    L("有効期間 (時間、既定 24、最大 168)", "validity in hours (default 24, at most 168)"));
  issue->add_option(
      "--output", a->output,
      L("許可をこのファイルに書く (JSON、モード 0600、保管庫の証明書の指紋つき)。表示はしません",
        "write the grant to this file (JSON, mode 0600, with the vault certificate's "
        "fingerprint) instead of printing it"));
  issue->add_option("--vault-url", a->vault_url,
                    L("許可のファイルに書く保管庫の URL (https://ホスト:ポート)",
                      "the vault's URL to write into the grant file (https://host:port)"));
  issue->add_flag("--require-approval", a->require_approval,
                  L("サイトのテナント管理者が grant approve で承認するまで使えない許可にする",
                    "the grant redeems only after a tenant admin of the site approves it (grant approve)"));
  issue->add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));
  issue->callback([&ctx, exit_code, a] { *exit_code = Issue(ctx, *a); });

  for (bool approve : {true, false}) {
    auto d = std::make_shared<DecideArgs>();
    auto* cmd = grant->add_subcommand(
        approve ? "approve" : "deny",
        approve
            ? L("サイトの管理者として復元の許可を承認", "approve a restore grant as the site's administrator")
            : L("サイトの管理者として復元の許可を却下", "deny a restore grant as the site's administrator"));
    cmd->add_option("ID", d->id, L("許可の ID (grant list)", "the grant's ID (grant list)"))->required();
    cmd->add_option("--login", d->login, L("テナント管理者のログイン名", "the tenant admin's login"))
        ->required();
    cmd->add_option("--password-file", d->password_file,
                    L("そのパスワードを書いたファイル", "file holding that account's password"))
        ->required();
    auto* reason = cmd->add_option("--reason", d->reason,
                                   L("理由 (監査記録に残ります)", "reason (kept in the audit trail)"));
    if (!approve) reason->required();
    cmd->add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));
    cmd->callback([&ctx, exit_code, d, approve] { *exit_code = Decide(ctx, *d, approve); });
  }

  auto tenant = std::make_shared<std::string>();
  auto* list = grant->add_subcommand(
      "list", L("復元の許可の一覧 (秘密は表示しません)", "list restore grants (never their secrets)"));
  list->add_option("--tenant", *tenant, L("このテナントの許可だけ", "only this tenant's grants"));
  list->add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));
  list->callback([&ctx, exit_code, tenant] { *exit_code = List(ctx, *tenant); });
}

}  // namespace kura::vault_cli
