// kura-vault gc [--dry-run] [--json] (docs/vault-cli.md, docs/vault-gc-scrub.md): one run of garbage
// collection over every repository of the vault.
#include "cli_common/format.h"
#include "util/i18n.h"
#include "util/text.h"
#include "vault/gc.h"
#include "vault_cli/commands.h"
#include "vault_cli/exit_codes.h"

namespace kura::vault_cli {

using nlohmann::json;

static json GcJson(const vault::GcReport& r, bool dry_run) {
  json pending = json::array();
  for (const vault::GcTenantReclaim& t : r.pending) {
    json j{{"tenant_id", t.tenant_id}, {"pending_reclaim_bytes", t.pending_reclaim_bytes}};
    cli_common::PutNameJson(j, "tenant", t.tenant);
    pending.push_back(std::move(j));
  }
  return {{"ok", true},
          {"dry_run", dry_run},
          {"repositories", r.repositories},
          {"repositories_leased", r.repositories_leased},
          {"repositories_blocked", r.repositories_blocked},
          {"repositories_unreadable", r.repositories_unreadable},
          {"packs_quarantined", r.packs_quarantined},
          {"packs_revived", r.packs_revived},
          {"packs_deleted", r.packs_deleted},
          {"snapshots_deleted", r.snapshots_deleted},
          {"bytes_reclaimed", r.bytes_reclaimed},
          {"interrupted_deletions_finished", r.interrupted_deletions_finished},
          {"pending_reclaim", pending},
          {"problems", r.problems}};
}

static int Gc(Context& ctx, bool dry_run) {
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  vault::GcOptions o;
  o.grace_days = v->config.gc_scrub.gc_grace_days;
  o.upload_lease_seconds = v->config.gc_scrub.gc_upload_lease_seconds;
  o.dry_run = dry_run;
  // Nothing of a site on hold, nothing at all while the clock guard is frozen.
  o.deletion_blocked = vault::HoldsAndClockGuard(*v->catalog);
  auto report = vault::RunGc(*v->catalog, v->config.objects_dir, *ctx.clock, o, ConsoleActor());
  if (!report.ok()) return Fail(ctx, report.status());
  if (ctx.opts.json) {
    PrintJson(GcJson(*report, dry_run));
  } else {
    const vault::GcReport& r = *report;
    PrintLine(
        Tr("{}リポジトリ {} 件: パック {} 個を隔離、{} 個を復帰、パック {} 個とスナップショット {} 個を削除 "
           "({} を回収)",
           "{}{} repositories: {} packs quarantined, {} revived, {} packs and {} snapshots deleted ({} "
           "reclaimed)",
           dry_run ? L("(試行のみ、変更なし) ", "(dry run, nothing changed) ") : "", r.repositories,
           r.packs_quarantined, r.packs_revived, r.packs_deleted, r.snapshots_deleted,
           cli_common::FormatBytes(r.bytes_reclaimed)));
    if (r.repositories_leased > 0) {
      PrintLine(
          Tr("アップロード中のため対象外: {} 件", "skipped, upload in progress: {}", r.repositories_leased));
    }
    if (r.repositories_blocked > 0) {
      PrintLine(Tr("保留または時計停止のため対象外: {} 件", "skipped, on hold or clock frozen: {}",
                   r.repositories_blocked));
    }
    for (const vault::GcTenantReclaim& t : r.pending) {
      PrintLine(Tr("  テナント {}: 回収待ち {}", "  tenant {}: pending reclaim {}",
                   EscapeText(t.tenant, false), cli_common::FormatBytes(t.pending_reclaim_bytes)));
    }
    for (const std::string& p : r.problems) PrintWarning(p);
  }
  return report->problems.empty() ? kExitOk : kExitIoError;
}

void AddGcCommand(CLI::App& app, Context& ctx, int* exit_code) {
  auto* gc = app.add_subcommand(
      "gc", L("ガベージコレクション: 参照されないパックを隔離し、猶予を過ぎたものを削除",
              "garbage collection: quarantine unreferenced packs, delete what is past its grace"));
  auto dry_run = std::make_shared<bool>(false);
  gc->add_flag("--dry-run", *dry_run,
               L("何も変えずに結果だけを表示", "show what would happen, change nothing"));
  gc->add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));
  gc->callback([&ctx, exit_code, dry_run] { *exit_code = Gc(ctx, *dry_run); });
}

}  // namespace kura::vault_cli
