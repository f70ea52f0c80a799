// kura drill JOB: restore the latest snapshot into a scratch database, check it, drop it.
#include <cstdio>

#include "agent/drill.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/job_commands.h"
#include "cli/output.h"
#include "cli/restore_report.h"
#include "util/i18n.h"

namespace kura::cli {

namespace {

struct DrillFlags {
  std::string job;
  std::string agent_config;
  bool keep = false;
};

int Drill(Context& ctx, const DrillFlags& f) {
  auto config = LoadAgentConfigFor(f.agent_config);
  if (!config.ok()) return Fail(ctx, config.status());
  auto job = FindJobOrFail(*config, f.job);
  if (!job.ok()) return Fail(ctx, job.status());
  auto log = OpenRunLog(*config, false);
  RunContext rc{&*config, nullptr, log.get(), nullptr};
  auto report = RunDrill(rc, **job, f.keep);
  if (!report.ok()) return Fail(ctx, report.status());
  const DrillReport& r = *report;
  if (ctx.opts.json) {
    nlohmann::json j = {
        {"ok", r.status.ok()},
        {"job", r.job},
        {"target", r.target},
        {"snapshot", r.snapshot.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.snapshot)},
        {"method", r.method},
        {"restored_into", r.restored_into},
        {"dropped", r.dropped},
        {"seconds", r.seconds},
        {"files", r.files.files},
        {"bytes", r.files.bytes}};
    if (r.method == "database") j["restore"] = RestoreReportJson(r.restore);
    if (!r.status.ok()) {
      j["error"] = {{"code", CodeName(r.status.code())}, {"message", r.status.message()}};
      // What is broken: "repository" (damaged blobs, excluded so the next backup stores them
      // again), "source" (the database was broken when it was backed up), or null.
      j["damaged_part"] = r.damaged_part.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.damaged_part);
      j["damaged_blobs"] = r.damaged_blobs;
    }
    if (!r.drop_status.ok()) j["cleanup_error"] = r.drop_status.message();
    PrintJson(j);
  }
  if (!r.status.ok()) {
    PrintError(r.status.WithContext(
        Tr("復元訓練に失敗しました (ジョブ {})", "restore drill failed (job {})", r.job)));
    std::fputs(L("kura: 警告を設定しました (kura status)。次に成功した復元訓練で解除されます。\n",
                 "kura: the warning is set (kura status); the next successful drill clears it.\n")
                   .c_str(),
               stderr);
    return ExitCodeFor(r.status);
  }
  if (r.method == "database") {
    ctx.Say(Tr("復元訓練: ジョブ {} のスナップショット {} を {} に復元して確認しました。",
               "restore drill: job {}: snapshot {} restored into {} and checked.", r.job, ShortId(r.snapshot),
               r.restored_into));
    ctx.Say(FormatRestoreReport(r.restore));
  } else {
    ctx.Say(
        Tr("復元訓練: ジョブ {} のスナップショット {} を {} に復元しました: {} 件 {}。すべて SHA-256 "
           "が一致しました。",
           "restore drill: job {}: snapshot {} restored into {}: {} files, {}; every SHA-256 matched.", r.job,
           ShortId(r.snapshot), r.restored_into, r.files.files, FormatBytes(r.files.bytes)));
  }
  if (r.dropped)
    ctx.Say(L("訓練用の復元先は削除しました。", "the scratch copy was removed."));
  else if (!r.drop_status.ok())
    PrintError(r.drop_status.WithContext(
        L("訓練用の復元先を削除できませんでした", "could not remove the scratch copy")));
  else
    ctx.Say(Tr("訓練用の復元先を残しました: {}", "the scratch copy was kept: {}", r.restored_into));
  return r.drop_status.ok() ? kExitOk : ExitCodeFor(r.drop_status);
}

}  // namespace

void AddDrillCommand(CLI::App& app, Context& ctx, int* exit_code) {
  DrillFlags& f = ctx.NewFlags<DrillFlags>();
  CLI::App* drill = app.add_subcommand(
      "drill", L("復元訓練: 最新のスナップショットを一時的な DB に復元して確認し、削除",
                 "restore drill: restore the latest snapshot into a scratch database, check it, drop it"));
  drill->add_option("JOB", f.job, L("ジョブ名", "job name"))->required();
  drill->add_flag("--keep", f.keep, L("確認後も復元先を残す", "keep the scratch copy"));
  AddAgentConfigOption(drill, &f.agent_config);
  OnRun(drill, ctx, exit_code, [&ctx, &f] { return Drill(ctx, f); });
}

}  // namespace kura::cli
