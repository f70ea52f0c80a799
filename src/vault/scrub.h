// Scrub in kura-vault (docs/vault-gc-scrub.md §2): every stored object (packs, snapshots,
// key slots, the config) re-hashed against its SHA-256 name, no key needed. Each run
// checks a rotating sample, going on where the last one stopped (the catalog's
// scrub_cursor), sized so that everything is covered once per period, and stops at its
// time budget. A damaged or missing object is recorded with the snapshots it affects and
// audited ("scrub.damage"); a recorded one found whole again is cleared ("scrub.repair");
// the run itself is audited ("scrub.run").
//
// Thread-safety: as gc.h.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kura/status.h"
#include "util/clock.h"
#include "vault/audit.h"
#include "vault/catalog.h"

namespace kura::vault {

struct ScrubOptions {
  // Longest a run takes (it stops after the object in hand). Default: 600 s
  // ([scrub] budget_seconds).
  int64_t budget_seconds = 600;
  // Everything is checked once within this period. Default: 30 days ([scrub] period_days).
  int64_t period_days = 30;
  // Check every object now, whatever the budget; the cursor stays where it is.
  bool all = false;
  // True: stop after the object in hand, as when the budget ends (kura-vault serve
  // stopping). May be empty.
  std::function<bool()> stop;
};

struct ScrubFinding {
  std::string tenant;
  std::string repo_id;
  std::string kind;  // "pack", "snapshot", "key", "config"
  std::string name;
  std::string detail;  // "missing", "sha256 mismatch", "truncated", "unreadable: ..."
  std::vector<std::string> affected_snapshots;
  bool new_damage = false;  // first found by this run
};

struct ScrubReport {
  uint64_t objects_total = 0;
  uint64_t bytes_total = 0;
  uint64_t objects_checked = 0;
  uint64_t bytes_checked = 0;
  bool budget_exhausted = false;  // stopped by the budget before its share was done
  std::vector<ScrubFinding> damage;
  // Objects recorded damaged that this run found whole (put back, or repaired by a
  // re-upload the record missed): their damage is cleared ("scrub.repair").
  std::vector<ScrubFinding> repaired;
};

// One run. `clock` gives the budget (NowSteady) and the cursor's time.
// Errors: the catalog's; unreadable objects are findings, not errors.
Result<ScrubReport> RunScrub(Catalog& catalog, const std::string& objects_dir, const Clock& clock,
                             const ScrubOptions& options, const AuditActor& actor);

}  // namespace kura::vault
