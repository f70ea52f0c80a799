// The clock guard: retention and deletion stop when the vault's wall clock jumps
// (issue 7 §4; docs/retention.md, "Clock jumps"). Pure functions; the caller persists the
// state (catalog) and reads the clock (util/clock.h). Thread-safe.
//
// Retention counts on the vault's receive time, so a clock set back would make new
// generations look old, and a clock set forward would age every generation out at once.
// The guard compares each reading with the last time the vault saw:
//   - backwards by more than backward_tolerance_ms: a jump;
//   - forwards by more than max_forward_ms (one day): a jump, unless the caller's
//     monotonic clock confirms that the same time really passed in this process (the vault
//     was running and idle);
// and a jump freezes retention and deletion and raises an alarm until an operator
// acknowledges. A legitimate long downtime cannot be told from a jump by the wall clock
// alone (the monotonic clock restarts with the process), so after a stop of more than a
// day the vault starts frozen and the operator acknowledges it, comparing the gap shown
// with the outage they know of (and the host's NTP state, G-AUD-08).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/i18n.h"
#include "vault/calendar.h"

namespace kura::vault {

struct ClockGuardPolicy {
  // Forward gaps up to this are normal (a short stop, a busy night). Default: 1 day.
  int64_t max_forward_ms = kMillisPerDay;
  // Backward steps up to this are NTP corrections, not jumps. Default: 2 s.
  int64_t backward_tolerance_ms = 2000;
  // Wall and monotonic elapsed time may differ this much and still agree. Default: 1 min.
  int64_t steady_tolerance_ms = 60'000;
};

enum class ClockJump { kNone, kBackward, kForward };
// "none" | "backward" | "forward".
std::string_view ClockJumpName(ClockJump jump);

// Persisted by the caller (docs/retention.md, "Clock jumps", lists the fields).
struct ClockGuardState {
  int64_t last_seen_ms = 0;  // the latest wall time accepted; 0: never (a new vault)
  bool frozen = false;
  ClockJump jump = ClockJump::kNone;  // the jump that froze it
  int64_t jump_from_ms = 0;           // last_seen_ms when it froze
  int64_t jump_to_ms = 0;             // the reading that froze it
};

struct ClockReading {
  int64_t wall_ms = 0;
  // Monotonic time elapsed since the previous reading *in this process*; nullopt for the
  // first reading after start-up.
  std::optional<int64_t> steady_elapsed_ms;
};

struct ClockObservation {
  ClockGuardState state;      // to persist
  bool alarm_raised = false;  // this reading froze the guard (raise the alarm once)
};

// REQUIRES: readings of one process are passed in order.
ClockObservation ObserveClock(const ClockGuardState& state, const ClockReading& reading,
                              const ClockGuardPolicy& policy = {});

// An operator acknowledged the jump (audited by the caller): unfrozen, and the current
// reading becomes the last time seen. A guard that is not frozen is returned unchanged.
ClockGuardState AcknowledgeClock(const ClockGuardState& state, int64_t wall_ms);

// Retention may evict and the GC may delete only when this is true.
inline bool DeletionAllowed(const ClockGuardState& state) {
  return !state.frozen;
}

// One line for the alarm and `kura-vault status`, with the jump and what to do.
std::string DescribeClockGuard(const ClockGuardState& state, const FixedZone& zone, Language lang);

}  // namespace kura::vault
