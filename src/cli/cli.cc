#include "cli/cli.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <csignal>
#include <cstring>
#include <optional>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "kura/version.h"
#include "util/i18n.h"

namespace kura::cli {

int Fail(const Context& ctx, const Status& status) {
  int code = ExitCodeFor(status);
  if (ctx.opts.json) {
    PrintJson({{"ok", false},
               {"error", {{"code", CodeName(status.code())}, {"message", status.message()}}},
               {"exit_code", code}});
  }
  PrintError(status);
  return code;
}

// The language must be known before the help texts are built, so --lang is looked up first.
// Returns false (after saying so, in the environment's language) for a --lang other than
// ja or en: a typo must not silently give the other language.
static bool ChooseLanguage(int argc, char** argv) {
  Language lang = LanguageFromEnvironment();
  SetLanguage(lang);
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") break;
    std::optional<std::string_view> value;
    if (a == "--lang" && i + 1 < argc)
      value = argv[++i];
    else if (a.starts_with("--lang="))
      value = a.substr(7);
    if (!value) continue;
    if (*value == "ja")
      lang = Language::kJapanese;
    else if (*value == "en")
      lang = Language::kEnglish;
    else {
      std::fputs(Tr("kura: 使い方が正しくありません: --lang には ja (日本語) か en (英語) を指定してください "
                    "(指定: \"{}\")\n",
                    "kura: usage error: --lang must be ja (Japanese) or en (English) (got \"{}\")\n", *value)
                     .c_str(),
                 stderr);
      return false;
    }
  }
  SetLanguage(lang);
  return true;
}

int Main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a closed pipe is an error Status, not a silent death
  // A core file would hold the repository key: never write one.
  struct rlimit no_core {
    0, 0
  };
  ::setrlimit(RLIMIT_CORE, &no_core);
  ::prctl(PR_SET_DUMPABLE, 0);
  if (!ChooseLanguage(argc, argv)) return kExitUsage;
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fputs(Tr("kura: 使い方が正しくありません: {}\nkura --help で使い方を確認してください\n",
                  "kura: usage error: {}\nsee kura --help\n", e.what())
                   .c_str(),
               stderr);
    return kExitUsage;
  }
  return exit_code;
}

}  // namespace kura::cli
