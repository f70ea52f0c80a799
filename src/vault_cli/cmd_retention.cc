// kura-vault retention show and clock acknowledge (docs/vault-cli.md, docs/retention.md).
#include "util/i18n.h"
#include "vault/alarm_tick.h"
#include "vault_cli/commands.h"
#include "vault_cli/exit_codes.h"

namespace kura::vault_cli {

using nlohmann::json;

static void PrintLines(const std::string& text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    PrintLine(text.substr(start, nl - start));
    start = nl + 1;
  }
}

static int Show(Context& ctx, const std::string& tenant_name, const std::string& site_name,
                const std::string& job) {
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  vault::Catalog& cat = *v->catalog;
  auto tenant = cat.FindTenant(tenant_name);
  if (!tenant.ok()) return Fail(ctx, tenant.status());
  auto site = cat.FindSite(tenant->id, site_name);
  if (!site.ok()) return Fail(ctx, site.status());
  auto repos = cat.ListRepositories(site->id);
  if (!repos.ok()) return Fail(ctx, repos.status());
  auto policy = cat.GetTenantPolicy(tenant->id);
  if (!policy.ok()) return Fail(ctx, policy.status());
  auto rec = cat.Audit({ConsoleActor(), "retention.show", "site:" + std::to_string(site->id),
                        std::string(vault::kAuditSuccess), job.empty() ? "" : "job=" + job});
  if (!rec.ok()) return Fail(ctx, rec.status());
  json out = json::array();
  size_t shown = 0;
  for (const vault::RepositoryRecord& r : *repos) {
    if (!job.empty() && r.job != job) continue;
    auto plan = cat.PlanRetention(r.id);
    if (!plan.ok()) return Fail(ctx, plan.status());
    ++shown;
    if (ctx.opts.json) {
      json decisions = json::array();
      for (const vault::GenerationDecision& d : plan->decisions) {
        decisions.push_back({{"snapshot", d.id},
                             {"kind", KindName(d.kind)},
                             {"received", FormatUtc(d.received_ms / 1000)},
                             {"state", vault::GenerationStateName(d.state)},
                             {"keep", d.keep},
                             {"reason", vault::RetentionReasonCode(d.reason)},
                             {"last_known_good", d.last_known_good},
                             {"held_back", d.held_back},
                             {"bucket", d.bucket},
                             {"rank", d.rank},
                             {"why", vault::DescribeDecision(d, policy->retention, CurrentLanguage())}});
      }
      out.push_back({{"job", r.job},
                     {"on_hold", plan->guards.on_hold},
                     {"clock_frozen", plan->guards.clock_frozen},
                     {"evict_count", plan->evict_count},
                     {"held_back_count", plan->held_back_count},
                     {"decisions", decisions}});
    } else {
      PrintLine(Tr("ジョブ {}:", "job {}:", r.job));
      PrintLines(vault::FormatRetentionPlan(*plan, policy->retention, CurrentLanguage()));
    }
  }
  if (shown == 0) {
    return Fail(ctx, Status::NotFound(
                         job.empty() ? Tr("サイト \"{}\" にはまだリポジトリがありません",
                                          "site \"{}\" has no repository yet", site_name)
                                     : Tr("サイト \"{}\" にジョブ \"{}\" のリポジトリはありません",
                                          "site \"{}\" has no repository for job \"{}\"", site_name, job)));
  }
  if (ctx.opts.json)
    PrintJson({{"ok", true}, {"tenant", tenant->name}, {"site", site->name}, {"repositories", out}});
  return kExitOk;
}

static int AcknowledgeClock(Context& ctx) {
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  auto before = v->catalog->GetClockGuard();
  if (!before.ok()) return Fail(ctx, before.status());
  Status st = v->catalog->AcknowledgeClockJump(ConsoleActor());
  if (!st.ok()) return Fail(ctx, st);
  if (ctx.opts.json) {
    PrintJson({{"ok", true}, {"was_frozen", before->frozen}});
  } else if (before->frozen) {
    PrintLine(L("時計の異常を確認済みにしました。保持規則と削除を再開します",
                "the clock jump is acknowledged; retention and deletion resume"));
  } else {
    PrintLine(L("時計は凍結されていませんでした", "the clock guard was not frozen"));
  }
  return kExitOk;
}

void AddRetentionCommands(CLI::App& app, Context& ctx, int* exit_code) {
  auto* retention = app.add_subcommand("retention", L("保持規則", "retention"));
  retention->require_subcommand(1);
  auto tenant = std::make_shared<std::string>();
  auto site = std::make_shared<std::string>();
  auto job = std::make_shared<std::string>();
  auto* show =
      retention->add_subcommand("show", L("何を保持し、なぜか (削除予定も)", "what is kept and why"));
  show->add_option("TENANT", *tenant, L("テナント名", "tenant name"))->required();
  show->add_option("SITE", *site, L("サイト名", "site name"))->required();
  show->add_option("--job", *job, L("このジョブのリポジトリだけ", "only this job's repository"));
  show->add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));
  show->callback([&ctx, exit_code, tenant, site, job] { *exit_code = Show(ctx, *tenant, *site, *job); });

  auto* clock = app.add_subcommand("clock", L("保管庫の時計の監視", "the vault's clock guard"));
  clock->require_subcommand(1);
  auto* ack =
      clock->add_subcommand("acknowledge", L("時計の異常を確認済みにし、保持規則と削除の凍結を解く",
                                             "acknowledge a clock jump and unfreeze retention and deletion"));
  ack->add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));
  ack->callback([&ctx, exit_code] { *exit_code = AcknowledgeClock(ctx); });
}

}  // namespace kura::vault_cli
