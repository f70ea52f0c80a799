#include "agent/vault_send.h"

#include <cstdlib>

#include "agent/vault_site.h"
#include "engine/send_packs.h"
#include "util/i18n.h"

namespace kura {
namespace {

RunReport Report(const JobConfig& job, SnapshotKind kind, int64_t started, int64_t finished) {
  RunReport r;
  r.kind = kind;
  r.started = started;
  r.finished = finished;
  const char* tz = std::getenv("TZ");
  r.schedule_timezone = tz != nullptr && *tz != '\0' && *tz != ':' ? tz : "Asia/Tokyo";
  if (job.schedule.daily) {
    r.schedule_time = FormatTimeOfDay(*job.schedule.daily);
    r.schedule_days = "daily";
  } else if (job.schedule.monthly_day) {
    r.schedule_time = FormatTimeOfDay(job.schedule.monthly_time);
    r.schedule_days = "monthly";
  }
  return r;
}

RetryOptions OneTry() {
  RetryOptions r;
  r.max_attempts = 1;
  return r;
}

}  // namespace

Result<CopyResult> SendToVault(const AgentConfig& config, const JobConfig& job, const TargetConfig& target,
                               Repository& source, const std::string& snapshot, SnapshotKind kind,
                               const Clock& clock, ProgressSink* progress) {
  const int64_t started = clock.NowUnix();
  KURA_ASSIGN_OR_RETURN(std::unique_ptr<VaultClient> vault,
                        OpenVault(config.state_dir, target.vault, source.id(), job.name));
  Result<SendResult> sent = SendSnapshot(source, snapshot, *vault, progress);
  RunReport run = Report(job, kind, started, clock.NowUnix());
  if (!sent.ok()) {
    run.success = false;
    run.message = sent.status().message();
    auto quick = OpenVault(config.state_dir, target.vault, source.id(), job.name, OneTry());
    if (quick.ok()) (void)(*quick)->ReportRun(run);
    return sent.status();
  }
  run.success = true;
  run.snapshot = sent->snapshot_id;
  // The snapshot is offsite; a lost report only delays the vault's view of the schedule.
  (void)vault->ReportRun(run);
  CopyResult out;
  out.snapshot_id = sent->snapshot_id;
  out.already_present = !sent->commit.created;
  out.bytes = sent->bytes_uploaded;
  out.bytes_stored = sent->bytes_uploaded;
  return out;
}

void ReportFailureToVaults(const AgentConfig& config, const JobConfig& job, Repository* source,
                           SnapshotKind kind, const std::string& message, int64_t started,
                           const Clock& clock) {
  if (source == nullptr) return;
  for (const TargetConfig& t : job.targets) {
    if (!t.is_vault()) continue;
    auto vault = OpenVault(config.state_dir, t.vault, source->id(), job.name, OneTry());
    if (!vault.ok()) continue;
    RunReport run = Report(job, kind, started, clock.NowUnix());
    run.message = message;
    (void)(*vault)->ReportRun(run);
  }
}

}  // namespace kura
