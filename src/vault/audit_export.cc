#include "vault/audit_export.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "util/clock.h"
#include "util/hex.h"

namespace kura::vault {

std::string FormatUtcMillis(int64_t at_ms) {
  int64_t secs = at_ms >= 0 ? at_ms / 1000 : -((-at_ms + 999) / 1000);
  int64_t ms = at_ms - secs * 1000;
  std::string s = FormatUtc(secs);  // "...:05Z"
  s.insert(s.size() - 1, fmt::format(".{:03}", ms));
  return s;
}

static constexpr const char* kColumns[] = {"seq",    "time",      "actor_kind", "actor_id", "source_ip",
                                           "site",   "terminal",  "action",     "target",   "result",
                                           "detail", "prev_hash", "hash"};

static std::vector<std::string> Columns(const AuditRecord& r) {
  const AuditEvent& e = r.event;
  return {std::to_string(r.seq),
          FormatUtcMillis(r.at_ms),
          e.actor.kind,
          e.actor.id,
          e.actor.source_ip,
          e.actor.site,
          e.actor.terminal,
          e.action,
          e.target,
          e.result,
          e.detail,
          ToHex(r.prev_hash),
          ToHex(r.hash)};
}

static std::string CsvField(const std::string& f) {
  if (f.find_first_of(",\"\r\n") == std::string::npos) return f;
  std::string out = "\"";
  for (char c : f) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string AuditCsvHeader() {
  std::string out;
  for (const char* c : kColumns) out += std::string(out.empty() ? "" : ",") + c;
  return out + "\r\n";
}

std::string AuditCsvRow(const AuditRecord& r) {
  std::string out;
  bool first = true;
  for (const std::string& f : Columns(r)) {
    if (!first) out += ',';
    first = false;
    out += CsvField(f);
  }
  return out + "\r\n";
}

std::string AuditJsonLine(const AuditRecord& r) {
  nlohmann::ordered_json j;
  std::vector<std::string> cols = Columns(r);
  for (size_t i = 0; i < cols.size(); ++i) {
    if (i == 0)
      j[kColumns[i]] = r.seq;
    else
      j[kColumns[i]] = cols[i];
  }
  j["at_ms"] = r.at_ms;
  // Stored fields are valid UTF-8 (NormalizeAuditEvent), so dump() cannot throw; "replace"
  // keeps it so even for a record edited in the file.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace kura::vault
