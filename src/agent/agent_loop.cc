#include "agent/agent_loop.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>

#include "agent/job_lock.h"
#include "agent/job_runner.h"
#include "agent/post_queue.h"
#include "agent/schedule.h"
#include "agent/send_queue.h"
#include "util/fs.h"
#include "util/i18n.h"
#include "util/signals.h"

namespace kura {

namespace {

const Clock& ClockOf(const AgentOptions& o) {
  return o.clock ? *o.clock : SystemClock();
}

// SIGTERM/SIGINT (util/signals.h, which also stops a running job's children and makes the
// pipelines return at their next safe point), or the caller's flag.
bool Stopping(const AgentOptions& o) {
  return StopRequested() || (o.stop != nullptr && o.stop->load());
}

// A damaged schedule file (a wrong-typed field, not JSON) must never stop the backups: it
// used to fail every tick, so a systemd agent made no backup and raised no warning. It is
// moved aside to <file>.damaged, reported, and the state starts afresh (a daily slot not
// yet handled runs at once, as on a fresh install).
Result<ScheduleState> LoadOrRebuildSchedule(const AgentConfig& config, const AgentOptions& options,
                                            TickReport& report) {
  const std::string path = config.ScheduleStateFile();
  auto state = LoadScheduleState(path);
  if (state.ok() || state.status().code() != Code::kCorruption) return state;
  if (::rename(path.c_str(), (path + ".damaged").c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(
        errno, L("壊れたスケジュールの状態ファイルの退避", "moving aside the damaged schedule state file"),
        path);
  }
  if (options.log) {
    options.log->Write(ClockOf(options), "schedule",
                       {{"result", "damaged"}, {"file", path}, {"error", state.status().message()}});
  }
  report.lines.push_back(state.status().message());
  return ScheduleState{};
}

}  // namespace

Result<TickReport> AgentTick(const AgentConfig& config, const AgentOptions& options) {
  const Clock& clock = ClockOf(options);
  TickReport report;
  KURA_RETURN_IF_ERROR(MakeDirs(config.state_dir, 0755));
  KURA_ASSIGN_OR_RETURN(ScheduleState state, LoadOrRebuildSchedule(config, options, report));
  std::vector<std::string> damaged;
  KURA_ASSIGN_OR_RETURN(std::vector<SendItem> items, SendQueue(config.QueueDir()).List(&damaged));
  for (const std::string& d : damaged) {
    if (options.log) options.log->Write(clock, "queue", {{"result", "damaged"}, {"file", d}});
  }
  std::vector<QueuedSend> queued;
  for (const SendItem& i : items) queued.push_back({i.id, i.job, i.next_attempt, i.night, i.attempts});

  Decision decision = Decide(config, state, queued, clock.NowUnix());
  state = decision.state;
  // Saved before acting: an agent killed mid-run finds the slot started but not done.
  KURA_RETURN_IF_ERROR(SaveScheduleState(config.ScheduleStateFile(), state));
  report.next_wake = decision.next_wake;

  RunContext ctx{&config, &clock, options.log, options.progress, options.make_source};
  for (const AgentAction& a : decision.actions) {
    if (Stopping(options)) break;
    const JobConfig* job = config.FindJob(a.job);
    if (job == nullptr) continue;
    if (a.type == AgentAction::Type::kRun) {
      auto r = RunJob(ctx, *job, a.kind, /*defer_send=*/false);
      if (!r.ok() && Stopping(options)) {
        // Stopped mid-run: nothing was committed. The slot stays started but not done (as
        // for an agent killed mid-run), so the next start makes the backup; no failure is
        // counted and no retry delay applies.
        report.lines.push_back(fmt::format("run {} {}: {}", a.job, KindName(a.kind), r.status().message()));
        break;
      }
      RunOutcome outcome = RunOutcome::kFailed;
      if (!r.ok() && r.status().code() == Code::kLocked)
        outcome = RunOutcome::kLocked;
      else if (r.ok() && r->status.ok())
        outcome = RunOutcome::kOk;
      ++report.runs;
      if (outcome != RunOutcome::kOk) ++report.runs_failed;
      report.lines.push_back(
          fmt::format("run {} {}: {}", a.job, KindName(a.kind),
                      r.ok() ? (r->status.ok() ? "ok" : r->status.message()) : r.status().message()));
      RecordRunOutcome(state, *job, a.kind, outcome, config.retry, clock.NowUnix());
      KURA_RETURN_IF_ERROR(SaveScheduleState(config.ScheduleStateFile(), state));
    } else {
      auto r = SendQueued(ctx, a.item);
      ++report.sends;
      if (!r.ok() || !r->status.ok()) ++report.sends_failed;
      report.lines.push_back(
          fmt::format("send {}: {}", a.item,
                      r.ok() ? (r->status.ok() ? "ok" : r->status.message()) : r.status().message()));
    }
  }
  // Bulletin-board posts that found the host application's database down (post_queue.h).
  if (!Stopping(options)) {
    PostRetryReport posts = RetryQueuedPosts(ctx);
    if (posts.posted + posts.failed + posts.dropped > 0) {
      report.lines.push_back(
          fmt::format("posts: {} made, {} waiting, {} dropped", posts.posted, posts.failed, posts.dropped));
    }
  }
  return report;
}

Status RunAgent(const AgentConfig& config, const AgentOptions& options, TickReport* last) {
  const Clock& clock = ClockOf(options);
  KURA_RETURN_IF_ERROR(MakeDirs(config.state_dir, 0755));
  KURA_ASSIGN_OR_RETURN(auto lock,
                        FileLock::Acquire(config.state_dir + "/agent.lock", 0,
                                          Tr("kura agent は既に動いています ({})",
                                             "a kura agent is already running ({})", config.state_dir)));
  auto sleep = options.sleep;
  if (!sleep) {
    sleep = [&options](int64_t seconds) {
      auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
      while (std::chrono::steady_clock::now() < until && !Stopping(options)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    };
  }
  if (options.log && !options.once)
    options.log->Write(clock, "agent", {{"event", "start"}, {"config", config.path}});
  for (;;) {
    auto tick = AgentTick(config, options);
    if (!tick.ok()) {
      if (options.log)
        options.log->Write(clock, "agent", {{"result", "failed"}, {"error", tick.status().message()}});
      if (options.once) return tick.status();
    } else if (last) {
      *last = *tick;
    }
    if (options.once || Stopping(options)) break;
    int64_t now = clock.NowUnix();
    int64_t wait = tick.ok() ? tick->next_wake - now : 60;
    sleep(std::clamp<int64_t>(wait, 1, 60));
    if (Stopping(options)) break;
  }
  if (options.log && !options.once) options.log->Write(clock, "agent", {{"event", "stop"}});
  return Status::Ok();
}

}  // namespace kura
