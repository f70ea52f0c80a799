// Sending a snapshot of the local repository to a backup sink whose repository shares the
// local one's keys (docs/adr/0006-vault-shares-local-keys.md): the packs that hold the
// snapshot's blobs go up byte for byte, so a send never re-reads the source and never
// re-encrypts. The sink is asked which blobs it lacks, and only the packs holding those
// are uploaded, so a send redone after an interruption skips what already arrived.
#pragma once

#include <cstdint>
#include <string>

#include "engine/backup_sink.h"
#include "engine/progress.h"
#include "kura/status.h"
#include "repo/repository.h"

namespace kura {

struct SendResult {
  std::string snapshot_id;
  uint64_t blobs = 0;            // blobs the snapshot refers to (entry pages included)
  uint64_t blobs_missing = 0;    // of those, how many the sink lacked
  uint64_t packs_uploaded = 0;   // packs sent (each once)
  uint64_t bytes_uploaded = 0;   // their bytes
  uint64_t peak_pack_bytes = 0;  // the largest pack held in memory at once
  CommitAnswer commit;
};

// Sends `from`'s config and every intact key slot to `to` (both idempotent): what the
// vault needs before it accepts packs and snapshots of this repository.
Status RegisterRepository(Repository& from, BackupSink& to);

// Sends snapshot `snapshot_ref` (full ID, unique prefix or "latest") of `from` to `to`:
// the config and every key slot first (idempotent), then which of its blobs `to` lacks,
// asked in batches of kMaxMissingBatch, then each pack (found through `from`'s index
// cache) that holds a missing blob, one pack in memory at a time, then the snapshot
// object itself.
// Errors: those of the sink (kRetryable for a cut connection: call again), kNotFound when
// `from`'s index knows no pack for a blob of the snapshot (run kura verify), kCorruption
// for a damaged local pack or snapshot object. A failure commits nothing; what was
// uploaded stays and is skipped by the next try.
Result<SendResult> SendSnapshot(Repository& from, const std::string& snapshot_ref, BackupSink& to,
                                ProgressSink* progress = nullptr);

}  // namespace kura
