// kura-vault status [--json]: one row per site for the vendor watching hundreds of them
// (issue 7 §4; docs/vault-cli.md): its state by the precedence of docs/retention.md §5,
// the last success, bytes stored, the tenant's quota and the open alarms.
#include <algorithm>
#include <map>

#include "cli_common/format.h"
#include "util/i18n.h"
#include "vault/alarm_tick.h"
#include "vault_cli/commands.h"
#include "vault_cli/exit_codes.h"

namespace kura::vault_cli {

using nlohmann::json;

namespace {

std::string Utc(std::optional<int64_t> ms) {
  return ms ? FormatUtc(*ms / 1000) : std::string();
}

struct SiteRow {
  std::string tenant, site;
  int64_t tenant_id = 0, site_id = 0;
  vault::SiteState state = vault::SiteState::kOk;
  int64_t since_ms = 0;
  std::string summary;
  std::optional<int64_t> last_success_ms;
  bool overdue = false;
  uint64_t bytes = 0;
  json repositories = json::array();
  json alarms = json::array();
};

}  // namespace

static int ShowStatus(Context& ctx) {
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  vault::Catalog& cat = *v->catalog;
  int64_t now_ms = ctx.clock->NowUnixMillis();
  auto tenants = cat.ListTenants();
  if (!tenants.ok()) return Fail(ctx, tenants.status());
  auto facts = cat.ListRepositoryFacts();
  if (!facts.ok()) return Fail(ctx, facts.status());
  auto alarms = cat.ListOpenAlarms();
  if (!alarms.ok()) return Fail(ctx, alarms.status());
  auto guard = cat.GetClockGuard();
  if (!guard.ok()) return Fail(ctx, guard.status());
  vault::AuditEvent event{ConsoleActor(), "status.show", "sites", std::string(vault::kAuditSuccess),
                          fmt::format("repositories={}", facts->size())};
  auto rec = cat.Audit(event);  // no listing without its record
  if (!rec.ok()) return Fail(ctx, rec.status());

  Language lang = CurrentLanguage();
  std::vector<SiteRow> rows;
  std::map<int64_t, size_t> row_of_site;
  std::map<int64_t, vault::Catalog::Capacity> capacity;
  std::map<int64_t, vault::Catalog::TenantPolicy> policies;
  for (const vault::Tenant& t : *tenants) {
    auto cap = cat.TenantCapacity(t.id);
    if (!cap.ok()) return Fail(ctx, cap.status());
    capacity[t.id] = *cap;
    auto pol = cat.GetTenantPolicy(t.id);
    if (!pol.ok()) return Fail(ctx, pol.status());
    policies[t.id] = *pol;
    auto sites = cat.ListSites(t.id);
    if (!sites.ok()) return Fail(ctx, sites.status());
    for (const vault::Site& s : *sites) {
      row_of_site[s.id] = rows.size();
      SiteRow row;
      row.tenant = t.name;
      row.site = s.name;
      row.tenant_id = t.id;
      row.site_id = s.id;
      row.summary = L("リポジトリはまだありません (登録待ち)", "no repository yet (not enrolled)");
      rows.push_back(std::move(row));
    }
  }
  std::map<int64_t, bool> seen;
  for (const vault::Catalog::RepositoryFacts& f : *facts) {
    auto it = row_of_site.find(f.site_id);
    if (it == row_of_site.end()) continue;
    SiteRow& row = rows[it->second];
    const vault::FixedZone& zone = policies[f.tenant_id].retention.zone;
    vault::SiteStatus st = vault::EvaluateSite(f.facts, f.policy, now_ms);
    std::string summary = vault::SiteSummary(st, f.facts, f.policy, zone, lang);
    if (!seen[f.site_id] || vault::SiteStatePrecedence(st.state) < vault::SiteStatePrecedence(row.state)) {
      row.state = st.state;
      row.since_ms = st.since_ms;
      row.summary = f.job + ": " + summary;
    }
    seen[f.site_id] = true;
    for (const vault::SiteCondition& c : st.conditions)
      row.overdue = row.overdue || c.state == vault::SiteState::kOverdue;
    if (f.facts.last_success_ms &&
        (!row.last_success_ms || *f.facts.last_success_ms > *row.last_success_ms)) {
      row.last_success_ms = f.facts.last_success_ms;
    }
    row.bytes += f.stored_bytes;
    row.repositories.push_back({{"job", f.job},
                                {"repository", f.repo_id},
                                {"state", vault::SiteStateName(st.state)},
                                {"since", Utc(st.since_ms)},
                                {"summary", summary},
                                {"last_arrival", Utc(f.facts.last_arrival_ms)},
                                {"next_deadline", Utc(st.next_deadline_ms)},
                                {"overdue_grace_hours", f.policy.grace_ms / vault::kMillisPerHour},
                                {"overdue_grace_from", f.grace_from},
                                {"bytes", f.stored_bytes}});
  }
  json vault_alarms = json::array();
  for (const vault::Catalog::Alarm& a : *alarms) {
    json j{
        {"kind", a.key.kind}, {"raised", Utc(a.raised_at_ms)}, {"detail", vault::LocalText(a.detail, lang)}};
    auto it = row_of_site.find(a.key.site_id);
    if (it != row_of_site.end()) {
      rows[it->second].alarms.push_back(j);
    } else if (a.key.tenant_id != 0) {
      for (SiteRow& row : rows) {
        if (row.tenant_id == a.key.tenant_id) row.alarms.push_back(j);
      }
    } else {
      vault_alarms.push_back(j);
    }
  }
  std::string clock_line = vault::DescribeClockGuard(*guard, vault::FixedZone::Tokyo(), lang);

  if (ctx.opts.json) {
    json sites = json::array();
    for (const SiteRow& r : rows) {
      const vault::Catalog::Capacity& c = capacity[r.tenant_id];
      sites.push_back(
          {{"tenant", r.tenant},
           {"site", r.site},
           {"state", vault::SiteStateName(r.state)},
           {"since", r.since_ms ? Utc(r.since_ms) : ""},
           {"summary", r.summary},
           {"last_success", Utc(r.last_success_ms)},
           {"overdue", r.overdue},
           {"bytes", r.bytes},
           {"quota", {{"used", c.used}, {"soft", c.soft}, {"hard", c.hard}, {"remaining", c.Remaining()}}},
           {"alarms", r.alarms},
           {"repositories", r.repositories}});
    }
    PrintJson({{"ok", true},
               {"clock", {{"frozen", guard->frozen}, {"detail", clock_line}}},
               {"alarms", vault_alarms},
               {"sites", sites}});
    return kExitOk;
  }
  if (guard->frozen) PrintWarning(clock_line);
  if (rows.empty()) {
    PrintLine(L("サイトはまだありません (kura-vault site add TENANT SITE で追加)",
                "no sites yet (kura-vault site add TENANT SITE)"));
    return kExitOk;
  }
  using cli_common::PadRight;
  PrintLine(PadRight(L("テナント", "tenant"), 16) + "  " + PadRight(L("サイト", "site"), 16) + "  " +
            PadRight(L("状態", "state"), 10) + "  " + PadRight(L("最終成功", "last success"), 20) + "  " +
            PadRight(L("容量", "stored"), 10) + "  " + PadRight(L("割当", "quota"), 10) + "  " +
            L("警報", "alarms"));
  for (const SiteRow& r : rows) {
    const vault::Catalog::Capacity& c = capacity[r.tenant_id];
    std::string quota = c.hard ? cli_common::FormatBytes(c.hard) : L("なし", "none");
    std::vector<std::string> kinds;
    for (const json& a : r.alarms) kinds.push_back(a["kind"].get<std::string>());
    PrintLine(PadRight(r.tenant, 16) + "  " + PadRight(r.site, 16) + "  " +
              PadRight(vault::SiteStateLabel(r.state, lang), 10) + "  " +
              PadRight(r.last_success_ms ? vault::FormatLocalMinute(*r.last_success_ms,
                                                                    policies[r.tenant_id].retention.zone)
                                         : "-",
                       20) +
              "  " + PadRight(cli_common::FormatBytes(r.bytes), 10) + "  " + PadRight(quota, 10) + "  " +
              (kinds.empty() ? "-" : fmt::format("{}", fmt::join(kinds, ","))));
    PrintLine("    " + r.summary);
  }
  return kExitOk;
}

void AddStatusCommand(CLI::App& app, Context& ctx, int* exit_code) {
  auto* cmd =
      app.add_subcommand("status", L("全サイトの状態 (最終成功・期限超過・容量・割当・警報)",
                                     "every site's state (last success, overdue, bytes, quota, alarms)"));
  cmd->add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));
  cmd->callback([&ctx, exit_code] { *exit_code = ShowStatus(ctx); });
}

}  // namespace kura::vault_cli
