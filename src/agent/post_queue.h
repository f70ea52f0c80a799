// Firing hooks, and the queue of bulletin-board posts that could not be made yet.
//
// FireHooks runs the hooks that one run, send or drill calls for:
// - a hook's command runs once per event (a failed backup is one event per target of the
//   job; KURA_TARGET says which);
// - a hook's SQL statement (the bulletin-board post) runs once per event type per call,
//   however many targets the event touched, and once when the agent config and the job
//   set the same statement on the same database: a failed run posts one row.
// A post that fails because the host application's database cannot be reached (the
// connection is refused, the SQLite file or its folder is missing, the file stays locked:
// kRetryable) is kept in <state_dir>/posts/ and made later, in the order the posts were
// made: RetryQueuedPosts (every agent tick) after the send queue's backoff, and FireHooks
// before a newer post of the same job. A statement that fails after it reached the
// database is logged and not retried (it may have run, and a retry could post twice).
// Format: docs/agent.md, "Post queue".
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "agent/hooks.h"
#include "agent/job_runner.h"
#include "kura/status.h"

namespace kura {

inline constexpr int kPostItemVersion = 1;

struct PostItem {
  std::string id;    // file name without ".json"; unique
  uint64_t seq = 0;  // order of the posts (one more than the largest in the queue)
  std::string job;
  std::string event;  // "failure" | "success" | "clear"
  std::string scope;  // "agent" ([hooks] of the agent config) | "job" (the job's hooks)
  std::vector<std::pair<std::string, std::string>> params;  // HookParameters() when it fired
  int64_t enqueued = 0;
  int attempts = 0;  // failed attempts so far
  int64_t next_attempt = 0;
  std::string last_error;
};

// One JSON file per post, written atomically (mode 0600: the post's text names the job
// and its error). Several processes may use the directory; a job's posts are only made
// while its job lock is held or by the agent.
class PostQueue {
 public:
  explicit PostQueue(std::string dir) : dir_(std::move(dir)) {}
  // Fills item.id and item.seq when empty/0.
  Status Put(PostItem& item);
  // Sorted by seq. A damaged file is skipped and reported in `damaged`.
  Result<std::vector<PostItem>> List(std::vector<std::string>* damaged = nullptr) const;
  Status Remove(const std::string& id);

 private:
  std::string dir_;
};

std::string PostQueueDir(const AgentConfig& config);  // <state_dir>/posts

// One post file's text. Errors: kCorruption (not a post item: never throws),
// kUnsupported (a newer version). `path` is only for the message. Exposed for tests.
Result<PostItem> ParsePostItem(const std::string& path, const std::string& text);
std::string SerializePostItem(const PostItem& item);

struct FiredHook {
  std::string which;  // "failure" | "success" | "clear"
  HookEvent event;
};

// Runs the hooks (see above) and logs every failure; never changes the caller's result.
void FireHooks(const RunContext& ctx, const JobConfig& job, const std::vector<FiredHook>& fired);

struct PostRetryReport {
  int posted = 0;
  int failed = 0;   // still queued
  int dropped = 0;  // the statement failed at the database, or the hook is no longer configured
};

// Makes the queued posts that are due (all of `job`'s when `job` is set and `force`),
// oldest first; a job's later posts wait while an earlier one still cannot be made.
PostRetryReport RetryQueuedPosts(const RunContext& ctx, const std::string& job = "", bool force = false);

}  // namespace kura
