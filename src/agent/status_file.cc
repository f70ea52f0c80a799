#include "agent/status_file.h"

#include "agent/job_lock.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/i18n.h"

namespace kura {

using nlohmann::json;

namespace {

json Time(int64_t t) { return t == 0 ? json(nullptr) : json(FormatUtc(t)); }
int64_t TimeFrom(const json& j, const char* key) {
  int64_t t = 0;
  if (j.contains(key) && j[key].is_string()) ParseUtc(j[key].get<std::string>(), &t);
  return t;
}
json Error(const std::optional<ErrorInfo>& e) {
  return e ? json{{"code", e->code}, {"message", e->message}} : json(nullptr);
}
std::optional<ErrorInfo> ErrorFrom(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_object()) return std::nullopt;
  return ErrorInfo{j[key].value("code", ""), j[key].value("message", "")};
}
std::string Str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
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

TargetStatus TargetFrom(const json& j) {
  TargetStatus t;
  t.label = Str(j, "label");
  t.last_attempt = TimeFrom(j, "last_attempt");
  t.last_success = TimeFrom(j, "last_success");
  t.last_result = Str(j, "last_result");
  t.last_snapshot = Str(j, "last_snapshot");
  t.pending_sends = j.value("pending_sends", 0);
  t.error = ErrorFrom(j, "error");
  if (j.contains("warning") && j["warning"].is_object()) {
    const json& w = j["warning"];
    t.warning.active = w.value("active", false);
    t.warning.since = TimeFrom(w, "since");
    t.warning.failures = w.value("failures", 0);
    t.warning.message_ja = Str(w, "message_ja");
    t.warning.message_en = Str(w, "message_en");
  }
  return t;
}

json RunJson(const RunInfo& r) {
  return {{"kind", r.kind},         {"started", Time(r.started)},
          {"finished", Time(r.finished)}, {"result", r.result},
          {"snapshot", r.snapshot.empty() ? json(nullptr) : json(r.snapshot)},
          {"bytes_read", r.bytes_read}, {"bytes_stored", r.bytes_stored},
          {"warnings", r.warnings}, {"error", Error(r.error)}};
}

RunInfo RunFrom(const json& j) {
  RunInfo r;
  r.kind = Str(j, "kind");
  r.started = TimeFrom(j, "started");
  r.finished = TimeFrom(j, "finished");
  r.result = Str(j, "result");
  r.snapshot = Str(j, "snapshot");
  r.bytes_read = j.value("bytes_read", uint64_t{0});
  r.bytes_stored = j.value("bytes_stored", uint64_t{0});
  if (j.contains("warnings") && j["warnings"].is_number_unsigned()) r.warnings = j["warnings"].get<uint64_t>();
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

DrillInfo DrillFrom(const json& j) {
  DrillInfo d;
  d.time = TimeFrom(j, "time");
  d.result = Str(j, "result");
  d.target = Str(j, "target");
  d.snapshot = Str(j, "snapshot");
  d.restored_into = Str(j, "restored_into");
  d.tables = j.value("tables", int64_t{0});
  d.rows = j.value("rows", int64_t{0});
  d.files = j.value("files", uint64_t{0});
  d.integrity_checked = j.value("integrity_checked", false);
  d.seconds = j.value("seconds", 0.0);
  d.error = ErrorFrom(j, "error");
  d.damaged_part = Str(j, "damaged_part");
  d.damaged_blobs = j.contains("damaged_blobs") && j["damaged_blobs"].is_number_unsigned()
                        ? j["damaged_blobs"].get<uint64_t>() : 0;
  d.last_ok_snapshot = Str(j, "last_ok_snapshot");
  d.last_ok_time = TimeFrom(j, "last_ok_time");
  if (j.contains("warning") && j["warning"].is_object()) {
    const json& w = j["warning"];
    d.warning.active = w.contains("active") && w["active"].is_boolean() && w["active"].get<bool>();
    d.warning.since = TimeFrom(w, "since");
    d.warning.failures = w.contains("failures") && w["failures"].is_number_integer() ? w["failures"].get<int>() : 0;
    d.warning.message_ja = Str(w, "message_ja");
    d.warning.message_en = Str(w, "message_en");
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
  if (!j.is_object() || !j.contains("schema_version") || !j["schema_version"].is_number_integer()) {
    return Status::Corruption(L("状態ファイルの形式が正しくありません", "the status file is not in the expected format"));
  }
  if (j["schema_version"].get<int>() > kStatusSchemaVersion) {
    return Status::Unsupported(L("状態ファイルはこの kura より新しい形式です", "the status file has a newer schema than this kura"));
  }
  StatusDocument doc;
  doc.updated = TimeFrom(j, "updated");
  doc.host = Str(j, "host");
  if (j.contains("jobs") && j["jobs"].is_object()) {
    for (const auto& [name, jj] : j["jobs"].items()) {
      JobStatus job;
      job.label = Str(jj, "label");
      if (jj.contains("last_run") && jj["last_run"].is_object()) job.last_run = RunFrom(jj["last_run"]);
      if (jj.contains("last_drill") && jj["last_drill"].is_object()) job.last_drill = DrillFrom(jj["last_drill"]);
      if (jj.contains("targets") && jj["targets"].is_object()) {
        for (const auto& [tname, tj] : jj["targets"].items()) job.targets[tname] = TargetFrom(tj);
      }
      if (jj.contains("last_success_by_kind") && jj["last_success_by_kind"].is_object()) {
        for (const auto& [kind, t] : jj["last_success_by_kind"].items()) {
          int64_t when = 0;
          if (t.is_string() && ParseUtc(t.get<std::string>(), &when)) job.last_success_by_kind[kind] = when;
        }
      }
      job.first_seen = TimeFrom(jj, "first_seen");
      doc.jobs[name] = std::move(job);
    }
  }
  return doc;
}

Result<StatusDocument> LoadStatusFile(const std::string& path) {
  if (!PathExists(path)) return StatusDocument{};
  KURA_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    return Status::Corruption(Tr("状態ファイル {} が壊れています", "status file {} is damaged", path));
  }
  auto doc = StatusFromJson(j);
  if (!doc.ok()) return doc.status().WithContext(path);
  return doc;
}

Status UpdateStatusFile(const std::string& path, const std::function<void(StatusDocument&)>& change) {
  KURA_ASSIGN_OR_RETURN(auto lock, FileLock::Acquire(path + ".lock", 30000,
                                                     Tr("状態ファイル {} が使用中です", "status file {} is busy", path)));
  auto doc = LoadStatusFile(path);
  // A damaged file is replaced rather than blocking every later run from reporting.
  StatusDocument d = doc.ok() ? std::move(*doc) : StatusDocument{};
  change(d);
  std::string text = StatusToJson(d).dump(2) + "\n";
  return WriteFileAtomic(path, AsBytes(text), 0644);
}

WarningTexts MakeWarningTexts(const std::string& job_label, const std::string& target_label, int64_t since,
                              const std::string& guidance_ja, const std::string& guidance_en) {
  std::string when = FormatLocal(since).substr(0, 16);  // "2026-11-21 02:00"
  WarningTexts w;
  w.ja = fmt::format("バックアップ「{}」(保存先: {}) が {} から失敗しています。{}", job_label, target_label, when, guidance_ja);
  w.en = fmt::format("Backup \"{}\" (target: {}) has been failing since {}. {}", job_label, target_label, when, guidance_en);
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
      if (t.warning.active) out.push_back({name, job.label.empty() ? name : job.label, tname, &t, &t.warning});
    }
    if (job.last_drill && job.last_drill->warning.active) {
      const DrillInfo& d = *job.last_drill;
      out.push_back({name, job.label.empty() ? name : job.label, d.target, nullptr, &d.warning, &d});
    }
  }
  return out;
}

}  // namespace kura
