// Checking a repository.
//
// Structure (default): every pack header parses and matches the object's size, every
// snapshot's plaintext and sealed metadata authenticate, and every blob a snapshot
// references is in some intact pack. With read_data, additionally every pack is read whole,
// its SHA-256 compared with its name, and every blob decrypted, decompressed and its ID
// recomputed. The report says which snapshots are damaged and which are fine.
#pragma once

#include <string>
#include <vector>

#include "engine/progress.h"
#include "kura/status.h"
#include "repo/repository.h"

namespace kura {

struct VerifyOptions {
  bool read_data = false;
  // Check only these snapshots (full IDs) and the packs holding their data. Empty: all.
  std::vector<std::string> snapshots;
  size_t threads = 0;
  ProgressSink* progress = nullptr;
};

struct DamagedObject {
  std::string name;
  std::string problem;
};

struct SnapshotCheck {
  std::string id;
  SnapshotKind kind = SnapshotKind::kDaily;
  int64_t time = 0;
  bool ok = true;
  std::string problem;  // first problem found
  uint64_t missing_blobs = 0;
};

struct VerifyReport {
  uint64_t packs = 0;
  uint64_t pack_bytes = 0;
  uint64_t blobs_checked = 0;
  uint64_t unreferenced_packs = 0;  // harmless (left by an interrupted backup); prune removes them
  std::vector<DamagedObject> damaged_packs;
  std::vector<DamagedObject> damaged_snapshots;  // unreadable snapshot objects
  std::vector<SnapshotCheck> snapshots;
  bool ok() const;
};

// Errors only for failures that stop the check itself (store unreachable, lock held);
// damage found is in the report.
Result<VerifyReport> Verify(Repository& repo, const VerifyOptions& options);

}  // namespace kura
