#include "cli/cli.h"

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "cli_common/program.h"
#include "kura/version.h"
#include "util/i18n.h"

namespace kura::cli {

int Fail(const Context& ctx, const Status& status) {
  int code = ExitCodeFor(status);
  if (ctx.opts.json) PrintJson(cli_common::FailureJson(status, code));
  PrintError(status);
  return code;
}

int Main(int argc, char** argv) {
  cli_common::HardenProcess();  // a core file would hold the repository key
  if (!cli_common::ChooseLanguage(argc, argv, "kura")) return kExitUsage;
  Context ctx;
  int exit_code = kExitOk;
  CLI::App app{L("kura — 医療・介護向けの改ざんに強いバックアップ",
                 "kura — tamper-resistant backups for medical and care providers")};
  app.set_version_flag("--version", std::string("kura ") + kKuraVersion);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option(
      "-r,--repo", ctx.opts.repo,
      L("リポジトリの場所 (環境変数 KURA_REPOSITORY)", "repository location (env KURA_REPOSITORY)"));
  app.add_option("--password-file", ctx.opts.password_file,
                 L("パスワードを書いたファイル (環境変数 KURA_PASSWORD_FILE)",
                   "file holding the password (env KURA_PASSWORD_FILE)"));
  app.add_option("--key-file", ctx.opts.key_file,
                 L("鍵ファイル (環境変数 KURA_KEY_FILE)", "key file (env KURA_KEY_FILE)"));
  app.add_option("--recovery-key-file", ctx.opts.recovery_key_file,
                 L("販売元の復旧用秘密鍵ファイル (環境変数 KURA_RECOVERY_KEY_FILE)",
                   "the vendor's recovery secret key file (env KURA_RECOVERY_KEY_FILE)"));
  app.add_option("--config", ctx.opts.config,
                 L("設定ファイル (環境変数 KURA_CONFIG)", "config file (env KURA_CONFIG)"));
  app.add_option("--lang", ctx.opts.lang, L("表示言語 ja|en", "language ja|en"))
      ->check(CLI::IsMember({"ja", "en"}));
  app.add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));
  app.add_flag("-q,--quiet", ctx.opts.quiet, L("結果の表示を省略", "print nothing but errors"));
  app.add_flag("--no-progress", ctx.opts.no_progress, L("進捗を表示しない", "do not show progress"));

  AddRepositoryCommands(app, ctx, &exit_code);
  AddBackupCommand(app, ctx, &exit_code);
  AddRestoreCommand(app, ctx, &exit_code);
  AddMaintenanceCommands(app, ctx, &exit_code);
  AddJobCommands(app, ctx, &exit_code);

  if (auto done = cli_common::ParseArguments(app, argc, argv, "kura", kExitUsage)) return *done;
  return exit_code;
}

}  // namespace kura::cli
