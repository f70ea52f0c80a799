// kura-vault grant issue TENANT SITE SNAPSHOT --purpose TEXT --expires HOURS
// (docs/vault-cli.md): a one-time restore grant, printed once.
#include "util/i18n.h"
#include "vault_cli/commands.h"
#include "vault_cli/exit_codes.h"

namespace kura::vault_cli {

static int Issue(Context& ctx, const std::string& tenant_name, const std::string& site_name,
                 const std::string& snapshot, const std::string& purpose, int64_t hours) {
  if (hours <= 0 || hours > int64_t{7} * 24) {
    return Fail(ctx, Status::InvalidArgument(
                         Tr("--expires は 1〜168 時間にしてください", "--expires must be 1-168 hours")));
  }
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  auto tenant = v->catalog->FindTenant(tenant_name);
  if (!tenant.ok()) return Fail(ctx, tenant.status());
  auto site = v->catalog->FindSite(tenant->id, site_name);
  if (!site.ok()) return Fail(ctx, site.status());
  auto grant = v->catalog->IssueGrant(site->id, snapshot, purpose, hours * 3600, ConsoleActor());
  if (!grant.ok()) return Fail(ctx, grant.status());
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

void AddGrantCommands(CLI::App& app, Context& ctx, int* exit_code) {
  auto* grant = app.add_subcommand("grant", L("復元の許可 (1 回だけ使える読み取り権限) の管理",
                                              "manage restore grants (single-use read access)"));
  grant->require_subcommand(1);
  struct Args {
    std::string tenant, site, snapshot, purpose;
    int64_t hours = 24;
  };
  auto a = std::make_shared<Args>();
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
  issue->add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));
  issue->callback([&ctx, exit_code, a] {
    *exit_code = Issue(ctx, a->tenant, a->site, a->snapshot, a->purpose, a->hours);
  });
}

}  // namespace kura::vault_cli
