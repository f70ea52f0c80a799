// kura-vault init: a new data directory with vault.toml, the catalog and the first
// operator account, whose one-time password is printed once and stored only as a hash.
#include <dirent.h>
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "util/fs.h"
#include "util/i18n.h"
#include "vault/password.h"
#include "vault_cli/commands.h"
#include "vault_cli/exit_codes.h"
#include "vault_cli/server_setup.h"

namespace kura::vault_cli {

// The data directory must be new or empty: init never adopts someone else's files.
static Status PrepareDataDir(const std::string& dir) {
  if (PathExists(dir + "/" + vault::kVaultConfigName)) {
    return Status::AlreadyExists(
        Tr("{} にはすでに kura-vault のデータがあります。init は既存のデータを上書きしません",
           "{} already holds kura-vault data; init never overwrites it", dir));
  }
  if (PathExists(dir + "/catalog.db")) {
    // vault.toml is written last: without it, an earlier init stopped halfway.
    return Status::AlreadyExists(
        Tr("{} には途中で止まった init の跡があります ({} がありません)。"
           "中身を確認して削除してから、もう一度 init してください",
           "{} holds what an interrupted init left ({} is missing); check it, remove "
           "it and run init again",
           dir, vault::kVaultConfigName));
  }
  KURA_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  DIR* d = ::opendir(dir.c_str());
  if (!d) return ErrnoStatus(errno, L("開く", "open"), dir);
  bool empty = true;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") empty = false;
  }
  ::closedir(d);
  if (!empty) {
    return Status::InvalidArgument(Tr("{} は空ではありません。空のディレクトリか新しいパスを指定してください",
                                      "{} is not empty; give an empty directory or a new path", dir));
  }
  // An existing empty directory may have been made with a looser mode.
  if (::chmod(dir.c_str(), 0700) != 0) return ErrnoStatus(errno, L("権限の変更", "chmod"), dir);
  return Status::Ok();
}

static Result<std::string> AbsolutePath(const std::string& path) {
  char* real = ::realpath(path.c_str(), nullptr);
  if (!real) return ErrnoStatus(errno, L("パスの解決", "resolve"), path);
  std::string out = real;
  std::free(real);
  return out;
}

struct InitTlsOptions {
  std::vector<std::string> sans;
  std::string cert;
  std::string key;
};

static int Init(Context& ctx, const std::string& login, const InitTlsOptions& tls_opts) {
  vault::AuditActor actor = ConsoleActor();
  std::string given = DataDir(ctx);
  Status st = PrepareDataDir(given);
  if (!st.ok()) return Fail(ctx, st);
  auto dir = AbsolutePath(given);
  if (!dir.ok()) return Fail(ctx, dir.status());
  auto config = vault::ParseVaultConfig(vault::DefaultVaultToml(), "vault.toml", *dir);
  if (!config.ok()) return Fail(ctx, config.status());
  st = MakeDirs(config->objects_dir, 0700);
  if (!st.ok()) return Fail(ctx, st);
  auto tls = SetUpTls(*dir, tls_opts.sans, tls_opts.cert, tls_opts.key, ctx.clock->NowUnix());
  if (!tls.ok()) return Fail(ctx, tls.status());
  vault::CatalogOptions options;
  options.create = true;
  options.password_cost = PasswordCost();
  auto catalog = vault::Catalog::Open(config->catalog_path, *ctx.clock, options);
  if (!catalog.ok()) return Fail(ctx, catalog.status());
  auto rec = (*catalog)->Audit(
      {actor, "vault.init", "vault:" + *dir, std::string(vault::kAuditSuccess),
       fmt::format("schema={} config_version={} certificate={}", (*catalog)->schema_version(),
                   vault::kVaultConfigVersion, tls->fingerprint.ToString())});
  if (!rec.ok()) return Fail(ctx, rec.status());
  std::string password = vault::RandomInitialPassword();
  vault::NewOperator first;
  first.login = login;
  first.role = vault::OperatorRole::kOperator;
  first.must_change_password = true;
  auto account = (*catalog)->AddOperator(first, password, actor);
  if (!account.ok()) {
    SecureZero(password.data(), password.size());
    return Fail(ctx, account.status());
  }
  // vault.toml last: its presence marks a finished init.
  std::string toml = vault::DefaultVaultToml(tls->certificate, tls->key);
  st = WriteFileAtomic(*dir + "/" + vault::kVaultConfigName, AsBytes(toml), 0600);
  if (!st.ok()) {
    SecureZero(password.data(), password.size());
    return Fail(ctx, st);
  }
  if (ctx.opts.json) {
    PrintJson(
        {{"ok", true},
         {"data_dir", *dir},
         {"catalog", config->catalog_path},
         {"schema_version", (*catalog)->schema_version()},
         {"certificate_fingerprint", tls->fingerprint.ToString()},
         {"operator", {{"login", account->login}, {"role", "operator"}, {"must_change_password", true}}},
         {"initial_password", password}});
  } else {
    PrintLine(
        Tr("kura-vault のデータディレクトリを作成しました: {}\n"
           "最初のオペレーター \"{}\" の初回パスワード (この一度だけ表示します):\n\n  {}\n\n"
           "初回ログイン時に変更が必要です。安全な方法で本人に渡し、この画面の記録は残さないでください。\n\n"
           "サーバー証明書の指紋 (サイトの登録コードに含まれます): {}",
           "Created the kura-vault data directory {}\n"
           "One-time password of the first operator \"{}\" (shown this once only):\n\n  {}\n\n"
           "It must be changed at the first login. Hand it over safely and keep no record of this screen.\n\n"
           "Server certificate fingerprint (every enrolment code carries it): {}",
           *dir, account->login, password, tls->fingerprint.ToString()));
  }
  SecureZero(password.data(), password.size());
  // The password exists nowhere else: if it could not be shown, say so.
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    return Fail(ctx, Status::IOError(
                         Tr("初回パスワードを表示できませんでした。{} を削除して init をやり直してください",
                            "could not print the initial password; remove {} and run init again", *dir)));
  }
  return kExitOk;
}

void AddInitCommand(CLI::App& app, Context& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand("init", L("データディレクトリ、設定、カタログと最初のオペレーターを作成",
                                           "create the data directory, config, catalog and first operator"));
  // No default account name (G-AUTH-02): the installer names the first operator, and the
  // well-known names an attacker tries first are refused.
  auto login = std::make_shared<std::string>();
  cmd->add_option("--operator", *login,
                  L("最初のオペレーターのログイン名 (必須。admin・administrator・root は使えません)",
                    "login of the first operator (required; admin, administrator and root are refused)"))
      ->required();
  auto tls = std::make_shared<InitTlsOptions>();
  cmd->add_option(
      "--san", tls->sans,
      L("自己署名証明書に加える名前または IP アドレス (繰り返し可。ホスト名、127.0.0.1、::1 は常に入ります)",
        "a name or IP address to add to the self-signed certificate (repeatable; the host name, "
        "127.0.0.1 and ::1 are always in it)"));
  cmd->add_option("--tls-cert", tls->cert,
                  L("自己署名の代わりに使う証明書 (PEM、絶対パス)",
                    "a certificate to use instead of a self-signed one (PEM, absolute path)"));
  cmd->add_option("--tls-key", tls->key,
                  L("その秘密鍵 (PEM、0600、絶対パス)", "its private key (PEM, mode 0600, absolute path)"));
  cmd->callback([&ctx, exit_code, login, tls] {
    std::string lower;
    for (char c : *login) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "admin" || lower == "administrator" || lower == "root") {
      *exit_code = Fail(ctx, Status::InvalidArgument(Tr(
                                 "{} は既定の管理者名なので使えません。担当者個人のログイン名を --operator "
                                 "で指定してください (例: yamada.taro)",
                                 "{} is a well-known default name and cannot be used; give the person's own "
                                 "login with --operator (for example yamada.taro)",
                                 *login)));
      return;
    }
    *exit_code = Init(ctx, *login, *tls);
  });
}

}  // namespace kura::vault_cli
