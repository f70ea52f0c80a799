// The status file: what the host application (and `kura status`) reads to show the
// warning on its main menu. JSON, written atomically after every run, send and drill.
// Schema (version kStatusSchemaVersion): docs/status-file.md.
//
// Warning semantics (seed 000 §2.2(3)): a failed backup sets the warning on every target
// of the job; a failed send sets it on that target. A warning stays active, with the time
// of the first failure as `since`, until the next successful send to that target.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kura/status.h"

namespace kura {

inline constexpr int kStatusSchemaVersion = 1;

struct ErrorInfo {
  std::string code;     // CodeName(): "source_failed", "io_error", ...
  std::string message;  // in the language kura ran in
};

struct WarningInfo {
  bool active = false;
  int64_t since = 0;  // first failure of this streak (Unix seconds)
  int failures = 0;   // failed attempts in this streak
  std::string message_ja;
  std::string message_en;
};

struct TargetStatus {
  std::string label;
  int64_t last_attempt = 0;
  int64_t last_success = 0;
  std::string last_result;         // "ok" | "failed" | "" (never tried)
  std::string last_snapshot;       // ID in this target of the last snapshot written or sent
  int pending_sends = 0;           // queue items waiting for this target
  std::optional<ErrorInfo> error;  // of the last attempt, when it failed
  WarningInfo warning;
};

struct RunInfo {
  std::string kind;
  int64_t started = 0;
  int64_t finished = 0;
  std::string result;  // "ok" | "failed"
  std::string snapshot;
  uint64_t bytes_read = 0;
  uint64_t bytes_stored = 0;
  std::optional<ErrorInfo> error;
  uint64_t warnings = 0;  // entries skipped or stored with doubt; the run still succeeded
};

struct DrillInfo {
  int64_t time = 0;
  std::string result;  // "ok" | "failed"
  std::string target;  // the repository target the snapshot came from
  std::string snapshot;
  std::string restored_into;  // scratch database or directory (removed afterwards)
  int64_t tables = 0;
  int64_t rows = 0;
  uint64_t files = 0;
  bool integrity_checked = false;
  double seconds = 0;
  std::optional<ErrorInfo> error;
  // Added with issue 6 (a file without them reads as "no drill warning"). A failed drill raises a warning
  // of its own, like a failed backup; the next successful drill clears it.
  std::string damaged_part;      // "repository" | "source" | "" (when it failed: what is broken)
  uint64_t damaged_blobs = 0;    // blobs found damaged and excluded from dedup
  std::string last_ok_snapshot;  // the newest snapshot a drill found intact (kept on failure)
  int64_t last_ok_time = 0;
  WarningInfo warning;
};

struct JobStatus {
  std::string label;
  std::optional<RunInfo> last_run;
  std::optional<DrillInfo> last_drill;
  std::map<std::string, TargetStatus> targets;
  // Last successful backup run per kind ("daily", "monthly", "manual"), for the overdue
  // check (agent/overdue.h); `first_seen`: when the job was first recorded.
  std::map<std::string, int64_t> last_success_by_kind;
  int64_t first_seen = 0;
};

struct StatusDocument {
  int64_t updated = 0;
  std::string host;
  std::map<std::string, JobStatus> jobs;
};

nlohmann::json StatusToJson(const StatusDocument& doc);
// Never throws. A missing field is its default (older files lack newer keys); a field of
// the wrong type, a bad time or a missing schema_version is kCorruption naming the field.
Result<StatusDocument> StatusFromJson(const nlohmann::json& j);
// Parses the text of the file at `path` (named in messages). Errors: kCorruption (not
// JSON, or a wrong-typed field; the message names the file and says what to do),
// kUnsupported (newer schema).
Result<StatusDocument> ParseStatusFile(std::string_view text, const std::string& path);

// A missing file is an empty document. Errors: as ParseStatusFile, and reading errors.
Result<StatusDocument> LoadStatusFile(const std::string& path);
// Read-modify-write under <path>.lock (flock), then an atomic replace, so a run and the
// agent never lose each other's updates. A damaged file (kCorruption) is moved to
// <path>.damaged and the document rebuilt from `change`, so a damaged file never stops
// the warning from being reported.
Status UpdateStatusFile(const std::string& path, const std::function<void(StatusDocument&)>& change);

// The warning texts for a failed target, in both languages (stored in the file so the
// host application can show either).
struct WarningTexts {
  std::string ja;
  std::string en;
};
WarningTexts MakeWarningTexts(const std::string& job_label, const std::string& target_label, int64_t since,
                              const std::string& guidance_ja, const std::string& guidance_en);

// Updates a target for a failed attempt. Returns true when this raised a new warning.
bool RecordTargetFailure(TargetStatus& t, int64_t now, const Status& error, const std::string& job_label,
                         const std::string& guidance_ja, const std::string& guidance_en);
// Updates a target for a successful write or send. Returns true when this cleared an
// active warning (the "clear" hook fires).
bool RecordTargetSuccess(TargetStatus& t, int64_t now, const std::string& snapshot);

struct ActiveWarning {
  std::string job;
  std::string job_label;
  std::string target;
  const TargetStatus* status = nullptr;  // nullptr for a drill's warning
  const WarningInfo* warning = nullptr;  // the target's or the drill's
  const DrillInfo* drill = nullptr;      // set for a failed drill's warning
};
std::vector<ActiveWarning> ActiveWarnings(const StatusDocument& doc);

}  // namespace kura
