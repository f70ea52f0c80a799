// The agent's scheduling decisions as pure functions of (configuration, state, now), so
// they are tested with a fake clock and no threads (tests/agent/schedule_test.cc).
//
// Calendar times are local time (the process's time zone: JST on site machines).
//
// Daily: a job is due when the most recent daily slot (today's time if it has passed,
// else yesterday's) has not been handled. This is also the catch-up of a standalone PC
// that was off at night: started at 08:30 without today's 02:00 run, it runs at once; off
// for two weeks, it runs once, not fourteen times.
//
// Monthly: the same with the most recent monthly slot (day 1..28, or the last day of the
// month). When a job is first seen, its current monthly slot counts as handled, so
// installing kura on the 21st does not make a "monthly" generation of last month. When a
// monthly and a daily run are due in the same tick, the monthly run stands for both (one
// dump, not two).
//
// A failed scheduled run is retried with backoff until JobConfig::run_max_attempts
// attempts; a run refused because the job was busy (kLocked) is tried again a minute later
// without counting. The state is saved before a run starts, so an agent killed mid-run
// retries the slot when it comes back.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/job_config.h"
#include "kura/status.h"

namespace kura {

struct LocalDate {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
};
LocalDate LocalDateOf(int64_t unix_seconds);
// The Unix time of `t` on `d` in local time.
int64_t LocalTimeAt(const LocalDate& d, const TimeOfDay& t);
int DaysInMonth(int year, int month);

// The latest slot at or before `now`, and the first one after it.
int64_t LastDailySlot(const TimeOfDay& t, int64_t now);
int64_t NextDailySlot(const TimeOfDay& t, int64_t now);
// `day` 1..28, or 0 for the last day of the month.
int64_t LastMonthlySlot(int day, const TimeOfDay& t, int64_t now);
int64_t NextMonthlySlot(int day, const TimeOfDay& t, int64_t now);

bool InSendWindow(const SendWindow& w, int64_t now);
// `now` when inside the window, else the start of the next window.
int64_t NextSendWindowStart(const SendWindow& w, int64_t now);
// Wait before attempt number `attempts`+1 after `attempts` failures: initial, doubling,
// capped at max (60 s, 120 s, 240 s, ... 1 h by default).
int64_t BackoffSeconds(const RetryPolicy& p, int attempts);

struct SlotState {
  int64_t slot = 0;   // the slot being (or last) handled; 0: none yet
  bool done = false;  // handled: succeeded or gave up
  int attempts = 0;
  int64_t next_attempt = 0;
};

struct JobScheduleState {
  bool initialized = false;
  SlotState daily;
  SlotState monthly;
};

struct ScheduleState {
  std::map<std::string, JobScheduleState> jobs;
};

inline constexpr int kScheduleStateVersion = 1;

// state_dir/schedule.json (docs/status-file.md, "Other state files"); a missing file is an empty
// state. Never throws. Errors: kCorruption (not JSON, or a field of the wrong type; the
// message names the file and the field), kUnsupported (newer version), reading errors.
// The agent answers kCorruption by moving the file to <path>.damaged and starting from an
// empty state (agent_loop.h), so a damaged file never stops the backups.
Result<ScheduleState> LoadScheduleState(const std::string& path);
// Parses the file's text; `path` is for messages.
Result<ScheduleState> ParseScheduleState(std::string_view text, const std::string& path);
Status SaveScheduleState(const std::string& path, const ScheduleState& state);

// What the queue holds, as the scheduler needs it.
struct QueuedSend {
  std::string id;
  std::string job;
  int64_t next_attempt = 0;
  bool night = false;
  int attempts = 0;
};

struct AgentAction {
  enum class Type { kRun, kSend };
  Type type = Type::kRun;
  std::string job;
  SnapshotKind kind = SnapshotKind::kDaily;  // kRun
  std::string item;                          // kSend: queue item id
};

struct Decision {
  std::vector<AgentAction> actions;  // runs first (in job order), then sends (oldest first)
  ScheduleState state;               // save this before executing the actions
  int64_t next_wake = 0;             // when something may next be due
};

Decision Decide(const AgentConfig& config, const ScheduleState& state, const std::vector<QueuedSend>& queue,
                int64_t now);

enum class RunOutcome { kOk, kFailed, kLocked };
// Records how a run started by Decide() ended. A monthly run also settles the daily slot
// that was due with it.
void RecordRunOutcome(ScheduleState& state, const JobConfig& job, SnapshotKind kind, RunOutcome outcome,
                      const RetryPolicy& retry, int64_t now);

}  // namespace kura
