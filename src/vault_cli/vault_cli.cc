#include "vault_cli/vault_cli.h"

#include "cli_common/program.h"
#include "kura/version.h"
#include "util/i18n.h"
#include "vault_cli/commands.h"
#include "vault_cli/exit_codes.h"

namespace kura::vault_cli {

int Main(int argc, char** argv) {
  cli_common::HardenProcess();  // a core file could hold an initial password or a token
  if (!cli_common::ChooseLanguage(argc, argv, "kura-vault")) return kExitUsage;
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
  AddOverdueGraceCommands(app, ctx, &exit_code);
  AddServeCommand(app, ctx, &exit_code);
  AddGrantCommands(app, ctx, &exit_code);
  AddOperatorCommands(app, ctx, &exit_code);
  AddStatusCommand(app, ctx, &exit_code);
  AddRetentionCommands(app, ctx, &exit_code);
  AddHoldCommands(app, ctx, &exit_code);
  AddGcCommand(app, ctx, &exit_code);
  AddScrubCommand(app, ctx, &exit_code);

  if (auto done = cli_common::ParseArguments(app, argc, argv, "kura-vault", kExitUsage)) return *done;
  return exit_code;
}

}  // namespace kura::vault_cli
