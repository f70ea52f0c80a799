#include <set>

#include "agent/prune.h"
#include "agent/verify.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "util/clock.h"
#include "util/i18n.h"

namespace kura::cli {

using nlohmann::json;

namespace {

int RunVerify(Context& ctx, bool read_data, const std::vector<std::string>& refs) {
  auto repo = ctx.OpenRepository();
  if (!repo.ok()) return Fail(ctx, repo.status());
  ProgressLine progress(L("検査中", "verifying"), ctx.ShowProgress());
  VerifyOptions options;
  for (const std::string& ref : refs) {
    auto snap = (*repo)->FindSnapshot(ref);
    if (!snap.ok()) return Fail(ctx, snap.status());
    options.snapshots.push_back(snap->id);
  }
  options.read_data = read_data;
  options.progress = &progress;
  auto report = Verify(**repo, options);
  progress.Done();
  if (!report.ok()) return Fail(ctx, report.status());
  const VerifyReport& r = *report;
  if (ctx.opts.json) {
    json snaps = json::array();
    for (const SnapshotCheck& s : r.snapshots) {
      snaps.push_back({{"id", s.id}, {"kind", KindName(s.kind)}, {"time", FormatUtc(s.time)}, {"ok", s.ok},
                       {"problem", s.problem}, {"missing_blobs", s.missing_blobs}});
    }
    json packs = json::array();
    for (const DamagedObject& d : r.damaged_packs) packs.push_back({{"name", d.name}, {"problem", d.problem}});
    json bad_snaps = json::array();
    for (const DamagedObject& d : r.damaged_snapshots) bad_snaps.push_back({{"id", d.name}, {"problem", d.problem}});
    PrintJson({{"ok", r.ok()}, {"read_data", read_data}, {"packs", r.packs}, {"pack_bytes", r.pack_bytes},
               {"blobs_checked", r.blobs_checked}, {"unreferenced_packs", r.unreferenced_packs},
               {"damaged_packs", packs}, {"damaged_snapshots", bad_snaps}, {"snapshots", snaps}});
  }
  ctx.Say(Tr("パック {} 個 ({}) を検査しました{}。", "checked {} packs ({}){}.", r.packs, FormatBytes(r.pack_bytes),
             read_data ? Tr("、データ {} 個を復号して確認", ", decrypted and checked {} blobs", r.blobs_checked) : ""));
  for (const DamagedObject& d : r.damaged_packs) {
    ctx.Say(Tr("  壊れたパック {}: {}", "  damaged pack {}: {}", d.name.substr(0, 16), d.problem));
  }
  for (const DamagedObject& d : r.damaged_snapshots) {
    ctx.Say(Tr("  壊れたスナップショット {}: {}", "  damaged snapshot {}: {}", ShortId(d.name), d.problem));
  }
  for (const SnapshotCheck& s : r.snapshots) {
    ctx.Say(s.ok ? Tr("  正常  {} {} {}", "  ok       {} {} {}", ShortId(s.id), FormatLocal(s.time), KindLabel(s.kind))
                 : Tr("  損傷  {} {} {}: {}", "  DAMAGED  {} {} {}: {}", ShortId(s.id), FormatLocal(s.time),
                      KindLabel(s.kind), s.problem));
  }
  if (r.unreferenced_packs > 0) {
    ctx.Say(Tr("  どのスナップショットからも使われていないパックが {} 個あります (中断されたバックアップの残りです。kura prune で削除できます)",
               "  {} packs are used by no snapshot (left by an interrupted backup; kura prune removes them)",
               r.unreferenced_packs));
  }
  if (r.ok()) {
    ctx.Say(L("問題は見つかりませんでした。", "No problems found."));
    return kExitOk;
  }
  if (!r.damaged_packs.empty()) {
    ctx.Say(L("  次回のバックアップでは、損傷したデータを参照せず元データから保存し直します。",
              "  The next backup stores the damaged data anew from the source instead of referring to it."));
  }
  std::fputs(L("kura: 損傷が見つかりました。上の「損傷」のスナップショットは復元できない可能性があります。販売元へご連絡ください。\n",
               "kura: damage found: the snapshots marked DAMAGED may not restore; contact your vendor.\n")
                 .c_str(),
             stderr);
  return kExitDamaged;
}

struct ForgetFlags {
  std::vector<std::string> keep_last, keep_days, keep_months, snapshots;
  bool prune = false;
  bool dry_run = false;
};

Status ApplyRuleFlags(const std::vector<std::string>& flags, int KindRule::*field, RetentionPolicy& policy,
                      std::set<SnapshotKind>& touched) {
  for (const std::string& f : flags) {
    auto eq = f.find('=');
    auto kind = ParseKind(f.substr(0, eq));
    int n = -1;
    if (eq != std::string::npos) n = std::atoi(f.c_str() + eq + 1);
    if (!kind || eq == std::string::npos || n < 0 || f.size() == eq + 1) {
      return Status::InvalidArgument(Tr("世代の指定 {} が正しくありません (例: daily=30)",
                                        "bad rule {} (example: daily=30)", f));
    }
    if (!touched.count(*kind)) {
      policy.For(*kind) = KindRule{};
      touched.insert(*kind);
    }
    policy.For(*kind).*field = n;
  }
  return Status::Ok();
}

int RunPrune(Context& ctx, Repository& repo, bool dry_run) {
  auto r = Prune(repo, dry_run);
  if (!r.ok()) return Fail(ctx, r.status());
  if (ctx.opts.json) {
    PrintJson({{"ok", true}, {"dry_run", dry_run}, {"packs_deleted", r->packs_deleted},
               {"packs_repacked", r->packs_repacked}, {"packs_written", r->packs_written},
               {"bytes_freed", r->bytes_freed}});
  }
  ctx.Say(Tr("{}不要なデータ {} を削除しました (パック削除 {}、再構成 {})。",
             "{}freed {} (packs deleted {}, repacked {}).", dry_run ? L("[試行] ", "[dry run] ") : "",
             FormatBytes(r->bytes_freed), r->packs_deleted, r->packs_repacked));
  return kExitOk;
}

int RunForget(Context& ctx, const ForgetFlags& f) {
  auto repo = ctx.OpenRepository();
  if (!repo.ok()) return Fail(ctx, repo.status());
  Result<ForgetResult> result = Status::Internal("");
  if (!f.snapshots.empty()) {
    result = ForgetSnapshots(**repo, f.snapshots, f.dry_run);
  } else {
    RetentionPolicy policy = RetentionPolicy::LocalDefaults();
    std::set<SnapshotKind> touched;
    Status st = ApplyRuleFlags(f.keep_last, &KindRule::keep_last, policy, touched);
    if (st.ok()) st = ApplyRuleFlags(f.keep_days, &KindRule::keep_days, policy, touched);
    if (st.ok()) st = ApplyRuleFlags(f.keep_months, &KindRule::keep_months, policy, touched);
    if (!st.ok()) return Fail(ctx, st);
    result = Forget(**repo, policy, f.dry_run);
  }
  if (!result.ok()) return Fail(ctx, result.status());
  if (ctx.opts.json && !f.prune) {
    json kept = json::array(), forgotten = json::array();
    for (const Snapshot& s : result->kept) {
      kept.push_back({{"id", s.id}, {"kind", KindName(s.plain.kind)}, {"time", FormatUtc(s.plain.time)},
                      {"reason", result->reason.count(s.id) ? result->reason.at(s.id) : ""}});
    }
    for (const Snapshot& s : result->forgotten) {
      forgotten.push_back({{"id", s.id}, {"kind", KindName(s.plain.kind)}, {"time", FormatUtc(s.plain.time)}});
    }
    PrintJson({{"ok", true}, {"dry_run", f.dry_run}, {"kept", kept}, {"forgotten", forgotten}});
  }
  for (const Snapshot& s : result->forgotten) {
    ctx.Say(Tr("{}削除: {} {} {}", "{}forget: {} {} {}", f.dry_run ? L("[試行] ", "[dry run] ") : "", ShortId(s.id),
               FormatLocal(s.plain.time), KindLabel(s.plain.kind)));
  }
  ctx.Say(Tr("保持 {} 件、削除 {} 件", "kept {}, forgot {}", result->kept.size(), result->forgotten.size()));
  if (f.prune) return RunPrune(ctx, **repo, f.dry_run);
  return kExitOk;
}

}  // namespace

void AddMaintenanceCommands(CLI::App& app, Context& ctx, int* exit_code) {
  static bool read_data = false;
  static std::vector<std::string> verify_refs;
  CLI::App* v = app.add_subcommand("verify", L("リポジトリを検査", "check the repository"));
  v->add_flag("--read-data", read_data, L("全データを読み出して復号・照合", "read, decrypt and check every blob"));
  v->add_option("SNAPSHOT", verify_refs,
                L("検査するスナップショット (ID、ID の先頭部分、latest。省略時はすべて)",
                  "snapshots to check (ID, unique prefix or latest; default all)"));
  OnRun(v, ctx, exit_code, [&ctx] { return RunVerify(ctx, read_data, verify_refs); });

  static ForgetFlags f;
  CLI::App* forget = app.add_subcommand(
      "forget", L("世代規則に従って古いスナップショットを削除 (既定: 日次 30 日、月次 36 か月、手動 1 件)",
                  "remove snapshots by generation rules (default: daily 30 days, monthly 36 months, manual last 1)"));
  forget->add_option("SNAPSHOT", f.snapshots, L("削除するスナップショット (規則の代わりに指定)", "snapshots to remove (instead of rules)"));
  forget->add_option("--keep-last", f.keep_last, L("種類=件数 (例: manual=1)", "KIND=N (e.g. manual=1)"));
  forget->add_option("--keep-days", f.keep_days, L("種類=日数 (例: daily=30)", "KIND=N days (e.g. daily=30)"));
  forget->add_option("--keep-months", f.keep_months, L("種類=月数 (例: monthly=36)", "KIND=N months (e.g. monthly=36)"));
  forget->add_flag("--prune", f.prune, L("続けて不要なデータを削除", "then prune unreferenced data"));
  forget->add_flag("--dry-run", f.dry_run, L("削除せずに結果だけ表示", "show what would happen, change nothing"));
  OnRun(forget, ctx, exit_code, [&ctx] { return RunForget(ctx, f); });

  static bool prune_dry_run = false;
  CLI::App* prune = app.add_subcommand("prune", L("どのスナップショットからも使われないデータを削除", "delete data no snapshot uses"));
  prune->add_flag("--dry-run", prune_dry_run, L("削除せずに結果だけ表示", "show what would happen, change nothing"));
  OnRun(prune, ctx, exit_code, [&ctx] {
    auto repo = ctx.OpenRepository();
    if (!repo.ok()) return Fail(ctx, repo.status());
    return RunPrune(ctx, **repo, prune_dry_run);
  });
}

}  // namespace kura::cli
