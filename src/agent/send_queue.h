// The persistent send queue: snapshots made in the first target (the local repository)
// that still have to reach another target. One small JSON file per item in
// <state_dir>/queue/, written atomically (util/fs.h WriteFileAtomic), so the queue
// survives restarts, crashes and SIGKILL: an item is enqueued before its first send
// attempt and removed only after the target holds the snapshot. Format: docs/agent.md,
// "Send queue".
//
// Thread-compatible; several processes may use one queue directory: every change is one
// atomic rename, and a send holds the job's lock (agent/job_lock.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/job_config.h"
#include "kura/status.h"

namespace kura {

inline constexpr int kSendQueueItemVersion = 1;

struct SendItem {
  std::string id;  // file name without ".json"; unique
  std::string job;
  std::string target;    // the target to send to (not the first target)
  std::string snapshot;  // the snapshot's full ID in the job's first target
  SnapshotKind kind = SnapshotKind::kDaily;
  bool night = false;    // deferred: only sent inside the send window
  int64_t enqueued = 0;  // Unix seconds
  int attempts = 0;      // failed attempts so far
  int64_t next_attempt = 0;
  std::string last_error;
};

class SendQueue {
 public:
  explicit SendQueue(std::string dir) : dir_(std::move(dir)) {}

  // Creates or replaces the item's file. Fills item.id when empty.
  Status Put(SendItem& item);
  // Items sorted by enqueue time. A damaged file is skipped (and reported in `damaged`).
  Result<std::vector<SendItem>> List(std::vector<std::string>* damaged = nullptr) const;
  Result<SendItem> Get(const std::string& id) const;
  Status Remove(const std::string& id);
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// Parses one item file's text; `path` is for messages. Never throws. Errors: kCorruption
// (not JSON, a required field missing — id, job, target, snapshot, kind — or a field of
// the wrong type; the message names the file and the field), kUnsupported.
Result<SendItem> ParseSendItem(std::string_view text, const std::string& path);

// When a newly queued item is first tried: now for an immediate send, else the start of
// the send window (now when inside it).
int64_t FirstAttemptTime(bool night, const SendWindow& window, int64_t now);
// After a failed attempt (attempts already incremented): backoff, and for a night item
// not before the window opens again.
int64_t NextAttemptTime(const SendItem& item, const RetryPolicy& retry, const SendWindow& window,
                        int64_t now);

}  // namespace kura
