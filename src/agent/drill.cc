#include "agent/drill.h"

#include <ctime>

#include "agent/job_lock.h"
#include "agent/status_file.h"
#include "engine/backup.h"
#include "engine/snapshot_copy.h"
#include "engine/verify.h"
#include "repo/integrity_record.h"
#include "util/fs.h"
#include "util/i18n.h"

namespace kura {

std::string DrillDatabaseName(const std::string& prefix, const std::string& job, int64_t now) {
  std::time_t t = static_cast<std::time_t>(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
  std::string name = prefix + job + "_" + stamp;
  for (char& c : name) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name.substr(0, 63);  // PostgreSQL's identifier limit
}

namespace {

// Why the drill failed, in a few words for the warning (the details are in `error`).
std::pair<std::string, std::string> Reason(const DrillReport& r) {
  if (r.damaged_part == "repository") {
    return {"保存されたバックアップのデータが壊れています (次回のバックアップで保存し直します)",
            "the stored backup data is damaged (the next backup stores it again)"};
  }
  if (r.damaged_part == "source") {
    return {"バックアップ元のデータベースが、バックアップした時点で既に壊れていました",
            "the source database was already damaged when it was backed up"};
  }
  return {"バックアップから復元できませんでした", "the backup could not be restored"};
}

}  // namespace

std::vector<FiredHook> RecordDrillOutcome(const RunContext& ctx, const JobConfig& job, const DrillReport& r) {
  const AgentConfig& c = *ctx.config;
  DrillInfo info;
  info.time = ctx.clk().NowUnix();
  info.result = r.status.ok() ? "ok" : "failed";
  info.target = r.target;
  info.snapshot = r.snapshot;
  info.restored_into = r.restored_into;
  info.tables = static_cast<int64_t>(r.restore.tables.size());
  info.rows = r.restore.TotalRows();
  info.files = r.files.files;
  info.integrity_checked = r.restore.integrity_checked;
  info.seconds = r.seconds;
  info.damaged_part = r.damaged_part;
  info.damaged_blobs = r.damaged_blobs;
  if (!r.status.ok()) info.error = ErrorInfo{CodeName(r.status.code()), r.status.message()};
  const TargetConfig* target = job.FindTarget(r.target);
  std::string target_label = target && !target->label.empty() ? target->label : r.target;
  std::vector<FiredHook> fired;
  HookEvent ev;
  ev.job = job.name;
  ev.job_label = job.Label();
  ev.target = r.target;
  ev.target_label = target_label;
  ev.action = "drill";
  ev.snapshot = r.snapshot;
  ev.time = info.time;
  ev.guidance_ja = c.guidance_ja;
  Status st = UpdateStatusFile(c.status_file, [&](StatusDocument& doc) {
    doc.updated = info.time;
    if (doc.host.empty()) doc.host = c.host.empty() ? LocalHostname() : c.host;
    JobStatus& js = doc.jobs[job.name];
    js.label = job.Label();
    if (js.last_drill) {
      info.warning = js.last_drill->warning;
      info.last_ok_snapshot = js.last_drill->last_ok_snapshot;
      info.last_ok_time = js.last_drill->last_ok_time;
    }
    ev.host = doc.host;
    fired.clear();
    // The retention rule "never remove the last generation a drill or verify found intact
    // while newer ones are damaged" reads this record: last_ok_snapshot is the newest
    // intact one, and a failed drill with damaged_part "repository" marks `snapshot` as
    // damaged. (The retention helper's own intact/damaged record hooks in here.)
    if (r.status.ok()) {
      info.last_ok_snapshot = r.snapshot;
      info.last_ok_time = info.time;
      if (info.warning.active) {
        ev.event = "clear";
        ev.result = "ok";
        ev.since = info.warning.since;
        std::string when = FormatLocal(info.time).substr(0, 16);
        ev.message_ja =
            fmt::format("復元訓練「{}」(保存先: {}) は成功しました ({})。", job.Label(), target_label, when);
        ev.message_en = fmt::format("The restore drill of \"{}\" (target: {}) succeeded ({}).", job.Label(),
                                    target_label, when);
        fired.push_back({"clear", ev});
      }
      info.warning = WarningInfo{};
    } else {
      if (!info.warning.active) {
        info.warning.active = true;
        info.warning.since = info.time;
        info.warning.failures = 0;
      }
      ++info.warning.failures;
      auto [why_ja, why_en] = Reason(r);
      std::string when = FormatLocal(info.warning.since).substr(0, 16);
      info.warning.message_ja = fmt::format("復元訓練「{}」(保存先: {}) が {} から失敗しています: {}。{}",
                                            job.Label(), target_label, when, why_ja, c.guidance_ja);
      info.warning.message_en =
          fmt::format("The restore drill of \"{}\" (target: {}) has been failing since {}: {}. {}",
                      job.Label(), target_label, when, why_en, c.guidance_en);
      ev.event = "failure";
      ev.result = "failed";
      ev.error = r.status.message();
      ev.error_code = CodeName(r.status.code());
      ev.since = info.warning.since;
      ev.message_ja = info.warning.message_ja;
      ev.message_en = info.warning.message_en;
      fired.push_back({"failure", ev});
    }
    js.last_drill = info;
  });
  if (ctx.log) {
    std::vector<std::pair<std::string, std::string>> f = {
        {"job", job.name},
        {"result", info.result},
        {"snapshot", r.snapshot.empty() ? "-" : ShortId(r.snapshot)},
        {"into", r.restored_into},
        {"tables", std::to_string(info.tables)},
        {"rows", std::to_string(info.rows)},
        {"files", std::to_string(info.files)},
        {"duration", fmt::format("{:.1f}s", r.seconds)}};
    if (!r.status.ok()) f.push_back({"error", r.status.message()});
    if (!r.damaged_part.empty()) f.push_back({"damaged", r.damaged_part});
    if (r.damaged_blobs > 0) f.push_back({"damaged_blobs", std::to_string(r.damaged_blobs)});
    if (!r.drop_status.ok()) f.push_back({"cleanup_error", r.drop_status.message()});
    if (!st.ok()) f.push_back({"status_file_error", st.message()});
    ctx.log->Write(ctx.clk(), "drill", f);
  }
  return fired;
}

namespace {

// After a failed restore: reads the snapshot's packs and checks every blob, as `kura verify
// --read-data` does, which also excludes the damaged blobs from dedup in the local cache
// (so the next backup stores that data again). Tells the repository's damage apart from a
// source that was broken when it was backed up.
void AssessDamage(const RunContext& ctx, Repository& repo, const JobConfig& job, DrillReport& r) {
  VerifyOptions vo;
  vo.read_data = true;
  vo.snapshots = {r.snapshot};
  auto v = Verify(repo, vo);
  if (!v.ok()) {
    if (ctx.log)
      ctx.log->Write(ctx.clk(), "drill",
                     {{"job", job.name}, {"check", "failed"}, {"error", v.status().message()}});
    return;
  }
  uint64_t missing = 0;
  for (const SnapshotCheck& s : v->snapshots) missing += s.missing_blobs;
  if (missing > 0 || !v->damaged_packs.empty()) {
    r.damaged_part = "repository";
    r.damaged_blobs = missing;
    r.status = Status::Corruption(Tr(
        "保存先 {} のスナップショット {} のデータ {} 個が壊れているため復元できません ({})。"
        "壊れたデータは今後使わないよう記録したので、次回のバックアップで保存し直されます。"
        "その後 kura drill {} をもう一度実行し、kura verify --read-data -r {} で保存先全体も確認してください",
        "{2} blob(s) of snapshot {1} in target {0} are damaged, so it cannot be restored ({3}); they were "
        "marked "
        "so that the next backup stores that data again. Run kura drill {4} again after it, and check the "
        "whole "
        "target with kura verify --read-data -r {5}",
        r.target, ShortId(r.snapshot), missing, r.status.message(), job.name,
        job.targets.front().repository));
  } else if (r.status.code() == Code::kCorruption && r.method == "database") {
    // Every blob is intact, yet the restored database failed its check: what was backed up
    // was already broken. Blaming the repository would send the office the wrong way.
    r.damaged_part = "source";
    r.status = Status::SourceFailed(
        Tr("保存先のデータは無傷ですが、復元したデータベースが検査に通りません。バックアップした時点で元のデ"
           "ータベース ({}) が"
           "既に壊れていました: {}。アプリケーションの開発元に元のデータベースの修復を依頼してください",
           "the target's data is intact, but the restored database fails its check: the source database ({}) "
           "was "
           "already damaged when it was backed up: {}. Ask the application's vendor to repair the source "
           "database",
           job.source.path.empty() ? job.source.database : job.source.path, r.status.message()));
  }
}

}  // namespace

Result<DrillReport> RunDrill(const RunContext& ctx, const JobConfig& job, bool keep) {
  const AgentConfig& c = *ctx.config;
  KURA_ASSIGN_OR_RETURN(auto lock, LockJob(c.LockDir(), job.name));
  DrillReport r;
  r.job = job.name;
  r.target = job.targets.front().name;
  auto start = ctx.clk().NowSteady();
  int64_t now = ctx.clk().NowUnix();
  std::string name = DrillDatabaseName(c.drill.database_prefix, job.name, now);
  Status st;
  bool restore_tried = false;
  std::unique_ptr<Repository> repo;
  Snapshot latest;
  {
    auto opened = OpenTarget(job.targets.front());
    if (opened.ok())
      repo = std::move(*opened);
    else
      st = opened.status();
  }
  if (st.ok()) {
    auto snaps = JobSnapshots(*repo, job.name);
    if (!snaps.ok())
      st = snaps.status();
    else if (snaps->empty())
      st = Status::NotFound(
          Tr("ジョブ {} のスナップショットがまだありません", "job {} has no snapshot yet", job.name));
    else
      latest = snaps->back();
  }
  r.snapshot = latest.id;
  const SourceConfig& s = job.source;
  bool database = (s.kind == "postgresql" && !s.cluster) || s.kind == "mysql" || s.kind == "mariadb" ||
                  s.kind == "sqlserver" || s.kind == "sqlite";
  DbRestoreTarget target;
  std::string dir = c.drill.scratch_dir + "/" + name;
  if (st.ok() && database) {
    r.method = "database";
    target.kind = s.kind;
    target.conn = ConnectionOf(s);
    target.no_owner = true;
    target.maintenance_db = s.maintenance_db;
    target.temp_dir = s.temp_dir;
    target.server_backup_dir = s.server_backup_dir;
    target.local_backup_dir = s.local_backup_dir;
    target.trust_server_certificate = s.trust_server_certificate;
    if (s.kind == "sqlite") {
      st = MakeDirs(dir, 0700);
      target.path = dir + "/drill.db";
      r.restored_into = target.path;
    } else {
      target.database = name;
      r.restored_into = name;
    }
    if (st.ok()) {
      st = RestoreSnapshotToDatabase(*repo, latest, target, &r.restore);
      restore_tried = true;
    }
    if (!keep) {
      r.drop_status = DropRestoredDatabase(target);
      if (s.kind == "sqlite") RemoveTree(dir);
      r.dropped = r.drop_status.ok();
    }
  } else if (st.ok()) {
    r.method = "directory";
    r.restored_into = dir;
    st = MakeDirs(c.drill.scratch_dir, 0700);
    if (st.ok()) {
      restore_tried = true;
      auto counts = RestoreSnapshotToDirectory(*repo, latest, dir);
      if (counts.ok())
        r.files = *counts;
      else
        st = counts.status();
    }
    if (!keep) {
      RemoveTree(dir);
      r.dropped = !PathExists(dir);
    }
  }
  r.status = st;
  if (!st.ok() && restore_tried) AssessDamage(ctx, *repo, job, r);
  // Retention's record of intact and damaged generations (docs/integrity-record.md): a
  // drill that restored and checked every file proved its snapshot intact; one whose blobs
  // are damaged marks it damaged, so retention keeps the last intact generation.
  if (!r.snapshot.empty() && (r.status.ok() || r.damaged_part == "repository")) {
    Status recorded = r.status.ok()
                          ? RecordVerifiedIntact(*repo, {r.snapshot}, "drill", ctx.clk())
                          : RecordDamaged(*repo, {r.snapshot}, "drill", r.status.message(), ctx.clk());
    if (!recorded.ok() && ctx.log) {
      ctx.log->Write(ctx.clk(), "drill",
                     {{"job", job.name}, {"integrity_record", "failed"}, {"error", recorded.message()}});
    }
  }
  r.seconds = std::chrono::duration<double>(ctx.clk().NowSteady() - start).count();
  FireHooks(ctx, job, RecordDrillOutcome(ctx, job, r));
  return r;
}

}  // namespace kura
