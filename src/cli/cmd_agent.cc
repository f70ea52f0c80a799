// kura agent (the scheduling service) and kura schedule install (its service units).
#include <unistd.h>

#include <climits>

#include "agent/agent_loop.h"
#include "agent/unit_files.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/job_commands.h"
#include "cli/output.h"
#include "util/fs.h"
#include "util/i18n.h"
#include "util/signals.h"

namespace kura::cli {

namespace {

struct AgentFlags {
  std::string agent_config;
  bool once = false;
};

int Agent(Context& ctx, const AgentFlags& f) {
  auto config = LoadAgentConfigFor(f.agent_config);
  if (!config.ok()) return Fail(ctx, config.status());
  // SIGTERM (systemd) and SIGINT stop a running job or send at its next safe point (its
  // children too, util/signals.h): nothing half-written is committed, queued sends stay
  // queued, and the agent exits 0 as a service asked to stop.
  StopOnSignals stop_on_signals;
  // Under systemd stderr is the journal: every log line goes there too.
  auto log = OpenRunLog(*config, !ctx.opts.quiet && !ctx.opts.json);
  AgentOptions options;
  options.once = f.once;
  options.log = log.get();
  TickReport last;
  Status st = RunAgent(*config, options, &last);
  if (!st.ok()) return Fail(ctx, st);
  if (f.once && ctx.opts.json) {
    PrintJson({{"ok", last.runs_failed == 0 && last.sends_failed == 0},
               {"runs", last.runs},
               {"runs_failed", last.runs_failed},
               {"sends", last.sends},
               {"sends_failed", last.sends_failed},
               {"next_wake", FormatUtc(last.next_wake)},
               {"actions", last.lines}});
  }
  return kExitOk;
}

struct ScheduleFlags {
  std::string agent_config;
  std::string dir = "/etc/systemd/system";
  std::string kura_path;
  bool windows = false;
  bool timer = false;
};

std::string SelfPath() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "/usr/bin/kura";
  return std::string(buf, static_cast<size_t>(n));
}

int Install(Context& ctx, const ScheduleFlags& f) {
  std::string config_path = AgentConfigPath(f.agent_config);
  std::string kura = f.kura_path.empty() ? SelfPath() : f.kura_path;
  if (f.windows) {
    // The config is read only to find the daily time; a missing one gives 02:00.
    auto config = LoadAgentConfig(config_path);
    AgentConfig c = config.ok() ? *config : AgentConfig{};
    std::string kura_exe = f.kura_path.empty() ? "C:\\Program Files\\kura\\kura.exe" : f.kura_path;
    std::string cfg = f.agent_config.empty() ? "C:\\ProgramData\\kura\\agent.toml" : f.agent_config;
    std::string xml = WindowsTaskXml(kura_exe, cfg, c);
    std::fwrite(xml.data(), 1, xml.size(), stdout);
    std::fputs(L("\n<!-- 登録: schtasks /Create /TN \"kura\" /XML kura-task.xml (UTF-16 で保存) -->\n",
                 "\n<!-- register: schtasks /Create /TN \"kura\" /XML kura-task.xml (save as UTF-16) -->\n")
                   .c_str(),
               stderr);
    return kExitOk;
  }
  std::vector<std::pair<std::string, std::string>> files;
  if (f.timer) {
    files = {{"kura-agent-tick.service", SystemdTickService(kura, config_path)},
             {"kura-agent-tick.timer", SystemdTickTimer()}};
  } else {
    files = {{"kura-agent.service", SystemdAgentService(kura, config_path)}};
  }
  Status st = MakeDirs(f.dir, 0755);
  if (!st.ok()) return Fail(ctx, st);
  for (const auto& [name, text] : files) {
    st = WriteFileAtomic(f.dir + "/" + name, AsBytes(text), 0644);
    if (!st.ok()) return Fail(ctx, st);
    ctx.Say(Tr("{} を書きました", "wrote {}", f.dir + "/" + name));
  }
  std::string unit = f.timer ? "kura-agent-tick.timer" : "kura-agent.service";
  ctx.Say(Tr("有効にするには: systemctl daemon-reload && systemctl enable --now {}",
             "to enable: systemctl daemon-reload && systemctl enable --now {}", unit));
  if (ctx.opts.json) {
    nlohmann::json written = nlohmann::json::array();
    for (const auto& [name, text] : files) written.push_back(f.dir + "/" + name);
    PrintJson({{"ok", true}, {"written", written}, {"enable", unit}});
  }
  return kExitOk;
}

}  // namespace

void AddAgentCommands(CLI::App& app, Context& ctx, int* exit_code) {
  AgentFlags& af = ctx.NewFlags<AgentFlags>();
  CLI::App* agent = app.add_subcommand(
      "agent", L("常駐して予定どおりにジョブを実行 (起動時の取り戻し、夜間送信、再試行)",
                 "run jobs on schedule as a service (catch-up at start, night sends, retries)"));
  agent->add_flag("--once", af.once,
                  L("1 回だけ確認して実行し、終了", "check and run what is due once, then exit"));
  AddAgentConfigOption(agent, &af.agent_config);
  OnRun(agent, ctx, exit_code, [&ctx, &af] { return Agent(ctx, af); });

  ScheduleFlags& sf = ctx.NewFlags<ScheduleFlags>();
  CLI::App* schedule = app.add_subcommand("schedule", L("自動実行の設定", "set up automatic runs"));
  schedule->require_subcommand(1);
  CLI::App* install = schedule->add_subcommand(
      "install", L("systemd のユニットを書き出す (--windows: タスク スケジューラの XML を表示)",
                   "write systemd units (--windows: print a Task Scheduler XML)"));
  install->add_option(
      "--dir", sf.dir,
      L("書き出し先 (既定 /etc/systemd/system)", "where to write (default /etc/systemd/system)"));
  install->add_option(
      "--kura-path", sf.kura_path,
      L("kura 実行ファイルのパス (既定: この kura)", "path of the kura binary (default: this one)"));
  install->add_flag("--windows", sf.windows,
                    L("Windows のタスク スケジューラ用 XML を表示", "print a Windows Task Scheduler XML"));
  install->add_flag("--timer", sf.timer,
                    L("常駐サービスの代わりに 15 分ごとのタイマー (agent --once) を使う",
                      "use a 15-minute timer (agent --once) instead of a resident service"));
  AddAgentConfigOption(install, &sf.agent_config);
  OnRun(install, ctx, exit_code, [&ctx, &sf] { return Install(ctx, sf); });
}

}  // namespace kura::cli
