// The alarm tick (docs/retention.md §5, §6): once a minute kura-vault serve reads its
// clock against the persisted clock guard, judges every repository's state (site_state.h)
// and raises or clears its alarm rows, runs retention (an accepted generation that has
// settled may now push an older one out) and checks each tenant's soft quota. Raising and
// clearing are audited by the catalog.
//
// Thread-safety: as the Catalog's; one AlarmTickMemory per process, used by one caller.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kura/status.h"
#include "util/clock.h"
#include "util/i18n.h"
#include "vault/catalog.h"

namespace kura::vault {

// Each repository's overdue grace is its site's or tenant's (Catalog::RepositoryFacts::policy).
struct AlarmTickOptions {
  ClockGuardPolicy clock;  // Default: forward jumps over 1 day, backward over 2 s
};

// What one process remembers between ticks: the monotonic time of its last reading, so a
// forward gap the monotonic clock confirms (an idle vault) is no jump. Empty at start-up,
// so a vault stopped for more than a day starts frozen (docs/retention.md §6).
struct AlarmTickMemory {
  std::optional<std::chrono::steady_clock::time_point> last_steady;
  int64_t last_wall_ms = 0;
};

struct AlarmTickReport {
  size_t repositories = 0;
  size_t raised = 0;
  size_t cleared = 0;
  size_t evicted = 0;
  bool clock_frozen = false;
};

// REQUIRES: `memory` (may be null: every call is then a first reading) is this process's.
Result<AlarmTickReport> RunAlarmTick(Catalog& catalog, const Clock& clock, AlarmTickMemory* memory = nullptr,
                                     const AlarmTickOptions& options = {});

// Text the catalog stores for people in both languages (Japanese line, then English).
std::string LocalText(std::string_view stored, Language lang);

}  // namespace kura::vault
