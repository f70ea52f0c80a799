// Pieces shared by catalog_retention.cc and catalog_alarms.cc; not part of the catalog's
// contract. REQUIRES for every function taking a SqlDb: the Catalog's mutex is held and a
// transaction is open on it (a write transaction for those that write).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vault/catalog.h"

namespace kura::vault::retention_detail {

// Who acts when the vault itself decides (an anomaly's hold, retention, the alarm tick).
AuditActor SystemActor();
// Text stored for people (alarm details, hold reasons) carries both languages, Japanese
// first, one per line: the reader picks its own (vault/alarm_tick.h LocalText).
std::string Bilingual(const std::string& ja, const std::string& en);
// Appends one audit record with result "success" in the open write transaction.
Status AuditIn(SqlDb& db, const AuditActor& actor, std::string action, std::string target, std::string detail,
               int64_t now_ms);
// Since when the site is on hold; nullopt when it is not.
Result<std::optional<int64_t>> HoldSince(SqlDb& db, int64_t site_id);
Result<ClockGuardState> GuardOf(SqlDb& db);
// True when newly raised / cleared (audited); false when it already was (nothing written).
Result<bool> RaiseIn(SqlDb& db, const Catalog::AlarmKey& key, std::string_view detail,
                     const AuditActor& actor, int64_t now_ms);
Result<bool> ClearIn(SqlDb& db, const Catalog::AlarmKey& key, const AuditActor& actor, int64_t now_ms);

}  // namespace kura::vault::retention_detail
