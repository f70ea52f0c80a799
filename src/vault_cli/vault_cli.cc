#include "vault_cli/vault_cli.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <optional>

#include "kura/version.h"
#include "util/i18n.h"
#include "vault_cli/commands.h"
#include "vault_cli/exit_codes.h"

namespace kura::vault_cli {

// The language must be known before the help texts are built, so --lang is looked up
// first; a --lang other than ja or en is refused rather than silently ignored.
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
    if (*value == "ja") {
      lang = Language::kJapanese;
    } else if (*value == "en") {
      lang = Language::kEnglish;
    } else {
      std::fputs(Tr("kura-vault: 使い方が正しくありません: --lang には ja (日本語) か en (英語) "
                    "を指定してください\n",
                    "kura-vault: usage error: --lang must be ja (Japanese) or en (English)\n")
                     .c_str(),
                 stderr);
      return false;
    }
  }
  SetLanguage(lang);
  return true;
}

int Main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  // A core file could hold an initial password or a token: never write one.
  struct rlimit no_core {
    0, 0
  };
  ::setrlimit(RLIMIT_CORE, &no_core);
  ::prctl(PR_SET_DUMPABLE, 0);
  if (!ChooseLanguage(argc, argv)) return kExitUsage;
  Context ctx;
  int exit_code = kExitOk;
  CLI::App app{L("kura-vault — kura のオフサイト保管庫 (サイトは追加のみ)",
                 "kura-vault — kura's offsite vault (sites can only add)")};
  app.set_version_flag("--version", std::string("kura-vault ") + kKuraVersion);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--data-dir", ctx.opts.data_dir,
                 Tr("データディレクトリ (環境変数 KURA_VAULT_DATA_DIR、既定 {})",
                    "data directory (env KURA_VAULT_DATA_DIR, default {})", kDefaultDataDir));
  app.add_option("--lang", ctx.opts.lang, L("表示言語 ja|en", "language ja|en"))
      ->check(CLI::IsMember({"ja", "en"}));
  app.add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));

  AddInitCommand(app, ctx, &exit_code);
  AddTenantCommands(app, ctx, &exit_code);
  AddAuditCommands(app, ctx, &exit_code);
  AddSiteCommands(app, ctx, &exit_code);
  AddServeCommand(app, ctx, &exit_code);
  AddGrantCommands(app, ctx, &exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fputs(Tr("kura-vault: 使い方が正しくありません: {}\nkura-vault --help で使い方を確認してください\n",
                  "kura-vault: usage error: {}\nsee kura-vault --help\n", e.what())
                   .c_str(),
               stderr);
    return kExitUsage;
  }
  return exit_code;
}

}  // namespace kura::vault_cli
