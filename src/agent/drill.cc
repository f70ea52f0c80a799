#include "agent/drill.h"

#include <ctime>

#include "agent/job_lock.h"
#include "agent/snapshot_copy.h"
#include "agent/status_file.h"
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

void Record(const RunContext& ctx, const JobConfig& job, const DrillReport& r) {
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
  if (!r.status.ok()) info.error = ErrorInfo{CodeName(r.status.code()), r.status.message()};
  Status st = UpdateStatusFile(ctx.config->status_file, [&](StatusDocument& doc) {
    doc.updated = info.time;
    JobStatus& js = doc.jobs[job.name];
    js.label = job.Label();
    js.last_drill = info;
  });
  if (ctx.log) {
    std::vector<std::pair<std::string, std::string>> f = {
        {"job", job.name}, {"result", info.result}, {"snapshot", r.snapshot.empty() ? "-" : ShortId(r.snapshot)},
        {"into", r.restored_into}, {"tables", std::to_string(info.tables)}, {"rows", std::to_string(info.rows)},
        {"files", std::to_string(info.files)}, {"duration", fmt::format("{:.1f}s", r.seconds)}};
    if (!r.status.ok()) f.push_back({"error", r.status.message()});
    if (!r.drop_status.ok()) f.push_back({"cleanup_error", r.drop_status.message()});
    if (!st.ok()) f.push_back({"status_file_error", st.message()});
    ctx.log->Write(ctx.clk(), "drill", f);
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
  std::unique_ptr<Repository> repo;
  Snapshot latest;
  {
    auto opened = OpenTarget(job.targets.front());
    if (opened.ok()) repo = std::move(*opened);
    else st = opened.status();
  }
  if (st.ok()) {
    auto snaps = JobSnapshots(*repo, job.name);
    if (!snaps.ok()) st = snaps.status();
    else if (snaps->empty()) st = Status::NotFound(Tr("ジョブ {} のスナップショットがまだありません", "job {} has no snapshot yet", job.name));
    else latest = snaps->back();
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
    if (st.ok()) st = RestoreSnapshotToDatabase(*repo, latest, target, &r.restore);
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
      auto counts = RestoreSnapshotToDirectory(*repo, latest, dir);
      if (counts.ok()) r.files = *counts;
      else st = counts.status();
    }
    if (!keep) {
      RemoveTree(dir);
      r.dropped = !PathExists(dir);
    }
  }
  r.status = st;
  r.seconds = std::chrono::duration<double>(ctx.clk().NowSteady() - start).count();
  Record(ctx, job, r);
  return r;
}

}  // namespace kura
