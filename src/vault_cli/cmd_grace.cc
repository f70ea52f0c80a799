// kura-vault tenant set-grace and site set-grace (docs/vault-cli.md, docs/retention.md §5):
// how long after its scheduled time a site's backup may arrive before the site is overdue.
// A site's own grace comes before its tenant's, and a tenant's before the default (4 h).
#include <optional>

#include "util/i18n.h"
#include "vault/site_state.h"
#include "vault_cli/commands.h"
#include "vault_cli/exit_codes.h"

namespace kura::vault_cli {

namespace {

struct GraceArgs {
  std::string tenant, site;
  int hours = -1;
  bool use_default = false;
};

// --hours N or --default, exactly one.
Result<std::optional<int>> ChosenGrace(const GraceArgs& a) {
  bool has_hours = a.hours >= 0;
  if (has_hours == a.use_default) {
    return Status::InvalidArgument(L("--hours N (0〜744) か --default のどちらか一方を指定してください",
                                     "give either --hours N (0..744) or --default"));
  }
  if (a.use_default) return std::optional<int>();
  return std::optional<int>(a.hours);
}

std::string GraceText(std::optional<int> hours, std::string_view from) {
  if (!hours) return L("既定 (4 時間)", "the default (4 h)");
  if (from == "tenant") return Tr("{} 時間 (テナントの設定)", "{} h (the tenant's)", *hours);
  return Tr("{} 時間", "{} h", *hours);
}

int SetTenantGrace(Context& ctx, const GraceArgs& a) {
  auto hours = ChosenGrace(a);
  if (!hours.ok()) return Fail(ctx, hours.status());
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  auto t = v->catalog->FindTenant(a.tenant);
  if (!t.ok()) return Fail(ctx, t.status());
  Status st = v->catalog->SetTenantOverdueGrace(t->id, *hours, ConsoleActor());
  if (!st.ok()) return Fail(ctx, st);
  if (ctx.opts.json) {
    PrintJson({{"ok", true},
               {"tenant", t->name},
               {"overdue_grace_hours", hours->value_or(vault::kDefaultOverdueGraceHours)},
               {"from", *hours ? "tenant" : "default"}});
  } else {
    PrintLine(Tr("テナント \"{}\" の期限超過までの猶予: {} (個別に設定したサイトを除く)",
                 "overdue grace of tenant \"{}\": {} (except sites with their own)", t->name,
                 GraceText(*hours, "tenant")));
  }
  return kExitOk;
}

int SetSiteGrace(Context& ctx, const GraceArgs& a) {
  auto hours = ChosenGrace(a);
  if (!hours.ok()) return Fail(ctx, hours.status());
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  auto t = v->catalog->FindTenant(a.tenant);
  if (!t.ok()) return Fail(ctx, t.status());
  auto site = v->catalog->FindSite(t->id, a.site);
  if (!site.ok()) return Fail(ctx, site.status());
  Status st = v->catalog->SetSiteOverdueGrace(site->id, *hours, ConsoleActor());
  if (!st.ok()) return Fail(ctx, st);
  auto policy = v->catalog->GetTenantPolicy(t->id);
  if (!policy.ok()) return Fail(ctx, policy.status());
  // What is in effect now: the site's own, else the tenant's, else the default.
  std::optional<int> effective = *hours ? *hours : policy->overdue_grace_hours;
  const char* from = *hours ? "site" : policy->overdue_grace_hours ? "tenant" : "default";
  if (ctx.opts.json) {
    PrintJson({{"ok", true},
               {"tenant", t->name},
               {"site", site->name},
               {"overdue_grace_hours", effective.value_or(vault::kDefaultOverdueGraceHours)},
               {"from", from}});
  } else {
    PrintLine(Tr("サイト \"{}\" の期限超過までの猶予: {}", "overdue grace of site \"{}\": {}", site->name,
                 GraceText(effective, from)));
  }
  return kExitOk;
}

void AddHoursOptions(CLI::App* cmd, Context& ctx, const std::shared_ptr<GraceArgs>& a) {
  cmd->add_option("--hours", a->hours,
                  L("予定時刻から何時間で期限超過とするか (0〜744)",
                    "hours after the scheduled time before the site is overdue (0..744)"));
  cmd->add_flag("--default", a->use_default,
                L("個別の設定をやめ、既定に戻す", "drop the setting: back to the default"));
  cmd->add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));
}

}  // namespace

void AddOverdueGraceCommands(CLI::App& app, Context& ctx, int* exit_code) {
  CLI::App* tenant = app.get_subcommand_ptr("tenant").get();
  CLI::App* site = app.get_subcommand_ptr("site").get();
  if (tenant == nullptr || site == nullptr) return;
  auto a = std::make_shared<GraceArgs>();
  auto* tenant_grace =
      tenant->add_subcommand("set-grace", L("テナントの全サイトの期限超過までの猶予 (既定 4 時間)",
                                            "set the overdue grace of a tenant's sites (default 4 h)"));
  tenant_grace->add_option("TENANT", a->tenant, L("テナント名", "tenant name"))->required();
  AddHoursOptions(tenant_grace, ctx, a);
  tenant_grace->callback([&ctx, exit_code, a] { *exit_code = SetTenantGrace(ctx, *a); });

  auto* site_grace =
      site->add_subcommand("set-grace", L("このサイトの期限超過までの猶予 (夜間に電源を切る PC など)",
                                          "set one site's overdue grace (a PC switched off at night, say)"));
  site_grace->add_option("TENANT", a->tenant, L("テナント名", "tenant name"))->required();
  site_grace->add_option("SITE", a->site, L("サイト名", "site name"))->required();
  AddHoursOptions(site_grace, ctx, a);
  site_grace->callback([&ctx, exit_code, a] { *exit_code = SetSiteGrace(ctx, *a); });
}

}  // namespace kura::vault_cli
