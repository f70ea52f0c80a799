// kura-vault hold list|clear (docs/vault-cli.md): holds are the operator's alone
// (docs/retention.md §4); clearing is audited with the reason.
#include "util/i18n.h"
#include "vault/alarm_tick.h"
#include "vault_cli/commands.h"
#include "vault_cli/exit_codes.h"

namespace kura::vault_cli {

using nlohmann::json;

static int List(Context& ctx) {
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  auto holds = v->catalog->ListHolds();
  if (!holds.ok()) return Fail(ctx, holds.status());
  auto rec = v->catalog->Audit({ConsoleActor(), "hold.list", "holds", std::string(vault::kAuditSuccess),
                                fmt::format("count={}", holds->size())});
  if (!rec.ok()) return Fail(ctx, rec.status());
  Language lang = CurrentLanguage();
  if (ctx.opts.json) {
    json list = json::array();
    for (const vault::Catalog::Hold& h : *holds) {
      list.push_back({{"tenant", h.tenant},
                      {"site", h.site},
                      {"placed", FormatUtc(h.placed_at_ms / 1000)},
                      {"placed_by", h.placed_by},
                      {"reason", vault::LocalText(h.reason, lang)}});
    }
    PrintJson({{"ok", true}, {"holds", list}});
    return kExitOk;
  }
  if (holds->empty()) {
    PrintLine(L("保留中のサイトはありません", "no site is on hold"));
    return kExitOk;
  }
  for (const vault::Catalog::Hold& h : *holds) {
    PrintLine(
        fmt::format("{}  {} / {}  ({})", FormatLocal(h.placed_at_ms / 1000), h.tenant, h.site, h.placed_by));
    PrintLine("    " + vault::LocalText(h.reason, lang));
  }
  return kExitOk;
}

static int Clear(Context& ctx, const std::string& tenant_name, const std::string& site_name,
                 const std::string& reason, bool accept) {
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  auto tenant = v->catalog->FindTenant(tenant_name);
  if (!tenant.ok()) return Fail(ctx, tenant.status());
  auto site = v->catalog->FindSite(tenant->id, site_name);
  if (!site.ok()) return Fail(ctx, site.status());
  Status st = v->catalog->ClearHold(site->id, reason, accept, ConsoleActor());
  if (!st.ok()) return Fail(ctx, st);
  if (ctx.opts.json) {
    PrintJson({{"ok", true}, {"tenant", tenant->name}, {"site", site->name}, {"accepted", accept}});
  } else if (accept) {
    PrintLine(Tr("サイト \"{}\" の保留を解除し、異常とされた世代を正常として受け入れました",
                 "cleared the hold on site \"{}\" and accepted its anomalous generations", site->name));
  } else {
    PrintLine(Tr("サイト \"{}\" の保留を解除しました。異常とされた世代は保持規則で削除対象になります",
                 "cleared the hold on site \"{}\"; its anomalous generations are evicted by retention",
                 site->name));
  }
  return kExitOk;
}

void AddHoldCommands(CLI::App& app, Context& ctx, int* exit_code) {
  auto* hold = app.add_subcommand(
      "hold", L("保留 (異常の疑いで削除を止めたサイト)", "holds (sites nothing is removed from)"));
  hold->require_subcommand(1);
  auto* list = hold->add_subcommand("list", L("保留中のサイトの一覧", "list the sites on hold"));
  list->add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));
  list->callback([&ctx, exit_code] { *exit_code = List(ctx); });
  auto tenant = std::make_shared<std::string>();
  auto site = std::make_shared<std::string>();
  auto reason = std::make_shared<std::string>();
  auto accept = std::make_shared<bool>(false);
  auto* clear = hold->add_subcommand("clear", L("保留を解除する (オペレーターのみ、監査記録に残る)",
                                                "clear a hold (operator only, audited)"));
  clear->add_option("TENANT", *tenant, L("テナント名", "tenant name"))->required();
  clear->add_option("SITE", *site, L("サイト名", "site name"))->required();
  clear
      ->add_option("--reason", *reason, L("解除の理由 (監査記録に残る)", "why (recorded in the audit trail)"))
      ->required();
  clear->add_flag("--accept", *accept,
                  L("異常とされた世代を正常として受け入れる (正当な大きな変更だった場合)",
                    "accept the anomalous generations (it was a legitimate large change)"));
  clear->add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));
  clear->callback([&ctx, exit_code, tenant, site, reason, accept] {
    *exit_code = Clear(ctx, *tenant, *site, *reason, *accept);
  });
}

}  // namespace kura::vault_cli
