// `kura agent`: the long-running service. Each tick it asks Decide() (schedule.h) what is
// due — scheduled and caught-up runs, then queued sends whose time has come — and does it,
// one action at a time, so the same job never runs twice at once (the job lock also keeps
// a `kura run` started by hand out). Between ticks it sleeps until the next thing may be
// due, at most a minute. Only one agent runs per state directory (<state_dir>/agent.lock).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/job_config.h"
#include "agent/run_log.h"
#include "engine/progress.h"
#include "kura/status.h"
#include "util/clock.h"

namespace kura {

struct AgentOptions {
  const Clock* clock = nullptr;  // Default: SystemClock()
  // Sleeps up to `seconds`; may return early. Default: real sleep, waking on *stop.
  std::function<void(int64_t seconds)> sleep;
  const std::atomic<bool>* stop = nullptr;  // set (by SIGTERM) to stop after the current action
  bool once = false;                        // one tick, then return
  RunLog* log = nullptr;
  ProgressSink* progress = nullptr;
  // Makes each job's source. Default: MakeSource; tests inject faulty sources.
  std::function<Result<std::unique_ptr<Source>>(const SourceConfig&)> make_source;
};

struct TickReport {
  int runs = 0;
  int runs_failed = 0;
  int sends = 0;
  int sends_failed = 0;
  int64_t next_wake = 0;
  std::vector<std::string> lines;  // one per action, for people
};

// One tick: decide, save the schedule state, act. The caller holds the agent lock. A
// damaged schedule file is moved to <file>.damaged, logged and rebuilt; every due job
// runs even when an earlier one fails (RunJob never throws), and each failed run counts
// as an attempt.
Result<TickReport> AgentTick(const AgentConfig& config, const AgentOptions& options);

// Takes the agent lock (kLocked when another agent runs), then ticks until *stop (or
// once). Returns the last tick's failure only when it stops the agent from working
// (state directory unwritable); run and send failures are reported through the status
// file and the log.
Status RunAgent(const AgentConfig& config, const AgentOptions& options, TickReport* last = nullptr);

}  // namespace kura
