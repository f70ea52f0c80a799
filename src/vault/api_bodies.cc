#include "vault/api_bodies.h"

#include <nlohmann/json.hpp>

#include "repo/snapshot_kind.h"
#include "util/hex.h"
#include "util/text.h"

namespace kura::vault {

using nlohmann::json;

namespace {

Status Bad(std::string_view member) {
  return Status::InvalidArgument(std::string(member));
}

Result<json> ParseObject(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Bad("");
  return j;
}

// An optional text member (absent is ""); false for another type, invalid UTF-8 or more
// than `max_bytes`.
bool Text(const json& j, const char* key, size_t max_bytes, std::string* out) {
  auto it = j.find(key);
  if (it == j.end()) return true;
  if (!it->is_string()) return false;
  *out = it->get<std::string>();
  return out->size() <= max_bytes && IsValidUtf8(*out);
}

bool LowerHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80 ? 1 : 0;
  return n;
}

}  // namespace

Result<EnrolRequest> ParseEnrolRequest(std::string_view text) {
  KURA_ASSIGN_OR_RETURN(json j, ParseObject(text));
  EnrolRequest r;
  if (!j.contains("code") || !Text(j, "code", 256, &r.code)) return Bad("code");
  if (!Text(j, "host", 256, &r.host)) return Bad("host");
  if (!Text(j, "kura_version", 64, &r.kura_version)) return Bad("kura_version");
  return r;
}

Result<Bytes> ParseMissingRequest(std::string_view text, size_t max_ids) {
  KURA_ASSIGN_OR_RETURN(json j, ParseObject(text));
  auto ids = j.find("ids");
  if (ids == j.end() || !ids->is_array() || ids->size() > max_ids) return Bad("ids");
  Bytes raw;
  raw.reserve(ids->size() * 32);
  for (const json& id : *ids) {
    if (!id.is_string() || !LowerHex64(id.get_ref<const std::string&>())) return Bad("ids");
    std::optional<Bytes> b = FromHex(id.get_ref<const std::string&>());
    if (!b || b->size() != 32) return Bad("ids");
    raw.insert(raw.end(), b->begin(), b->end());
  }
  return raw;
}

Result<RunReport> ParseRunReport(std::string_view text) {
  KURA_ASSIGN_OR_RETURN(json j, ParseObject(text));
  RunReport run;
  if (!Text(j, "result", 16, &run.result) || (run.result != "success" && run.result != "failure")) {
    return Bad("result");
  }
  if (!Text(j, "kind", 16, &run.kind) || (!run.kind.empty() && !ParseKind(run.kind))) return Bad("kind");
  if (!Text(j, "snapshot", 64, &run.snapshot) || (!run.snapshot.empty() && !LowerHex64(run.snapshot))) {
    return Bad("snapshot");
  }
  if (!Text(j, "message", 8000, &run.message) || CodePoints(run.message) > 2000) return Bad("message");
  if (!Text(j, "started", 64, &run.started)) return Bad("started");
  if (!Text(j, "finished", 64, &run.finished)) return Bad("finished");
  auto s = j.find("schedule");
  if (s != j.end()) {
    if (!s->is_object() || !Text(*s, "time", 64, &run.schedule_time) ||
        !Text(*s, "timezone", 64, &run.schedule_timezone) || !Text(*s, "days", 64, &run.schedule_days)) {
      return Bad("schedule");
    }
  }
  return run;
}

}  // namespace kura::vault
