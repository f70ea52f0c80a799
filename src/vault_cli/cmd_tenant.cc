// kura-vault tenant add|list|set-quota|set-retention.
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>

#include "util/i18n.h"
#include "vault_cli/commands.h"
#include "vault_cli/exit_codes.h"

namespace kura::vault_cli {

using nlohmann::json;

static json TenantJson(const vault::Tenant& t) {
  return json{{"id", t.id}, {"name", t.name}, {"created", FormatUtc(t.created_at)}};
}

static int Add(Context& ctx, const std::string& name) {
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  auto t = v->catalog->AddTenant(name, ConsoleActor());
  if (!t.ok()) return Fail(ctx, t.status());
  if (ctx.opts.json) {
    PrintJson({{"ok", true}, {"tenant", TenantJson(*t)}});
  } else {
    PrintLine(Tr("テナント \"{}\" を追加しました (ID {})", "Added tenant \"{}\" (ID {})", t->name, t->id));
  }
  return kExitOk;
}

static int List(Context& ctx) {
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  auto tenants = v->catalog->ListTenants();
  vault::AuditEvent event{ConsoleActor(), "tenant.list", "tenants", std::string(vault::kAuditSuccess), ""};
  if (!tenants.ok()) {
    event.result = vault::kAuditFailure;
    event.detail = tenants.status().ToString();
    (void)v->catalog->Audit(event);
    return Fail(ctx, tenants.status());
  }
  event.detail = fmt::format("count={}", tenants->size());
  // No listing without its audit record.
  auto rec = v->catalog->Audit(event);
  if (!rec.ok()) return Fail(ctx, rec.status());
  if (ctx.opts.json) {
    json list = json::array();
    for (const vault::Tenant& t : *tenants) list.push_back(TenantJson(t));
    PrintJson({{"ok", true}, {"tenants", list}});
    return kExitOk;
  }
  if (tenants->empty()) {
    PrintLine(L("テナントはまだありません (kura-vault tenant add NAME で追加)",
                "no tenants yet (kura-vault tenant add NAME)"));
    return kExitOk;
  }
  PrintLine(fmt::format("{:>6}  {:<20}  {}", "ID", L("作成日時", "created"), L("名前", "name")));
  for (const vault::Tenant& t : *tenants) {
    PrintLine(fmt::format("{:>6}  {:<20}  {}", t.id, FormatLocal(t.created_at), t.name));
  }
  return kExitOk;
}

// "500G", "1.5TiB", "800MB", "0" (none), plain bytes: K, M, G, T, P are powers of 1024 with
// or without "iB"/"B" (a quota is storage, and people give round binary figures).
static std::optional<uint64_t> ParseSize(std::string text) {
  if (text.empty()) return std::nullopt;
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + i, value);
  if (ec != std::errc() || end != text.data() + i) return std::nullopt;
  std::string unit = text.substr(i);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.size() > 1 && (unit.ends_with("IB") || unit.ends_with("B"))) unit = unit.substr(0, 1);
  static const std::string kUnits = "BKMGTP";
  size_t power = unit.empty() ? 0 : kUnits.find(unit);
  if (power == std::string::npos || unit.size() > 1) return std::nullopt;
  double bytes = value * std::pow(1024.0, static_cast<double>(power));
  if (!std::isfinite(bytes) || bytes < 0 || bytes > 4.6e18) return std::nullopt;
  return static_cast<uint64_t>(std::llround(bytes));
}

static int SetQuota(Context& ctx, const std::string& name, const std::string& soft_text,
                    const std::string& hard_text) {
  std::optional<uint64_t> soft = ParseSize(soft_text), hard = ParseSize(hard_text);
  if (!soft || !hard) {
    return Fail(
        ctx, Status::InvalidArgument(Tr("容量は 500G・1.5TiB・800M のように指定してください (0 は設定なし)",
                                        "give sizes like 500G, 1.5TiB or 800M (0 is none)")));
  }
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  auto t = v->catalog->FindTenant(name);
  if (!t.ok()) return Fail(ctx, t.status());
  Status st = v->catalog->SetTenantQuota(t->id, *soft, *hard, ConsoleActor());
  if (!st.ok()) return Fail(ctx, st);
  if (ctx.opts.json) {
    PrintJson({{"ok", true}, {"tenant", t->name}, {"soft", *soft}, {"hard", *hard}});
  } else {
    PrintLine(Tr("テナント \"{}\" の容量: 警告 {} バイト、上限 {} バイト (0 は設定なし)",
                 "quota of tenant \"{}\": soft {} bytes, hard {} bytes (0 is none)", t->name, *soft, *hard));
  }
  return kExitOk;
}

static int SetRetention(Context& ctx, const std::string& name, int daily, int monthly, int manual) {
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  auto t = v->catalog->FindTenant(name);
  if (!t.ok()) return Fail(ctx, t.status());
  Status st = v->catalog->SetTenantRetention(t->id, daily, monthly, manual, ConsoleActor());
  if (!st.ok()) return Fail(ctx, st);
  if (ctx.opts.json) {
    PrintJson(
        {{"ok", true}, {"tenant", t->name}, {"daily", daily}, {"monthly", monthly}, {"manual", manual}});
  } else {
    PrintLine(Tr("テナント \"{}\" の保持規則: 日次 {} 日・月次 {} か月・手動 {} 件",
                 "retention of tenant \"{}\": daily {} days, monthly {} months, manual {} latest", t->name,
                 daily, monthly, manual));
  }
  return kExitOk;
}

void AddTenantCommands(CLI::App& app, Context& ctx, int* exit_code) {
  auto* tenant = app.add_subcommand("tenant", L("テナント (医療機関・介護事業所・顧客) の管理",
                                                "manage tenants (clinics, care offices, customers)"));
  tenant->require_subcommand(1);
  auto name = std::make_shared<std::string>();
  auto* add = tenant->add_subcommand("add", L("テナントを追加", "add a tenant"));
  add->add_option("NAME", *name, L("テナント名", "tenant name"))->required();
  add->callback([&ctx, exit_code, name] { *exit_code = Add(ctx, *name); });
  auto* list = tenant->add_subcommand("list", L("テナントの一覧", "list the tenants"));
  list->add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));
  list->callback([&ctx, exit_code] { *exit_code = List(ctx); });

  auto soft = std::make_shared<std::string>();
  auto hard = std::make_shared<std::string>();
  auto* quota = tenant->add_subcommand(
      "set-quota", L("テナントの容量の警告値と上限", "set a tenant's soft and hard quota"));
  quota->add_option("TENANT", *name, L("テナント名", "tenant name"))->required();
  quota->add_option("--soft", *soft, L("警告値 (例 400G、0 は設定なし)", "soft quota (e.g. 400G; 0 is none)"))
      ->required();
  quota->add_option("--hard", *hard, L("上限 (例 500G、0 は設定なし)", "hard quota (e.g. 500G; 0 is none)"))
      ->required();
  quota->add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));
  quota->callback([&ctx, exit_code, name, soft, hard] { *exit_code = SetQuota(ctx, *name, *soft, *hard); });

  auto counts = std::make_shared<std::array<int, 3>>(std::array<int, 3>{3, 1, 1});
  auto* retention = tenant->add_subcommand(
      "set-retention",
      L("テナントの保持規則 (既定 日次 3・月次 1・手動 1)", "set a tenant's retention (default 3/1/1)"));
  retention->add_option("TENANT", *name, L("テナント名", "tenant name"))->required();
  retention->add_option("--daily", (*counts)[0], L("日次: 直近の日数", "daily: newest days"))->required();
  retention->add_option("--monthly", (*counts)[1], L("月次: 直近の月数", "monthly: newest months"))
      ->required();
  retention->add_option("--manual", (*counts)[2], L("手動: 直近の件数", "manual: newest"))->required();
  retention->add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));
  retention->callback([&ctx, exit_code, name, counts] {
    *exit_code = SetRetention(ctx, *name, (*counts)[0], (*counts)[1], (*counts)[2]);
  });
}

}  // namespace kura::vault_cli
