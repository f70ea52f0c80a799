// kura-vault site add|list|enroll and tenant set-recovery-key (docs/vault-cli.md).
#include <cctype>

#include "net/tls.h"
#include "util/fs.h"
#include "util/hex.h"
#include "util/i18n.h"
#include "vault/tokens.h"
#include "vault_cli/commands.h"
#include "vault_cli/exit_codes.h"

namespace kura::vault_cli {

using nlohmann::json;

static json SiteJson(const vault::Site& s) {
  return json{{"id", s.id},
              {"tenant_id", s.tenant_id},
              {"name", s.name},
              {"created", FormatUtc(s.created_at)},
              {"overdue_grace_hours", s.overdue_grace_hours ? json(*s.overdue_grace_hours) : json(nullptr)}};
}

static int AddSite(Context& ctx, const std::string& tenant_name, const std::string& name) {
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  auto tenant = v->catalog->FindTenant(tenant_name);
  if (!tenant.ok()) return Fail(ctx, tenant.status());
  auto site = v->catalog->AddSite(tenant->id, name, ConsoleActor());
  if (!site.ok()) return Fail(ctx, site.status());
  if (ctx.opts.json) {
    PrintJson({{"ok", true}, {"site", SiteJson(*site)}});
  } else {
    PrintLine(Tr(
        "テナント \"{1}\" にサイト \"{0}\" を追加しました (ID {2})。kura-vault site enroll "
        "で登録コードを発行できます",
        "Added site \"{0}\" to tenant \"{1}\" (ID {2}); issue its enrolment code with kura-vault site enroll",
        site->name, tenant->name, site->id));
  }
  return kExitOk;
}

static int ListSites(Context& ctx, const std::string& tenant_name) {
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  auto tenant = v->catalog->FindTenant(tenant_name);
  if (!tenant.ok()) return Fail(ctx, tenant.status());
  auto sites = v->catalog->ListSites(tenant->id);
  vault::AuditEvent event{ConsoleActor(), "site.list", "tenant:" + std::to_string(tenant->id),
                          std::string(vault::kAuditSuccess), ""};
  if (!sites.ok()) {
    event.result = vault::kAuditFailure;
    event.detail = sites.status().ToString();
    (void)v->catalog->Audit(event);
    return Fail(ctx, sites.status());
  }
  event.detail = fmt::format("count={}", sites->size());
  auto rec = v->catalog->Audit(event);  // no listing without its record
  if (!rec.ok()) return Fail(ctx, rec.status());
  if (ctx.opts.json) {
    json list = json::array();
    for (const vault::Site& s : *sites) list.push_back(SiteJson(s));
    PrintJson({{"ok", true}, {"tenant", tenant->name}, {"sites", list}});
    return kExitOk;
  }
  if (sites->empty()) {
    PrintLine(L("サイトはまだありません (kura-vault site add TENANT SITE で追加)",
                "no sites yet (kura-vault site add TENANT SITE)"));
    return kExitOk;
  }
  PrintLine(fmt::format("{:>6}  {:<20}  {}", "ID", L("作成日時", "created"), L("名前", "name")));
  for (const vault::Site& s : *sites)
    PrintLine(fmt::format("{:>6}  {:<20}  {}", s.id, FormatLocal(s.created_at), s.name));
  return kExitOk;
}

static int Enroll(Context& ctx, const std::string& tenant_name, const std::string& site_name,
                  int64_t ttl_hours) {
  if (ttl_hours <= 0 || ttl_hours > int64_t{24} * 30) {
    return Fail(
        ctx, Status::InvalidArgument(Tr("--ttl は 1〜720 時間にしてください", "--ttl must be 1-720 hours")));
  }
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  auto tenant = v->catalog->FindTenant(tenant_name);
  if (!tenant.ok()) return Fail(ctx, tenant.status());
  auto site = v->catalog->FindSite(tenant->id, site_name);
  if (!site.ok()) return Fail(ctx, site.status());
  auto fp = net::FingerprintOfPemFile(v->config.server.certificate);
  if (!fp.ok()) return Fail(ctx, fp.status());
  auto code = v->catalog->IssueEnrolment(site->id, ttl_hours * 3600, ConsoleActor());
  if (!code.ok()) return Fail(ctx, code.status());
  std::string text =
      vault::FormatEnrolmentCode(code->code, ToHex(ByteView(fp->bytes.data(), fp->bytes.size())));
  SecureZero(code->code.data(), code->code.size());
  if (tenant->recovery_public_key.empty()) {
    PrintWarning(
        Tr("テナント \"{}\" には復旧用の公開鍵がまだありません。登録の前に kura-vault tenant "
           "set-recovery-key で登録してください (ないと登録は拒否されます)",
           "tenant \"{}\" has no recovery public key yet; set one with kura-vault tenant set-recovery-key "
           "before the site enrols (it is refused otherwise)",
           tenant->name));
  }
  if (ctx.opts.json) {
    PrintJson({{"ok", true},
               {"tenant", tenant->name},
               {"site", site->name},
               {"site_id", site->id},
               {"code", text},
               {"expires", FormatUtc(code->expires_at)}});
  } else {
    PrintLine(
        Tr("サイト \"{}\" の登録コード (この一度だけ表示します。{} まで有効、1 回だけ使えます):\n\n  {}\n\n"
           "サイトで kura init --vault URL --enroll でこのコードを入力してください。",
           "Enrolment code of site \"{}\" (shown this once only; valid until {}, usable once):\n\n  {}\n\n"
           "Enter it at the site with kura init --vault URL --enroll.",
           site->name, FormatLocal(code->expires_at), text));
  }
  SecureZero(text.data(), text.size());
  return kExitOk;
}

static int SetRecoveryKey(Context& ctx, const std::string& tenant_name, const std::string& file) {
  auto text = ReadTextFile(file);
  if (!text.ok()) return Fail(ctx, text.status());
  std::string hex;
  for (char c : *text) {
    if (std::isspace(static_cast<unsigned char>(c)) == 0) {
      hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  std::optional<Bytes> key = FromHex(hex);
  if (hex.size() != 64 || !key) {
    return Fail(ctx, Status::InvalidArgument(
                         Tr("{} には X25519 の公開鍵 (32 バイト、16 進 64 桁) を 1 つだけ書いてください",
                            "{} must hold one X25519 public key: 32 bytes as 64 hex digits", file)));
  }
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  auto tenant = v->catalog->FindTenant(tenant_name);
  if (!tenant.ok()) return Fail(ctx, tenant.status());
  Status st = v->catalog->SetRecoveryKey(tenant->id, hex, ConsoleActor());
  if (!st.ok()) return Fail(ctx, st);
  if (ctx.opts.json) {
    PrintJson({{"ok", true}, {"tenant", tenant->name}, {"recovery_public_key", hex}});
  } else {
    PrintLine(Tr("テナント \"{}\" の復旧用の公開鍵を登録しました: {}",
                 "Set the recovery public key of tenant \"{}\": {}", tenant->name, hex));
    if (!tenant->recovery_public_key.empty() && tenant->recovery_public_key != hex) {
      PrintWarning(
          L("以前の鍵と異なります。既存のリポジトリには新しい鍵のスロットが必要です "
            "(ないとスナップショットは拒否されます)",
            "it differs from the previous key; existing repositories need a slot for the new key (their "
            "snapshots are refused otherwise)"));
    }
  }
  return kExitOk;
}

void AddSiteCommands(CLI::App& app, Context& ctx, int* exit_code) {
  auto* site = app.add_subcommand("site", L("サイト (テナントの拠点) と登録コードの管理",
                                            "manage sites (a tenant's locations) and their enrolment codes"));
  site->require_subcommand(1);
  auto tenant = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto ttl = std::make_shared<int64_t>(72);
  auto* add = site->add_subcommand("add", L("サイトを追加", "add a site"));
  add->add_option("TENANT", *tenant, L("テナント名", "tenant name"))->required();
  add->add_option("SITE", *name, L("サイト名", "site name"))->required();
  add->add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));
  add->callback([&ctx, exit_code, tenant, name] { *exit_code = AddSite(ctx, *tenant, *name); });
  auto* list = site->add_subcommand("list", L("テナントのサイトの一覧", "list a tenant's sites"));
  list->add_option("TENANT", *tenant, L("テナント名", "tenant name"))->required();
  list->add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));
  list->callback([&ctx, exit_code, tenant] { *exit_code = ListSites(ctx, *tenant); });
  auto* enroll = site->add_subcommand(
      "enroll", L("サイトの登録コードを発行 (1 回だけ表示)", "issue a site's enrolment code (shown once)"));
  enroll->add_option("TENANT", *tenant, L("テナント名", "tenant name"))->required();
  enroll->add_option("SITE", *name, L("サイト名", "site name"))->required();
  enroll->add_option("--ttl", *ttl, L("有効期間 (時間、既定 72)", "validity in hours (default 72)"));
  enroll->add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));
  enroll->callback([&ctx, exit_code, tenant, name, ttl] { *exit_code = Enroll(ctx, *tenant, *name, *ttl); });

  // tenant set-recovery-key joins the tenant group made by AddTenantCommands.
  CLI::App* tenant_cmd = app.get_subcommand_ptr("tenant").get();
  if (tenant_cmd == nullptr) return;
  auto file = std::make_shared<std::string>();
  auto* set_key = tenant_cmd->add_subcommand(
      "set-recovery-key",
      L("テナントの復旧用の公開鍵 (X25519) を登録", "set the tenant's recovery public key (X25519)"));
  set_key->add_option("TENANT", *tenant, L("テナント名", "tenant name"))->required();
  set_key
      ->add_option("--public-key-file", *file,
                   L("公開鍵 (16 進 64 桁) を書いたファイル", "file holding the public key (64 hex digits)"))
      ->required();
  set_key->add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));
  set_key->callback([&ctx, exit_code, tenant, file] { *exit_code = SetRecoveryKey(ctx, *tenant, *file); });
}

}  // namespace kura::vault_cli
