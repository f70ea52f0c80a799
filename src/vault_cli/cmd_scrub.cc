// kura-vault scrub [--budget SECONDS] [--all] [--json] (docs/vault-cli.md,
// docs/vault-gc-scrub.md): re-hashes a rotating share of the stored objects.
// Exit 8 when damage is found (docs/vault-exit-codes.md).
#include <algorithm>

#include "util/i18n.h"
#include "util/text.h"
#include "vault/scrub.h"
#include "vault_cli/commands.h"
#include "vault_cli/exit_codes.h"

namespace kura::vault_cli {

using nlohmann::json;

static int Scrub(Context& ctx, int64_t budget, bool all) {
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  vault::ScrubOptions o;
  o.budget_seconds = budget > 0 ? budget : v->config.gc_scrub.scrub_budget_seconds;
  o.period_days = v->config.gc_scrub.scrub_period_days;
  o.all = all;
  auto report = vault::RunScrub(*v->catalog, v->config.objects_dir, *ctx.clock, o, ConsoleActor());
  if (!report.ok()) return Fail(ctx, report.status());
  const vault::ScrubReport& r = *report;
  if (ctx.opts.json) {
    json damage = json::array();
    for (const vault::ScrubFinding& f : r.damage) {
      json j{{"repository", f.repo_id}, {"kind", f.kind},      {"object", f.name},
             {"detail", f.detail},      {"new", f.new_damage}, {"affected_snapshots", f.affected_snapshots}};
      cli_common::PutNameJson(j, "tenant", f.tenant);
      damage.push_back(std::move(j));
    }
    json repaired = json::array();
    for (const vault::ScrubFinding& f : r.repaired) {
      json j{{"repository", f.repo_id}, {"kind", f.kind}, {"object", f.name}};
      cli_common::PutNameJson(j, "tenant", f.tenant);
      repaired.push_back(std::move(j));
    }
    PrintJson({{"ok", r.damage.empty()},
               {"repaired", repaired},
               {"all", all},
               {"objects_total", r.objects_total},
               {"objects_checked", r.objects_checked},
               {"bytes_checked", r.bytes_checked},
               {"budget_exhausted", r.budget_exhausted},
               {"damage", damage}});
  } else {
    PrintLine(Tr("{} 個中 {} 個のオブジェクトを検査しました ({})。損傷 {} 個",
                 "checked {} of {} objects ({}); {} damaged", r.objects_checked, r.objects_total,
                 cli_common::FormatBytes(r.bytes_checked), r.damage.size()));
    if (r.budget_exhausted) {
      PrintWarning(L("時間の上限に達しました。期間内に全体を検査するには予算を増やしてください",
                     "the time budget ran out; raise it so everything is checked within the period"));
    }
    for (const vault::ScrubFinding& f : r.damage) {
      PrintWarning(Tr("損傷: テナント {} リポジトリ {} の {} {} ({})。影響するスナップショット: {}",
                      "damaged: {2} {3} of repository {1} of tenant {0} ({4}); affected snapshots: {5}",
                      EscapeText(f.tenant, false), f.repo_id, f.kind, f.name, f.detail,
                      f.affected_snapshots.empty()
                          ? std::string("-")
                          : fmt::format("{}", fmt::join(f.affected_snapshots, ", "))));
    }
    if (std::any_of(r.damage.begin(), r.damage.end(),
                    [](const vault::ScrubFinding& f) { return f.kind == "pack"; })) {
      PrintLine(
          L("損傷したパックはサイトの次のバックアップで自動的に送り直されます (サイトがそのデータを"
            "まだ持っていれば)。それまで影響するスナップショットは完全には復元できません",
            "a damaged pack is sent again by the site's next backup (if the site still holds its data); "
            "until then the affected snapshots cannot be restored in full"));
    }
    if (std::any_of(r.damage.begin(), r.damage.end(),
                    [](const vault::ScrubFinding& f) { return f.kind != "pack"; })) {
      PrintLine(
          L("パック以外の損傷は、保管庫のオブジェクトの複製から元に戻してください。"
            "元に戻ったことは次の検査で確認され、記録が消えます",
            "put any other damaged object back from a copy of the vault's objects; the next scrub that "
            "finds it whole clears the record"));
    }
    for (const vault::ScrubFinding& f : r.repaired) {
      PrintLine(Tr("修復済み: テナント {} リポジトリ {} の {} {} は元に戻っています",
                   "repaired: {2} {3} of repository {1} of tenant {0} is whole again",
                   EscapeText(f.tenant, false), f.repo_id, f.kind, f.name));
    }
  }
  return r.damage.empty() ? kExitOk : kExitDamaged;
}

void AddScrubCommand(CLI::App& app, Context& ctx, int* exit_code) {
  auto* scrub =
      app.add_subcommand("scrub", L("保管しているオブジェクトを SHA-256 で再検査 (鍵は不要)",
                                    "re-hash stored objects against their SHA-256 names (no key needed)"));
  struct Args {
    int64_t budget = 0;
    bool all = false;
  };
  auto a = std::make_shared<Args>();
  scrub->add_option("--budget", a->budget,
                    L("今回の時間の上限 (秒、既定は設定の [scrub] budget_seconds)",
                      "time budget of this run in seconds (default [scrub] budget_seconds)"));
  scrub->add_flag("--all", a->all, L("予算に関係なくすべてを検査", "check everything, whatever the budget"));
  scrub->add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));
  scrub->callback([&ctx, exit_code, a] { *exit_code = Scrub(ctx, a->budget, a->all); });
}

}  // namespace kura::vault_cli
