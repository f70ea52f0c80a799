#include "agent/job_runner.h"

#include <sys/stat.h>

#include <algorithm>

#include "agent/hooks.h"
#include "agent/job_lock.h"
#include "agent/post_queue.h"
#include "agent/status_file.h"
#include "agent/vault_send.h"
#include "engine/backup.h"
#include "engine/forget_rules.h"
#include "engine/snapshot_copy.h"
#include "objstore/object_store.h"
#include "util/fs.h"
#include "util/i18n.h"
#include "util/secret_file.h"
#include "util/signals.h"
#include "util/text.h"

namespace kura {

const Clock& RunContext::clk() const {
  return clock ? *clock : SystemClock();
}

bool JobRunReport::ok() const {
  if (!status.ok()) return false;
  return std::none_of(targets.begin(), targets.end(),
                      [](const TargetOutcome& t) { return t.state == "failed"; });
}

Result<std::unique_ptr<Repository>> OpenTarget(const TargetConfig& target) {
  if (target.is_vault()) {
    return Status::InvalidArgument(Tr("保存先 {} は保管庫です。保管庫の中身はこの拠点からは読めません",
                                      "target {} is a vault; this site cannot read it", target.name));
  }
  Credentials creds;
  if (!target.key_file.empty()) {
    WarnIfReadableByOthers(target.key_file, "鍵ファイル", "key file");
    creds.key_file = target.key_file;
  } else {
    WarnIfReadableByOthers(target.password_file, "パスワードファイル", "password file");
    bool had_bom = false;
    KURA_ASSIGN_OR_RETURN(std::string pw, ReadPasswordFile(target.password_file, &had_bom));
    if (had_bom) creds.password_with_bom = "\xEF\xBB\xBF" + pw;
    creds.password = std::move(pw);
  }
  KURA_ASSIGN_OR_RETURN(auto store, OpenObjectStore(target.repository, /*create=*/false));
  return Repository::Open(std::move(store), creds);
}

namespace {

std::string Host(const AgentConfig& c) {
  return c.host.empty() ? LocalHostname() : c.host;
}

const std::string& TargetLabel(const TargetConfig& t) {
  return t.label.empty() ? t.name : t.label;
}

// What happened to one target, for the status file and the hooks.
struct TargetEvent {
  const TargetConfig* target = nullptr;
  std::string action;  // "backup" | "send"
  bool ok = false;
  Status error;
  std::string snapshot;
};

void CountPending(const AgentConfig& config, const JobConfig& job, JobStatus& js) {
  auto items = SendQueue(config.QueueDir()).List();
  for (auto& [name, t] : js.targets) t.pending_sends = 0;
  if (!items.ok()) return;
  for (const SendItem& i : *items) {
    if (i.job == job.name) ++js.targets[i.target].pending_sends;
  }
}

// Writes the events into the status file, then fires the hooks they call for.
void Report(const RunContext& ctx, const JobConfig& job, SnapshotKind kind,
            const std::vector<TargetEvent>& events, const std::optional<RunInfo>& run) {
  const AgentConfig& c = *ctx.config;
  int64_t now = ctx.clk().NowUnix();
  struct Fired {
    std::string which;
    HookEvent ev;
  };
  std::vector<Fired> fired;
  Status st = UpdateStatusFile(c.status_file, [&](StatusDocument& doc) {
    doc.updated = now;
    doc.host = Host(c);
    JobStatus& js = doc.jobs[job.name];
    js.label = job.Label();
    if (js.first_seen == 0) js.first_seen = now;
    if (run) js.last_run = run;
    if (run && run->result == "ok") js.last_success_by_kind[run->kind] = now;
    for (const TargetConfig& t : job.targets) js.targets[t.name].label = TargetLabel(t);
    for (const TargetEvent& e : events) {
      TargetStatus& ts = js.targets[e.target->name];
      HookEvent ev;
      ev.job = job.name;
      ev.job_label = job.Label();
      ev.target = e.target->name;
      ev.target_label = TargetLabel(*e.target);
      ev.kind = std::string(KindName(kind));
      ev.action = e.action;
      ev.snapshot = e.snapshot;
      ev.time = now;
      ev.guidance_ja = c.guidance_ja;
      ev.host = doc.host;
      if (e.ok) {
        int64_t since = ts.warning.since;
        bool cleared = RecordTargetSuccess(ts, now, e.snapshot);
        ev.result = "ok";
        fired.push_back({"success", ev});
        if (cleared) {
          ev.event = "clear";
          ev.since = since;
          ev.message_ja = fmt::format("バックアップ「{}」(保存先: {}) は復旧しました ({})。", job.Label(),
                                      ts.label, FormatLocal(now).substr(0, 16));
          ev.message_en = fmt::format("Backup \"{}\" (target: {}) is working again ({}).", job.Label(),
                                      ts.label, FormatLocal(now).substr(0, 16));
          fired.push_back({"clear", ev});
        }
      } else {
        RecordTargetFailure(ts, now, e.error, job.Label(), c.guidance_ja, c.guidance_en);
        ev.result = "failed";
        ev.error = e.error.message();
        ev.error_code = CodeName(e.error.code());
        ev.since = ts.warning.since;
        ev.message_ja = ts.warning.message_ja;
        ev.message_en = ts.warning.message_en;
        fired.push_back({"failure", ev});
      }
    }
    CountPending(c, job, js);
  });
  if (!st.ok() && ctx.log)
    ctx.log->Write(ctx.clk(), "status", {{"result", "failed"}, {"error", st.message()}});
  std::vector<FiredHook> hooks;
  for (Fired& f : fired) {
    f.ev.event = f.which;
    hooks.push_back({f.which, f.ev});
  }
  FireHooks(ctx, job, hooks);  // agent/post_queue.h: one bulletin post per run, queued when the board is down
}

std::vector<std::string> QueuedSnapshots(const AgentConfig& c, const std::string& job) {
  std::vector<std::string> out;
  auto items = SendQueue(c.QueueDir()).List();
  if (!items.ok()) return out;
  for (const SendItem& i : *items) {
    if (i.job == job) out.push_back(i.snapshot);
  }
  return out;
}

// One send attempt; the job's lock is held. Updates the queue, the status file, hooks, log.
SendReport AttemptSend(const RunContext& ctx, const JobConfig& job, const TargetConfig& target, SendItem item,
                       Repository* source_repo) {
  const AgentConfig& c = *ctx.config;
  SendQueue queue(c.QueueDir());
  SendReport report;
  auto start = ctx.clk().NowSteady();
  std::unique_ptr<Repository> opened_source;
  Status st;
  CopyResult copy;
  if (source_repo == nullptr) {
    auto r = OpenTarget(job.targets.front());
    if (r.ok()) {
      opened_source = std::move(*r);
      source_repo = opened_source.get();
    } else {
      st = r.status().WithContext(Tr("保存元 {}", "source target {}", job.targets.front().name));
    }
  }
  if (st.ok()) {
    auto snap = source_repo->FindSnapshot(item.snapshot);
    if (!snap.ok() && snap.status().code() == Code::kNotFound) {
      // Nothing can ever send it: drop the item, and say so through the warning.
      report.dropped = true;
      st = Status::NotFound(Tr("送信するスナップショット {} が保存元にありません (削除されました)",
                               "snapshot {} to send is no longer in the source target (it was removed)",
                               ShortId(item.snapshot)));
    } else if (!snap.ok()) {
      st = snap.status();
    }
  }
  if (st.ok() && target.is_vault()) {
    auto r = SendToVault(c, job, target, *source_repo, item.snapshot, item.kind, ctx.clk(), ctx.progress);
    if (r.ok())
      copy = *r;
    else
      st = r.status();
  } else if (st.ok()) {
    auto to = OpenTarget(target);
    if (!to.ok()) {
      st = to.status();
    } else {
      auto r = CopySnapshot(*source_repo, item.snapshot, **to, ctx.clk(), ctx.progress);
      if (r.ok()) {
        copy = *r;
        if (target.apply_retention) {
          auto kept = RetainJobGenerations(**to, job.name, target.retention, {copy.snapshot_id}, ctx.clk());
          if (!kept.ok() && ctx.log) {
            ctx.log->Write(ctx.clk(), "retention",
                           {{"job", job.name},
                            {"target", target.name},
                            {"result", "failed"},
                            {"error", kept.status().message()}});
          }
        }
      } else {
        st = r.status();
      }
    }
  }
  double seconds = std::chrono::duration<double>(ctx.clk().NowSteady() - start).count();
  int64_t now = ctx.clk().NowUnix();
  if (!st.ok() && StopRequested()) {
    // kura was asked to stop mid-send: the item stays queued as it was (no attempt counted,
    // no retry delay, no warning); the target got no snapshot, only packs the next send
    // skips.
    if (ctx.log) {
      ctx.log->Write(ctx.clk(), "send",
                     {{"job", job.name},
                      {"target", target.name},
                      {"snapshot", ShortId(item.snapshot)},
                      {"result", "interrupted"},
                      {"error", StoppedStatus().message()}});
    }
    report.status = StoppedStatus();
    report.item = item;
    return report;
  }
  report.status = st;
  report.target_snapshot = copy.snapshot_id;
  report.already_present = copy.already_present;
  if (st.ok() || report.dropped) {
    Status rm = queue.Remove(item.id);
    if (!rm.ok() && ctx.log)
      ctx.log->Write(ctx.clk(), "queue", {{"result", "failed"}, {"error", rm.message()}});
  } else {
    ++item.attempts;
    item.last_error = st.message();
    item.next_attempt = NextAttemptTime(item, c.retry, c.send_window, now);
    Status put = queue.Put(item);
    if (!put.ok() && ctx.log)
      ctx.log->Write(ctx.clk(), "queue", {{"result", "failed"}, {"error", put.message()}});
  }
  report.item = item;
  if (ctx.log) {
    std::vector<std::pair<std::string, std::string>> f = {{"job", job.name},
                                                          {"target", target.name},
                                                          {"kind", std::string(KindName(item.kind))},
                                                          {"snapshot", ShortId(item.snapshot)},
                                                          {"result", st.ok() ? "ok" : "failed"},
                                                          {"duration", fmt::format("{:.1f}s", seconds)}};
    if (st.ok()) {
      f.push_back({"copy", ShortId(copy.snapshot_id)});
      f.push_back({"bytes", std::to_string(copy.bytes)});
      if (copy.already_present) f.push_back({"note", "already_present"});
    } else {
      f.push_back({"attempts", std::to_string(item.attempts)});
      if (!report.dropped) f.push_back({"next", FormatLocal(item.next_attempt)});
      f.push_back({"error", st.message()});
    }
    ctx.log->Write(ctx.clk(), "send", f);
  }
  TargetEvent ev{&target, "send", st.ok(), st, copy.snapshot_id};
  Report(ctx, job, item.kind, {ev}, std::nullopt);
  return report;
}

// What an escaped exception becomes: kInternal, with what it said.
Status UnexpectedError(const std::string& during, const std::string& what) {
  return Status::Internal(
      Tr("{}中に予期しないエラーが発生しました ({})。kura の不具合の可能性があります。販売元へご連絡ください",
         "unexpected error during {} ({}); this may be a bug in kura, please contact your vendor", during,
         EscapeText(what)));
}

// Runs one step of a job; an exception from it becomes a failed Status (see RunJob).
Status GuardedStep(const std::string& during, const std::function<Status()>& step) {
  try {
    return step();
  } catch (const std::exception& e) {
    return UnexpectedError(during, e.what());
  } catch (...) {
    return UnexpectedError(during, "unknown exception");
  }
}

// Records a run that ended in an escaped exception as a failed run: run log, status file
// (the warning on every target), failure hooks. The reporting is guarded again, so a
// fault in it still leaves the log line.
JobRunReport ReportUnexpectedFailure(const RunContext& ctx, const JobConfig& job, SnapshotKind kind,
                                     const Status& st) {
  JobRunReport report;
  report.job = job.name;
  report.kind = kind;
  report.status = st;
  RunInfo run;
  run.kind = std::string(KindName(kind));
  run.started = run.finished = ctx.clk().NowUnix();
  run.result = "failed";
  run.error = ErrorInfo{CodeName(st.code()), st.message()};
  std::vector<TargetEvent> events;
  for (const TargetConfig& t : job.targets) {
    events.push_back({&t, "backup", false, st, ""});
    report.targets.push_back({t.name, "failed", "", st});
  }
  if (ctx.log) {
    ctx.log->Write(ctx.clk(), "run",
                   {{"job", job.name}, {"kind", run.kind}, {"result", "failed"}, {"error", st.message()}});
  }
  Status reported = GuardedStep(L("失敗の記録", "recording the failure"), [&] {
    Report(ctx, job, kind, events, run);
    return Status::Ok();
  });
  if (!reported.ok() && ctx.log)
    ctx.log->Write(ctx.clk(), "status", {{"result", "failed"}, {"error", reported.message()}});
  return report;
}

}  // namespace

static Result<JobRunReport> RunJobUnguarded(const RunContext& ctx, const JobConfig& job, SnapshotKind kind,
                                            bool defer_send) {
  const AgentConfig& c = *ctx.config;
  if (!job.AllowsKind(kind)) {
    return Status::InvalidArgument(Tr("ジョブ {} には種類 {} が設定されていません (kinds を確認してください)",
                                      "job {} does not allow kind {} (see its kinds)", job.name,
                                      KindName(kind)));
  }
  KURA_ASSIGN_OR_RETURN(auto lock, LockJob(c.LockDir(), job.name));
  JobRunReport report;
  report.job = job.name;
  report.kind = kind;
  RunInfo run;
  run.kind = std::string(KindName(kind));
  run.started = ctx.clk().NowUnix();
  auto start = ctx.clk().NowSteady();

  std::unique_ptr<Repository> first;
  BackupResult backup;
  Status st;
  st = GuardedStep(Tr("ジョブ {} のバックアップ", "backup of job {}", job.name), [&]() -> Status {
    auto source = ctx.make_source ? ctx.make_source(job.source) : MakeSource(job.source);
    if (!source.ok()) return source.status();
    auto repo = OpenTarget(job.targets.front());
    if (!repo.ok()) return repo.status();
    first = std::move(*repo);
    {
      BackupOptions options;
      options.kind = kind;
      options.tags = {JobTag(job.name)};
      options.host = Host(c);
      options.clock = ctx.clock;
      options.progress = ctx.progress;
      options.skip_unreadable = job.skip_unreadable;
      auto r = RunBackup(*first, **source, options);
      if (!r.ok()) return r.status();
      backup = std::move(*r);
    }
    return Status::Ok();
  });
  if (!st.ok() && StopRequested()) {
    // kura was asked to stop (SIGINT/SIGTERM): nothing was committed; the run is logged,
    // and the next scheduled run makes the backup (no warning, no hooks, no sends).
    if (ctx.log) {
      ctx.log->Write(ctx.clk(), "run",
                     {{"job", job.name},
                      {"kind", run.kind},
                      {"result", "interrupted"},
                      {"error", StoppedStatus().message()}});
    }
    return StoppedStatus();
  }
  report.status = st;
  report.snapshot = backup.snapshot_id;
  report.files = backup.stats.files;
  report.bytes_read = backup.stats.bytes_read;
  report.bytes_stored = backup.stats.bytes_stored;
  report.warnings = backup.warnings;

  std::vector<TargetEvent> events;
  std::vector<SendItem> to_send;
  if (!st.ok()) {
    for (const TargetConfig& t : job.targets) {
      events.push_back({&t, "backup", false, st, ""});
      report.targets.push_back({t.name, "failed", "", st});
    }
    // The vault's missed-backup alarm learns of the failure now, not only at the next
    // expected time.
    ReportFailureToVaults(c, job, first.get(), kind, st.message(), run.started, ctx.clk());
  } else {
    events.push_back({&job.targets.front(), "backup", true, Status::Ok(), backup.snapshot_id});
    report.targets.push_back({job.targets.front().name, "written", backup.snapshot_id, Status::Ok()});
    // Queue before the first attempt: a crash during the send leaves the item to retry.
    SendQueue queue(c.QueueDir());
    int64_t now = ctx.clk().NowUnix();
    for (size_t i = 1; i < job.targets.size(); ++i) {
      const TargetConfig& t = job.targets[i];
      SendItem item;
      item.job = job.name;
      item.target = t.name;
      item.snapshot = backup.snapshot_id;
      item.kind = kind;
      item.night = defer_send || t.send == SendMode::kNight;
      item.enqueued = now;
      item.next_attempt = FirstAttemptTime(item.night, c.send_window, now);
      Status put = queue.Put(item);
      if (!put.ok()) {
        events.push_back({&t, "send", false, put, ""});
        report.targets.push_back({t.name, "failed", "", put});
        continue;
      }
      if (item.next_attempt <= now)
        to_send.push_back(item);
      else
        report.targets.push_back({t.name, "queued", "", Status::Ok()});
    }
    if (job.targets.front().apply_retention) {
      auto forgotten = RetainJobGenerations(*first, job.name, job.targets.front().retention,
                                            QueuedSnapshots(c, job.name), ctx.clk());
      if (!forgotten.ok()) {
        report.notes.push_back(Tr("世代の整理に失敗しました: {}", "applying retention failed: {}",
                                  forgotten.status().message()));
        // Not silence: the repository would grow until the disk is full. The backup is
        // saved; the failed retention raises the warning (status file, hooks, exit code).
        Status rs = forgotten.status().WithContext(
            L("バックアップは保存しましたが、古い世代の整理 (forget/prune) に失敗しました",
              "the backup was saved, but removing old generations (forget/prune) failed"));
        events.push_back({&job.targets.front(), "retention", false, rs, backup.snapshot_id});
        report.targets.push_back({job.targets.front().name, "warning", backup.snapshot_id, rs});
      } else if (*forgotten > 0) {
        report.notes.push_back(
            Tr("古い世代を {} 件削除しました", "removed {} old generation(s)", *forgotten));
      }
    }
  }
  report.seconds = std::chrono::duration<double>(ctx.clk().NowSteady() - start).count();
  run.finished = ctx.clk().NowUnix();
  run.result = st.ok() ? "ok" : "failed";
  run.snapshot = backup.snapshot_id;
  run.bytes_read = backup.stats.bytes_read;
  run.bytes_stored = backup.stats.bytes_stored;
  run.warnings = backup.warnings.size();
  if (!st.ok()) run.error = ErrorInfo{CodeName(st.code()), st.message()};
  if (ctx.log) {
    std::vector<std::pair<std::string, std::string>> f = {
        {"job", job.name},
        {"kind", run.kind},
        {"result", run.result},
        {"snapshot", backup.snapshot_id.empty() ? "-" : ShortId(backup.snapshot_id)},
        {"files", std::to_string(report.files)},
        {"bytes", std::to_string(report.bytes_read)},
        {"stored", std::to_string(report.bytes_stored)},
        {"duration", fmt::format("{:.1f}s", report.seconds)}};
    if (!st.ok()) f.push_back({"error", st.message()});
    if (!backup.warnings.empty()) f.push_back({"warnings", std::to_string(backup.warnings.size())});
    for (size_t i = 0; i < backup.warnings.size() && i < 20; ++i) {
      f.push_back({"warning", backup.warnings[i].path + ": " + backup.warnings[i].message});
    }
    for (const std::string& n : report.notes) f.push_back({"note", n});
    ctx.log->Write(ctx.clk(), "run", f);
  }
  Report(ctx, job, kind, events, run);

  for (const SendItem& item : to_send) {
    // Asked to stop after the backup was committed: the sends stay queued for the agent.
    if (StopRequested()) {
      return Status::Cancelled(
          Tr("中止の指示を受けました。スナップショット {} は保存済みです。送信は送信待ちに残し、次回行います",
             "asked to stop: snapshot {} is saved; its sends stay queued and are made later",
             ShortId(backup.snapshot_id)));
    }
    const TargetConfig* t = job.FindTarget(item.target);
    SendReport sr = AttemptSend(ctx, job, *t, item, first.get());
    report.targets.push_back({t->name, sr.status.ok() ? "sent" : "failed", sr.target_snapshot, sr.status});
  }
  return report;
}

static Result<SendReport> SendQueuedUnguarded(const RunContext& ctx, const std::string& item_id) {
  const AgentConfig& c = *ctx.config;
  SendQueue queue(c.QueueDir());
  KURA_ASSIGN_OR_RETURN(SendItem peek, queue.Get(item_id));
  const JobConfig* job = c.FindJob(peek.job);
  const TargetConfig* target = job ? job->FindTarget(peek.target) : nullptr;
  if (target == nullptr || target == &job->targets.front()) {
    return Status::NotFound(Tr("送信待ち {} のジョブ {} または保存先 {} が設定にありません",
                               "queue item {}: job {} or target {} is not configured", item_id, peek.job,
                               peek.target));
  }
  KURA_ASSIGN_OR_RETURN(auto lock, LockJob(c.LockDir(), job->name));
  // Re-read under the lock: another process may have sent it meanwhile.
  KURA_ASSIGN_OR_RETURN(SendItem item, queue.Get(item_id));
  return AttemptSend(ctx, *job, *target, item, nullptr);
}

// The job-level catch boundary (CONTRIBUTING.md, "Error model"): the one place where kura
// catches std::exception. Nothing kura calls should throw, but a nightly job must never end
// silently: an escaped exception used to abort `kura run` and `kura agent` with nothing in
// the log, no warning, no hook, and the later jobs of the tick never ran.
Result<JobRunReport> RunJob(const RunContext& ctx, const JobConfig& job, SnapshotKind kind, bool defer_send) {
  std::string what;
  try {
    return RunJobUnguarded(ctx, job, kind, defer_send);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  return ReportUnexpectedFailure(ctx, job, kind,
                                 UnexpectedError(Tr("ジョブ {} の実行", "running job {}", job.name), what));
}

Result<SendReport> SendQueued(const RunContext& ctx, const std::string& item_id) {
  std::string what;
  try {
    return SendQueuedUnguarded(ctx, item_id);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  Status st = UnexpectedError(Tr("送信待ち {} の送信", "sending queue item {}", item_id), what);
  if (ctx.log)
    ctx.log->Write(ctx.clk(), "send", {{"item", item_id}, {"result", "failed"}, {"error", st.message()}});
  return st;
}

}  // namespace kura
