// Is the backup being made? A failed run raises its own warning (status_file.h); this
// finds the silent case the office must also see (seed 000 §2.2(3)): the agent is not
// running, the PC was off, the timer was removed, the monthly closing never ran. Pure
// function of the configuration, the status file and a Clock (tests use FakeClock).
//
// Per job with a schedule (grace = JobSchedule::grace_hours):
// * no status file at all while jobs are configured: one warning (nothing was ever
//   recorded);
// * a job the status file does not know: it has never run;
// * daily: overdue when the last successful daily or monthly run (a monthly run stands for
//   the daily) is more than 24 h + grace ago; with no success yet, 24 h + grace after the
//   job was first recorded;
// * monthly: overdue when the most recent monthly slot (monthly_day at monthly_time) is
//   more than grace ago, the job was known before that slot, and no monthly run has
//   succeeded since it.
// A job whose first target already has an active failure warning gets no overdue warning
// (the failure already says what is wrong). Manual runs never count for the schedule.
// Described for operators in docs/agent.md (`kura status`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/job_config.h"
#include "agent/status_file.h"
#include "util/clock.h"

namespace kura {

struct OverdueWarning {
  std::string job;  // "" for the missing status file
  std::string job_label;
  std::string reason;  // "no_status_file" | "never" | "daily" | "monthly"
  int64_t due = 0;     // when the backup should have succeeded by (incl. grace); 0: unknown
  int64_t last_success = 0;
  std::string message_ja;
  std::string message_en;
};

// `doc` is the status file's content, or nullptr when there is no status file.
std::vector<OverdueWarning> FindOverdue(const AgentConfig& config, const StatusDocument* doc,
                                        const Clock& clock);

}  // namespace kura
