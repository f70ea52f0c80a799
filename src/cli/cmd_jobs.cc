// kura run JOB --kind K, and kura status: the nightly job and the warning the host
// application shows (docs/agent.md, docs/status-file.md).
#include <unistd.h>

#include "agent/job_runner.h"
#include "agent/overdue.h"
#include "agent/status_file.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/job_commands.h"
#include "cli/output.h"
#include "cli/vault_status.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/i18n.h"
#include "util/signals.h"
#include "util/text.h"

namespace kura::cli {

using nlohmann::json;

void AddAgentConfigOption(CLI::App* sub, std::string* path) {
  sub->add_option("--agent-config", *path,
                  L("エージェント設定ファイル (環境変数 KURA_AGENT_CONFIG、既定 /etc/kura/agent.toml)",
                    "agent config file (env KURA_AGENT_CONFIG, default /etc/kura/agent.toml)"));
}

Result<AgentConfig> LoadAgentConfigFor(const std::string& flag) {
  return LoadAgentConfig(AgentConfigPath(flag));
}

Result<const JobConfig*> FindJobOrFail(const AgentConfig& config, const std::string& name) {
  if (const JobConfig* job = config.FindJob(name)) return job;
  std::string names;
  for (const JobConfig& j : config.jobs) names += (names.empty() ? "" : ", ") + j.name;
  return Status::InvalidArgument(Tr("ジョブ {} は {} にありません (設定済み: {})",
                                    "no job {} in {} (configured: {})", name, config.path,
                                    names.empty() ? "-" : names));
}

std::unique_ptr<RunLog> OpenRunLog(const AgentConfig& config, bool echo) {
  return std::make_unique<RunLog>(config.log_file, config.log_max_bytes, config.log_keep, echo);
}

namespace {

struct RunFlags {
  std::string job;
  std::string kind = "manual";
  bool defer_send = false;
  std::string agent_config;
};

json WarningsJson(const std::vector<SnapshotWarning>& warnings) {
  json out = json::array();
  for (const SnapshotWarning& w : warnings) out.push_back({{"path", w.path}, {"message", w.message}});
  return out;
}

std::string StateLabel(const std::string& state) {
  if (state == "written") return L("保存済み", "written");
  if (state == "sent") return L("送信済み", "sent");
  if (state == "queued") return L("夜間に送信予定", "queued for the night");
  if (state == "warning") return L("警告", "warning");
  return L("失敗", "failed");
}

int Run(Context& ctx, const RunFlags& f) {
  auto kind = ParseKind(f.kind);
  if (!kind) {
    return Fail(ctx, Status::InvalidArgument(Tr("--kind は daily、monthly、manual のいずれかです (指定: {})",
                                                "--kind must be daily, monthly or manual (got {})", f.kind)));
  }
  auto config = LoadAgentConfigFor(f.agent_config);
  if (!config.ok()) return Fail(ctx, config.status());
  auto job = FindJobOrFail(*config, f.job);
  if (!job.ok()) return Fail(ctx, job.status());
  auto log = OpenRunLog(*config, false);
  StopOnSignals stop_on_signals;  // SIGINT/SIGTERM: stop the job, commit nothing, exit 130/143
  ProgressLine progress(L("バックアップ中", "backing up"), ctx.ShowProgress());
  RunContext rc{&*config, nullptr, log.get(), &progress};
  auto report = RunJob(rc, **job, *kind, f.defer_send);
  progress.Done();
  if (!report.ok()) return Fail(ctx, report.status());
  const JobRunReport& r = *report;
  if (ctx.opts.json) {
    json targets = json::array();
    for (const TargetOutcome& t : r.targets) {
      targets.push_back({{"target", t.target},
                         {"state", t.state},
                         {"snapshot", t.snapshot.empty() ? json(nullptr) : json(t.snapshot)},
                         {"error", t.status.ok() ? json(nullptr)
                                                 : json{{"code", CodeName(t.status.code())},
                                                        {"message", t.status.message()}}}});
    }
    PrintJson({{"ok", r.ok()},
               {"job", r.job},
               {"kind", KindName(r.kind)},
               {"snapshot", r.snapshot.empty() ? json(nullptr) : json(r.snapshot)},
               {"error", r.status.ok()
                             ? json(nullptr)
                             : json{{"code", CodeName(r.status.code())}, {"message", r.status.message()}}},
               {"files", r.files},
               {"bytes_read", r.bytes_read},
               {"bytes_stored", r.bytes_stored},
               {"seconds", r.seconds},
               {"targets", targets},
               {"notes", r.notes},
               {"warnings", WarningsJson(r.warnings)}});
  }
  if (!r.status.ok()) {
    PrintError(
        r.status.WithContext(Tr("ジョブ {} のバックアップに失敗しました (スナップショットは作成していません)",
                                "job {}: the backup failed (no snapshot was made)", r.job)));
    return ExitCodeFor(r.status);
  }
  ctx.Say(Tr("ジョブ {} ({}): スナップショット {} を作成しました: {} 件、読込 {}、保存 {}、{:.1f} 秒",
             "job {} ({}): snapshot {} saved: {} files, read {}, stored {}, {:.1f} s", r.job,
             KindLabel(r.kind), ShortId(r.snapshot), r.files, FormatBytes(r.bytes_read),
             FormatBytes(r.bytes_stored), r.seconds));
  int code = kExitOk;
  for (const TargetOutcome& t : r.targets) {
    ctx.Say(fmt::format("  {}: {}{}", t.target, StateLabel(t.state),
                        t.status.ok() ? "" : " — " + t.status.message()));
    if (t.state == "failed" && code == kExitOk) code = ExitCodeFor(t.status);
    if (t.state == "warning" && code == kExitOk) code = kExitPartial;
  }
  for (const std::string& n : r.notes) ctx.Say("  " + n);
  for (const SnapshotWarning& w : r.warnings) {
    PrintWarning(Tr("{}: {}", "{}: {}", w.path.empty() ? "/" : EscapeName(w.path), w.message));
  }
  if (code == kExitOk && !r.warnings.empty()) code = kExitPartial;
  return code;
}

struct StatusFlags {
  std::string agent_config;
  std::string status_file;
  bool verbose = false;
};

// The agent config for `kura status`: required unless --status-file names the file; then
// used when there is one (for the overdue check), and a missing one is no error.
Result<std::optional<AgentConfig>> StatusConfig(const StatusFlags& f) {
  auto config = LoadAgentConfigFor(f.agent_config);
  if (config.ok()) return std::optional<AgentConfig>(std::move(*config));
  if (!f.status_file.empty() && f.agent_config.empty() && config.status().code() == Code::kNotFound) {
    return std::optional<AgentConfig>();
  }
  return config.status();
}

int ShowStatus(Context& ctx, const StatusFlags& f) {
  auto config = StatusConfig(f);
  if (!config.ok()) return Fail(ctx, config.status());
  std::string path = f.status_file.empty() ? (*config)->status_file : f.status_file;
  auto doc = LoadStatusFile(path);
  if (!doc.ok()) return Fail(ctx, doc.status());
  std::vector<ActiveWarning> warnings = ActiveWarnings(*doc);
  // A backup that is silently not being made is a warning too (agent/overdue.h).
  std::vector<OverdueWarning> overdue;
  if (*config) overdue = FindOverdue(**config, PathExists(path) ? &*doc : nullptr, SystemClock());
  bool active = !warnings.empty() || !overdue.empty();
  if (ctx.opts.json) {
    json j = StatusToJson(*doc);
    json late = json::array();
    for (const OverdueWarning& o : overdue) {
      late.push_back({{"job", o.job.empty() ? json(nullptr) : json(o.job)},
                      {"reason", o.reason},
                      {"due", o.due ? json(FormatUtc(o.due)) : json(nullptr)},
                      {"last_success", o.last_success ? json(FormatUtc(o.last_success)) : json(nullptr)},
                      {"message_ja", o.message_ja},
                      {"message_en", o.message_en}});
    }
    j["overdue"] = late;
    j["warning_active"] = active;
    if (*config) j["offsite"] = OffsiteStatus(**config);
    PrintJson(j);
    return active ? kExitWarningActive : kExitOk;
  }
  bool en = CurrentLanguage() == Language::kEnglish;
  const std::string offsite = f.verbose && *config ? OffsiteLines(OffsiteStatus(**config)) : "";
  if (!active) {
    if (f.verbose) {
      int64_t last = 0;
      for (const auto& [name, job] : doc->jobs) {
        for (const auto& [tname, t] : job.targets) last = std::max(last, t.last_success);
      }
      if (last == 0)
        ctx.Say(L("バックアップの記録はまだありません。", "no backup has been recorded yet."));
      else
        ctx.Say(Tr("バックアップは正常です (最後の成功: {})。", "backups are working (last success: {}).",
                   FormatLocal(last).substr(0, 16)));
      if (!offsite.empty()) std::fputs(EscapeText(offsite).c_str(), stdout);
    }
    return kExitOk;
  }
  std::string out = L("【バックアップの警告】\n", "[Backup warning]\n");
  for (const ActiveWarning& w : warnings) {
    out += "・" + (en ? w.warning->message_en : w.warning->message_ja) + "\n";
    if (w.drill != nullptr) {  // a failed restore drill (agent/drill.h)
      if (f.verbose && w.drill->error) out += Tr("  詳細: {}\n", "  details: {}\n", w.drill->error->message);
      continue;
    }
    const TargetStatus& t = *w.status;
    if (t.last_success != 0) {
      out += Tr("  最後に成功したバックアップ: {}\n", "  last successful backup: {}\n",
                FormatLocal(t.last_success).substr(0, 16));
    }
    if (f.verbose && t.error) out += Tr("  詳細: {}\n", "  details: {}\n", t.error->message);
  }
  for (const OverdueWarning& o : overdue) out += "・" + (en ? o.message_en : o.message_ja) + "\n";
  out += offsite;
  std::fputs(EscapeText(out).c_str(), stdout);  // the file is read from disk: never raw
  return kExitWarningActive;
}

}  // namespace

void AddJobCommands(CLI::App& app, Context& ctx, int* exit_code) {
  RunFlags& rf = ctx.NewFlags<RunFlags>();
  CLI::App* run =
      app.add_subcommand("run", L("設定したジョブを今すぐ 1 回実行", "run a configured job once, now"));
  run->add_option("JOB", rf.job, L("ジョブ名", "job name"))->required();
  run->add_option("--kind", rf.kind,
                  L("世代の種類: daily | monthly | manual (既定 manual)",
                    "generation kind: daily | monthly | manual (default manual)"));
  run->add_flag("--defer-send", rf.defer_send,
                L("他の保存先への送信を夜間 (send_window) まで待つ (月次締めなど)",
                  "queue the sends to other targets for the night (send_window)"));
  AddAgentConfigOption(run, &rf.agent_config);
  OnRun(run, ctx, exit_code, [&ctx, &rf] { return Run(ctx, rf); });

  StatusFlags& sf = ctx.NewFlags<StatusFlags>();
  CLI::App* status =
      app.add_subcommand("status", L("警告があれば表示 (終了コード 10)。なければ何も表示しない",
                                     "print the active warning (exit 10), or nothing"));
  status->add_flag(
      "-v,--verbose", sf.verbose,
      L("正常時も 1 行表示し、警告の詳細も表示", "also print a line when all is well, and error details"));
  status->add_option(
      "--status-file", sf.status_file,
      L("状態ファイル (既定: 設定の status_file)", "status file (default: the config's status_file)"));
  AddAgentConfigOption(status, &sf.agent_config);
  OnRun(status, ctx, exit_code, [&ctx, &sf] { return ShowStatus(ctx, sf); });

  AddAgentCommands(app, ctx, exit_code);
  AddDrillCommand(app, ctx, exit_code);
}

}  // namespace kura::cli
