// What the vault's pure decisions (retention_rules.h, anomaly.h) know about one generation
// of a repository: the catalog's row for a committed snapshot, with no content.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "repo/snapshot_kind.h"

namespace kura::vault {

// Where a committed snapshot stands with the vault's checks (docs/retention.md, "States").
enum class GenerationState {
  kPendingCheck,  // committed, the anomaly checks have not run yet: never counted
  kAccepted,      // passed the checks: counted by retention, part of the site's history
  kAnomalous,     // failed the checks (the site is on hold): never counted, never a baseline
  kDamaged,       // scrub found a missing or corrupt object it needs: never counted
};

// "pending_check" | "accepted" | "anomalous" | "damaged" (catalog and --json).
std::string_view GenerationStateName(GenerationState state);
std::optional<GenerationState> ParseGenerationState(std::string_view name);
// A generation's kind is named as in the repository (repo/snapshot_kind.h KindName).

struct Generation {
  std::string id;  // snapshot ID (64 hex)
  SnapshotKind kind = SnapshotKind::kDaily;
  int64_t received_ms = 0;  // the vault's receive time (never the client's)
  GenerationState state = GenerationState::kPendingCheck;
  uint64_t bytes = 0;      // total size the snapshot refers to (plaintext part)
  uint64_t new_bytes = 0;  // bytes of packs first stored for this snapshot
  uint64_t chunks = 0;     // number of blobs it refers to
  // Client-declared compression ratio (uncompressed / stored, >= 1). 0: not declared.
  double compression_ratio = 0;
};

}  // namespace kura::vault
