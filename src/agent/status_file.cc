#include "agent/status_file.h"

#include <cstdio>

#include "agent/job_lock.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/i18n.h"
#include "util/json_read.h"
#include "util/text.h"

namespace kura {

using nlohmann::json;

namespace {

json Time(int64_t t) {
  return t == 0 ? json(nullptr) : json(FormatUtc(t));
}
// A time field: a UTC time string, or null/missing for "never".
int64_t TimeFrom(const JsonView& j, const char* key) {
  std::string text = j.String(key, /*nullable=*/true);
  int64_t t = 0;
  if (!text.empty() && !ParseUtc(text, &t)) j.Fail(key, "expected a time YYYY-MM-DDTHH:MM:SSZ");
  return t;
}
// A string field that may be null ("not set").
std::string Str(const JsonView& j, const char* key) {
  return j.String(key, /*nullable=*/true);
}
// Messages quote names and tool output, which may be any bytes; the file must be UTF-8
// and is shown by the host application, so they are stored escaped.
json Error(const std::optional<ErrorInfo>& e) {
  return e ? json{{"code", e->code}, {"message", EscapeText(e->message)}} : json(nullptr);
}
std::optional<ErrorInfo> ErrorFrom(const JsonView& j, const char* key) {
  auto e = j.Object(key, /*nullable=*/true);
  if (!e) return std::nullopt;
  return ErrorInfo{Str(*e, "code"), Str(*e, "message")};
}

json TargetJson(const TargetStatus& t) {
  return {{"label", t.label},
          {"last_attempt", Time(t.last_attempt)},
          {"last_success", Time(t.last_success)},
          {"last_result", t.last_result.empty() ? json(nullptr) : json(t.last_result)},
          {"last_snapshot", t.last_snapshot.empty() ? json(nullptr) : json(t.last_snapshot)},
          {"pending_sends", t.pending_sends},
          {"error", Error(t.error)},
          {"warning",
           {{"active", t.warning.active},
            {"since", Time(t.warning.since)},
            {"failures", t.warning.failures},
            {"message_ja", t.warning.active ? json(t.warning.message_ja) : json(nullptr)},
            {"message_en", t.warning.active ? json(t.warning.message_en) : json(nullptr)}}}};
}

TargetStatus TargetFrom(const JsonView& j) {
  TargetStatus t;
  if (!j.IsObject()) {
    j.Fail("", "expected an object");
    return t;
  }
  t.label = Str(j, "label");
  t.last_attempt = TimeFrom(j, "last_attempt");
  t.last_success = TimeFrom(j, "last_success");
  t.last_result = Str(j, "last_result");
  t.last_snapshot = Str(j, "last_snapshot");
  t.pending_sends = j.Int32("pending_sends");
  t.error = ErrorFrom(j, "error");
  if (auto w = j.Object("warning")) {
    t.warning.active = w->Bool("active");
    t.warning.since = TimeFrom(*w, "since");
    t.warning.failures = w->Int32("failures");
    t.warning.message_ja = Str(*w, "message_ja");
    t.warning.message_en = Str(*w, "message_en");
  }
  return t;
}

json RunJson(const RunInfo& r) {
  return {{"kind", r.kind},
          {"started", Time(r.started)},
          {"finished", Time(r.finished)},
          {"result", r.result},
          {"snapshot", r.snapshot.empty() ? json(nullptr) : json(r.snapshot)},
          {"bytes_read", r.bytes_read},
          {"bytes_stored", r.bytes_stored},
          {"warnings", r.warnings},
          {"error", Error(r.error)}};
}

RunInfo RunFrom(const JsonView& j) {
  RunInfo r;
  r.kind = Str(j, "kind");
  r.started = TimeFrom(j, "started");
  r.finished = TimeFrom(j, "finished");
  r.result = Str(j, "result");
  r.snapshot = Str(j, "snapshot");
  r.bytes_read = j.Uint("bytes_read");
  r.bytes_stored = j.Uint("bytes_stored");
  r.warnings = j.Uint("warnings");
  r.error = ErrorFrom(j, "error");
  return r;
}

json DrillJson(const DrillInfo& d) {
  return {{"time", Time(d.time)},
          {"result", d.result},
          {"target", d.target},
          {"snapshot", d.snapshot.empty() ? json(nullptr) : json(d.snapshot)},
          {"restored_into", d.restored_into},
          {"tables", d.tables},
          {"rows", d.rows},
          {"files", d.files},
          {"integrity_checked", d.integrity_checked},
          {"seconds", d.seconds},
          {"error", Error(d.error)},
          {"damaged_part", d.damaged_part.empty() ? json(nullptr) : json(d.damaged_part)},
          {"damaged_blobs", d.damaged_blobs},
          {"last_ok_snapshot", d.last_ok_snapshot.empty() ? json(nullptr) : json(d.last_ok_snapshot)},
          {"last_ok_time", Time(d.last_ok_time)},
          {"warning",
           {{"active", d.warning.active},
            {"since", Time(d.warning.since)},
            {"failures", d.warning.failures},
            {"message_ja", d.warning.active ? json(d.warning.message_ja) : json(nullptr)},
            {"message_en", d.warning.active ? json(d.warning.message_en) : json(nullptr)}}}};
}

DrillInfo DrillFrom(const JsonView& j) {
  DrillInfo d;
  d.time = TimeFrom(j, "time");
  d.result = Str(j, "result");
  d.target = Str(j, "target");
  d.snapshot = Str(j, "snapshot");
  d.restored_into = Str(j, "restored_into");
  d.tables = j.Int("tables");
  d.rows = j.Int("rows");
  d.files = j.Uint("files");
  d.integrity_checked = j.Bool("integrity_checked");
  d.seconds = j.Number("seconds");
  d.error = ErrorFrom(j, "error");
  d.damaged_part = Str(j, "damaged_part");
  d.damaged_blobs = j.Uint("damaged_blobs");
  d.last_ok_snapshot = Str(j, "last_ok_snapshot");
  d.last_ok_time = TimeFrom(j, "last_ok_time");
  if (auto w = j.Object("warning")) {
    d.warning.active = w->Bool("active");
    d.warning.since = TimeFrom(*w, "since");
    d.warning.failures = w->Int32("failures");
    d.warning.message_ja = Str(*w, "message_ja");
    d.warning.message_en = Str(*w, "message_en");
  }
  return d;
}

}  // namespace

json StatusToJson(const StatusDocument& doc) {
  json jobs = json::object();
  for (const auto& [name, job] : doc.jobs) {
    json targets = json::object();
    for (const auto& [tname, t] : job.targets) targets[tname] = TargetJson(t);
    jobs[name] = {{"label", job.label},
                  {"last_run", job.last_run ? RunJson(*job.last_run) : json(nullptr)},
                  {"last_drill", job.last_drill ? DrillJson(*job.last_drill) : json(nullptr)},
                  {"targets", targets}};
    json by_kind = json::object();
    for (const auto& [kind, t] : job.last_success_by_kind) by_kind[kind] = Time(t);
    jobs[name]["last_success_by_kind"] = by_kind;
    jobs[name]["first_seen"] = Time(job.first_seen);
  }
  bool any = !ActiveWarnings(doc).empty();
  return {{"schema_version", kStatusSchemaVersion},
          {"updated", Time(doc.updated)},
          {"host", doc.host},
          {"warning_active", any},
          {"jobs", jobs}};
}

Result<StatusDocument> StatusFromJson(const json& j) {
  std::string problem;
  JsonView root(&j, "", &problem);
  if (!j.is_object() || !j.contains("schema_version") || !j["schema_version"].is_number_integer()) {
    return Status::Corruption(L("状態ファイルの形式が正しくありません (schema_version がありません)",
                                "the status file is not in the expected format (no schema_version)"));
  }
  int64_t version = root.Int("schema_version");
  if (version > kStatusSchemaVersion) {
    return Status::Unsupported(
        L("状態ファイルはこの kura より新しい形式です", "the status file has a newer schema than this kura"));
  }
  StatusDocument doc;
  doc.updated = TimeFrom(root, "updated");
  doc.host = Str(root, "host");
  root.Bool("warning_active");  // derived from the targets when read; checked, not used
  if (auto jobs = root.Object("jobs")) {
    for (const auto& [name, jj] : jobs->Members()) {
      if (!jj.IsObject()) {
        jj.Fail("", fmt::format("expected an object, got {}", JsonTypeName(jj.raw())));
        break;
      }
      JobStatus job;
      job.label = Str(jj, "label");
      if (auto run = jj.Object("last_run", /*nullable=*/true)) job.last_run = RunFrom(*run);
      if (auto drill = jj.Object("last_drill", /*nullable=*/true)) job.last_drill = DrillFrom(*drill);
      if (auto targets = jj.Object("targets")) {
        for (const auto& [tname, tj] : targets->Members()) job.targets[tname] = TargetFrom(tj);
      }
      if (auto by_kind = jj.Object("last_success_by_kind")) {
        for (const auto& member : by_kind->Members()) {
          int64_t when = TimeFrom(*by_kind, member.first.c_str());
          if (when != 0) job.last_success_by_kind[member.first] = when;
        }
      }
      job.first_seen = TimeFrom(jj, "first_seen");
      doc.jobs[name] = std::move(job);
    }
  }
  if (!problem.empty()) {
    return Status::Corruption(Tr("状態ファイルの項目の型が正しくありません ({})",
                                 "a field of the status file has the wrong type ({})", problem));
  }
  return doc;
}

Result<StatusDocument> ParseStatusFile(std::string_view text, const std::string& path) {
  json j = json::parse(text, nullptr, false);
  auto doc =
      j.is_discarded()
          ? Result<StatusDocument>(Status::Corruption(L("JSON として読めません", "it is not valid JSON")))
          : StatusFromJson(j);
  if (doc.ok() || doc.status().code() != Code::kCorruption) {
    if (!doc.ok()) return doc.status().WithContext(path);
    return doc;
  }
  return Status::Corruption(
      Tr("状態ファイル {} が壊れています: {}。次の実行で作り直されます (壊れたファイルは {}.damaged "
         "に残します)。"
         "すぐに直すにはこのファイルを削除してください",
         "status file {} is damaged: {}. The next run rebuilds it (keeping the damaged file as "
         "{}.damaged); to fix it now, delete the file",
         path, doc.status().message(), path));
}

Result<StatusDocument> LoadStatusFile(const std::string& path) {
  if (!PathExists(path)) return StatusDocument{};
  KURA_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  return ParseStatusFile(text, path);
}

Status UpdateStatusFile(const std::string& path, const std::function<void(StatusDocument&)>& change) {
  KURA_ASSIGN_OR_RETURN(
      auto lock, FileLock::Acquire(path + ".lock", 30000,
                                   Tr("状態ファイル {} が使用中です", "status file {} is busy", path)));
  auto doc = LoadStatusFile(path);
  // A damaged file is replaced rather than blocking every later run from reporting; the
  // damaged one is kept beside it for whoever looks into it.
  if (!doc.ok() && doc.status().code() == Code::kCorruption)
    ::rename(path.c_str(), (path + ".damaged").c_str());
  StatusDocument d = doc.ok() ? std::move(*doc) : StatusDocument{};
  change(d);
  std::string text = DumpStateJson(StatusToJson(d));
  return WriteFileAtomic(path, AsBytes(text), 0644);
}

WarningTexts MakeWarningTexts(const std::string& job_label, const std::string& target_label, int64_t since,
                              const std::string& guidance_ja, const std::string& guidance_en) {
  std::string when = FormatLocal(since).substr(0, 16);  // "2026-11-21 02:00"
  WarningTexts w;
  w.ja = fmt::format("バックアップ「{}」(保存先: {}) が {} から失敗しています。{}", job_label, target_label,
                     when, guidance_ja);
  w.en = fmt::format("Backup \"{}\" (target: {}) has been failing since {}. {}", job_label, target_label,
                     when, guidance_en);
  return w;
}

bool RecordTargetFailure(TargetStatus& t, int64_t now, const Status& error, const std::string& job_label,
                         const std::string& guidance_ja, const std::string& guidance_en) {
  t.last_attempt = now;
  t.last_result = "failed";
  t.error = ErrorInfo{CodeName(error.code()), error.message()};
  bool raised = !t.warning.active;
  if (raised) {
    t.warning.active = true;
    t.warning.since = now;
    t.warning.failures = 0;
  }
  ++t.warning.failures;
  WarningTexts w = MakeWarningTexts(job_label, t.label, t.warning.since, guidance_ja, guidance_en);
  t.warning.message_ja = w.ja;
  t.warning.message_en = w.en;
  return raised;
}

bool RecordTargetSuccess(TargetStatus& t, int64_t now, const std::string& snapshot) {
  t.last_attempt = now;
  t.last_success = now;
  t.last_result = "ok";
  t.error.reset();
  if (!snapshot.empty()) t.last_snapshot = snapshot;
  bool cleared = t.warning.active;
  t.warning = WarningInfo{};
  return cleared;
}

std::vector<ActiveWarning> ActiveWarnings(const StatusDocument& doc) {
  std::vector<ActiveWarning> out;
  for (const auto& [name, job] : doc.jobs) {
    for (const auto& [tname, t] : job.targets) {
      if (t.warning.active)
        out.push_back({name, job.label.empty() ? name : job.label, tname, &t, &t.warning});
    }
    if (job.last_drill && job.last_drill->warning.active) {
      const DrillInfo& d = *job.last_drill;
      out.push_back({name, job.label.empty() ? name : job.label, d.target, nullptr, &d.warning, &d});
    }
  }
  return out;
}

}  // namespace kura
