// kura-vault operator add|list|passwd (docs/vault-cli.md): the people who manage the vault.
// An operator (the vendor's staff) or a tenant admin (the site's administrator, who approves
// restore grants of the tenant's sites, seed 001 §6.5(2)②). A new account gets a one-time
// password shown once, which must be changed (`operator passwd`) before the account may do
// anything but that.
#include <cctype>

#include "util/i18n.h"
#include "util/secret_file.h"
#include "vault/password.h"
#include "vault_cli/commands.h"
#include "vault_cli/exit_codes.h"

namespace kura::vault_cli {

using nlohmann::json;

namespace {

struct AddArgs {
  std::string login;
  std::string tenant;  // set: a tenant admin of it
};

struct PasswdArgs {
  std::string login;
  std::string password_file;
  std::string new_password_file;
};

json AccountJson(const vault::OperatorAccount& a, const std::string& tenant) {
  return json{{"id", a.id},
              {"login", a.login},
              {"role", vault::OperatorRoleName(a.role)},
              {"tenant", tenant},
              {"must_change_password", a.must_change_password},
              {"disabled", a.disabled},
              {"created", FormatUtc(a.created_at)},
              {"last_login", a.last_login_at ? FormatUtc(*a.last_login_at) : ""}};
}

int Add(Context& ctx, const AddArgs& a) {
  std::string lower;
  for (char c : a.login) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "admin" || lower == "administrator" || lower == "root") {
    return Fail(ctx, Status::InvalidArgument(
                         Tr("{} は既定の管理者名なので使えません。担当者個人のログイン名にしてください",
                            "{} is a well-known default name; use the person's own login", a.login)));
  }
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  vault::NewOperator account;
  account.login = a.login;
  account.role = vault::OperatorRole::kOperator;
  if (!a.tenant.empty()) {
    auto t = v->catalog->FindTenant(a.tenant);
    if (!t.ok()) return Fail(ctx, t.status());
    account.role = vault::OperatorRole::kTenantAdmin;
    account.tenant_id = t->id;
  }
  account.must_change_password = true;
  std::string password = vault::RandomInitialPassword();
  auto added = v->catalog->AddOperator(account, password, ConsoleActor());
  if (!added.ok()) {
    SecureZero(password.data(), password.size());
    return Fail(ctx, added.status());
  }
  if (ctx.opts.json) {
    PrintJson({{"ok", true}, {"operator", AccountJson(*added, a.tenant)}, {"initial_password", password}});
  } else {
    PrintLine(
        Tr("{} \"{}\" を追加しました。初回パスワード (この一度だけ表示します):\n\n  {}\n\n"
           "安全な方法で本人に渡してください。本人が kura-vault operator passwd で変更するまで、"
           "このアカウントではほかの操作はできません。",
           "Added {} \"{}\". One-time password (shown this once only):\n\n  {}\n\n"
           "Hand it over safely. Until its owner changes it with kura-vault operator passwd, the "
           "account can do nothing else.",
           a.tenant.empty() ? L("オペレーター", "operator")
                            : Tr("テナント \"{}\" の管理者", "tenant admin of \"{}\"", a.tenant),
           added->login, password));
  }
  SecureZero(password.data(), password.size());
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    return Fail(ctx, Status::IOError(L("初回パスワードを表示できませんでした。アカウントを作り直してください",
                                       "could not print the initial password; create the account again")));
  }
  return kExitOk;
}

int List(Context& ctx) {
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  auto accounts = v->catalog->ListOperators();
  if (!accounts.ok()) return Fail(ctx, accounts.status());
  auto rec =
      v->catalog->Audit({ConsoleActor(), "operator.list", "operators", std::string(vault::kAuditSuccess),
                         fmt::format("count={}", accounts->size())});
  if (!rec.ok()) return Fail(ctx, rec.status());
  json out = json::array();
  for (const vault::OperatorAccount& a : *accounts) {
    std::string tenant;
    if (a.tenant_id) {
      auto t = v->catalog->GetTenant(*a.tenant_id);
      if (t.ok()) tenant = t->name;
    }
    if (ctx.opts.json) {
      out.push_back(AccountJson(a, tenant));
      continue;
    }
    PrintLine(fmt::format(
        "{}  {}{}{}{}", a.login,
        tenant.empty() ? L("オペレーター", "operator")
                       : Tr("テナント管理者 ({})", "tenant admin ({})", tenant),
        a.must_change_password ? L("  初回パスワードのまま", "  initial password not changed") : "",
        a.disabled ? L("  無効", "  disabled") : "",
        a.last_login_at ? Tr("  最終ログイン {}", "  last login {}", FormatUtc(*a.last_login_at)) : ""));
  }
  if (ctx.opts.json) PrintJson({{"ok", true}, {"operators", out}});
  return kExitOk;
}

int Passwd(Context& ctx, const PasswdArgs& a) {
  WarnIfReadableByOthers(a.password_file, "パスワードファイル", "password file");
  WarnIfReadableByOthers(a.new_password_file, "パスワードファイル", "password file");
  auto current = ReadPasswordFile(a.password_file);
  if (!current.ok()) return Fail(ctx, current.status());
  auto replacement = ReadPasswordFile(a.new_password_file);
  if (!replacement.ok()) {
    SecureZero(current->data(), current->size());
    return Fail(ctx, replacement.status());
  }
  auto v = Open(ctx);
  Status st = v.ok() ? v->catalog->ChangeOperatorPassword(a.login, *current, *replacement, ConsoleActor())
                     : v.status();
  SecureZero(current->data(), current->size());
  SecureZero(replacement->data(), replacement->size());
  if (!st.ok()) return Fail(ctx, st);
  if (ctx.opts.json) {
    PrintJson({{"ok", true}, {"login", a.login}});
  } else {
    PrintLine(Tr("\"{}\" のパスワードを変更しました", "changed the password of \"{}\"", a.login));
  }
  return kExitOk;
}

}  // namespace

void AddOperatorCommands(CLI::App& app, Context& ctx, int* exit_code) {
  auto* op = app.add_subcommand(
      "operator", L("オペレーターとテナント管理者のアカウント", "operator and tenant admin accounts"));
  op->require_subcommand(1);

  auto add_args = std::make_shared<AddArgs>();
  auto* add = op->add_subcommand("add", L("アカウントを追加 (初回パスワードを一度だけ表示)",
                                          "add an account (its one-time password is shown once)"));
  add->add_option("LOGIN", add_args->login, L("ログイン名 (例: yamada.hanako)", "login (e.g. yamada.hanako)"))
      ->required();
  add->add_option(
      "--tenant-admin", add_args->tenant,
      L("このテナントの管理者にする (復元許可の承認者。省略時は販売元のオペレーター)",
        "make it an admin of this tenant (who approves restore grants; default: a vendor operator)"));
  add->callback([&ctx, exit_code, add_args] { *exit_code = Add(ctx, *add_args); });

  auto* list = op->add_subcommand("list", L("アカウントの一覧", "list the accounts"));
  list->callback([&ctx, exit_code] { *exit_code = List(ctx); });

  auto pw = std::make_shared<PasswdArgs>();
  auto* passwd =
      op->add_subcommand("passwd", L("パスワードを変更 (初回パスワードは最初にこれで変更)",
                                     "change a password (do this first with a one-time password)"));
  passwd->add_option("LOGIN", pw->login, L("ログイン名", "login"))->required();
  passwd
      ->add_option("--password-file", pw->password_file,
                   L("今のパスワードのファイル (0600)", "file with the current password (0600)"))
      ->required();
  passwd
      ->add_option("--new-password-file", pw->new_password_file,
                   L("新しいパスワードのファイル (0600)", "file with the new password (0600)"))
      ->required();
  passwd->callback([&ctx, exit_code, pw] { *exit_code = Passwd(ctx, *pw); });
}

}  // namespace kura::vault_cli
