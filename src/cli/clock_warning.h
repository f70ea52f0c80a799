// The warning `kura backup`, `kura snapshots` and `kura forget` print when this computer's
// clock is behind the newest snapshot (issue 6 §3): either the clock is wrong now, or it was
// wrong (set to 2036, say) when that snapshot was made. Such snapshots are never `latest`
// and never count as the newest generation (repo/retention.h).
#pragma once

#include <vector>

#include "repo/snapshot.h"
#include "util/clock.h"

namespace kura::cli {

// Prints one warning line to stderr naming the newest snapshot whose time is later than
// now + kFutureToleranceSeconds, and how many such snapshots there are. Returns whether it
// warned. Prints nothing when no snapshot is in the future.
bool WarnIfClockBehind(const std::vector<Snapshot>& snapshots, const Clock& clock);

}  // namespace kura::cli
