// kura-vault tenant add|list.
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
}

}  // namespace kura::vault_cli
